"""Cycle-slip tests of gnssaug.kernels.slips on hand-made single differences."""

from __future__ import annotations

import numpy as np

from gnssaug.constants import C_MPS
from gnssaug.gnss import N_SAT
from gnssaug.kernels.slips import ambiguity_time_update

N, NF, NX = 6, 2, 3 + 20
LAM = np.tile(C_MPS / np.array([1575.42e6, 1227.60e6]), (N, 1))


class State:
    def __init__(self):
        self.gf = np.full(N_SAT, np.nan)
        self.mw = np.full(N_SAT, np.nan)
        self.mw_n = np.zeros(N_SAT)
        self.prev_cp = np.full((2, N_SAT, NF), np.nan)
        self.prev_dop = np.full((2, N_SAT, NF), np.nan)
        self.amb = np.full((N_SAT, NF), -1, dtype=np.int64)
        self.used = np.zeros(NX, dtype=bool)
        self.used[:3] = True
        self.lock = np.zeros((N_SAT, NF), dtype=np.int64)
        self.last = np.zeros((N_SAT, NF), dtype=np.int64)
        self.x = np.zeros(NX)
        self.p = np.zeros((NX, NX))

    def step(self, cp, pr, dop, dt_s, lli=None, doppler_cyc=5.0, dt_base_s=None):
        # Interval since each receiver's previous epoch: the base's is the rover's unless given.
        dt = np.array([dt_s, dt_s if dt_base_s is None else dt_base_s], dtype=np.float64)
        sat = np.arange(N, dtype=np.int64)
        lli = np.zeros((2, N, NF), np.uint8) if lli is None else lli
        have = np.empty((N, NF), bool)
        amb = np.empty((N, NF), np.int64)
        thresholds = np.array([0.05, 5.0, doppler_cyc, 900.0, 1e-8])
        ambiguity_time_update(sat, cp, pr, dop, lli, LAM, 0, dt, thresholds, self.gf, self.mw, self.mw_n,
                              self.prev_cp, self.prev_dop, self.amb, self.used, self.lock, self.last, self.x,
                              self.p, have, amb)
        return have, amb


def _epoch(t, rng_m, clock_m=(0.0, 0.0)):
    """Phases/codes/Dopplers of ranges rng_m(t) [m, shape N] with receiver clock offsets [m]."""
    rho = rng_m(t)
    rate = (rng_m(t + 0.5) - rng_m(t - 0.5))
    cp = np.empty((2, N, NF))
    pr = np.empty((2, N, NF))
    dop = np.empty((2, N, NF))
    for k in range(2):
        for f in range(NF):
            cp[k, :, f] = (rho + clock_m[k]) / LAM[:, f] + 1000.0 * (f + 1)
            pr[k, :, f] = rho + clock_m[k]
            dop[k, :, f] = -rate / LAM[:, f]
    return cp, pr, dop


def _ranges(t):
    return 2.2e7 + np.arange(N) * 1e5 + (np.arange(N) - 2.5) * 300.0 * t


def test_clean_data_keeps_locks_and_a_clock_jump_is_not_a_slip():
    st = State()
    st.step(*_epoch(0.0, _ranges), dt_s=0.0)
    # A 1 ms rover clock jump moves every range by 300 km: common to all, not a slip.
    have, amb = st.step(*_epoch(1.0, _ranges, clock_m=(C_MPS * 1e-3, 0.0)), dt_s=1.0)
    assert have.all() and (amb >= 3).all()
    assert (st.lock[:N] == 1).all()


def test_a_single_frequency_jump_is_caught_without_lli():
    st = State()
    st.step(*_epoch(0.0, _ranges), dt_s=0.0)
    cp, pr, dop = _epoch(1.0, _ranges)
    cp[0, 2, 1] += 1.0  # one cycle on L2 of the rover: geometry-free and Doppler tests see it
    st.step(cp, pr, dop, dt_s=1.0)
    assert st.lock[2, 0] == 0 and st.lock[2, 1] == 0
    assert (np.delete(st.lock[:N], 2, axis=0) == 1).all()


def test_doppler_catches_an_equal_jump_on_both_frequencies():
    # Same number of metres on both frequencies: the geometry-free combination cannot see it.
    st = State()
    st.step(*_epoch(0.0, _ranges), dt_s=0.0)
    cp, pr, dop = _epoch(1.0, _ranges)
    cp[1, 4, :] += 20.0 * LAM[4, 0] / LAM[4, :]
    st.step(cp, pr, dop, dt_s=1.0)
    assert (st.lock[4] == 0).all()


