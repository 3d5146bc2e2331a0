"""The SPP kernel on a synthetic constellation with known receiver position, clocks and faults.

Pseudoranges are built with the exact Earth-rotation geometry (the satellite position rotated into
the receive-time frame, iterated on the flight time), the solver's own atmosphere models evaluated
at the true position, and seeded noise.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gnssaug.constants import C_MPS, OMEGA_E_GPS_RADPS
from gnssaug.geodesy import ecef_from_llh, enu_rotation
from gnssaug.kernels import atmosphere as atmo
from gnssaug.kernels import spp as k

DEG = math.pi / 180
N_GROUPS = 8
GPS_GROUP, BDS3_GROUP = 0, 5
TRUE_LLH = np.array([30.5 * DEG, 114.3 * DEG, 40.0])
TRUE_CLK_M = {GPS_GROUP: 1500.0, BDS3_GROUP: 1512.5}  # receiver clock + BDS-3 inter-system bias
T_DAY_S, DOY = 30000.0, 1.0
ION = np.array(
    [1.1e-08, 1.5e-08, -6.0e-08, -1.2e-07, 9.0e04, 4.9e04, -1.3e05, -3.3e05]  # GPS
    + [9.3e-09, 8.9e-08, -1.0e-06, 2.1e-06, 1.25e05, -6.9e05, 6.9e06, -7.4e06]  # BDS
)
# Tolerances: noise-free data must be solved to the millimetre level (the Sagnac term is first order);
# with 0.3 m zenith code noise a 12-satellite solution is within a few metres.
TOL_EXACT_M = 0.01
TOL_NOISY_M = 3.0


def _opts(elmask_deg=10.0, max_exclude=3):
    opts = np.zeros(k.N_OPT)
    opts[k.OPT_ELMASK_RAD] = elmask_deg * DEG
    opts[k.OPT_ERR_A_M] = opts[k.OPT_ERR_B_M] = 0.3
    opts[k.OPT_IONO_ERR] = 0.5
    opts[k.OPT_MAX_EXCLUDE] = max_exclude
    opts[k.OPT_MAX_ITER] = 10
    opts[k.OPT_GDOP_MAX] = 30.0
    opts[k.OPT_HUMIDITY] = 0.7
    opts[k.OPT_TROPO_ERR_M] = 0.3
    opts[k.OPT_CONV_M] = 1e-4
    return opts


def _chi2_table():
    from scipy.stats import chi2

    return chi2.ppf(0.999, np.arange(1, 101))


def _constellation(n_gps=7, n_bds=6, noise_m=0.0, seed=1, fault=None, iono_error=None):
    """Satellites spread over the sky above 12 deg; returns the kernel's row inputs."""
    rng = np.random.default_rng(seed)
    rx = ecef_from_llh(TRUE_LLH)
    rot = enu_rotation(TRUE_LLH[0], TRUE_LLH[1])
    n = n_gps + n_bds
    az = np.linspace(0, 2 * math.pi, n, endpoint=False) + rng.uniform(0, 0.3, n)
    el = rng.uniform(12, 85, n) * DEG
    radius = np.where(np.arange(n) < n_gps, 26_560e3, 27_906e3)
    los_enu = np.stack([np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), np.sin(el)], axis=1)
    los_ecef = los_enu @ rot
    # distance along the line of sight to the orbit sphere
    b = los_ecef @ rx
    dist = -b + np.sqrt(b * b - (rx @ rx - radius**2))
    sat_rx_frame = rx + dist[:, None] * los_ecef
    # the ephemeris gives positions in the transmit-time frame: undo the rotation during the flight
    sat_pos = np.empty_like(sat_rx_frame)
    pr = np.empty(n)
    group = np.where(np.arange(n) < n_gps, GPS_GROUP, BDS3_GROUP)
    model = np.where(group == GPS_GROUP, k.IONO_GPS_KLOBUCHAR, k.IONO_BDS_KLOBUCHAR)
    sat_clk_m = rng.uniform(-3e5, 3e5, n)
    for i in range(n):
        rho = np.linalg.norm(sat_rx_frame[i] - rx)
        theta = OMEGA_E_GPS_RADPS * rho / C_MPS
        c, s = math.cos(theta), math.sin(theta)
        x, y, z = sat_rx_frame[i]
        sat_pos[i] = (c * x - s * y, s * x + c * y, z)
        if model[i] == k.IONO_GPS_KLOBUCHAR:
            iono = atmo.klobuchar_gps(
                TRUE_LLH[0], TRUE_LLH[1], az[i] % (2 * math.pi), el[i], T_DAY_S, ION[:4], ION[4:8]
            )
        else:
            iono = atmo.klobuchar_bds(
                TRUE_LLH[0], TRUE_LLH[1], az[i] % (2 * math.pi), el[i], T_DAY_S - 14, ION[8:12], ION[12:16]
            )
        trop = atmo.tropo_slant_delay(TRUE_LLH[0], TRUE_LLH[2], el[i], DOY, 0.7)
        if iono_error is not None:  # the real ionosphere differs from the model (scale, gradient [m/deg],
            # optionally a curvature [m/deg^2] over the pierce point's latitude offset)
            part = _gradient_partial(el[i], az[i] % (2 * math.pi))
            iono += iono_error[0] * iono + iono_error[1] * part
            if len(iono_error) > 2:
                iono += iono_error[2] * part * _dlat_deg(el[i], az[i] % (2 * math.pi))
        pr[i] = rho + TRUE_CLK_M[group[i]] - sat_clk_m[i] + iono + trop + noise_m * rng.standard_normal()
    if fault is not None:
        pr[fault[0]] += fault[1]
    rowf = np.zeros((n, k.N_ROWF))
    rowf[:, k.COL_PR_M] = pr
    rowf[:, k.COL_SAT_CLK_M] = sat_clk_m
    rowf[:, k.COL_VAR_SAT_M2] = 1.0
    rowf[:, k.COL_EFACT] = 1.0
    rowf[:, k.COL_CN0_DBHZ] = np.nan
    rowf[:, k.COL_IONO_SCALE] = 1.0
    rowi = np.stack([group, model], axis=1).astype(np.int64)
    return rx, sat_pos, rowf, rowi


