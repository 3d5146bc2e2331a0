"""Atmosphere models against hand-computed values of their defining formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gnssaug.atmosphere import (
    BDS_KLOBUCHAR_REF_HZ,
    GPS_KLOBUCHAR_REF_HZ,
    freq_scale,
    klobuchar_bds_m,
    klobuchar_gps_m,
    mapping_factors,
    slant_delay_m,
    zenith_delays_m,
)
from gnssaug.constants import C_MPS, NS_PER_S

C = C_MPS
DEG = math.pi / 180.0


def test_saastamoinen_sea_level_standard_atmosphere():
    # At 45 deg latitude cos(2 lat) = 0: ZHD = 0.0022768 * 1013.25 hPa. Wet: T = 288.16 K,
    # e = 6.108 * 0.7 * exp((17.15 T - 4684) / (T - 38.45)) = 12.01 hPa -> ZWD = 0.1205 m.
    zhd, zwd = zenith_delays_m(45 * DEG, 0.0, 0.7)
    assert zhd == pytest.approx(0.0022768 * 1013.25, abs=1e-9)
    assert zwd == pytest.approx(0.1205, abs=5e-4)


def test_saastamoinen_decreases_with_height_and_rejects_space():
    zhd0, _ = zenith_delays_m(0.6, 0.0)
    zhd2k, _ = zenith_delays_m(0.6, 2000.0)
    # Pressure of the standard atmosphere, and the gravity term 0.00028 h_km of the denominator.
    gravity = (1 - 0.00266 * math.cos(1.2)) / (1 - 0.00266 * math.cos(1.2) - 0.00028 * 2.0)
    assert zhd2k == pytest.approx(zhd0 * (1 - 2.2557e-5 * 2000) ** 5.2568 * gravity, rel=1e-9)
    assert math.isnan(zenith_delays_m(0.6, 25_000.0)[0])


def test_niell_mapping_is_one_at_zenith_and_near_cosecant_above_30deg():
    m_hyd, m_wet = mapping_factors(90 * DEG, 35 * DEG, 0.0, 180.0)
    assert m_hyd == pytest.approx(1.0, abs=1e-9)
    assert m_wet == pytest.approx(1.0, abs=1e-9)
    m_hyd, m_wet = mapping_factors(30 * DEG, 35 * DEG, 0.0, 180.0)
    assert 1.99 < m_hyd < 2.0 and 1.99 < m_wet < 2.0
    # Low elevations: curvature keeps the factor well under the flat-Earth cosecant (11.47 at 5 deg).
    m_hyd, m_wet = mapping_factors(5 * DEG, 35 * DEG, 0.0, 180.0)
    assert 9.9 < m_hyd < 10.4 and 10.3 < m_wet < 11.0
    assert math.isnan(mapping_factors(-1 * DEG, 0.0, 0.0, 1.0)[0])


def test_slant_delay_vector_matches_scalar():
    el = np.array([10.0, 45.0, 90.0]) * DEG
    vec = slant_delay_m(0.6, 50.0, el, 100.0)
    assert vec.shape == (3,)
    assert vec[1] == pytest.approx(slant_delay_m(0.6, 50.0, 45 * DEG, 100.0))
    assert vec[0] > vec[1] > vec[2] > 2.0


def test_gps_klobuchar_zenith_at_local_14h_is_night_floor_plus_alpha0():
    alpha = np.array([2.0e-8, 0.0, 0.0, 0.0])
    beta = np.array([1.0e5, 0.0, 0.0, 0.0])
    t_ns = 50400 * NS_PER_S  # 14:00 GPST at longitude 0
    got = klobuchar_gps_m(0.0, 0.0, 0.0, 90 * DEG, t_ns, alpha, beta)
    obliquity = 1.0 + 16.0 * (0.53 - 0.5) ** 3
    assert got == pytest.approx(C * obliquity * (5e-9 + 2.0e-8), rel=1e-6)
    # Night: the constant 5 ns only.
    night = klobuchar_gps_m(0.0, 0.0, 0.0, 90 * DEG, 10_000 * NS_PER_S, alpha, beta)
    assert night == pytest.approx(C * obliquity * 5e-9, rel=1e-9)


def test_bds_klobuchar_zenith_follows_icd_cosine_in_bdt():
    alpha = np.array([3.0e-8, 0.0, 0.0, 0.0])
    beta = np.array([1.0e5, 0.0, 0.0, 0.0])
    a4 = 1.0e5
    # BDT = GPST - 14 s; put BDT local time at 50400 + A4/8 at longitude 0, zenith (IPP = receiver).
    t_bdt_s = 50400 + a4 / 8
    t_ns = int(round((t_bdt_s + 14) * NS_PER_S))
    got = klobuchar_bds_m(0.0, 0.0, 0.0, 90 * DEG, t_ns, alpha, beta)
    assert got == pytest.approx(C * (5e-9 + 3.0e-8 * math.cos(math.pi / 4)), rel=1e-6)
    # Outside the daytime window the vertical delay is 5 ns, scaled by the 375 km shell obliquity.
    el = 20 * DEG
    ratio = 6378.0 / (6378.0 + 375.0) * math.cos(el)
    night = klobuchar_bds_m(0.0, 0.0, 1.0, el, 3600 * NS_PER_S, alpha, beta)
    assert night == pytest.approx(C * 5e-9 / math.sqrt(1 - ratio**2), rel=1e-9)


def test_klobuchar_frequency_scaling_and_vectors():
    alpha = np.array([9.3132e-09, 1.4901e-08, -5.9605e-08, -1.1921e-07])
    beta = np.array([8.8064e04, 4.9152e04, -1.3107e05, -3.2768e05])
    az = np.array([0.3, 2.0, 4.0])
    el = np.array([20.0, 45.0, 80.0]) * DEG
    t_ns = (2051 * 604800 + 46701) * NS_PER_S
    l1 = klobuchar_gps_m(22.3 * DEG, 114.18 * DEG, az, el, t_ns, alpha, beta)
    l2 = klobuchar_gps_m(22.3 * DEG, 114.18 * DEG, az, el, t_ns, alpha, beta, freq_hz=1227.60e6)
    np.testing.assert_allclose(l2 / l1, (GPS_KLOBUCHAR_REF_HZ / 1227.60e6) ** 2)
    assert np.all((l1 > 1.0) & (l1 < 40.0))
    assert freq_scale(BDS_KLOBUCHAR_REF_HZ, 1268.52e6) == pytest.approx((1561.098 / 1268.52) ** 2)


def test_klobuchar_rejects_wrong_coefficient_count():
    from gnssaug.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="4 coefficients"):
        klobuchar_gps_m(0.0, 0.0, 0.0, 1.0, 0, [1.0, 2.0], [1.0, 2.0, 3.0, 4.0])
