"""The SPP kernel's time-correlated ionosphere gradient/curvature (Gauss-Markov filter across epochs).

Synthetic epochs from the kernel tests' constellation builder: each epoch sees a different sky
(seeded), the real ionosphere differs from Klobuchar by a fixed north gradient and curvature, and
the code carries 0.5 m of noise. Epoch-wise, the priors shrink the weakly observed structure; the
filter accumulates it over epochs, so the carried estimates approach the truth and the positions
improve, while a long gap or failed epochs return the states to their priors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gnssaug.kernels import spp as k
from gnssaug.solvers.spp import IONO_STRUCTURE_TAU_S, SppOptions
from tests.solvers.test_spp_kernel import ION, N_GROUPS, _chi2_table, _constellation, _opts

TRUE_GRAD, TRUE_CURV = -0.5, 0.08  # [m/deg], [m/deg^2]: delays growing towards the south
SIGMA_GRAD, SIGMA_CURV = 0.3, 0.03  # tight priors: epoch-wise they hold the estimates well short of the truth
N_EPOCH = 40


def _epochs(n_epoch=N_EPOCH, n_sat=(8, 8)):
    parts = [_constellation(n_gps=n_sat[0], n_bds=n_sat[1], seed=100 + e, noise_m=0.5,
                            iono_error=(0.0, TRUE_GRAD, TRUE_CURV)) for e in range(n_epoch)]
    rx = parts[0][0]
    sat_pos, rowf, rowi = (np.ascontiguousarray(np.concatenate([p[i] for p in parts])) for i in (1, 2, 3))
    sizes = [p[1].shape[0] for p in parts]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return rx, offsets, sat_pos, rowf, rowi


def _options(tau_s):
    opts = _opts(max_exclude=0)
    opts[k.OPT_IONO_SCALE_SIGMA] = 1.0
    opts[k.OPT_IONO_GRAD_SIGMA] = SIGMA_GRAD
    opts[k.OPT_IONO_CURV_SIGMA] = SIGMA_CURV
    opts[k.OPT_IONO_MIN_REDUNDANCY] = 4
    opts[k.OPT_IONO_TAU_S] = tau_s
    return opts


def _run(tau_s, valid=None, dt_s=None, data=None):
    rx, offsets, sat_pos, rowf, rowi = data or _epochs()
    n_epoch = offsets.shape[0] - 1
    n_row = sat_pos.shape[0]
    out = {
        "pos": np.zeros((n_epoch, 3)), "cov": np.zeros((n_epoch, 3, 3)), "clk": np.zeros((n_epoch, N_GROUPS)),
        "dops": np.zeros((n_epoch, 4)), "reason": np.zeros(n_epoch, np.int64),
    }
    kf = np.zeros((k.N_KF_ROWS, k.N_EXTRA))
    kf[k.KF_VAR0] = np.nan
    dt = np.full(n_epoch, 30.0) if dt_s is None else dt_s
    k.spp_batch(offsets, sat_pos, rowf, rowi, np.ones(n_row, np.bool_) if valid is None else valid,
                np.full(n_epoch, 30000.0), np.full(n_epoch, 1.0), np.tile(ION, (n_epoch, 1)), _options(tau_s),
                _chi2_table(), N_GROUPS, np.zeros(3 + N_GROUPS + k.N_EXTRA), out["pos"], out["cov"], out["clk"],
                out["dops"], out["reason"], np.zeros(n_epoch, np.int64), np.zeros(n_epoch, np.int64),
                np.zeros(n_row, np.bool_), np.zeros(n_row), dt, kf)
    err = np.linalg.norm(out["pos"] - rx, axis=1)
    return out, err, kf


def test_filter_recovers_the_structure_that_epoch_wise_priors_shrink():
    data = _epochs()
    out0, err0, kf0 = _run(0.0, data=data)
    out1, err1, kf1 = _run(1e9, data=data)  # no decorrelation within the run: plain accumulation
    assert (out0["reason"] == k.OK).all() and (out1["reason"] == k.OK).all()
    # epoch-wise, the last epoch's estimates are pulled towards zero by the tight priors
    assert abs(kf0[k.KF_MEAN, 1] - TRUE_GRAD) > 0.1
    # with the filter the carried estimates converge on the truth, well inside their posterior sigmas
    assert kf1[k.KF_MEAN, 1] == pytest.approx(TRUE_GRAD, abs=max(0.05, 3 * math.sqrt(kf1[k.KF_COV + 1, 1])))
    assert kf1[k.KF_MEAN, 2] == pytest.approx(TRUE_CURV, abs=max(0.01, 3 * math.sqrt(kf1[k.KF_COV + 2, 2])))
    assert kf1[k.KF_COV + 1, 1] < 0.1 * SIGMA_GRAD**2
    # and the positions of the second half (filter converged) are better than epoch-wise ones
    half = slice(N_EPOCH // 2, None)
    assert np.sqrt(np.mean(err1[half] ** 2)) < 0.7 * np.sqrt(np.mean(err0[half] ** 2))


def test_filter_with_tau_zero_is_the_epoch_wise_solution():
    data = _epochs(n_epoch=5)
    out0, _, _ = _run(0.0, data=data)
    # a huge gap before every epoch: phi = exp(-inf) = 0, the same as no filter
    out_gap, _, _ = _run(1800.0, data=data, dt_s=np.full(5, np.inf))
    np.testing.assert_array_equal(out_gap["pos"], out0["pos"])


def test_states_return_to_their_priors_without_observations():
    data = _epochs(n_epoch=12)
    tau = 600.0
    # the last 6 epochs keep only 3 satellites each (no solution): the filter predicts through them
    offsets = data[1]
    valid = np.ones(data[2].shape[0], np.bool_)
    for e in range(6, 12):
        valid[offsets[e] + 3:offsets[e + 1]] = False
    dt = np.full(12, 300.0)
    out, _, kf = _run(tau, valid=valid, dt_s=dt, data=data)
    assert (out["reason"][:6] == k.OK).all() and (out["reason"][6:] == k.TOO_FEW_SATS).all()
    _, _, kf6 = _run(tau, dt_s=dt[:6], data=_slice(data, 6))
    phi = math.exp(-300.0 / tau)
    decay = phi**6
    np.testing.assert_allclose(kf[k.KF_MEAN, 1:], decay * kf6[k.KF_MEAN, 1:], rtol=1e-9)
    var0 = kf6[k.KF_VAR0, 1:]
    expected_var = decay**2 * np.diag(kf6[k.KF_COV:k.KF_COV + 3, :])[1:] + (1 - decay**2) * var0
    np.testing.assert_allclose(np.diag(kf[k.KF_COV:k.KF_COV + 3, :])[1:], expected_var, rtol=1e-9)
    assert abs(kf6[k.KF_MEAN, 1]) > 0.1  # there was something to forget


def _slice(data, n_epoch):
    rx, offsets, sat_pos, rowf, rowi = data
    end = offsets[n_epoch]
    return rx, offsets[:n_epoch + 1], sat_pos[:end], rowf[:end], rowi[:end]


def test_options_tie_the_filter_to_the_structure_option():
    opts = SppOptions(systems="GC").kernel_options()  # the structure is on by default, time-correlated
    assert opts[k.OPT_IONO_TAU_S] == IONO_STRUCTURE_TAU_S > 0.0
    assert opts[k.OPT_IONO_CURV_SIGMA] > 0.0 and opts[k.OPT_IONO_PRIORS_RELATIVE] == 1.0
    opts = SppOptions(systems="GC", iono_structure=False).kernel_options()
    assert opts[k.OPT_IONO_TAU_S] == 0.0 and opts[k.OPT_IONO_CURV_SIGMA] == 0.0
    opts = SppOptions(systems="GC", iono_tau_s=0.0).kernel_options()
    assert opts[k.OPT_IONO_TAU_S] == 0.0


def test_live_path_carries_the_filter_like_the_batch(nagoya_dir):
    # Epoch by epoch (solve_epoch, the live path) with one IonoFilter gives the batch solution;
    # without it every epoch starts the filter empty and the positions differ.
    from gnssaug.datasets.rinex import read_obs
    from gnssaug.datasets.rinex.nav import read_nav
    from gnssaug.ephemeris.store import EphStore
    from gnssaug.solvers.spp import IonoFilter, solve_epoch, solve_spp

    _, series = read_obs(nagoya_dir / "rover.obs", systems="GC")
    nav = read_nav(nagoya_dir / "base.nav")
    eph = EphStore(nav)
    epochs = [series.epoch(i) for i in range(0, 120, 4)]  # 4 s apart
    options = SppOptions(systems="GC")
    batch, _ = solve_spp(type(series).from_epochs(epochs), nav, eph, options)
    state = IonoFilter()
    live, fresh = [], []
    x0 = None
    for epoch in epochs:
        sol = solve_epoch(epoch, nav, eph, options, x0_ecef_m=x0, iono_filter=state)
        live.append(sol.pos_ecef_m)
        fresh.append(solve_epoch(epoch, nav, eph, options, x0_ecef_m=x0).pos_ecef_m)
        x0 = sol.pos_ecef_m
    assert state.t_gpst_ns == int(epochs[-1].t_gpst_ns)
    np.testing.assert_allclose(np.array(live), batch.pos_ecef_m, atol=1e-3)
    assert np.abs(np.array(fresh) - batch.pos_ecef_m).max() > 0.05