def _dlat_deg(el, az):
    """Latitude offset [deg] of the 350 km thin-shell pierce point from the receiver."""
    r_e, h = 6371.0, 350.0
    psi = math.pi / 2 - el - math.asin(r_e / (r_e + h) * math.cos(el))
    lat = TRUE_LLH[0]
    return math.degrees(math.asin(math.sin(lat) * math.cos(psi) + math.cos(lat) * math.sin(psi) * math.cos(az)) - lat)


def _gradient_partial(el, az):
    """Independent 350 km thin-shell pierce-point latitude offset [deg] times the shell obliquity."""
    r_e, h = 6371.0, 350.0
    zenith_ipp = math.asin(r_e / (r_e + h) * math.cos(el))  # zenith angle at the pierce point
    psi = math.pi / 2 - el - zenith_ipp
    lat = TRUE_LLH[0]
    lat_ipp = math.asin(math.sin(lat) * math.cos(psi) + math.cos(lat) * math.sin(psi) * math.cos(az))
    return math.degrees(lat_ipp - lat) / math.cos(zenith_ipp)


def _empty_filter():
    """An empty ionosphere filter bank of one epoch-wise model."""
    kf = np.zeros((1, k.N_KF_ROWS, k.N_EXTRA))
    kf[:, k.KF_VAR0] = np.nan
    kf[:, k.KF_MODEL, k.KF_PROB] = 1.0
    return kf


def _empty_prediction():
    """The bank's prediction for an epoch without history: every model at its stationary prior."""
    pred = np.empty_like(_empty_filter())
    k._imm_predict(_empty_filter(), np.inf, 3600.0, pred)
    return pred


