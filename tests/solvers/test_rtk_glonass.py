"""GLONASS G1/G2 in the RTK engine with float-only ambiguities (RTKLIB ``pos2-gloarmode=off``).

GLONASS is FDMA: each satellite's wavelength comes from its frequency channel, and its phases carry
inter-channel biases that differ between receiver makes (a fraction of a cycle per channel), so its
double-difference ambiguities are never given to LAMBDA. They strengthen the float solution, and the
fixed position is conditioned on the other systems' integers with them as floats.

On the real Nagoya pair (two Septentrio mosaic-X5, 0.99 m, 5 min at 1 Hz) with the done-criteria of
the RTK issue: 100 % fixed after the first fix, first fix within 10 s, fixed H RMS < 1 cm, V RMS
< 2 cm; GLONASS is used (more satellites per epoch than without it); and a made-up non-integer
phase bias per GLONASS satellite and frequency at the rover (what a rover of another make sees)
changes nothing, while the same data with GLONASS ambiguities in LAMBDA no longer fixes.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from gnssaug.constants import C_MPS, NS_PER_S
from gnssaug.datasets.rinex import read_obs_header
from gnssaug.datasets.solve_rtk import glonass_channels_of, glonass_note
from gnssaug.datasets.truth import enu_errors
from gnssaug.gnss import GLO, GLO_FCN_UNKNOWN, GPS, N_SAT, SAT_CLOCK_GROUP, SAT_SYSTEM, sat_index
from gnssaug.kernels.dd import ROW_PHASE
from gnssaug.obs import OBS_FIELDS, ObsSeries
from gnssaug.solvers import rtk
from gnssaug.solvers.rtk import RtkEngine, RtkOptions, glonass_channels, match_base_epochs, solve_rtk
from gnssaug.solvers.types import SolStatus

# The done-criteria of the RTK issue (as tests/solvers/test_rtk_nagoya.py).
FIX_H_RMS_M = 0.01
FIX_V_RMS_M = 0.02
TTFF_S = 10.0
#: Inter-channel phase biases made up per GLONASS satellite and frequency at the rover [cycles].
ICB_RANGE_CYC = (0.1, 0.9)


@pytest.fixture(scope="module")
def nagoya(nagoya_rtk, nagoya_dir):
    """The Nagoya pair and its GLONASS channels (rover header, base header, navigation data, as solve takes them)."""
    rover, base, eph, base_pos, truth, base_header = nagoya_rtk
    rover_header = read_obs_header(nagoya_dir / "rover.obs")
    glo_fcn = glonass_channels_of(rover_header, base_header, eph)
    return rover, base, eph, base_pos, truth, glo_fcn


def _stats(sols, truth):
    fixed = sols.status == SolStatus.FIX
    assert fixed.any()
    first = int(np.argmax(fixed))
    enu = enu_errors(sols.pos_ecef_m[fixed], truth)
    ttff_s = (sols.t_gpst_ns[first] - sols.t_gpst_ns[0]) / NS_PER_S
    h_rms = float(np.sqrt(np.mean(enu[:, 0] ** 2 + enu[:, 1] ** 2)))
    v_rms = float(np.sqrt(np.mean(enu[:, 2] ** 2)))
    return fixed, first, ttff_s, h_rms, v_rms


def _assert_done_criteria(sols, truth):
    fixed, first, ttff_s, h_rms, v_rms = _stats(sols, truth)
    assert fixed[first:].all()
    assert ttff_s <= TTFF_S
    assert h_rms < FIX_H_RMS_M and v_rms < FIX_V_RMS_M


def _with_glonass_phase_bias(series, seed):
    """A copy of ``series`` with a constant non-integer phase bias per GLONASS satellite and frequency."""
    icb = np.random.default_rng(seed).uniform(*ICB_RANGE_CYC, size=(N_SAT, 2))
    arrays = {name: getattr(series, name).copy() for name in OBS_FIELDS}
    glo = SAT_SYSTEM[series.sat] == GLO
    arrays["cp_cyc"][glo, :2] += icb[series.sat[glo]]
    return ObsSeries(series.t_gpst_ns, series.offsets, series.flag, series.sat, meta=dict(series.meta), **arrays)


@pytest.mark.parametrize(("with_glonass", "without"), [("GRC", "GC"), ("GREC", "GEC")])
def test_nagoya_with_glonass_fixes_at_millimetre_level(nagoya, with_glonass, without):
    rover, base, eph, base_pos, truth, glo_fcn = nagoya
    sols = solve_rtk(rover, base, eph, base_pos, RtkOptions(systems=with_glonass), glo_fcn=glo_fcn)
    _assert_done_criteria(sols, truth)
    # GLONASS double differences are used: 7 satellites above the mask (8 tracked) on every epoch.
    ref = solve_rtk(rover, base, eph, base_pos, RtkOptions(systems=without))
    assert np.all(sols.n_sat[sols.status > 0] >= ref.n_sat[sols.status > 0] + 6)


@pytest.mark.parametrize("ar_mode", ["continuous", "instantaneous"])
def test_glonass_inter_channel_biases_change_nothing(nagoya, ar_mode):
    rover, base, eph, base_pos, truth, glo_fcn = nagoya
    options = RtkOptions(systems="GREC", ar_mode=ar_mode)
    biased = _with_glonass_phase_bias(rover, seed=1)
    plain = solve_rtk(rover, base, eph, base_pos, options, glo_fcn=glo_fcn)
    sols = solve_rtk(biased, base, eph, base_pos, options, glo_fcn=glo_fcn)
    _assert_done_criteria(sols, truth)
    # A constant bias goes into the float ambiguity it started from (phase minus code): the same fixes.
    assert np.array_equal(sols.status, plain.status)
    assert np.abs(sols.pos_ecef_m - plain.pos_ecef_m).max() < 1e-4


def test_glonass_ambiguities_in_lambda_would_fail_with_inter_channel_biases(nagoya, monkeypatch):
    # The control of the test above: the same biased data with GLONASS ambiguities given to LAMBDA
    # (as if it were CDMA) no longer fixes (measured: 0 % in continuous and instantaneous mode).
    rover, base, eph, base_pos, truth, glo_fcn = nagoya
    monkeypatch.setattr(rtk, "FLOAT_ONLY_SYSTEMS", "")
    sols = solve_rtk(_with_glonass_phase_bias(rover, seed=1), base, eph, base_pos, RtkOptions(systems="GREC"),
                     glo_fcn=glo_fcn)
    assert np.mean(sols.status == SolStatus.FIX) < 0.5


def test_glonass_dd_phase_row_by_hand():
    # Three GLONASS satellites on channels +1, -4 and +5, zero baseline (the ranges cancel): each DD
    # phase row is lam_i phi_i - lam_j phi_j, with lam_i and -lam_j on the two ambiguity states.
    fcn = np.full(N_SAT, GLO_FCN_UNKNOWN, dtype=np.int8)
    sat = np.array([sat_index(GLO, 1), sat_index(GLO, 2), sat_index(GLO, 3)], dtype=np.int64)
    fcn[sat] = [1, -4, 5]
    base_pos = np.array([-3817680.7, 3562839.5, 3650159.2])
    eng = RtkEngine(None, base_pos, RtkOptions(systems="R", n_freq=2, tropo_model=False), glo_fcn=fcn)
    lam_by_hand = C_MPS / np.array([[1602.0e6 + k * 0.5625e6, 1246.0e6 + k * 0.4375e6] for k in (1, -4, 5)])
    np.testing.assert_allclose(eng._lam[sat], lam_by_hand, rtol=1e-15)
    up = base_pos / np.linalg.norm(base_pos)
    east = np.cross([0.0, 0.0, 1.0], up)
    east /= np.linalg.norm(east)
    sat_pos = base_pos + 2.0e7 * np.array([up, up + 0.3 * east, up - 0.4 * east])  # all high in the sky
    phi = np.array([[1.234e8, 9.61e7], [1.111e8, 8.65e7], [1.050e8, 8.17e7]]) + 0.37  # rover phases [cycles]
    cp = np.stack([phi, np.zeros_like(phi)])  # base phases 0
    pr = np.stack([phi * lam_by_hand, np.zeros_like(phi)])
    obs = {"sat": sat, "t_rover_ns": 0, "pr": pr, "cp": cp, "half": np.zeros((2, 3, 2), dtype=bool),
           "sat_r": sat_pos, "sat_b": sat_pos.copy(), "dclk_m": np.zeros(3), "group": SAT_CLOCK_GROUP[sat],
           "lam": eng._lam[sat], "sd_cp_m": (cp[0] - cp[1]) * eng._lam[sat]}
    eng.x[:3] = base_pos
    amb = 3 + np.arange(6, dtype=np.int64).reshape(3, 2)  # ambiguity states, all 0
    have = np.ones((3, 2), dtype=bool)
    v, h, _, _, _, _, _, ref_cp, meta, _ = eng._measurements(obs, have, amb, 0.0)
    phase = np.flatnonzero(meta[2] == ROW_PHASE)
    assert phase.size == 4  # two satellites against the reference, two frequencies
    for k in phase:
        i, f, j = meta[0, k], meta[1, k], meta[3, k]
        assert i != j and j == ref_cp[SAT_CLOCK_GROUP[sat[0]], f]
        by_hand = lam_by_hand[i, f] * phi[i, f] - lam_by_hand[j, f] * phi[j, f]
        assert v[k] == pytest.approx(by_hand, abs=1e-6)
        assert h[k, amb[i, f]] == lam_by_hand[i, f] and h[k, amb[j, f]] == -lam_by_hand[j, f]


def test_glonass_satellite_without_channel_is_left_out(nagoya, caplog):
    rover, base, eph, base_pos, truth, glo_fcn = nagoya
    r01 = sat_index(GLO, 1)
    assert glo_fcn[r01] != GLO_FCN_UNKNOWN and np.any(rover.sat == r01)
    # No channel in the rover header, the base header or the navigation data.
    headers = [type("Header", (), {"glo_fcn": glo_fcn.copy()})() for _ in range(2)]
    nav = type("Nav", (), {"glo_fcn": glo_fcn.copy()})()
    for holder in (*headers, nav):
        holder.glo_fcn[r01] = GLO_FCN_UNKNOWN
    missing = glonass_channels_of(headers[0], headers[1], nav)
    assert missing[r01] == GLO_FCN_UNKNOWN
    assert glonass_note(rover, base, missing, "GREC").startswith("GLONASS R01: no frequency channel")
    assert glonass_note(rover, base, glo_fcn, "GREC") == ""
    assert glonass_note(rover, base, missing, "GEC") == ""
    engine = RtkEngine(eph, base_pos, RtkOptions(systems="GREC"), glo_fcn=missing)
    pairs = match_base_epochs(rover.t_gpst_ns, base.t_gpst_ns, 30.0)
    with caplog.at_level(logging.WARNING, logger="gnssaug.solvers.rtk"):
        sols = [engine.step(rover.epoch(k), base.epoch(pairs[k])) for k in range(60)]
    assert all(s.status == SolStatus.FIX for s in sols[10:])
    assert not any(r01 in s.sats for s in sols)
    assert any(SAT_SYSTEM[s.sats].tolist().count(GLO) >= 6 for s in sols)  # the other GLONASS satellites stay
    said = [r.getMessage() for r in caplog.records if "R01" in r.getMessage()]
    assert len(said) == 1  # once, not every epoch
    assert engine.skipped_no_channel == {r01}
    # Its channel arrives later (a live stream's GLONASS ephemeris): from then on it is used.
    assert engine.set_glonass_channels(glo_fcn).tolist() == [r01]
    assert engine.set_glonass_channels(glo_fcn).size == 0
    later = [engine.step(rover.epoch(k), base.epoch(pairs[k])) for k in range(60, 90)]
    assert all(s.status == SolStatus.FIX for s in later)
    assert all(r01 in s.sats for s in later)


def test_channel_tables_merge_in_order_of_preference():
    a = np.full(N_SAT, GLO_FCN_UNKNOWN, dtype=np.int8)
    b = a.copy()
    r1, r2, g1 = sat_index(GLO, 1), sat_index(GLO, 2), sat_index(GPS, 1)
    a[r1], b[r1], b[r2] = 3, -2, 99  # 99: not a channel (-7..13): unknown
    out = glonass_channels(a, None, b)
    assert out[r1] == 3 and out[r2] == GLO_FCN_UNKNOWN and out[g1] == GLO_FCN_UNKNOWN


def test_glonass_code_weighted_by_efact_glo():
    # RTKLIB 2.4.3 varerr: GLONASS code standard deviation x 1.5 (inter-channel code biases); phase as GPS.
    eng = RtkEngine(None, np.array([-3817680.7, 3562839.5, 3650159.2]), RtkOptions(systems="GR", n_freq=2))
    sat = np.array([sat_index(GPS, 5), sat_index(GLO, 5)], dtype=np.int64)
    el = np.radians([40.0, 40.0])
    var_cp, var_pr = eng._variances(el, SAT_CLOCK_GROUP[sat])
    assert rtk.EFACT_GLO == 1.5
    np.testing.assert_allclose(var_pr[1], rtk.EFACT_GLO**2 * var_pr[0], rtol=1e-15)
    np.testing.assert_array_equal(var_cp[1], var_cp[0])


def test_nagoya_dgnss_uses_glonass(nagoya):
    # Code differential: GLONASS adds satellites (7-8 above the mask) and the solution stays at the
    # decimetre level of GPS+Galileo+BeiDou (measured H / V RMS 0.08 / 0.17 m with GLONASS, 0.11 / 0.20 m without).
    rover, base, eph, base_pos, truth, glo_fcn = nagoya
    with_glo = solve_rtk(rover, base, eph, base_pos, RtkOptions(mode="dgnss", systems="GREC"), glo_fcn=glo_fcn)
    without = solve_rtk(rover, base, eph, base_pos, RtkOptions(mode="dgnss", systems="GEC"))
    assert np.all(with_glo.status == SolStatus.DGNSS)
    assert np.all(with_glo.n_sat >= without.n_sat + 6)
    enu = enu_errors(with_glo.pos_ecef_m, truth)
    assert np.sqrt(np.mean(enu[:, 0] ** 2 + enu[:, 1] ** 2)) < 0.3 and np.sqrt(np.mean(enu[:, 2] ** 2)) < 0.5


def test_pairing_report_lists_glonass_signals(nagoya):
    from gnssaug.datasets.pairing import pair_report

    rover, base, *_ = nagoya
    report = pair_report(rover, base, "GREC", 2, 30.0)
    glonass = [s for s in report.signals if s["group"] == "GLONASS"]
    assert [s["freq"] for s in glonass] == ["G1", "G2"]
    assert all(s["mean"] >= 7.0 for s in glonass)  # 8 GLONASS satellites common to both files
    without = pair_report(rover, base, "GEC", 2, 30.0)
    assert not any(s["group"] == "GLONASS" for s in without.signals)
    assert np.nanmean(report.dd_per_epoch) > np.nanmean(without.dd_per_epoch) + 12
