"""Atmosphere models: troposphere (Saastamoinen and Niell mapping) and ionosphere (GPS and BDS Klobuchar).

See :mod:`gnssaug.atmosphere.troposphere` and :mod:`gnssaug.atmosphere.ionosphere`.
"""

from gnssaug.atmosphere.ionosphere import (
    BDS_KLOBUCHAR_REF_HZ,
    GPS_KLOBUCHAR_REF_HZ,
    freq_scale,
    klobuchar_bds_m,
    klobuchar_gps_m,
)
from gnssaug.atmosphere.troposphere import mapping_factors, slant_delay_m, zenith_delays_m

__all__ = [
    "BDS_KLOBUCHAR_REF_HZ",
    "GPS_KLOBUCHAR_REF_HZ",
    "freq_scale",
    "klobuchar_bds_m",
    "klobuchar_gps_m",
    "mapping_factors",
    "slant_delay_m",
    "zenith_delays_m",
]
