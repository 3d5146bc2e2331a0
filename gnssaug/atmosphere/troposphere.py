"""Tropospheric delay: Saastamoinen zenith delays with a standard atmosphere, Niell mapping.

Front ends over :mod:`gnssaug.kernels.atmosphere` that accept scalars or arrays of elevations.
The model: zenith hydrostatic and wet delays of Saastamoinen (1972) from pressure, temperature and
humidity of the standard atmosphere at the receiver height, each mapped to the slant with its own
Niell (1996) mapping function (hydrostatic with height correction; wet).
"""

from __future__ import annotations

import numpy as np

from gnssaug.kernels import atmosphere as _k

#: Relative humidity of the standard atmosphere used when no meteorological data are given.
DEFAULT_HUMIDITY = 0.7


def zenith_delays_m(lat_rad: float, h_m: float, humidity: float = DEFAULT_HUMIDITY) -> tuple[float, float]:
    """Zenith hydrostatic and wet delays [m] (Saastamoinen, standard atmosphere at ``h_m``).

    NaN for heights outside -100 m..20 km.
    """
    return _k.saastamoinen_zenith(float(lat_rad), float(h_m), float(humidity))


def mapping_factors(el_rad: float, lat_rad: float, h_m: float, doy: float) -> tuple[float, float]:
    """Niell hydrostatic and wet mapping factors at elevation ``el_rad`` [rad] and day of year ``doy``."""
    return _k.niell_mapping(float(el_rad), float(lat_rad), float(h_m), float(doy))


def slant_delay_m(lat_rad: float, h_m: float, el_rad, doy: float, humidity: float = DEFAULT_HUMIDITY):
    """Slant tropospheric delay [m] of one receiver towards satellites at ``el_rad``.

    Parameters
    ----------
    lat_rad, h_m : float
        Receiver latitude [rad] and height [m].
    el_rad : float or float64[n]
        Elevations [rad]; NaN where the elevation is not positive.
    doy : float
        Day of year (seasonal term of the mapping function).
    humidity : float
        Relative humidity 0..1.

    Returns
    -------
    float or float64[n]
    """
    el = np.ascontiguousarray(np.atleast_1d(el_rad), dtype=np.float64)
    out = np.empty_like(el)
    _k.tropo_slant_delay_many(float(lat_rad), float(h_m), el, float(doy), float(humidity), out)
    return out if np.ndim(el_rad) else float(out[0])
