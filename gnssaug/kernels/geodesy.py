"""Geodesy kernels on the WGS-84 ellipsoid: ECEF <-> geodetic, local ENU frames, azimuth/elevation.

Scalar kernels work on one point; ``_many`` kernels loop over rows. CGCS2000 differs from WGS-84 in
the flattening by 1e-11 relative, far below a millimetre, so one ellipsoid serves every system.
"""

import math

import numpy as np

from gnssaug.constants import WGS84_A_M, WGS84_E2
from gnssaug.kernels import kernel


@kernel
def llh_from_ecef(xyz_m):
    """Geodetic latitude [rad], longitude [rad], ellipsoidal height [m] of an ECEF point (float64[3]).

    Bowring's iteration to 1e-12 rad, stable at the poles and the Earth's centre.
    """
    x, y, z = xyz_m[0], xyz_m[1], xyz_m[2]
    r2 = x * x + y * y
    out = np.empty(3)
    if r2 + z * z < 1e-12:
        out[0] = 0.0
        out[1] = 0.0
        out[2] = -WGS84_A_M
        return out
    zk = z
    v = WGS84_A_M
    for _ in range(20):
        z_prev = zk
        sinp = zk / math.sqrt(r2 + zk * zk)
        v = WGS84_A_M / math.sqrt(1.0 - WGS84_E2 * sinp * sinp)
        zk = z + v * WGS84_E2 * sinp
        if abs(zk - z_prev) < 1e-4:
            break
    out[0] = math.atan(zk / math.sqrt(r2)) if r2 > 1e-12 else (math.pi / 2 if z > 0 else -math.pi / 2)
    out[1] = math.atan2(y, x) if r2 > 1e-12 else 0.0
    out[2] = math.sqrt(r2 + zk * zk) - v
    return out


@kernel
def ecef_from_llh(llh):
    """ECEF position [m] of geodetic latitude [rad], longitude [rad] and height [m] (float64[3])."""
    sinp = math.sin(llh[0])
    cosp = math.cos(llh[0])
    v = WGS84_A_M / math.sqrt(1.0 - WGS84_E2 * sinp * sinp)
    out = np.empty(3)
    out[0] = (v + llh[2]) * cosp * math.cos(llh[1])
    out[1] = (v + llh[2]) * cosp * math.sin(llh[1])
    out[2] = (v * (1.0 - WGS84_E2) + llh[2]) * sinp
    return out


@kernel
def enu_rotation(lat_rad, lon_rad):
    """Rotation matrix (float64[3, 3]) whose rows are the east, north and up unit vectors in ECEF."""
    sinp, cosp = math.sin(lat_rad), math.cos(lat_rad)
    sinl, cosl = math.sin(lon_rad), math.cos(lon_rad)
    rot = np.empty((3, 3))
    rot[0, 0], rot[0, 1], rot[0, 2] = -sinl, cosl, 0.0
    rot[1, 0], rot[1, 1], rot[1, 2] = -sinp * cosl, -sinp * sinl, cosp
    rot[2, 0], rot[2, 1], rot[2, 2] = cosp * cosl, cosp * sinl, sinp
    return rot


@kernel
def az_el_many(rx_ecef_m, sat_ecef_m, az_rad, el_rad):
    """Azimuth and elevation [rad] of satellites (float64[n, 3]) seen from a receiver (float64[3]).

    Writes into ``az_rad`` and ``el_rad`` (float64[n]); rows with a NaN position give NaN.
    """
    llh = llh_from_ecef(rx_ecef_m)
    rot = enu_rotation(llh[0], llh[1])
    for i in range(sat_ecef_m.shape[0]):
        dx = sat_ecef_m[i, 0] - rx_ecef_m[0]
        dy = sat_ecef_m[i, 1] - rx_ecef_m[1]
        dz = sat_ecef_m[i, 2] - rx_ecef_m[2]
        e = rot[0, 0] * dx + rot[0, 1] * dy + rot[0, 2] * dz
        n = rot[1, 0] * dx + rot[1, 1] * dy + rot[1, 2] * dz
        u = rot[2, 0] * dx + rot[2, 1] * dy + rot[2, 2] * dz
        horiz = math.sqrt(e * e + n * n)
        az = math.atan2(e, n)
        az_rad[i] = az + 2.0 * math.pi if az < 0.0 else az
        el_rad[i] = math.atan2(u, horiz)


@kernel
def llh_from_ecef_many(xyz_m, out_llh):
    """Row-wise :func:`llh_from_ecef` of float64[n, 3] into ``out_llh`` (float64[n, 3])."""
    for i in range(xyz_m.shape[0]):
        out_llh[i, :] = llh_from_ecef(xyz_m[i])


@kernel
def ecef_from_llh_many(llh, out_xyz_m):
    """Row-wise :func:`ecef_from_llh` of float64[n, 3] into ``out_xyz_m`` (float64[n, 3])."""
    for i in range(llh.shape[0]):
        out_xyz_m[i, :] = ecef_from_llh(llh[i])
