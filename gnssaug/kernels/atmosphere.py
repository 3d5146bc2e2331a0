"""Atmosphere kernels: Saastamoinen zenith delays, Niell mapping functions, GPS and BDS Klobuchar.

Scalar kernels work on one receiver-satellite pair; the ``_many`` kernels loop over rows. Angles are
radians, heights metres, delays metres. The ionosphere kernels return the delay on their reference
frequency (GPS L1 1575.42 MHz, BDS B1I 1561.098 MHz); scale by ``(f_ref / f) ** 2`` for another.

References
----------
- Saastamoinen, J. (1972), "Atmospheric correction for the troposphere and stratosphere in radio
  ranging of satellites", Geophysical Monograph 15 (zenith hydrostatic and wet delays), with the
  standard atmosphere of Berg (1948) for pressure, temperature and water-vapour pressure from height.
- Niell, A. E. (1996), "Global mapping functions for the atmosphere delay at radio wavelengths",
  JGR 101(B2) (NMF): separate hydrostatic (with height correction) and wet mapping functions.
- IS-GPS-200 §20.3.3.5.2.5 (GPS Klobuchar model, 350 km shell approximation in semicircles).
- BDS-SIS-ICD-B1I-3.0 §5.2.4.7 (BDS Klobuchar: 375 km single-layer shell, BDT local time).
"""

import math

import numpy as np

from gnssaug.constants import C_MPS
from gnssaug.kernels import kernel

# Niell (1996) Table 3: hydrostatic coefficients (average and seasonal amplitude) at latitudes
# 15, 30, 45, 60, 75 deg, and Table 4: wet coefficients. Rows: a, b, c.
_NMF_LAT_DEG = np.array([15.0, 30.0, 45.0, 60.0, 75.0])
_NMF_HYD_AVG = np.array(
    [
        [1.2769934e-3, 1.2683230e-3, 1.2465397e-3, 1.2196049e-3, 1.2045996e-3],
        [2.9153695e-3, 2.9152299e-3, 2.9288445e-3, 2.9022565e-3, 2.9024912e-3],
        [62.610505e-3, 62.837393e-3, 63.721774e-3, 63.824265e-3, 64.258455e-3],
    ]
)
_NMF_HYD_AMP = np.array(
    [
        [0.0, 1.2709626e-5, 2.6523662e-5, 3.4000452e-5, 4.1202191e-5],
        [0.0, 2.1414979e-5, 3.0160779e-5, 7.2562722e-5, 11.723375e-5],
        [0.0, 9.0128400e-5, 4.3497037e-5, 84.795348e-5, 170.37206e-5],
    ]
)
_NMF_WET = np.array(
    [
        [5.8021897e-4, 5.6794847e-4, 5.8118019e-4, 5.9727542e-4, 6.1641693e-4],
        [1.4275268e-3, 1.5138625e-3, 1.4572752e-3, 1.5007428e-3, 1.7599082e-3],
        [4.3472961e-2, 4.6729510e-2, 4.3908931e-2, 4.4626982e-2, 5.4736038e-2],
    ]
)
# Niell height correction coefficients (a, b, c) of the hydrostatic mapping function.
_NMF_HT_A, _NMF_HT_B, _NMF_HT_C = 2.53e-5, 5.49e-3, 1.14e-3

# Klobuchar shells.
_BDS_EARTH_R_KM = 6378.0  # BDS-SIS-ICD-B1I-3.0 §5.2.4.7: R = 6378 km
_BDS_SHELL_H_KM = 375.0  # ionospheric single-layer height h = 375 km
_NIGHT_DELAY_S = 5.0e-9  # night-time constant delay of both Klobuchar models


@kernel
def saastamoinen_zenith(lat_rad, h_m, humidity):
    """Zenith hydrostatic and wet delays [m] of the Saastamoinen model with a standard atmosphere.

    Parameters
    ----------
    lat_rad : float
        Geodetic latitude [rad].
    h_m : float
        Ellipsoidal height [m] (used as orthometric height; the geoid term is below the model error).
        Heights outside -100 m..20 km give NaN: no atmosphere model applies there.
    humidity : float
        Relative humidity 0..1 (RTKLIB and most SPP engines use 0.7).

    Returns
    -------
    (float, float)
        Zenith hydrostatic delay [m], zenith wet delay [m].
    """
    if h_m < -100.0 or h_m > 2.0e4 or math.isnan(h_m):
        return math.nan, math.nan
    hgt = max(h_m, 0.0)
    # Standard atmosphere (Berg 1948): pressure [hPa], temperature [K], water vapour pressure [hPa].
    pres_hpa = 1013.25 * (1.0 - 2.2557e-5 * hgt) ** 5.2568
    temp_k = 15.0 - 6.5e-3 * hgt + 273.16
    e_hpa = 6.108 * humidity * math.exp((17.15 * temp_k - 4684.0) / (temp_k - 38.45))
    zhd_m = 0.0022768 * pres_hpa / (1.0 - 0.00266 * math.cos(2.0 * lat_rad) - 0.00028 * hgt / 1e3)
    zwd_m = 0.002277 * (1255.0 / temp_k + 0.05) * e_hpa
    return zhd_m, zwd_m