def _solve(sat_pos, rowf, rowi, opts=None, x0=None, valid=None):
    n = sat_pos.shape[0]
    x = np.zeros(3 + N_GROUPS + k.N_EXTRA) if x0 is None else x0.copy()
    used = np.zeros(n, np.bool_)
    resid = np.zeros(n)
    cov = np.zeros((3, 3))
    dops = np.zeros(4)
    valid = np.ones(n, np.bool_) if valid is None else valid
    out = k.spp_epoch(sat_pos, rowf, rowi, valid, T_DAY_S, DOY, ION, _opts() if opts is None else opts,
                      _chi2_table(), N_GROUPS, x, used, resid, cov, dops, _empty_filter(), np.inf)
    return out, x, used, cov, dops


def test_noise_free_solution_from_earth_centre_is_exact():
    rx, sat_pos, rowf, rowi = _constellation()
    (reason, n_used, n_excl), x, used, cov, dops = _solve(sat_pos, rowf, rowi)
    assert reason == k.OK and n_excl == 0 and n_used == 13 and used.all()
    assert np.linalg.norm(x[:3] - rx) < TOL_EXACT_M
    assert x[3 + GPS_GROUP] == pytest.approx(TRUE_CLK_M[GPS_GROUP], abs=TOL_EXACT_M)
    assert x[3 + BDS3_GROUP] == pytest.approx(TRUE_CLK_M[BDS3_GROUP], abs=TOL_EXACT_M)
    assert np.isnan(x[3 + 1])  # GLONASS: no satellites, no clock
    assert 1.0 < dops[1] < dops[0] < 10.0 and dops[2] < dops[1] and dops[3] < dops[1]
    assert np.all(np.linalg.eigvalsh(cov) > 0)


def test_noisy_solution_within_a_few_metres():
    rx, sat_pos, rowf, rowi = _constellation(noise_m=0.3, seed=7)
    (reason, _, n_excl), x, *_ = _solve(sat_pos, rowf, rowi)
    assert reason == k.OK and n_excl == 0
    assert np.linalg.norm(x[:3] - rx) < TOL_NOISY_M


def test_fault_is_detected_and_excluded():
    rx, sat_pos, rowf, rowi = _constellation(n_gps=8, n_bds=7, noise_m=0.3, seed=3, fault=(4, 60.0))
    (reason, n_used, n_excl), x, used, *_ = _solve(sat_pos, rowf, rowi)
    assert reason == k.OK and n_excl == 1 and not used[4] and n_used == 14
    assert np.linalg.norm(x[:3] - rx) < TOL_NOISY_M
    # Without exclusion the same epoch fails the chi-square test rather than returning a bad position.
    (reason, *_), *_ = _solve(sat_pos, rowf, rowi, opts=_opts(max_exclude=0))
    assert reason == k.CHI_SQUARE_FAILED


def test_elevation_mask_drops_low_satellites():
    rx, sat_pos, rowf, rowi = _constellation(seed=5)
    rot = enu_rotation(TRUE_LLH[0], TRUE_LLH[1])
    up = ((sat_pos - rx) @ rot.T)[:, 2] / np.linalg.norm(sat_pos - rx, axis=1)
    el_deg = np.degrees(np.arcsin(up))
    (reason, n_used, _), x, used, *_ = _solve(sat_pos, rowf, rowi, opts=_opts(elmask_deg=30.0))
    assert reason == k.OK
    np.testing.assert_array_equal(used, el_deg >= 30.0 - 0.01)


def test_too_few_satellites_is_a_status_not_an_exception():
    rx, sat_pos, rowf, rowi = _constellation(n_gps=3, n_bds=1)
    (reason, n_used, _), x, *_ = _solve(sat_pos, rowf, rowi)
    assert reason == k.TOO_FEW_SATS
    (reason, *_), *_ = _solve(sat_pos[:0], rowf[:0], rowi[:0])
    assert reason == k.TOO_FEW_SATS


