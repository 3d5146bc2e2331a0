"""Broadcast ionosphere models: GPS Klobuchar and BDS Klobuchar, scaled to any frequency.

- GPS: IS-GPS-200 §20.3.3.5.2.5, delay on L1 (1575.42 MHz), GPST time of day.
- BDS: BDS-SIS-ICD-B1I-3.0 §5.2.4.7, delay on B1I (1561.098 MHz), BDT time of day, 375 km shell.

A first-order ionospheric group delay scales with ``(f_ref / f) ** 2`` (:func:`freq_scale`).
"""

from __future__ import annotations

import numpy as np

from gnssaug.constants import BDT_MINUS_GPST_S, NS_PER_S
from gnssaug.errors import InvalidInputError
from gnssaug.kernels import atmosphere as _k

#: Reference frequency of the GPS Klobuchar model (L1) [Hz].
GPS_KLOBUCHAR_REF_HZ = 1575.42e6
#: Reference frequency of the BDS Klobuchar model (B1I) [Hz].
BDS_KLOBUCHAR_REF_HZ = 1561.098e6


def freq_scale(f_ref_hz, f_hz):
    """Factor ``(f_ref / f) ** 2`` turning a delay at ``f_ref_hz`` into the delay at ``f_hz``."""
    return (np.asarray(f_ref_hz, dtype=np.float64) / np.asarray(f_hz, dtype=np.float64)) ** 2


def _coeffs(name: str, values) -> np.ndarray:
    arr = np.ascontiguousarray(values, dtype=np.float64)
    if arr.shape != (4,):
        raise InvalidInputError(f"Klobuchar {name} must hold 4 coefficients, got shape {arr.shape}")
    return arr


def _run(lat_rad, lon_rad, az_rad, el_rad, t_s, alpha, beta, is_bds):
    az = np.ascontiguousarray(np.atleast_1d(az_rad), dtype=np.float64)
    el = np.ascontiguousarray(np.atleast_1d(el_rad), dtype=np.float64)
    if az.shape != el.shape:
        raise InvalidInputError(f"az_rad and el_rad shapes differ: {az.shape} vs {el.shape}")
    out = np.empty_like(el)
    _k.klobuchar_many(
        float(lat_rad), float(lon_rad), az, el, float(t_s), _coeffs("alpha", alpha), _coeffs("beta", beta),
        is_bds, out,
    )
    return out if np.ndim(el_rad) else float(out[0])


def klobuchar_gps_m(lat_rad, lon_rad, az_rad, el_rad, t_gpst_ns, alpha, beta, freq_hz=GPS_KLOBUCHAR_REF_HZ):
    """GPS Klobuchar ionospheric delay [m] (IS-GPS-200 §20.3.3.5.2.5).

    Parameters
    ----------
    lat_rad, lon_rad : float
        Receiver latitude and longitude [rad].
    az_rad, el_rad : float or float64[n]
        Satellite azimuths and elevations [rad].
    t_gpst_ns : int
        Epoch, GPST nanoseconds.
    alpha, beta : float64[4]
        Broadcast GPS coefficients (RINEX ``GPSA``/``GPSB``).
    freq_hz : float or float64[n]
        Frequency of the signal [Hz] (default L1).

    Returns
    -------
    float or float64[n]
        Group delay [m]; NaN below the horizon.
    """
    t_s = (int(t_gpst_ns) % (86400 * NS_PER_S)) / NS_PER_S
    delay = _run(lat_rad, lon_rad, az_rad, el_rad, t_s, alpha, beta, False)
    return delay * freq_scale(GPS_KLOBUCHAR_REF_HZ, freq_hz)


def klobuchar_bds_m(lat_rad, lon_rad, az_rad, el_rad, t_gpst_ns, alpha, beta, freq_hz=BDS_KLOBUCHAR_REF_HZ):
    """BDS Klobuchar ionospheric delay [m] (BDS-SIS-ICD-B1I-3.0 §5.2.4.7).

    Same parameters as :func:`klobuchar_gps_m`; ``alpha``/``beta`` are the BDS coefficients (RINEX
    ``BDSA``/``BDSB``), the time is converted to BDT and the default frequency is B1I.
    """
    t_bdt_ns = int(t_gpst_ns) + BDT_MINUS_GPST_S * NS_PER_S
    t_s = (t_bdt_ns % (86400 * NS_PER_S)) / NS_PER_S
    delay = _run(lat_rad, lon_rad, az_rad, el_rad, t_s, alpha, beta, True)
    return delay * freq_scale(BDS_KLOBUCHAR_REF_HZ, freq_hz)
