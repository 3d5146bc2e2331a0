"""The RTK engine's per-epoch kernels against the numpy formulation they replaced, bit for bit.

``gnssaug.kernels.dd.screen_codes``, ``common_sats``, ``take_signals``, ``rover_clock_m`` and
``gnssaug.kernels.slips.base_drift_known/base_drift_update`` took over per-epoch numpy code of
:class:`gnssaug.solvers.rtk.RtkEngine` to cut its Python overhead; the engine's results must not
change, so each kernel is compared with that numpy code (kept here as the reference) on random
epochs with missing data, small clock groups, flags and outliers: identical floats, not merely
close ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.kernels.dd import screen_codes
from gnssaug.kernels.slips import base_drift_known, base_drift_update

N_GROUP = 6
SLIP = 1
MAX_GAP_S, MAX_MPS, TAU_S = 60.0, 0.1, 30.0
N_SAT_TEST = 40


def _median(a):
    s = np.sort(a)
    n = s.shape[0]
    return 0.5 * (s[(n - 1) // 2] + s[n // 2])


def _screen_reference(pr, sd_range, el, mask_el, group, var_pr, k):
    """The engine's numpy code screen (before the kernel): ``pr[0]`` gets NaN where screened."""
    nf = pr.shape[2]
    res = pr[0] - pr[1] - sd_range[:, None]
    use = np.isfinite(res) & (el >= mask_el)[:, None]
    dev = np.full(res.shape, np.nan)
    si, fi = np.nonzero(use)
    vals = res[si, fi]
    key = group[si].astype(np.int64) * nf + fi
    order = np.lexsort((vals, key))
    ks, vs = key[order], vals[order]
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]]) if ks.size else np.zeros(0, dtype=np.int64)
    cnt = np.diff(np.r_[starts, ks.size])
    med = 0.5 * (vs[starts + (cnt - 1) // 2] + vs[starts + cnt // 2])
    run = np.repeat(np.arange(starts.size), cnt)
    dev[si[order], fi[order]] = np.where(cnt[run] >= 3, vs - med[run], np.nan)
    known = np.isfinite(dev)
    if known.sum() < 4:
        return
    spread = 1.4826 * _median(np.abs(dev[known]))
    bad = known & (np.abs(np.where(known, dev, 0.0)) > k * np.maximum(np.sqrt(var_pr), spread))
    if bad.any():
        pr[0][bad] = np.nan


def _screen_epoch(rng, n, nf):
    pr = rng.normal(2.2e7, 3.0e6, (2, n, nf))
    pr[1] = pr[0] - rng.normal(50.0, 3.0, (n, nf))  # a common clock term per epoch, metres of noise
    pr[0] += np.where(rng.random((n, nf)) < 0.15, rng.normal(0.0, 80.0, (n, nf)), 0.0)  # outliers
    pr[rng.random((2, n, nf)) < 0.1] = np.nan
    sd_range = rng.normal(0.0, 1.0, n)
    el = rng.uniform(0.0, 1.5, n)
    group = rng.integers(0, N_GROUP if rng.random() < 0.5 else 2, n).astype(np.int8)
    var_pr = rng.uniform(0.1, 20.0, (n, nf))
    return pr, sd_range, el, group, var_pr


@pytest.mark.parametrize("seed", range(40))
def test_screen_codes_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    n, nf = int(rng.integers(1, 30)), int(rng.integers(1, 4))
    pr, sd_range, el, group, var_pr = _screen_epoch(rng, n, nf)
    k = float(rng.choice([2.0, 4.0, 30.0]))
    mask = np.radians(15.0)
    expected = pr.copy()
    _screen_reference(expected, sd_range, el, mask, group, var_pr, k)
    got = pr.copy()
    n_bad = screen_codes(got, sd_range, el, mask, group, N_GROUP, var_pr, k)
    np.testing.assert_array_equal(got, expected)  # NaN where NaN, every other float identical
    assert got.tobytes() == expected.tobytes()
    screened = int((np.isnan(got[0]) & ~np.isnan(pr[0])).sum())
    assert n_bad == screened or (n_bad == -1 and screened == 0)


def test_screen_codes_removes_a_gross_outlier():
    """Eight clean codes of one group and one 100 m off: only that one goes."""
    n, nf = 9, 1
    pr = np.zeros((2, n, nf))
    pr[0, :, 0] = 2.0e7 + np.linspace(-0.5, 0.5, n)
    pr[1] = 2.0e7
    pr[0, 4, 0] += 100.0
    n_bad = screen_codes(pr, np.zeros(n), np.full(n, 1.0), 0.2, np.zeros(n, np.int8), N_GROUP, np.ones((n, nf)), 4.0)
    assert n_bad == 1
    assert np.isnan(pr[0, 4, 0]) and np.isfinite(np.delete(pr[0, :, 0], 4)).all()


class _DriftState:
    def __init__(self, nf):
        self.t = np.zeros(N_SAT_TEST, dtype=np.int64)
        self.cp = np.full((N_SAT_TEST, nf), np.nan)
        self.sat = np.zeros((N_SAT_TEST, 3))
        self.clk = np.zeros(N_SAT_TEST)
        self.rate = np.full((N_SAT_TEST, nf), np.nan)

    def copy(self):
        out = _DriftState(self.cp.shape[1])
        out.t, out.cp, out.sat, out.clk, out.rate = (a.copy() for a in (self.t, self.cp, self.sat, self.clk, self.rate))
        return out

    def arrays(self):
        return self.t, self.cp, self.sat, self.clk, self.rate


def _drift_reference(st, sat, t_b_ns, cp_b, lam, lli_b, half_b, sat_b, clk_b, d_geom):
    """The engine's numpy base-drift update (before the kernels); ``d_geom`` plays the geometry kernel."""
    n, nf = cp_b.shape
    cp_m = cp_b * lam
    gap_s = (t_b_ns - st.t[sat]) / 1_000_000_000
    known = (st.t[sat] != 0) & (np.abs(gap_s) <= MAX_GAP_S) & (gap_s != 0.0)
    rate = np.full((n, nf), np.nan)
    if known.any():
        d_model_m = d_geom.copy()
        d_model_m -= clk_b - st.clk[sat]
        du = cp_m - st.cp[sat] - d_model_m[:, None]
        rate = np.where(known[:, None], du / np.where(known, gap_s, 1.0)[:, None], np.nan)
        finite = np.isfinite(rate)
        if finite.sum() >= 2:
            rate -= _median(rate[finite])
        else:
            rate[:] = np.nan
        broken = ((lli_b & SLIP) != 0) | half_b | (np.abs(rate) > MAX_MPS)
        rate[broken] = np.nan
        old = st.rate[sat]
        w = np.minimum(np.abs(gap_s) / TAU_S, 1.0)[:, None]
        rate = np.where(np.isfinite(old), old + (rate - old) * w, rate)
    st.rate[sat] = rate
    st.t[sat] = t_b_ns
    st.cp[sat] = cp_m
    st.sat[sat] = sat_b
    st.clk[sat] = clk_b


@pytest.mark.parametrize("seed", range(10))
def test_base_drift_kernels_match_numpy(seed):
    """Thirty base epochs (gaps, returning satellites, slips, half cycles) through both, states identical."""
    rng = np.random.default_rng(100 + seed)
    nf = int(rng.integers(1, 4))
    ref, ker = _DriftState(nf), _DriftState(nf)
    t_ns = 1_400_000_000 * 1_000_000_000
    lam_f = 0.19 * rng.uniform(0.9, 1.4, nf)
    for _ in range(30):
        t_ns += int(rng.choice([1, 1, 5, 30, 90])) * 1_000_000_000
        sat = np.sort(rng.choice(N_SAT_TEST, int(rng.integers(1, 20)), replace=False)).astype(np.int64)
        n = sat.shape[0]
        lam = np.repeat(lam_f[None, :], n, axis=0)
        sat_b = rng.normal(0.0, 2.0e7, (n, 3))
        clk_b = rng.normal(0.0, 1.0e4, n)
        d_geom = rng.normal(0.0, 1.0e3, n)
        # Phases that follow the model plus a common term and drifts of cm/s (some beyond MAX_MPS).
        gap_s = ((t_ns - ref.t[sat]) / 1e9)[:, None]
        last = np.where(np.isfinite(ref.cp[sat]), ref.cp[sat], rng.normal(2.0e7, 1.0e6, (n, nf)))
        cp_m = (last + (d_geom - (clk_b - ref.clk[sat]))[:, None]
                + gap_s * (0.05 + rng.normal(0.0, 0.03, (n, nf))))
        cp_b = cp_m / lam
        cp_b[rng.random((n, nf)) < 0.1] = np.nan
        lli_b = (rng.random((n, nf)) < 0.05).astype(np.uint8) * np.uint8(SLIP)
        half_b = rng.random((n, nf)) < 0.05
        _drift_reference(ref, sat, t_ns, cp_b, lam, lli_b, half_b, sat_b, clk_b, d_geom)
        known = np.empty(n, dtype=bool)
        count = base_drift_known(sat, t_ns, ker.t, MAX_GAP_S, known)
        assert count == int(known.sum())
        d_model = d_geom.copy() if count else np.empty(n)
        base_drift_update(sat, t_ns, known, cp_b, lam, lli_b, half_b, sat_b, clk_b, d_model, SLIP, MAX_MPS, TAU_S,
                          *ker.arrays())
        for a, b in zip(ref.arrays(), ker.arrays(), strict=True):
            assert a.tobytes() == b.tobytes()
    assert np.isfinite(ker.rate).any()  # the test reached the smoothing path


def _gather_reference(rover_sat, base_sat, allowed, slot, r, b):
    """The engine's numpy gathering of common satellites' signals (before the kernels)."""
    common, ir, ib = np.intersect1d(rover_sat, base_sat, assume_unique=True, return_indices=True)
    keep = allowed[common]
    sat = common[keep].astype(np.int64)
    ir, ib = ir[keep], ib[keep]
    sl = slot[sat]
    cols = np.maximum(sl, 0)

    def take(arr_r, arr_b):
        out = np.stack([arr_r[ir[:, None], cols].astype(np.float64), arr_b[ib[:, None], cols].astype(np.float64)])
        out[:, sl < 0] = np.nan
        return out

    pr, cp, dop = take(r["pr"], b["pr"]), take(r["cp"], b["cp"]), take(r["dop"], b["dop"])
    lli = np.stack([r["lli"][ir[:, None], cols], b["lli"][ib[:, None], cols]])
    return sat, ir, ib, pr, cp, dop, lli, np.fmax.reduce(pr, axis=2)


def _receiver(rng, sats, n_band=6):
    n = sats.shape[0]
    arrays = {k: rng.normal(2.0e7, 1.0e6, (n, n_band)) for k in ("pr", "cp", "dop")}
    for a in arrays.values():
        a[rng.random((n, n_band)) < 0.3] = np.nan
    arrays["lli"] = rng.integers(0, 4, (n, n_band)).astype(np.uint8)
    return arrays


@pytest.mark.parametrize("seed", range(20))
def test_gather_kernels_match_numpy(seed):
    from gnssaug.kernels.dd import common_sats, take_signals

    rng = np.random.default_rng(200 + seed)
    n_sat, nf = 120, int(rng.integers(1, 4))
    rover_sat = np.sort(rng.choice(n_sat, int(rng.integers(0, 40)), replace=False)).astype(np.int16)
    base_sat = np.sort(rng.choice(n_sat, int(rng.integers(0, 40)), replace=False)).astype(np.int16)
    allowed = rng.random(n_sat) < 0.8
    slot = rng.integers(-1, 6, (n_sat, nf)).astype(np.int64)
    r, b = _receiver(rng, rover_sat), _receiver(rng, base_sat)
    expected = _gather_reference(rover_sat, base_sat, allowed, slot, r, b)
    m = min(rover_sat.shape[0], base_sat.shape[0])
    ir, ib, sat = (np.empty(m, dtype=np.int64) for _ in range(3))
    n = common_sats(rover_sat, base_sat, allowed, ir, ib, sat)
    shape = (2, n, nf)
    pr, cp, dop, lli = np.empty(shape), np.empty(shape), np.empty(shape), np.empty(shape, np.uint8)
    pr_any = np.empty((2, n))
    n_ok = take_signals(sat[:n], ir[:n], ib[:n], slot, r["pr"], r["cp"], r["dop"], r["lli"], b["pr"], b["cp"], b["dop"],
                        b["lli"], pr, cp, dop, lli, pr_any)
    for want, got in zip(expected, (sat[:n], ir[:n], ib[:n], pr, cp, dop, lli, pr_any), strict=True):
        assert want.shape == got.shape and want.tobytes() == got.tobytes()
    assert n_ok == int((np.isfinite(pr_any[0]) & np.isfinite(pr_any[1])).sum())


def _clock_reference(pos, sat_r, pr0, dclk, clk_b, group, n_group):
    from gnssaug.constants import C_MPS, OMEGA_E_GPS_RADPS

    out = np.full(n_group, np.nan)
    los = sat_r - pos
    rho = np.sqrt(np.sum(los * los, axis=1))
    rho += OMEGA_E_GPS_RADPS * (sat_r[:, 0] * pos[1] - sat_r[:, 1] * pos[0]) / C_MPS
    res = np.fmax.reduce(pr0, axis=1) - rho + dclk + clk_b
    ok = np.isfinite(res)
    if ok.any():
        g = group[ok]
        vals = np.sort(res[ok][g == g.min()])
        out[g.min()] = vals[vals.size // 2]
    return out


@pytest.mark.parametrize("seed", range(20))
def test_rover_clock_kernel_matches_numpy(seed):
    from gnssaug.kernels.dd import rover_clock_m

    rng = np.random.default_rng(300 + seed)
    n, nf = int(rng.integers(1, 25)), int(rng.integers(1, 4))
    pos = np.array([-3.9e6, 3.4e6, 3.6e6]) + rng.normal(0.0, 100.0, 3)
    sat_r = rng.normal(0.0, 1.5e7, (n, 3)) + 2.0 * pos
    pr0 = rng.normal(2.2e7, 1.0e6, (n, nf))
    pr0[rng.random((n, nf)) < 0.3] = np.nan
    dclk, clk_b = rng.normal(0.0, 10.0, n), rng.normal(0.0, 1.0e5, n)
    group = rng.integers(0, N_GROUP, n).astype(np.int8)
    out = np.full(N_GROUP, np.nan)
    rover_clock_m(pos, sat_r, pr0, dclk, clk_b, group, out)
    assert out.tobytes() == _clock_reference(pos, sat_r, pr0, dclk, clk_b, group, N_GROUP).tobytes()