def test_lli_resets_and_reinitialises_from_phase_minus_code():
    st = State()
    st.step(*_epoch(0.0, _ranges), dt_s=0.0)
    lli = np.zeros((2, N, NF), np.uint8)
    lli[1, 0, 0] = 1
    cp, pr, dop = _epoch(1.0, _ranges)
    _, amb = st.step(cp, pr, dop, dt_s=1.0, lli=lli)
    s = amb[0, 0]
    assert st.lock[0, 0] == 0 and st.p[s, s] == 900.0
    assert st.x[s] == (cp[0, 0, 0] - cp[1, 0, 0]) - (pr[0, 0, 0] - pr[1, 0, 0]) / LAM[0, 0]


def test_a_satellite_side_step_seen_by_both_receivers_is_not_a_slip():
    # A satellite clock step (or a simulator's switch to a new ephemeris) moves the phase of both
    # receivers by the same metres; it cancels in the single difference and is no slip.
    st = State()
    st.step(*_epoch(0.0, _ranges), dt_s=0.0)
    cp, pr, dop = _epoch(1.0, _ranges)
    cp[:, 3, :] += 1.1 / LAM[3, :]
    pr[:, 3, :] += 1.1
    st.step(cp, pr, dop, dt_s=1.0)
    assert (st.lock[:N] == 1).all()


def test_doppler_still_tests_the_rover_when_the_base_has_none():
    # A base streaming MSM4 sends no Doppler: the single difference cannot be tested, the rover can.
    st = State()
    cp, pr, dop = _epoch(0.0, _ranges)
    dop[1] = np.nan
    st.step(cp, pr, dop, dt_s=0.0)
    cp, pr, dop = _epoch(1.0, _ranges)
    dop[1] = np.nan
    cp[0, 1, :] += 20.0 * LAM[1, 0] / LAM[1, :]  # equal metres on both frequencies: only Doppler sees it
    st.step(cp, pr, dop, dt_s=1.0)
    assert (st.lock[1] == 0).all()
    assert (np.delete(st.lock[:N], 1, axis=0) == 1).all()


def _pair(t_rover, t_base, rover_clock_m=0.0):
    """Rover observations at t_rover and base observations at t_base (a base older than the rover)."""
    cp, pr, dop = _epoch(t_rover, _ranges, clock_m=(rover_clock_m, 0.0))
    cp_b, pr_b, dop_b = _epoch(t_base, _ranges)
    cp[1], pr[1], dop[1] = cp_b[1], pr_b[1], dop_b[1]
    return cp, pr, dop


def test_a_sparse_base_paired_again_and_then_moving_5_s_is_no_slip():
    # Base every 5 s, rover every second: the base epoch repeats (interval 0), then jumps 5 s. With
    # the rover's 1 s interval applied to the base, every satellite's base phase would miss its
    # integrated Doppler by hundreds of cycles.
    st = State()
    st.step(*_pair(0.0, 0.0), dt_s=0.0)
    for t in range(1, 11):
        t_base = 5.0 * (t // 5)
        dt_base = 5.0 if t % 5 == 0 else 0.0
        have, _ = st.step(*_pair(float(t), t_base, rover_clock_m=0.3 * t), dt_s=1.0, dt_base_s=dt_base)
        assert have.all()
    assert (st.lock[:N] == 10).all()


def _base_held(n_s):
    """State after rover epochs 0..n_s-1 (1 s apart), all paired with the base epoch of time 0."""
    st = State()
    st.step(*_pair(0.0, 0.0), dt_s=0.0)
    for t in range(1, n_s):
        st.step(*_pair(float(t), 0.0), dt_s=1.0, dt_base_s=0.0)
    return st


def test_a_jump_at_a_sparse_base_is_caught_when_its_epoch_moves():
    st = _base_held(5)
    cp, pr, dop = _pair(5.0, 5.0)
    cp[1, 2, :] += 20.0 * LAM[2, 0] / LAM[2, :]  # equal metres on both frequencies: only Doppler sees it
    st.step(cp, pr, dop, dt_s=1.0, dt_base_s=5.0)
    assert (st.lock[2] == 0).all()
    assert (np.delete(st.lock[:N], 2, axis=0) == 5).all()


def test_a_base_30_s_apart_leaves_the_rover_doppler_test_running():
    # Over 30 s the trapezoid is not trusted for the base; the rover's 1 s interval still is.
    st = _base_held(30)
    cp, pr, dop = _pair(30.0, 30.0)
    cp[0, 3, :] += 20.0 * LAM[3, 0] / LAM[3, :]
    st.step(cp, pr, dop, dt_s=1.0, dt_base_s=30.0)
    assert (st.lock[3] == 0).all()
    assert (np.delete(st.lock[:N], 3, axis=0) == 30).all()
