"""EphStore and the orbit kernels: selection rules, derivatives, group delays."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from gnssaug import kernels
from gnssaug.datasets.rinex.nav import read_nav
from gnssaug.ephemeris import records as rec
from gnssaug.ephemeris.store import EphStore
from gnssaug.errors import InvalidInputError
from gnssaug.gnss import GLO, SAT_SYSTEM, parse_sv
from gnssaug.kernels import orbits
from gnssaug.time import NS_PER_S, gpst_ns_from_calendar

T0 = int(gpst_ns_from_calendar(2025, 1, 1, 12, 0, 0))
SVS = ("G05", "E02", "C01", "C08", "C21", "C59", "R01", "J02", "I02")


@pytest.fixture(scope="module")
def nav(wuhn_dir):
    return read_nav(wuhn_dir / "BRDC00IGS_R_20250010000_01D_MN.rnx.gz")


@pytest.fixture(scope="module")
def store(nav):
    return EphStore(nav)


def test_kernel_columns_match_records():
    names = ("AF0", "AF1", "AF2", "CRS", "CRC", "CUS", "CUC", "CIS", "CIC", "DN", "M0", "SQRTA", "OMEGA0", "I0",
             "OMEGA", "OMEGADOT", "IDOT", "ADOT", "DN_DOT")
    for name in names:
        assert getattr(orbits, name) == getattr(rec, f"K_{name}"), name
    assert orbits.ECC == rec.K_E


@pytest.mark.parametrize("sv", SVS)
def test_velocity_and_drift_are_derivatives_of_position_and_clock(store, sv):
    sat = np.array([parse_sv(sv)] * 3, dtype=np.int16)
    h = 0.5
    st = store.sat_states(sat, T0, np.array([-h, 0.0, h]))
    assert st.valid.all(), sv
    vel_fd = (st.pos_ecef_m[2] - st.pos_ecef_m[0]) / (2 * h)
    drift_fd = (st.clk_s[2] - st.clk_s[0]) / (2 * h)
    # GLONASS: the integrated velocity vs the difference of two integrations; Kepler: analytic.
    np.testing.assert_allclose(st.vel_ecef_mps[1], vel_fd, atol=1e-4 if sat[0] != parse_sv("R01") else 1e-3)
    assert abs(st.clk_drift_sps[1] - drift_fd) < 1e-15


def test_dt_offset_equals_shifted_time(store):
    sat = np.array([parse_sv(s) for s in SVS], dtype=np.int16)
    dt = np.full(sat.size, -0.075)
    a = store.sat_states(sat, T0, dt)
    b = store.sat_states(sat, T0 - 75_000_000)
    np.testing.assert_allclose(a.pos_ecef_m, b.pos_ecef_m, atol=1e-6)
    np.testing.assert_allclose(a.clk_s, b.clk_s, atol=1e-15)


def test_selection_nearest_toe_within_window(store, nav):
    sat = parse_sv("C08")
    toes = store.kepler.toe_gpst_ns[store.kepler.sat == sat]
    assert np.all(np.diff(toes) > 0)
    t = np.array([toes[3] + 29 * 60 * NS_PER_S, toes[3] + 31 * 60 * NS_PER_S])
    kep, glo = store.select(np.array([sat, sat], dtype=np.int16), t)
    assert store.kepler.toe_gpst_ns[kep].tolist() == [toes[3], toes[4]] and glo.tolist() == [-1, -1]
    # beyond the BeiDou window (1 h) after the last record: invalid, NaN states
    late = toes[-1] + 3601 * NS_PER_S
    st = store.sat_states(np.array([sat], dtype=np.int16), late)
    assert not st.valid[0] and np.isnan(st.pos_ecef_m).all() and st.iode[0] == -1
    st = store.sat_states(np.array([sat], dtype=np.int16), late - 2 * NS_PER_S)
    assert st.valid[0]


def test_default_windows_per_system(nav):
    """One record per satellite: valid up to the system's half-window from toe, not beyond."""
    k = nav.kepler
    windows_h = {"G05": 2.0, "E02": 2.0, "C08": 1.0, "C01": 1.0}
    for sv, hours in windows_h.items():
        rows = np.flatnonzero(k.sat == parse_sv(sv))
        one = EphStore(kepler=k.take(rows[len(rows) // 2:len(rows) // 2 + 1]))
        toe = one.kepler.toe_gpst_ns[0]
        t = toe + np.array([-1, 1, -1, 1]) * np.array([0.99, 0.99, 1.01, 1.01]) * hours * 3600 * NS_PER_S
        st = one.sat_states(np.full(4, parse_sv(sv), dtype=np.int16), t.astype(np.int64))
        assert st.valid.tolist() == [True, True, False, False], sv


def test_unhealthy_records_are_not_used(nav):
    k = nav.kepler
    sat = parse_sv("G05")
    sick = np.where(k.sat == sat, 1, k.health)
    store = EphStore(kepler=k.take(slice(None)).__class__(**{**{f: getattr(k, f) for f in k.__dataclass_fields__},
                                                            "health": sick}))
    st = store.sat_states(np.array([sat, parse_sv("G07")], dtype=np.int16), T0)
    assert st.valid.tolist() == [False, True]


def test_unhealthy_nearest_record_is_not_bridged_by_an_older_healthy_one(nav):
    k = nav.kepler
    sat = parse_sv("C08")
    rows = np.flatnonzero(k.sat == sat)
    sick = k.health.copy()
    sick[rows[5]] = 1  # one hourly record says "unhealthy"
    store = EphStore(kepler=rec.KeplerEphemerides(**{**{f: getattr(k, f) for f in k.__dataclass_fields__},
                                                      "health": sick}))
    toe = k.toe_gpst_ns[rows[5]]
    st = store.sat_states(np.array([sat] * 3, dtype=np.int16), toe + np.array([-40, 0, 20]) * 60 * NS_PER_S)
    assert st.valid.tolist() == [True, False, False]
    assert sat not in EphStore(kepler=store.kepler.take(store.kepler.sat == sat).take(
        np.flatnonzero(store.kepler.health[store.kepler.sat == sat] != 0))).satellites()


def test_duplicate_toe_keeps_latest_transmission(nav):
    k = nav.kepler.take(np.flatnonzero(nav.kepler.sat == parse_sv("C08"))[:1])
    later = rec.KeplerEphemerides(**{**{f: getattr(k, f) for f in k.__dataclass_fields__},
                                     "ttr_gpst_ns": k.ttr_gpst_ns + 60 * NS_PER_S, "iode": k.iode + 1})
    store = EphStore(kepler=rec.concat_kepler([later, k]))
    assert len(store.kepler) == 1 and store.kepler.iode[0] == k.iode[0] + 1


def test_galileo_family_choice(nav):
    sat = np.array([parse_sv("E02")], dtype=np.int16)
    inav, fnav = EphStore(nav), EphStore(nav, gal_source="fnav")
    src_i = inav.kepler.data_source[inav.kepler.sat == sat[0]]
    src_f = fnav.kepler.data_source[fnav.kepler.sat == sat[0]]
    assert np.all(src_i & rec.GAL_SRC_CLK_E5B) and np.all(src_f & rec.GAL_SRC_CLK_E5A)
    a, b = inav.sat_states(sat, T0), fnav.sat_states(sat, T0)
    # same satellite, two message families: orbits agree to decimetres, clocks by the BGD difference
    assert np.linalg.norm(a.pos_ecef_m - b.pos_ecef_m) < 1.0
    assert abs(a.clk_s[0] - b.clk_s[0]) < 5e-9
    with pytest.raises(InvalidInputError):
        EphStore(nav, gal_source="e5")


def test_group_delays(store):
    sat = np.array([parse_sv(s) for s in ("G05", "C08", "E02", "R01")], dtype=np.int16)
    kep, _ = store.select(sat, T0)
    p = store.kepler.param
    gamma = (1575.42 / 1227.60) ** 2
    l1, l2 = store.group_delay_s(sat, 0, T0), store.group_delay_s(sat, 1, T0)
    b2 = store.group_delay_s(sat, 2, T0)
    assert l1[0] == p[kep[0], rec.K_TGD] and l2[0] == pytest.approx(gamma * p[kep[0], rec.K_TGD])
    assert (l1[1], l2[1], b2[1]) == (p[kep[1], rec.K_TGD1], 0.0, p[kep[1], rec.K_TGD2])  # B1I, B3I, B2I
    assert l1[2] == p[kep[2], rec.K_BGD_E5B_E1]  # I/NAV clock: E1 uses BGD(E1,E5b)
    assert b2[2] == pytest.approx((1575.42 / 1207.14) ** 2 * p[kep[2], rec.K_BGD_E5B_E1])
    assert l1[3] == 0.0 and np.isnan(store.group_delay_s(sat, 3, T0)[1])  # no B1C delay in D1 records
    assert np.isnan(store.group_delay_s(np.array([parse_sv("C21")], dtype=np.int16), 2, T0)[0])  # BDS-3: B2b
    latest = store.group_delay_s(sat, 0)
    assert np.isfinite(latest).all()


def test_glo_fcn_and_bad_input(store):
    assert store.glo_fcn[parse_sv("R01")] == 1
    assert np.all(SAT_SYSTEM[store.glonass.sat] == GLO)
    with pytest.raises(InvalidInputError):
        store.sat_states(np.array([[1]]), T0)
    with pytest.raises(InvalidInputError):
        store.sat_states(np.array([5000]), T0)


def test_extended_store_adds_records_without_changing_the_original(nav):
    k = nav.kepler
    sat = parse_sv("C08")
    rows = np.flatnonzero(k.sat == sat)
    first = EphStore(kepler=k.take(rows[:3]))
    t_late = k.toe_gpst_ns[rows[10]]
    q = np.array([sat], dtype=np.int16)
    assert not first.sat_states(q, t_late).valid[0]
    more = first.extended(kepler=k.take(rows[3:]), glonass=nav.glonass)
    assert more.sat_states(q, t_late).valid[0] and not first.sat_states(q, t_late).valid[0]
    assert len(more.kepler) == rows.size and more.glo_fcn[parse_sv("R01")] == 1


def test_warm_up_runs_every_kernel():
    from gnssaug.ephemeris.store import warm_up

    st = warm_up()
    assert st.valid.all() and np.isfinite(st.pos_ecef_m).all()
    # the GLONASS test state moved ~234 km along +y in 60 s
    assert 2.3e5 < st.pos_ecef_m[1, 1] < 2.4e5


def test_selection_time_is_explicit_when_given(store):
    # A query 1 ms past the midpoint of two toes selects the newer record on its own; selected at
    # the earlier time (the base epoch of a differential pair) it is served from the older one.
    sat = parse_sv("C08")
    toes = store.kepler.toe_gpst_ns[store.kepler.sat == sat]
    mid = (toes[3] + toes[4]) // 2
    sats = np.array([sat], dtype=np.int16)
    own = store.sat_states(sats, mid + 1_000_000)
    chosen = store.sat_states(sats, mid + 1_000_000, t_select_ns=mid - 1_000_000)
    older = store.sat_states(sats, mid - 1_000_000)
    assert store.kepler.toe_gpst_ns[own.rec[0]] == toes[4]
    assert store.kepler.toe_gpst_ns[chosen.rec[0]] == toes[3] == store.kepler.toe_gpst_ns[older.rec[0]]
    # evaluated at its own time all the same: 2 ms of motion from the older query
    assert 1.0 < np.linalg.norm(chosen.pos_ecef_m - older.pos_ecef_m) < 20.0


def test_record_fields_per_row_mix_kepler_glonass_and_none(store):
    # Rows of both record tables and rows without a record (C08 far past its last toe) in one call.
    svs = ("G05", "R01", "C08", "E02", "R01", "C08")
    sat = np.array([parse_sv(s) for s in svs], dtype=np.int16)
    t = np.full(sat.size, T0, dtype=np.int64)
    t[5] = store.kepler.toe_gpst_ns[store.kepler.sat == sat[5]][-1] + 7200 * NS_PER_S
    st = store.sat_states(sat, t)
    kep, glo = store.select(sat, t)
    assert st.valid.tolist() == [True, True, True, True, True, False]
    assert st.rec.tolist() == np.where(glo >= 0, glo, kep).tolist() and st.rec[5] == -1
    k, g = store.kepler, store.glonass
    want_iode = [k.iode[kep[i]] if kep[i] >= 0 else g.iode[glo[i]] if glo[i] >= 0 else -1 for i in range(6)]
    want_acc = [k.param[kep[i], rec.K_ACC_M] if kep[i] >= 0 else g.acc_m[glo[i]] if glo[i] >= 0 else np.nan
                for i in range(6)]
    assert st.iode.dtype == np.int32 and st.iode.tolist() == want_iode
    assert st.acc_m.dtype == np.float64
    np.testing.assert_array_equal(st.acc_m, want_acc)
    assert np.isnan(st.acc_m[5]) and np.isfinite(st.acc_m[[0, 2, 3]]).all()


def test_time_arguments_of_any_layout_give_the_same_states(store):
    sat = np.array([parse_sv(s) for s in SVS], dtype=np.int16)
    n = sat.size
    dt = np.linspace(-0.08, -0.06, n)
    ref = store.sat_states(sat, T0, dt, t_select_ns=T0)
    strided = np.repeat(np.full(n, T0, dtype=np.int64), 2)[::2]
    readonly = np.full(n, T0, dtype=np.int64)
    readonly.flags.writeable = False
    for t in (np.int64(T0), np.full(n, T0, dtype=np.int64), strided, readonly, [T0] * n):
        for t_sel in (T0, np.int64(T0), strided, readonly):
            st = store.sat_states(sat, t, dt, t_select_ns=t_sel)
            np.testing.assert_array_equal(st.pos_ecef_m, ref.pos_ecef_m)
            np.testing.assert_array_equal(st.clk_s, ref.clk_s)
            assert st.rec.tolist() == ref.rec.tolist()
    frozen_sat, frozen_dt = sat.copy(), dt.copy()
    frozen_sat.flags.writeable = frozen_dt.flags.writeable = False
    for s, d in ((frozen_sat, frozen_dt), (sat, np.repeat(dt, 2)[::2]), (sat.astype(np.int64), list(dt))):
        st = store.sat_states(s, T0, d, t_select_ns=T0)
        np.testing.assert_array_equal(st.pos_ecef_m, ref.pos_ecef_m)


def test_negative_satellite_index_is_rejected(store):
    with pytest.raises(InvalidInputError, match="outside"):
        store.sat_states(np.array([3, -1], dtype=np.int16), T0)
    with pytest.raises(InvalidInputError, match="outside"):
        store.sat_states(np.array([3, -32768], dtype=np.int16), T0)


def test_times_reach_the_kernels_as_writeable_c_arrays():
    # The ahead-of-time entries are compiled for writeable arrays: a read-only or strided time
    # array from a caller is copied (else the process would switch to JIT), a fitting one is not.
    from gnssaug.ephemeris.store import _per_row

    fitting = np.arange(4, dtype=np.int64)
    assert _per_row(fitting, 4) is fitting
    readonly = np.arange(4, dtype=np.int64)
    readonly.flags.writeable = False
    for t in (readonly, np.arange(8, dtype=np.int64)[::2], np.arange(4, dtype=np.int32), 7, np.int64(7)):
        out = _per_row(t, 4)
        assert out.flags.carray and out.dtype == np.int64 and out.shape == (4,)


_AOT_SCRIPT = r"""
import sys
import numpy as np
from gnssaug import kernels
from gnssaug.datasets.rinex.nav import read_nav
from gnssaug.ephemeris.store import EphStore

store = EphStore(read_nav(sys.argv[1]))
sat = np.array([5, 40, 120], dtype=np.int16)
t = np.full(3, %(t0)d, dtype=np.int64)
dt = np.full(3, -0.07)
for a in (sat, t, dt):
    a.flags.writeable = False
store.sat_states(sat, t, dt, t_select_ns=t)
store.sat_states(sat, np.repeat(t, 2)[::2], np.repeat(dt, 2)[::2], t_select_ns=%(t0)d)
print(kernels.kernel_mode(), "numba" in sys.modules)
"""


@pytest.mark.skipif(not (kernels.aot_dir() / kernels.AOT_TABLE).exists(),
                    reason="no ahead-of-time build for these kernel sources")
def test_read_only_and_strided_queries_stay_ahead_of_time(wuhn_dir):
    # Compiled entries exist only for the argument types the build's workload passed; sat_states
    # copies what would match none, rather than switching the process to JIT.
    env = {k: v for k, v in os.environ.items() if k != "GNSSAUG_KERNELS"}
    proc = subprocess.run([sys.executable, "-c", _AOT_SCRIPT % {"t0": T0},
                           str(wuhn_dir / "BRDC00IGS_R_20250010000_01D_MN.rnx.gz")],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["aot", "False"]