@kernel
def _marini(sin_el, a, b, c):
    """Marini continued fraction normalised to 1 at zenith (Niell 1996 eq. 4)."""
    top = 1.0 + a / (1.0 + b / (1.0 + c))
    return top / (sin_el + a / (sin_el + b / (sin_el + c)))


@kernel
def _interp_lat(table, row, abs_lat_deg):
    """Linear interpolation of a Niell table row over latitude, constant beyond 15 and 75 deg."""
    if abs_lat_deg <= _NMF_LAT_DEG[0]:
        return table[row, 0]
    if abs_lat_deg >= _NMF_LAT_DEG[4]:
        return table[row, 4]
    i = int((abs_lat_deg - 15.0) / 15.0)
    w = (abs_lat_deg - _NMF_LAT_DEG[i]) / 15.0
    return table[row, i] * (1.0 - w) + table[row, i + 1] * w


@kernel
def niell_mapping(el_rad, lat_rad, h_m, doy):
    """Niell (1996) hydrostatic and wet mapping functions.

    Parameters
    ----------
    el_rad : float
        Elevation [rad]; values at or below zero give NaN.
    lat_rad : float
        Geodetic latitude [rad].
    h_m : float
        Height [m] (hydrostatic height correction).
    doy : float
        Day of year (UT, fractional allowed); the seasonal term peaks at day 28 in the north and is
        shifted by half a year in the south.

    Returns
    -------
    (float, float)
        Hydrostatic and wet mapping factors (dimensionless, 1 at zenith).
    """
    if not el_rad > 0.0:
        return math.nan, math.nan
    sin_el = math.sin(el_rad)
    abs_lat_deg = abs(lat_rad) * 180.0 / math.pi
    day = doy - 28.0
    if lat_rad < 0.0:
        day += 365.25 / 2.0
    season = math.cos(2.0 * math.pi * day / 365.25)
    abc = np.empty(3)
    for k in range(3):
        abc[k] = _interp_lat(_NMF_HYD_AVG, k, abs_lat_deg) - _interp_lat(_NMF_HYD_AMP, k, abs_lat_deg) * season
    m_hyd = _marini(sin_el, abc[0], abc[1], abc[2])
    # Height correction (Niell 1996 eq. 6): the excess path of the layer below the station.
    dm = 1.0 / sin_el - _marini(sin_el, _NMF_HT_A, _NMF_HT_B, _NMF_HT_C)
    m_hyd += dm * h_m / 1e3
    m_wet = _marini(
        sin_el,
        _interp_lat(_NMF_WET, 0, abs_lat_deg),
        _interp_lat(_NMF_WET, 1, abs_lat_deg),
        _interp_lat(_NMF_WET, 2, abs_lat_deg),
    )
    return m_hyd, m_wet


@kernel
def tropo_slant_delay(lat_rad, h_m, el_rad, doy, humidity):
    """Slant tropospheric delay [m]: Saastamoinen zenith delays mapped with Niell (hydro + wet)."""
    zhd, zwd = saastamoinen_zenith(lat_rad, h_m, humidity)
    m_hyd, m_wet = niell_mapping(el_rad, lat_rad, h_m, doy)
    return zhd * m_hyd + zwd * m_wet


@kernel
def klobuchar_gps(lat_rad, lon_rad, az_rad, el_rad, tow_gpst_s, alpha, beta):
    """GPS Klobuchar ionospheric delay [m] on L1 (IS-GPS-200 §20.3.3.5.2.5).

    Parameters
    ----------
    lat_rad, lon_rad : float
        Receiver geodetic latitude and longitude [rad].
    az_rad, el_rad : float
        Satellite azimuth and elevation [rad].
    tow_gpst_s : float
        GPS time of week (or any GPST seconds; only the time of day is used) [s].
    alpha, beta : float64[4]
        Broadcast coefficients (s, s/semicircle^n and s, s/semicircle^n).

    Returns
    -------
    float
        Delay on L1 [m]; NaN below the horizon.
    """
    if not el_rad > 0.0:
        return math.nan
    el_sc = el_rad / math.pi
    lat_sc = lat_rad / math.pi
    lon_sc = lon_rad / math.pi
    psi = 0.0137 / (el_sc + 0.11) - 0.022  # Earth-centred angle [semicircles]
    phi_i = lat_sc + psi * math.cos(az_rad)
    phi_i = min(max(phi_i, -0.416), 0.416)
    lam_i = lon_sc + psi * math.sin(az_rad) / math.cos(phi_i * math.pi)
    phi_m = phi_i + 0.064 * math.cos((lam_i - 1.617) * math.pi)  # geomagnetic latitude
    t_s = (4.32e4 * lam_i + tow_gpst_s) % 86400.0
    slant = 1.0 + 16.0 * (0.53 - el_sc) ** 3
    amp = alpha[0] + phi_m * (alpha[1] + phi_m * (alpha[2] + phi_m * alpha[3]))
    per = beta[0] + phi_m * (beta[1] + phi_m * (beta[2] + phi_m * beta[3]))
    amp = max(amp, 0.0)
    per = max(per, 72000.0)
    x = 2.0 * math.pi * (t_s - 50400.0) / per
    if abs(x) < 1.57:
        delay_s = slant * (_NIGHT_DELAY_S + amp * (1.0 - x * x / 2.0 + x * x * x * x / 24.0))
    else:
        delay_s = slant * _NIGHT_DELAY_S
    return C_MPS * delay_s