def test_batch_matches_single_epochs_and_seeds_from_previous():
    rx, sat_pos, rowf, rowi = _constellation(noise_m=0.3, seed=11)
    n = sat_pos.shape[0]
    reps = 3
    offsets = np.arange(reps + 1, dtype=np.int64) * n
    big = [np.concatenate([a] * reps) for a in (sat_pos, rowf, rowi)]
    valid = np.ones(n * reps, np.bool_)
    valid[n:n + n - 3] = False  # epoch 1 keeps 3 satellites: no solution
    out_pos = np.zeros((reps, 3))
    out_cov = np.zeros((reps, 3, 3))
    out_clk = np.zeros((reps, N_GROUPS))
    out_dops = np.zeros((reps, 4))
    reason = np.zeros(reps, np.int64)
    n_used = np.zeros(reps, np.int64)
    n_excl = np.zeros(reps, np.int64)
    used = np.zeros(n * reps, np.bool_)
    resid = np.zeros(n * reps)
    k.spp_batch(offsets, big[0], big[1], big[2], valid, np.full(reps, T_DAY_S), np.full(reps, DOY),
                np.tile(ION, (reps, 1)), _opts(), _chi2_table(), N_GROUPS, np.zeros(3 + N_GROUPS + k.N_EXTRA),
                out_pos, out_cov, out_clk, out_dops, reason, n_used, n_excl, used, resid, np.full(reps, 1.0),
                _empty_filter(), np.zeros((reps, 1)))
    assert list(reason) == [k.OK, k.TOO_FEW_SATS, k.OK]
    assert np.isnan(out_pos[1]).all() and not used[n:2 * n].any()
    (r0, *_), x0, *_ = _solve(sat_pos, rowf, rowi)
    np.testing.assert_allclose(out_pos[0], x0[:3], atol=1e-3)
    np.testing.assert_allclose(out_pos[2], out_pos[0], atol=1e-3)


def test_chi2_quantiles_match_scipy():
    from scipy.stats import chi2

    from gnssaug.solvers.spp import chi2_table

    for alpha in (1e-3, 0.01, 0.05):
        np.testing.assert_allclose(chi2_table(alpha, 120), chi2.ppf(1 - alpha, np.arange(1, 121)), rtol=1e-8)


def test_ionosphere_scale_and_gradient_parameters_absorb_a_model_error():
    # Real ionosphere 60 % above Klobuchar with a 0.8 m/deg north gradient: the solution without
    # ionosphere parameters is metres off. With loose priors the parameters are recovered and the
    # position is exact again; the default priors (1 and 1 m/deg) shrink the weakly observable
    # scale but still remove most of the error.
    rx, sat_pos, rowf, rowi = _constellation(n_gps=10, n_bds=10, seed=21, iono_error=(0.6, 0.8))
    opts = _opts(max_exclude=0)
    (reason, *_), x_plain, *_ = _solve(sat_pos, rowf, rowi, opts=opts)
    err_plain = np.linalg.norm(x_plain[:3] - rx)
    assert reason == k.OK and err_plain > 5.0
    opts[k.OPT_IONO_SCALE_SIGMA] = opts[k.OPT_IONO_GRAD_SIGMA] = 10.0
    (reason, *_), x_loose, *_ = _solve(sat_pos, rowf, rowi, opts=opts)
    assert reason == k.OK and np.linalg.norm(x_loose[:3] - rx) < 0.3
    assert x_loose[3 + N_GROUPS] == pytest.approx(0.6, abs=0.05)
    assert x_loose[4 + N_GROUPS] == pytest.approx(0.8, abs=0.05)
    opts[k.OPT_IONO_SCALE_SIGMA] = opts[k.OPT_IONO_GRAD_SIGMA] = 1.0
    (reason, *_), x_default, *_ = _solve(sat_pos, rowf, rowi, opts=opts)
    assert reason == k.OK and np.linalg.norm(x_default[:3] - rx) < 0.5 * err_plain
    # too little redundancy for the extra parameters: they are not estimated
    opts[k.OPT_IONO_MIN_REDUNDANCY] = 100
    (reason, *_), x_off, *_ = _solve(sat_pos, rowf, rowi, opts=opts)
    np.testing.assert_allclose(x_off[:3], x_plain[:3], atol=1e-6)


