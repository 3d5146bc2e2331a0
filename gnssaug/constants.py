"""Physical and geodetic constants, each with its source.

Only plain Python floats and ints live here, so numba kernels can import this module freely.
"""

# Speed of light in vacuum [m/s] (IS-GPS-200 §20.3.4.3, all GNSS ICDs).
C_MPS = 299_792_458.0

# WGS-84 ellipsoid (NIMA TR8350.2): semi-major axis [m] and flattening.
WGS84_A_M = 6_378_137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)

# Earth rotation rates [rad/s].
OMEGA_E_GPS_RADPS = 7.2921151467e-5  # IS-GPS-200 §20.3.3.4.3
OMEGA_E_GAL_RADPS = 7.2921151467e-5  # Galileo OS SIS ICD §5.1.1
OMEGA_E_BDS_RADPS = 7.292115e-5  # BDS-SIS-ICD-B1I-3.0 §3.2 (CGCS2000)
OMEGA_E_GLO_RADPS = 7.292115e-5  # GLONASS ICD 5.1 (PZ-90.11)

# Earth gravitational constants [m^3/s^2].
MU_GPS_M3PS2 = 3.986005e14  # IS-GPS-200 §20.3.3.4.3
MU_GAL_M3PS2 = 3.986004418e14  # Galileo OS SIS ICD §5.1.1
MU_BDS_M3PS2 = 3.986004418e14  # BDS-SIS-ICD-B1I-3.0 §3.2
MU_GLO_M3PS2 = 3.9860044e14  # GLONASS ICD 5.1, PZ-90

# GLONASS: equatorial radius [m] and second zonal harmonic (GLONASS ICD 5.1 §3.1.3).
GLO_AE_M = 6_378_136.0
GLO_J2 = 1.0826257e-3

# Relativistic clock correction constant F = -2 sqrt(mu) / c^2 [s/sqrt(m)] (IS-GPS-200 §20.3.3.3.3.1).
F_REL_GPS = -4.442807633e-10
F_REL_GAL = -4.442807309e-10  # Galileo OS SIS ICD §5.1.4 (mu_GAL)
F_REL_BDS = -4.442807309e-10  # BDS-SIS-ICD-B1I-3.0 §5.2.4.10 (mu_CGCS2000)

# Time.
SECONDS_PER_WEEK = 604_800
SECONDS_PER_DAY = 86_400
NS_PER_S = 1_000_000_000
BDT_MINUS_GPST_S = -14  # BDT epoch 2006-01-01 00:00:00 UTC; GPST - BDT = 14 s (BDS-SIS-ICD-B1I-3.0 §4.3)
BDT_WEEK_OFFSET = 1356  # GPS week of the BDT epoch
GST_WEEK_OFFSET = 1024  # GST week 0 starts at GPS week 1024 (Galileo OS SIS ICD §5.1.2)
