"""EphStore with RINEX 4 modernised records (GPS/QZSS CNAV, CNAV-2; BDS-3 CNAV-1/2/3) next to legacy ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gnssaug.datasets.rinex.nav import read_nav
from gnssaug.ephemeris import records as rec
from gnssaug.ephemeris.store import EphStore
from gnssaug.gnss import parse_sv

DATA = Path(__file__).resolve().parents[1] / "data"
V4 = DATA / "nav_rinex4_all_record_types.rnx"
V3 = DATA / "nav_rinex305_legacy_twin.rnx"
SVS = ("G05", "J02", "C20")


def _queries(nav):
    sats = np.array([parse_sv(sv) for sv in SVS], dtype=np.int16)
    t = np.array([nav.kepler.toe_gpst_ns[nav.kepler.sat == s][0] for s in sats]) + 600 * 10**9
    return sats, t


def test_legacy_records_are_served_when_a_satellite_has_both():
    v4, v3 = read_nav(V4), read_nav(V3)
    s4, s3 = EphStore(v4), EphStore(v3)
    sats, t = _queries(v3)
    a, b = s4.sat_states(sats, t), s3.sat_states(sats, t)
    assert [rec.NAV_TYPE_NAMES[m] for m in s4.kepler.msg_type[a.rec]] == ["LNAV", "LNAV", "D1"]
    np.testing.assert_array_equal(a.pos_ecef_m, b.pos_ecef_m)
    np.testing.assert_array_equal(a.clk_s, b.clk_s)
    # BDS B1I needs TGD1, which only D1/D2 records carry
    for slot in (0, 1):
        np.testing.assert_array_equal(s4.group_delay_s(sats, slot, t), s3.group_delay_s(sats, slot, t))
    assert np.isfinite(s4.group_delay_s(sats, 0, t)).all()


def test_modernised_records_serve_satellites_without_legacy_ones():
    v4 = read_nav(V4)
    c20 = parse_sv("C20")
    k = v4.kepler
    only_cnav = k.take(~((k.sat == c20) & np.isin(k.msg_type, (rec.NAV_D1, rec.NAV_CNV3))))
    store = EphStore(kepler=only_cnav)
    t = k.toe_gpst_ns[k.sat == c20][:1] + 600 * 10**9
    st = store.sat_states(np.array([c20], np.int16), t)
    assert st.valid[0] and store.kepler.msg_type[st.rec[0]] == rec.NAV_CNV2
    # the B2a group delay of the CNAV-2 record (TGD_B2ap = 4e-9 s in the test file); no TGD1 for B1I
    gd = [store.group_delay_s(np.array([c20], np.int16), slot, t)[0] for slot in (0, 4)]
    assert np.isnan(gd[0]) and gd[1] == 4e-9
