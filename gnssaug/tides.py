"""Solid Earth tide: how far the ground under a receiver moves with the Sun's and the Moon's pull.

A receiver on the ground rises and falls by up to ~0.3-0.4 m twice a day (and moves ~0.1 m
horizontally). Reference coordinates (ITRF, the stations' published positions, the truths the
benchmarks use) are *conventional tide-free* positions, so a solution that wants to be compared with
them, or that a surveyor reads as a coordinate, has that displacement taken out.

Model: IERS Conventions (2010) §7.1.1, step 1 (degree-2 Love and Shida numbers with their latitude
dependence, eq. 7.5 with 7.2), Sun and Moon positions from the low-precision series of Montenbruck &
Gill, *Satellite Orbits* (2000) §3.3.2, referred to the mean equinox of date by the precession in
longitude and rotated to ECEF with the mean sidereal time (nutation and polar motion left out: < 0.01
deg, far below the series' own accuracy). Left out as well: the
degree-3 terms (< 2 mm) and step 2's frequency-dependent corrections (< 13 mm radial). The step-1
displacement with nominal numbers includes the permanent tide, which is what makes the corrected
position conventional tide-free (IERS 2010 §7.1.1.2).
"""

from __future__ import annotations

import numpy as np

from gnssaug.constants import NS_PER_S
from gnssaug.errors import InvalidInputError
from gnssaug.time import LEAP_SECONDS, gpst_ns_from_calendar, gpst_ns_from_datetime

#: Gravitational parameters [m^3/s^2] and the Earth's equatorial radius [m] (IERS 2010 Table 1.1).
GM_EARTH = 3.986004418e14
GM_SUN = 1.32712442099e20
GM_MOON = GM_EARTH * 0.0123000371
R_EARTH_M = 6378136.6
#: Nominal degree-2 Love and Shida numbers (IERS 2010 eq. 7.2).
H2_NOMINAL, L2_NOMINAL = 0.6078, 0.0847
#: Obliquity of the ecliptic at J2000 [rad] (it changes by 0.013 deg per century).
OBLIQUITY_J2000_RAD = np.radians(23.43929111)
#: General precession in longitude [deg per Julian century]: brings the series' J2000 ecliptic longitudes
#: to the mean equinox of date, the equinox the mean sidereal time is counted from (0.36 deg by 2025).
PRECESSION_DEG_PER_CY = 1.3972
#: TT - GPST [s] (TAI - GPST = 19 s, TT - TAI = 32.184 s).
TT_MINUS_GPST_S = 51.184
_J2000_CALENDAR_NS = gpst_ns_from_calendar(2000, 1, 1, 12)  # 2000-01-01 12:00 read as a calendar instant
_ARCSEC_RAD = np.pi / (180.0 * 3600.0)
# GPST instants from which each GPS - UTC value holds (the table's UTC dates moved to GPST)
_LEAP_FROM_GPST_NS = np.array([gpst_ns_from_datetime(d) + v * NS_PER_S for d, v in LEAP_SECONDS], np.int64)
_LEAP_VALUE_S = np.array([v for _, v in LEAP_SECONDS], np.int64)


def _leap_s(t_gpst_ns: np.ndarray) -> np.ndarray:
    """GPS - UTC [s] at each GPST instant (vectorised :func:`gnssaug.time.leap_seconds_at_gpst_ns`)."""
    i = np.searchsorted(_LEAP_FROM_GPST_NS, t_gpst_ns, side="right") - 1
    return np.where(i >= 0, _LEAP_VALUE_S[np.maximum(i, 0)], 0)


def _sun_ecliptic_m(t_cy: np.ndarray) -> np.ndarray:
    """Sun in ecliptic coordinates (mean equinox of date) [m], shape (n, 3); Montenbruck & Gill eq. 3.43-3.46."""
    mean_anomaly = np.radians(357.5256 + 35999.049 * t_cy)
    lon = np.radians(282.9400 + PRECESSION_DEG_PER_CY * t_cy) + mean_anomaly + _ARCSEC_RAD * (
        6892.0 * np.sin(mean_anomaly) + 72.0 * np.sin(2.0 * mean_anomaly))
    r_m = (149.619 - 2.499 * np.cos(mean_anomaly) - 0.021 * np.cos(2.0 * mean_anomaly)) * 1e9
    return np.stack([r_m * np.cos(lon), r_m * np.sin(lon), np.zeros_like(r_m)], axis=-1)