def _wls_full(sat_pos, rowf, rowi, opts, active):
    """The kernel's iterated least squares alone: (reason, n_used, k, chi2, k_all), x, caches."""
    n = sat_pos.shape[0]
    x = np.zeros(3 + N_GROUPS + k.N_EXTRA)
    work = np.full((6, n), np.nan)
    atmo_rx = np.full(4, np.nan)
    used = np.zeros(n, np.bool_)
    resid, var = np.zeros(n), np.zeros(n)
    qinv = np.zeros((16, 16))
    pidx = np.full(N_GROUPS, -1, np.int64)
    kx = np.full(3, -1, np.int64)
    out = k._wls(sat_pos, rowf, rowi, active, T_DAY_S, DOY, ION, opts, N_GROUPS, x, work, atmo_rx, used, resid,
                 var, qinv, pidx, kx, _empty_prediction(), np.zeros((k.N_KF_ROWS, k.N_EXTRA)))
    return out, x, work, resid, var, qinv, pidx, kx


@pytest.mark.parametrize("n_iono", [0, 2, 3])
def test_leave_one_out_chi_square_equals_a_solution_without_the_row(n_iono):
    # Fault exclusion scores each candidate by the closed-form chi-square without it; it must equal
    # a fresh iterated solution without that row (to the solver's convergence), for every row,
    # with none, two or three ionosphere parameters; a group's only row takes its clock parameter along.
    rx, sat_pos, rowf, rowi = _constellation(n_gps=8, n_bds=7, noise_m=0.5, seed=5, fault=(3, 25.0),
                                             iono_error=(0.3, 0.2))
    rowi[14, k.COL_GROUP] = 2  # a lone satellite in a third clock group
    opts = _opts(max_exclude=0)
    opts[k.OPT_IONO_SCALE_SIGMA] = opts[k.OPT_IONO_GRAD_SIGMA] = 1.0 if n_iono else 0.0
    opts[k.OPT_IONO_CURV_SIGMA] = 0.1 if n_iono == 3 else 0.0
    opts[k.OPT_IONO_MIN_REDUNDANCY] = 4
    n = sat_pos.shape[0]
    active = np.ones(n, np.bool_)
    (reason, n_used, n_param, chi2, k_all), x, work, resid, var, qinv, pidx, kx = _wls_full(
        sat_pos, rowf, rowi, opts, active)
    assert reason == k.OK and n_used == n and k_all == n_param + n_iono
    exact, closed = np.zeros(n), np.zeros(n)
    for j in range(n):
        active[j] = False
        (r_j, nu_j, k_j, exact[j], _), *_ = _wls_full(sat_pos, rowf, rowi, opts, active)
        active[j] = True
        closed[j], k_loo = k._leave_one_out(j, sat_pos, x, rowi, work, qinv, pidx, kx, n_param, k_all, var, resid,
                                            chi2, n_used, opts)
        assert r_j == k.OK and k_loo == k_j
    # Equal up to the atmosphere's change over the metres (tens with the ionosphere parameters) the
    # position moves without a row: the closed form keeps the full solution's delays. The FDE
    # decisions are the same: the same best candidate and the same rows passing the test.
    np.testing.assert_allclose(closed, exact, rtol=0.01 if n_iono else 1e-4, atol=0.5 if n_iono else 1e-3)
    threshold = _chi2_table()[n_used - 1 - n_param - 1]
    assert np.argmin(closed) == np.argmin(exact) == 3
    np.testing.assert_array_equal(closed <= threshold, exact <= threshold)
    # when the deletion would drop an ionosphere parameter there is no closed form
    opts[k.OPT_IONO_MIN_REDUNDANCY] = n_used - n_param - (1 if n_iono == 3 else 0)
    c_loo, _ = k._leave_one_out(0, sat_pos, x, rowi, work, qinv, pidx, kx, n_param, k_all, var, resid, chi2, n_used,
                                opts)
    assert (c_loo < 0) == (n_iono > 0)


