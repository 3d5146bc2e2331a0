"""Solid Earth tide and the low-precision Sun/Moon it is driven by, against published values."""

import numpy as np
import pytest

from gnssaug.errors import InvalidInputError
from gnssaug.geodesy import ecef_from_llh_deg
from gnssaug.tides import solid_tide_ecef_m, sun_moon_ecef_m, tide_displacement_ecef_m
from gnssaug.time import gpst_ns_from_calendar

#: IERS Conventions software DEHANTTIDEINEL test case (2009-04-13 0h): station, Sun, Moon, and the full
#: model's displacement (steps 1 and 2, degree 2 and 3) [m].
IERS_STATION_M = (4075578.385, 931852.890, 4801570.154)
IERS_SUN_M = (137859926952.015, 54228127881.4350, 23509422341.6960)
IERS_MOON_M = (-179996231.920342, -312468450.131567, -169288918.592160)
IERS_EXPECTED_M = (0.07700420357108126, 0.06304056321824968, 0.05516568152597247)
#: What step 1 degree 2 leaves out: step 2 (<= 13 mm radial), degree 3 (<= 2 mm), out-of-phase terms (1 mm).
STEP1_TOLERANCE_M = 0.010
GPS_MINUS_UTC_2025_S = 18


def _gpst_ns_from_utc(year, month, day, hour, minute):
    return gpst_ns_from_calendar(year, month, day, hour, minute) + GPS_MINUS_UTC_2025_S * 1_000_000_000


def _angle_deg(a, b):
    return np.degrees(np.arccos(np.clip(np.sum(a * b, axis=-1) / np.linalg.norm(a, axis=-1)
                                        / np.linalg.norm(b, axis=-1), -1.0, 1.0)))


def test_displacement_matches_iers_reference_case():
    got = tide_displacement_ecef_m(IERS_STATION_M, IERS_SUN_M, IERS_MOON_M)[0]
    assert np.abs(got - IERS_EXPECTED_M).max() < STEP1_TOLERANCE_M


def test_sun_declination_at_2025_equinox_and_solstice():
    # almanac: March equinox 2025-03-20 09:01 UTC, June solstice 2025-06-21 02:42 UTC
    t = np.array([_gpst_ns_from_utc(2025, 3, 20, 9, 1), _gpst_ns_from_utc(2025, 6, 21, 2, 42)])
    sun, _ = sun_moon_ecef_m(t)
    decl_deg = np.degrees(np.arcsin(sun[:, 2] / np.linalg.norm(sun, axis=1)))
    assert abs(decl_deg[0]) < 0.05
    assert abs(decl_deg[1] - 23.44) < 0.05
    assert np.all(np.abs(np.linalg.norm(sun, axis=1) / 1.496e11 - 1.0) < 0.02)


def test_moon_phases_of_early_2025():
    # almanac: new moon 2024-12-30 22:27 UTC, full moon 2025-01-13 22:27 UTC; the Moon's orbit is
    # inclined 5.1 deg to the ecliptic, so the directions differ by at most that much from 0 / 180 deg
    t = np.array([_gpst_ns_from_utc(2024, 12, 30, 22, 27), _gpst_ns_from_utc(2025, 1, 13, 22, 27)])
    sun, moon = sun_moon_ecef_m(t)
    sep = _angle_deg(sun, moon)
    assert sep[0] < 5.5
    assert sep[1] > 174.5
    assert np.all((np.linalg.norm(moon, axis=1) > 356e6) & (np.linalg.norm(moon, axis=1) < 407e6))


def test_sub_solar_point_at_noon_utc_is_near_greenwich():
    # 2025-06-21 12:00 UTC: the equation of time is -1.7 min, so the Sun is 0.4 deg east of Greenwich
    sun, _ = sun_moon_ecef_m(np.array([_gpst_ns_from_utc(2025, 6, 21, 12, 0)]))
    lon_deg = np.degrees(np.arctan2(sun[0, 1], sun[0, 0]))
    assert abs(lon_deg - 0.4) < 0.2


def test_a_month_of_tides_at_wuhan_has_the_known_size():
    pos = ecef_from_llh_deg(30.53, 114.36, 30.0)
    t = _gpst_ns_from_utc(2025, 1, 1, 0, 0) + np.arange(0, 30 * 86400, 600, dtype=np.int64) * 1_000_000_000
    disp = solid_tide_ecef_m(pos, t)
    up = disp @ (pos / np.linalg.norm(pos))
    horizontal = np.linalg.norm(disp - np.outer(up, pos / np.linalg.norm(pos)), axis=1)
    assert 0.25 < up.max() < 0.45  # spring tides at 30 deg N
    assert -0.30 < up.min() < -0.10
    assert horizontal.max() < 0.15
    # semi-diurnal: the up component changes sign several times a day
    assert np.count_nonzero(np.diff(np.sign(up[:144]))) >= 2


def test_antipodes_move_oppositely():
    pos = np.array([ecef_from_llh_deg(30.0, 114.0, 0.0), ecef_from_llh_deg(-30.0, -66.0, 0.0)])
    t = np.full(2, _gpst_ns_from_utc(2025, 1, 1, 6, 0))
    disp = solid_tide_ecef_m(pos, t)
    np.testing.assert_allclose(disp[0], -disp[1], atol=1e-4)


def test_positions_off_the_ground_are_refused():
    with pytest.raises(InvalidInputError):
        solid_tide_ecef_m(np.zeros(3), np.array([0]))