def _moon_ecliptic_m(t_cy: np.ndarray) -> np.ndarray:
    """Moon in ecliptic coordinates (mean equinox of date) [m], shape (n, 3); Montenbruck & Gill eq. 3.47-3.49."""
    mean_lon = np.radians(218.31617 + 481267.88088 * t_cy)
    l_moon = np.radians(134.96292 + 477198.86753 * t_cy)  # Moon's mean anomaly
    l_sun = np.radians(357.52543 + 35999.04944 * t_cy)  # Sun's mean anomaly
    f_arg = np.radians(93.27283 + 483202.01873 * t_cy)  # mean distance from the ascending node
    d_arg = np.radians(297.85027 + 445267.11135 * t_cy)  # difference of the Moon's and Sun's longitudes
    s = np.sin
    lon = mean_lon + _ARCSEC_RAD * (
        22640 * s(l_moon) + 769 * s(2 * l_moon) - 4586 * s(l_moon - 2 * d_arg) + 2370 * s(2 * d_arg)
        - 668 * s(l_sun) - 412 * s(2 * f_arg) - 212 * s(2 * l_moon - 2 * d_arg) - 206 * s(l_moon + l_sun - 2 * d_arg)
        + 192 * s(l_moon + 2 * d_arg) - 165 * s(l_sun - 2 * d_arg) + 148 * s(l_moon - l_sun) - 125 * s(d_arg)
        - 110 * s(l_moon + l_sun) - 55 * s(2 * f_arg - 2 * d_arg))
    lat = _ARCSEC_RAD * (
        18520 * s(f_arg + lon - mean_lon + _ARCSEC_RAD * (412 * s(2 * f_arg) + 541 * s(l_sun)))
        - 526 * s(f_arg - 2 * d_arg) + 44 * s(l_moon + f_arg - 2 * d_arg) - 31 * s(-l_moon + f_arg - 2 * d_arg)
        - 25 * s(-2 * l_moon + f_arg) - 23 * s(l_sun + f_arg - 2 * d_arg) + 21 * s(-l_moon + f_arg)
        + 11 * s(-l_sun + f_arg - 2 * d_arg))
    c = np.cos
    r_m = 1e3 * (385000 - 20905 * c(l_moon) - 3699 * c(2 * d_arg - l_moon) - 2956 * c(2 * d_arg)
                 - 570 * c(2 * l_moon) + 246 * c(2 * l_moon - 2 * d_arg) - 205 * c(l_sun - 2 * d_arg)
                 - 171 * c(l_moon + 2 * d_arg) - 152 * c(l_moon + l_sun - 2 * d_arg))
    return np.stack([r_m * c(lon) * c(lat), r_m * s(lon) * c(lat), r_m * s(lat)], axis=-1)


def _ecef_from_ecliptic(v_ecl: np.ndarray, gmst_rad: np.ndarray) -> np.ndarray:
    """Ecliptic (of date) -> equatorial by the obliquity -> Earth-fixed by the sidereal angle; (n, 3)."""
    ce, se = np.cos(OBLIQUITY_J2000_RAD), np.sin(OBLIQUITY_J2000_RAD)
    x, y, z = v_ecl[:, 0], v_ecl[:, 1], v_ecl[:, 2]
    y_eq, z_eq = ce * y - se * z, se * y + ce * z
    cg, sg = np.cos(gmst_rad), np.sin(gmst_rad)
    return np.stack([cg * x + sg * y_eq, -sg * x + cg * y_eq, z_eq], axis=-1)