def test_curvature_parameter_absorbs_an_anomaly_crest():
    # An equatorial-anomaly-like error: delays growing towards the south faster than linearly
    # (gradient -0.5 m/deg, curvature 0.08 m/deg^2). Scale and gradient alone leave metres;
    # with a loose curvature prior all three are recovered and the position is exact again.
    rx, sat_pos, rowf, rowi = _constellation(n_gps=10, n_bds=10, seed=21, iono_error=(0.2, -0.5, 0.08))
    opts = _opts(max_exclude=0)
    opts[k.OPT_IONO_SCALE_SIGMA] = opts[k.OPT_IONO_GRAD_SIGMA] = 10.0
    (reason, *_), x_two, *_ = _solve(sat_pos, rowf, rowi, opts=opts)
    assert reason == k.OK and np.linalg.norm(x_two[:3] - rx) > 1.0
    opts[k.OPT_IONO_CURV_SIGMA] = 1.0
    (reason, *_), x_three, *_ = _solve(sat_pos, rowf, rowi, opts=opts)
    assert reason == k.OK and np.linalg.norm(x_three[:3] - rx) < 0.3
    assert np.all(np.abs(x_three[3 + N_GROUPS:] - [0.2, -0.5, 0.08]) < [0.05, 0.05, 0.01])
    # priors relative to the models' peak delay: the same sigmas as that many metres
    peak_m = k._model_peak_m(np.array([TRUE_LLH[0], TRUE_LLH[1], TRUE_LLH[2]]), ION)
    rel = opts.copy()
    rel[k.OPT_IONO_PRIORS_RELATIVE] = 1.0
    rel[k.OPT_IONO_GRAD_SIGMA] = opts[k.OPT_IONO_GRAD_SIGMA] / peak_m
    rel[k.OPT_IONO_CURV_SIGMA] = opts[k.OPT_IONO_CURV_SIGMA] / peak_m
    (reason, *_), x_rel, *_ = _solve(sat_pos, rowf, rowi, opts=rel)
    np.testing.assert_allclose(x_rel, x_three, atol=1e-6)


def test_model_peak_is_the_larger_zenith_delay_at_14h_local_time():
    from gnssaug.atmosphere.ionosphere import klobuchar_bds_m, klobuchar_gps_m
    from gnssaug.constants import NS_PER_S

    # 14:00 local solar time at the receiver's longitude, as GPST (BDS: the same instant in BDT)
    t_s = (14 * 3600 - math.degrees(TRUE_LLH[1]) / 15 * 3600) % 86400
    gps = klobuchar_gps_m(TRUE_LLH[0], TRUE_LLH[1], 0.0, math.pi / 2, int(t_s * NS_PER_S), ION[:4], ION[4:8])
    bds = klobuchar_bds_m(TRUE_LLH[0], TRUE_LLH[1], 0.0, math.pi / 2, int((t_s + 14) * NS_PER_S), ION[8:12],
                          ION[12:16])
    llh = np.array([TRUE_LLH[0], TRUE_LLH[1], 0.0])
    assert k._model_peak_m(llh, ION) == pytest.approx(max(gps, bds), rel=1e-3)
    gps_only = ION.copy()
    gps_only[8:] = 0.0
    assert k._model_peak_m(llh, gps_only) == pytest.approx(gps, rel=1e-3)
    assert math.isnan(k._model_peak_m(llh, np.zeros(16)))