@kernel
def klobuchar_bds(lat_rad, lon_rad, az_rad, el_rad, sow_bdt_s, alpha, beta):
    """BDS Klobuchar ionospheric delay [m] on B1I (BDS-SIS-ICD-B1I-3.0 §5.2.4.7).

    The pierce point is computed on a 375 km shell over a 6378 km sphere with spherical geometry
    (not GPS's linear approximation), the vertical delay uses the geographic latitude of the pierce
    point and BDT local time, and the slant factor is the shell's obliquity.

    Parameters
    ----------
    lat_rad, lon_rad : float
        Receiver geodetic latitude and longitude [rad].
    az_rad, el_rad : float
        Satellite azimuth and elevation [rad].
    sow_bdt_s : float
        BDT seconds (of week or of any whole-day origin; only the time of day is used) [s].
    alpha, beta : float64[4]
        Broadcast coefficients alpha_n [s/semicircle^n], beta_n [s/semicircle^n].

    Returns
    -------
    float
        Delay on B1I [m]; NaN below the horizon.
    """
    if not el_rad > 0.0:
        return math.nan
    ratio = _BDS_EARTH_R_KM / (_BDS_EARTH_R_KM + _BDS_SHELL_H_KM) * math.cos(el_rad)
    psi = math.pi / 2.0 - el_rad - math.asin(ratio)  # Earth-centred angle [rad]
    sin_phi_m = math.sin(lat_rad) * math.cos(psi) + math.cos(lat_rad) * math.sin(psi) * math.cos(az_rad)
    phi_m = math.asin(min(max(sin_phi_m, -1.0), 1.0))
    lam_m = lon_rad + math.asin(min(max(math.sin(psi) * math.sin(az_rad) / math.cos(phi_m), -1.0), 1.0))
    t_s = (sow_bdt_s + lam_m * 43200.0 / math.pi) % 86400.0
    x_sc = abs(phi_m / math.pi)
    a2 = alpha[0] + x_sc * (alpha[1] + x_sc * (alpha[2] + x_sc * alpha[3]))
    a4 = beta[0] + x_sc * (beta[1] + x_sc * (beta[2] + x_sc * beta[3]))
    a2 = max(a2, 0.0)
    a4 = min(max(a4, 72000.0), 172800.0)
    if abs(t_s - 50400.0) < a4 / 4.0:
        iz_s = _NIGHT_DELAY_S + a2 * math.cos(2.0 * math.pi * (t_s - 50400.0) / a4)
    else:
        iz_s = _NIGHT_DELAY_S
    return C_MPS * iz_s / math.sqrt(1.0 - ratio * ratio)


@kernel
def tropo_slant_delay_many(lat_rad, h_m, el_rad, doy, humidity, out_m):
    """Row-wise :func:`tropo_slant_delay` for one receiver and many elevations (float64[n])."""
    for i in range(el_rad.shape[0]):
        out_m[i] = tropo_slant_delay(lat_rad, h_m, el_rad[i], doy, humidity)


@kernel
def klobuchar_many(lat_rad, lon_rad, az_rad, el_rad, t_s, alpha, beta, is_bds_model, out_m):
    """Row-wise Klobuchar delay on the model's reference frequency for one receiver.

    ``is_bds_model`` (bool) selects :func:`klobuchar_bds` (``t_s`` in BDT) or :func:`klobuchar_gps`
    (``t_s`` in GPST); ``az_rad``, ``el_rad`` and ``out_m`` are float64[n].
    """
    for i in range(el_rad.shape[0]):
        if is_bds_model:
            out_m[i] = klobuchar_bds(lat_rad, lon_rad, az_rad[i], el_rad[i], t_s, alpha, beta)
        else:
            out_m[i] = klobuchar_gps(lat_rad, lon_rad, az_rad[i], el_rad[i], t_s, alpha, beta)
