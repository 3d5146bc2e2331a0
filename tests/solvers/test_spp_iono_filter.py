"""The SPP kernel's time-correlated ionosphere gradient/curvature (Gauss-Markov filters across epochs).

Synthetic epochs from the kernel tests' constellation builder: each epoch sees a different sky
(seeded), the real ionosphere differs from Klobuchar by a north gradient and curvature, and the code
carries 0.5 m of noise. Epoch-wise, the priors shrink the weakly observed structure; the filter
accumulates it over epochs, so the carried estimates approach the truth and the positions improve,
while a long gap or failed epochs return the states to their priors. With a bank of correlation
times (the interacting multiple-model estimator) and a gradient/curvature that follow a Gauss-Markov
process of known correlation time, the bank's probabilities pick that time.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gnssaug.errors import InvalidInputError
from gnssaug.kernels import spp as k
from gnssaug.solvers.spp import IONO_STRUCTURE_TAU_S, IONO_TAU_GRID_S, SppOptions, empty_iono_bank
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


def _options():
    opts = _opts(max_exclude=0)
    opts[k.OPT_IONO_SCALE_SIGMA] = 1.0
    opts[k.OPT_IONO_GRAD_SIGMA] = SIGMA_GRAD
    opts[k.OPT_IONO_CURV_SIGMA] = SIGMA_CURV
    opts[k.OPT_IONO_MIN_REDUNDANCY] = 4
    opts[k.OPT_IONO_SWITCH_S] = 3600.0
    return opts


def _run(tau_s, valid=None, dt_s=None, data=None, opts=None):
    """Solve the epochs with a bank of the correlation times ``tau_s`` (one value or a sequence)."""
    rx, offsets, sat_pos, rowf, rowi = data or _epochs()
    n_epoch = offsets.shape[0] - 1
    n_row = sat_pos.shape[0]
    out = {
        "pos": np.zeros((n_epoch, 3)), "cov": np.zeros((n_epoch, 3, 3)), "clk": np.zeros((n_epoch, N_GROUPS)),
        "dops": np.zeros((n_epoch, 4)), "reason": np.zeros(n_epoch, np.int64),
    }
    kf = empty_iono_bank(tau_s)
    out["prob"] = np.zeros((n_epoch, kf.shape[0]))
    dt = np.full(n_epoch, 30.0) if dt_s is None else dt_s
    opts = _options() if opts is None else opts
    k.spp_batch(offsets, sat_pos, rowf, rowi, np.ones(n_row, np.bool_) if valid is None else valid,
                np.full(n_epoch, 30000.0), np.full(n_epoch, 1.0), np.tile(ION, (n_epoch, 1)), opts,
                _chi2_table(), N_GROUPS, np.zeros(3 + N_GROUPS + k.N_EXTRA), out["pos"], out["cov"], out["clk"],
                out["dops"], out["reason"], np.zeros(n_epoch, np.int64), np.zeros(n_epoch, np.int64),
                np.zeros(n_row, np.bool_), np.zeros(n_row), dt, kf, out["prob"])
    err = np.linalg.norm(out["pos"] - rx, axis=1)
    return out, err, kf[0] if kf.shape[0] == 1 else kf


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


def _gauss_markov(tau_s, n, dt_s, sigma, seed):
    """A stationary first-order Gauss-Markov sequence of correlation time ``tau_s`` and sigma ``sigma``."""
    rng = np.random.default_rng(seed)
    phi = math.exp(-dt_s / tau_s)
    out = np.empty(n)
    out[0] = sigma * rng.standard_normal()
    for i in range(1, n):
        out[i] = phi * out[i - 1] + sigma * math.sqrt(1.0 - phi * phi) * rng.standard_normal()
    return out


def _gauss_markov_epochs(tau_s, n_epoch, dt_s, seed):
    """Epochs whose ionosphere gradient and curvature follow a Gauss-Markov process of ``tau_s``.

    The stationary sigmas are the filter's priors and the code noise is exactly what the kernel's
    weights say (a constant 0.5 m: no elevation term, no satellite, ionosphere or troposphere model
    variance), so the filters' model is true for the right correlation time.
    """
    grad = _gauss_markov(tau_s, n_epoch, dt_s, SIGMA_GRAD, seed)
    curv = _gauss_markov(tau_s, n_epoch, dt_s, SIGMA_CURV, seed + 1)
    parts = [_constellation(n_gps=8, n_bds=8, seed=100 + e, noise_m=CODE_SIGMA_M, iono_error=(0.0, grad[e], curv[e]))
             for e in range(n_epoch)]
    rx = parts[0][0]
    sat_pos, rowf, rowi = (np.ascontiguousarray(np.concatenate([p[i] for p in parts])) for i in (1, 2, 3))
    rowf[:, k.COL_VAR_SAT_M2] = 0.0
    offsets = np.concatenate([[0], np.cumsum([p[1].shape[0] for p in parts])]).astype(np.int64)
    opts = _options()
    opts[k.OPT_ERR_A_M] = CODE_SIGMA_M
    opts[k.OPT_ERR_B_M] = opts[k.OPT_IONO_ERR] = opts[k.OPT_TROPO_ERR_M] = 0.0
    return (rx, offsets, sat_pos, rowf, rowi), opts


CODE_SIGMA_M = 0.5
N_GM_EPOCH = 300  # 2.5 h at 30 s: several correlation times of the short process, ~2 of the long one


@pytest.mark.parametrize("true_tau_s", [600.0, 4800.0])
def test_bank_prefers_the_true_correlation_time(true_tau_s):
    # The bank (the default grid 5/10/20/40/80 min) on a gradient/curvature of known correlation time:
    # after a first third to converge, the true model holds the highest mean probability, and models
    # a factor 4 or more away from it hold little.
    data, opts = _gauss_markov_epochs(true_tau_s, N_GM_EPOCH, 30.0, seed=0)
    out, _, _ = _run(IONO_TAU_GRID_S, data=data, dt_s=np.full(N_GM_EPOCH, 30.0), opts=opts)
    assert (out["reason"] == k.OK).all()
    np.testing.assert_allclose(out["prob"].sum(axis=1), 1.0, rtol=1e-12)
    mean_prob = out["prob"][N_GM_EPOCH // 3:].mean(axis=0)
    taus = np.array(IONO_TAU_GRID_S)
    assert taus[np.argmax(mean_prob)] == true_tau_s
    far = np.abs(np.log(taus / true_tau_s)) > math.log(3.9)
    assert mean_prob[far].sum() < 0.2


def test_bank_of_one_correlation_time_repeated_is_that_filter():
    # Models that do not differ mix into themselves: the positions equal the single filter's and the
    # probabilities stay equal.
    data, opts = _gauss_markov_epochs(600.0, 30, 30.0, seed=3)
    one, _, kf_one = _run(600.0, data=data, opts=opts)
    three, _, kf_three = _run((600.0, 600.0, 600.0), data=data, opts=opts)
    np.testing.assert_allclose(three["pos"], one["pos"], atol=1e-6)
    np.testing.assert_allclose(three["prob"], 1.0 / 3.0, rtol=1e-9)
    np.testing.assert_allclose(kf_three[1, :k.KF_VAR0], kf_one[:k.KF_VAR0], rtol=1e-6, atol=1e-12)


def _slice(data, n_epoch):
    rx, offsets, sat_pos, rowf, rowi = data
    end = offsets[n_epoch]
    return rx, offsets[:n_epoch + 1], sat_pos[:end], rowf[:end], rowi[:end]


def test_options_tie_the_filter_to_the_structure_option():
    options = SppOptions(systems="GC")  # the structure is on by default, time-correlated
    opts = options.kernel_options()
    assert options.iono_taus_s() == (IONO_STRUCTURE_TAU_S,) and IONO_STRUCTURE_TAU_S > 0.0
    assert opts[k.OPT_IONO_CURV_SIGMA] > 0.0 and opts[k.OPT_IONO_PRIORS_RELATIVE] == 1.0
    options = SppOptions(systems="GC", iono_structure=False)
    assert options.iono_taus_s() == (0.0,) and options.kernel_options()[k.OPT_IONO_CURV_SIGMA] == 0.0
    assert SppOptions(systems="GC", iono_tau_s=0.0).iono_taus_s() == (0.0,)
    assert SppOptions(systems="GC", iono_tau_s=IONO_TAU_GRID_S).iono_taus_s() == IONO_TAU_GRID_S
    for bad in (-1.0, (600.0, math.inf), ()):
        with pytest.raises(InvalidInputError, match="iono_tau_s"):
            SppOptions(iono_tau_s=bad)


@pytest.mark.parametrize("taus", [None, IONO_TAU_GRID_S])
def test_live_path_carries_the_filter_like_the_batch(nagoya_dir, taus):
    # Epoch by epoch (solve_epoch, the live path) with one IonoFilter gives the batch solution (and,
    # with a bank, the batch's model probabilities); without it every epoch starts the filter empty
    # and the positions differ.
    from gnssaug.datasets.rinex import read_obs
    from gnssaug.datasets.rinex.nav import read_nav
    from gnssaug.ephemeris.store import EphStore
    from gnssaug.solvers.spp import IonoFilter, solve_epoch, solve_spp

    _, series = read_obs(nagoya_dir / "rover.obs", systems="GC")
    nav = read_nav(nagoya_dir / "base.nav")
    eph = EphStore(nav)
    epochs = [series.epoch(i) for i in range(0, 120, 4)]  # 4 s apart
    options = SppOptions(systems="GC", iono_tau_s=taus)
    batch_filter = IonoFilter()
    batch, _ = solve_spp(type(series).from_epochs(epochs), nav, eph, options, iono_filter=batch_filter)
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
    np.testing.assert_allclose(state.probabilities, batch_filter.probabilities, atol=1e-6)
    assert state.taus_s.tolist() == list(options.iono_taus_s())
    assert np.abs(np.array(fresh) - batch.pos_ecef_m).max() > 0.05


@pytest.mark.parametrize(("text", "taus"), [("600", (600.0,)), ("300,1200", (300.0, 1200.0)),
                                             ("grid", IONO_TAU_GRID_S), ("0", (0.0,))])
def test_cli_iono_tau_takes_one_value_a_list_or_the_grid(text, taus):
    from gnssaug.cli import build_parser
    from gnssaug.datasets.solve import spp_options_from_args

    args = build_parser().parse_args(["solve", "--mode", "spp", "r.obs", "n.nav", "-o", "o.pos", "--iono-tau", text])
    assert spp_options_from_args(args, None).iono_taus_s() == taus


@pytest.mark.parametrize("text", ["abc", "-60", "600,nan", ""])
def test_cli_iono_tau_refuses_what_is_not_a_correlation_time(text, capsys):
    from gnssaug.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["solve", "--mode", "spp", "r.obs", "n.nav", "-o", "o.pos", "--iono-tau", text])
    assert "--iono-tau" in capsys.readouterr().err


def _gauss_logpdf(z, mean, cov):
    d = z - mean
    return -0.5 * (d @ np.linalg.solve(cov, d) + np.linalg.slogdet(2 * np.pi * cov)[1])


def test_bank_update_is_the_kalman_update_and_the_innovation_likelihood():
    # Two models with different histories; the epoch's code says z ~ N(x, inv(J)) about the three
    # states. The kernel only sees the combined solution (prior + code), from which it recovers J and
    # z: its model posteriors must be the Kalman updates with (z, inv(J)) and its probabilities
    # c_j N(z; x_j, P_j + inv(J)) normalised (written out here with dense numpy algebra).
    rng = np.random.default_rng(7)
    kf = empty_iono_bank((600.0, 2400.0))
    var0 = np.array([1.0, 0.09, 0.0009])
    for j, mean in enumerate(([0.0, -0.4, 0.05], [0.0, 0.2, -0.02])):
        a = rng.normal(size=(3, 3)) * np.sqrt(var0)[:, None] * 0.3
        kf[j, k.KF_MEAN] = mean
        kf[j, k.KF_COV:k.KF_COV + 3] = a @ a.T + np.diag(0.05 * var0)
        kf[j, k.KF_VAR0] = var0
    kf[:, k.KF_MODEL, k.KF_PROB] = (0.3, 0.7)
    pred = np.empty_like(kf)
    k._imm_predict(kf, 60.0, 3600.0, pred)
    prior = np.zeros((k.N_KF_ROWS, k.N_EXTRA))
    k._imm_combine(pred, *np.sqrt(var0), prior)
    # the epoch's code information and the combined solution the kernel would have found
    b = rng.normal(size=(3, 3)) * np.array([1.0, 3.0, 30.0])[:, None]
    jmat = b @ b.T
    z = np.array([0.1, -0.1, 0.015])
    p_comb = prior[k.KF_COV:k.KF_COV + 3]
    q_ii = np.linalg.inv(jmat + np.linalg.inv(p_comb))
    x_sol = q_ii @ (jmat @ z + np.linalg.solve(p_comb, prior[k.KF_MEAN]))
    qinv = np.zeros((16, 16))
    kx = np.array([5, 6, 7])
    qinv[5:8, 5:8] = q_ii
    k._imm_update(kf, pred, prior, kx, qinv, x_sol)
    logl, post_means = [], []
    for j in range(2):
        x_j = pred[j, k.KF_MEAN]
        p_j = pred[j, k.KF_COV:k.KF_COV + 3] + np.diag(pred[j, k.KF_VAR0] * var0)
        s_j = p_j + np.linalg.inv(jmat)
        logl.append(np.log(pred[j, k.KF_MODEL, k.KF_PROB]) + _gauss_logpdf(z, x_j, s_j))
        gain = p_j @ np.linalg.inv(s_j)
        post_means.append(x_j + gain @ (z - x_j))
        np.testing.assert_allclose(kf[j, k.KF_COV:k.KF_COV + 3], p_j - gain @ p_j, rtol=1e-6, atol=1e-12)
    expected = np.exp(np.array(logl) - max(logl))
    np.testing.assert_allclose(kf[:, k.KF_MODEL, k.KF_PROB], expected / expected.sum(), rtol=1e-6)
    np.testing.assert_allclose(kf[:, k.KF_MEAN], np.array(post_means), rtol=1e-6, atol=1e-9)
    assert 0.01 < kf[0, k.KF_MODEL, k.KF_PROB] < 0.99  # a test of the weights, not of a saturated one