def sun_moon_ecef_m(t_gpst_ns) -> tuple[np.ndarray, np.ndarray]:
    """Low-precision Sun and Moon positions in ECEF.

    Parameters
    ----------
    t_gpst_ns : int64[n]
        Instants, GPST nanoseconds.

    Returns
    -------
    sun_ecef_m, moon_ecef_m : float64[n, 3]
        Montenbruck & Gill (2000) §3.3.2 series (Sun ~0.01 deg, Moon a few arcmin), mean equinox of
        date, rotated by the mean sidereal time (UT1 taken as UTC: < 0.9 s, 0.004 deg).
    """
    t = np.atleast_1d(np.asarray(t_gpst_ns, dtype=np.int64))
    t_tt_s = (t - _J2000_CALENDAR_NS) / NS_PER_S + TT_MINUS_GPST_S
    t_cy = t_tt_s / (86400.0 * 36525.0)
    t_ut1_days = (t - _leap_s(t) * NS_PER_S - _J2000_CALENDAR_NS) / NS_PER_S / 86400.0
    gmst_rad = np.radians(np.mod(280.46061837 + 360.98564736629 * t_ut1_days, 360.0))
    return (_ecef_from_ecliptic(_sun_ecliptic_m(t_cy), gmst_rad),
            _ecef_from_ecliptic(_moon_ecliptic_m(t_cy), gmst_rad))


def solid_tide_ecef_m(pos_ecef_m, t_gpst_ns) -> np.ndarray:
    """Solid Earth tide displacement of ground points at given instants (IERS Conventions 2010 §7.1.1, step 1).

    Parameters
    ----------
    pos_ecef_m : float64[3] or float64[n, 3]
        Points on the ground (one for every instant, or one per instant) [m].
    t_gpst_ns : int64[n]
        Instants, GPST nanoseconds.

    Returns
    -------
    float64[n, 3]
        Displacement [m] in ECEF: instantaneous position = conventional tide-free position + this.
    """
    t = np.atleast_1d(np.asarray(t_gpst_ns, dtype=np.int64))
    sun, moon = sun_moon_ecef_m(t)
    return tide_displacement_ecef_m(pos_ecef_m, sun, moon)


def tide_displacement_ecef_m(pos_ecef_m, sun_ecef_m, moon_ecef_m) -> np.ndarray:
    """Degree-2 solid Earth tide displacement for given Sun and Moon positions (IERS 2010 eq. 7.5).

    Parameters
    ----------
    pos_ecef_m : float64[3] or float64[n, 3]
        Points on the ground [m].
    sun_ecef_m, moon_ecef_m : float64[3] or float64[n, 3]
        Geocentric positions of the Sun and the Moon in the same frame [m].

    Returns
    -------
    float64[n, 3]
        Displacement [m]; Love and Shida numbers h2, l2 with their latitude dependence (eq. 7.2).
    """
    sun = np.atleast_2d(np.asarray(sun_ecef_m, dtype=np.float64))
    moon = np.atleast_2d(np.asarray(moon_ecef_m, dtype=np.float64))
    pos = np.atleast_2d(np.asarray(pos_ecef_m, dtype=np.float64))
    n = max(len(sun), len(pos))
    if pos.shape[1:] != (3,) or len(pos) not in (1, n) or sun.shape != moon.shape or len(sun) not in (1, n):
        raise InvalidInputError(f"positions {pos.shape}, Sun {sun.shape} and Moon {moon.shape} must be (3,) or (n, 3)")
    r_m = np.linalg.norm(pos, axis=1, keepdims=True)
    if np.any(r_m < 6.0e6):
        raise InvalidInputError("solid Earth tide needs positions on the ground (|r| >= 6000 km)")
    r_hat = pos / r_m
    p2_lat = (3.0 * r_hat[:, 2:3] ** 2 - 1.0) / 2.0  # geocentric latitude, as eq. 7.2 is written
    h2 = H2_NOMINAL - 0.0006 * p2_lat
    l2 = L2_NOMINAL + 0.0002 * p2_lat
    disp = np.zeros((n, 3))
    for body_m, gm in ((sun, GM_SUN), (moon, GM_MOON)):
        dist_m = np.linalg.norm(body_m, axis=1, keepdims=True)
        b_hat = body_m / dist_m
        cos_z = np.sum(b_hat * r_hat, axis=1, keepdims=True)
        scale_m = gm / GM_EARTH * R_EARTH_M ** 4 / dist_m ** 3
        disp += scale_m * (h2 * r_hat * (1.5 * cos_z ** 2 - 0.5) + 3.0 * l2 * cos_z * (b_hat - cos_z * r_hat))
    return disp
