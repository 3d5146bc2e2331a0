"""Coordinates on the WGS-84 ellipsoid: ECEF, geodetic (lat/lon/height), local ENU, azimuth/elevation.

Thin numpy front ends over :mod:`gnssaug.kernels.geodesy`: each accepts one point (shape ``(3,)``)
or many (shape ``(n, 3)``) and returns the same leading shape. Angles are radians unless a name
ends in ``_deg``.
"""

from __future__ import annotations

import numpy as np

from gnssaug.errors import InvalidInputError
from gnssaug.kernels import geodesy as _k


def _as_points(arr, name: str) -> tuple[np.ndarray, bool]:
    a = np.ascontiguousarray(arr, dtype=np.float64)
    if a.shape == (3,):
        return a.reshape(1, 3), True
    if a.ndim != 2 or a.shape[1] != 3:
        raise InvalidInputError(f"{name} must have shape (3,) or (n, 3), got {a.shape}")
    return a, False


def llh_from_ecef(xyz_m) -> np.ndarray:
    """Geodetic coordinates of ECEF points.

    Parameters
    ----------
    xyz_m : float64[3] or float64[n, 3]
        ECEF positions [m].

    Returns
    -------
    float64[3] or float64[n, 3]
        Latitude [rad], longitude [rad], ellipsoidal height [m].
    """
    pts, single = _as_points(xyz_m, "xyz_m")
    out = np.empty_like(pts)
    _k.llh_from_ecef_many(pts, out)
    return out[0] if single else out


def ecef_from_llh(llh) -> np.ndarray:
    """ECEF points [m] of geodetic coordinates (latitude [rad], longitude [rad], height [m]).

    Parameters
    ----------
    llh : float64[3] or float64[n, 3]

    Returns
    -------
    float64[3] or float64[n, 3]
    """
    pts, single = _as_points(llh, "llh")
    out = np.empty_like(pts)
    _k.ecef_from_llh_many(pts, out)
    return out[0] if single else out


def llh_deg_from_ecef(xyz_m) -> np.ndarray:
    """Latitude [deg], longitude [deg], height [m] of ECEF points (shape as :func:`llh_from_ecef`)."""
    llh = np.array(llh_from_ecef(xyz_m), copy=True)
    llh[..., :2] = np.degrees(llh[..., :2])
    return llh


def ecef_from_llh_deg(lat_deg, lon_deg, h_m) -> np.ndarray:
    """ECEF position [m] (float64[3], or [n, 3] for array inputs) of latitude/longitude in degrees."""
    lat, lon, h = np.broadcast_arrays(np.radians(lat_deg), np.radians(lon_deg), np.asarray(h_m, dtype=float))
    return ecef_from_llh(np.stack([lat, lon, h], axis=-1))


def enu_rotation(lat_rad: float, lon_rad: float) -> np.ndarray:
    """Rotation (float64[3, 3]) from ECEF vectors to local east/north/up at a geodetic point."""
    return _k.enu_rotation(float(lat_rad), float(lon_rad))


def enu_from_ecef_delta(delta_ecef_m, ref_ecef_m) -> np.ndarray:
    """East/north/up components [m] of ECEF differences (float64[3] or [n, 3]) at a reference point."""
    llh = llh_from_ecef(ref_ecef_m)
    rot = enu_rotation(llh[0], llh[1])
    return np.asarray(delta_ecef_m, dtype=np.float64) @ rot.T


def az_el(rx_ecef_m, sat_ecef_m) -> tuple[np.ndarray, np.ndarray]:
    """Azimuth (clockwise from north, 0..2pi) and elevation [rad] of satellites seen from a receiver.

    Parameters
    ----------
    rx_ecef_m : float64[3]
        Receiver position [m].
    sat_ecef_m : float64[n, 3]
        Satellite positions [m].

    Returns
    -------
    az_rad, el_rad : float64[n]
    """
    rx = np.ascontiguousarray(rx_ecef_m, dtype=np.float64)
    if rx.shape != (3,):
        raise InvalidInputError(f"rx_ecef_m must have shape (3,), got {rx.shape}")
    sats, _ = _as_points(sat_ecef_m, "sat_ecef_m")
    az = np.empty(sats.shape[0])
    el = np.empty(sats.shape[0])
    _k.az_el_many(rx, sats, az, el)
    return az, el
