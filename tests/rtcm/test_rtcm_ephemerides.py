"""Ephemeris messages <-> records: the Nagoya broadcast records survive RTCM encoding within the field grid."""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.ephemeris import records as rec
from gnssaug.rtcm.codec import decode, encode
from gnssaug.rtcm.ephemerides import messages_to_nav, nav_to_messages
from gnssaug.rtcm.fields import DF
from gnssaug.rtcm.framing import frame, iter_frames

# Largest RTCM quantisation step of each record parameter over the systems (RTCM 10403.3 Table 3.4-1):
# half of it bounds the difference to the RINEX value. Angles: semicircle LSB times pi.
PI = 3.1415926535898
STEP = {
    "af0_s": 2.0**-31, "af1_sps": 2.0**-43, "af2_sps2": 2.0**-55, "crs_m": 2.0**-5, "crc_m": 2.0**-5,
    "cus_rad": 2.0**-29, "cuc_rad": 2.0**-29, "cis_rad": 2.0**-29, "cic_rad": 2.0**-29, "dn_radps": 2.0**-43 * PI,
    "m0_rad": 2.0**-31 * PI, "e": 2.0**-33, "sqrta_sqrtm": 2.0**-19, "omega0_rad": 2.0**-31 * PI,
    "i0_rad": 2.0**-31 * PI, "omega_rad": 2.0**-31 * PI, "omegadot_radps": 2.0**-43 * PI,
    "idot_radps": 2.0**-43 * PI, "tgd_s": 1e-10, "tgd2_s": 1e-10,
}


@pytest.fixture(scope="module")
def nagoya_nav(nagoya_dir):
    from gnssaug.datasets.rinex.nav import read_nav

    return read_nav(nagoya_dir / "base.nav")


def test_nav_roundtrip_through_rtcm(nagoya_nav):
    nav = nagoya_nav
    msgs = nav_to_messages(nav)
    types = {m.msg_type for m in msgs}
    assert {1019, 1020, 1042, 1046} <= types
    stream = b"".join(frame(encode(m)) for m in msgs)
    back = messages_to_nav([decode(f) for f in iter_frames(stream)], int(nav.kepler.toe_gpst_ns[0]))
    k1, k2 = nav.kepler, back.kepler
    assert len(k1) == len(k2) > 100
    for name in ("sat", "toe_gpst_ns", "toc_gpst_ns", "week", "iode", "health", "msg_type", "data_source"):
        got, want = getattr(k2, name), getattr(k1, name)
        if name == "msg_type":  # RINEX 3 tells F/NAV only by its data-source bits; 1045 says F/NAV outright
            want = np.where(k1.data_source & rec.GAL_SRC_FNAV_E5A, rec.NAV_FNAV, want)
        assert np.array_equal(got, want), name
    for k, name in enumerate(rec.KEPLER_PARAM_NAMES):
        if name in STEP:
            d = np.abs(k1.param[:, k] - k2.param[:, k])
            ok = np.isfinite(d)
            assert np.all(d[ok] <= STEP[name] / 2 * 1.0001 + 1e-300), name
    g1, g2 = nav.glonass, back.glonass
    assert len(g1) == len(g2) > 5
    for name in ("sat", "toe_gpst_ns", "tb_s", "fcn", "health", "age_d"):
        assert np.array_equal(getattr(g1, name), getattr(g2, name)), name
    assert np.max(np.abs(g1.pos_m - g2.pos_m)) <= DF["DF112"].scale * 1e3 / 2 * 1.0001
    assert np.max(np.abs(g1.vel_mps - g2.vel_mps)) <= DF["DF111"].scale * 1e3 / 2 * 1.0001
    assert np.max(np.abs(g1.tau_n_s - g2.tau_n_s)) <= DF["DF124"].scale / 2 * 1.0001
    assert np.array_equal(back.glo_fcn, rec.glo_fcn_table(g1))


def test_galileo_fnav_and_inav_kept_apart(nagoya_nav):
    msgs = nav_to_messages(nagoya_nav)
    k = nagoya_nav.kepler
    n_fnav = int(np.count_nonzero(k.data_source & rec.GAL_SRC_FNAV_E5A))
    assert sum(m.msg_type == 1045 for m in msgs) == n_fnav


def test_decoded_ephemerides_compute_the_same_orbit(nagoya_nav):
    """Satellite positions and clocks from RTCM-decoded ephemerides equal those from the RINEX records."""
    from gnssaug.ephemeris.store import EphStore
    from gnssaug.gnss import SAT_SYSTEM

    nav = nagoya_nav
    back = messages_to_nav([decode(encode(m)) for m in nav_to_messages(nav)], int(nav.kepler.toe_gpst_ns[0]))
    sats = np.union1d(nav.kepler.sat, nav.glonass.sat).astype(np.int16)
    t_gpst_ns = 1_403_252_520 * 10**9  # 2024-06-24 08:22:00 GPST, inside the observation span
    a = EphStore.from_nav(nav).sat_states(sats, t_gpst_ns)
    b = EphStore.from_nav(back).sat_states(sats, t_gpst_ns)
    assert np.array_equal(a.valid, b.valid) and a.valid.sum() > 50
    assert set(SAT_SYSTEM[sats[a.valid]].tolist()) >= {0, 1, 2, 4}
    ok = a.valid
    # the broadcast parameters sit on the ICD grid that RTCM uses: what remains is RINEX's 12-digit printing
    assert np.max(np.linalg.norm(a.pos_ecef_m[ok] - b.pos_ecef_m[ok], axis=1)) < 1e-3  # 1 mm
    assert np.max(np.abs(a.clk_s[ok] - b.clk_s[ok])) < 1e-12  # 0.3 mm of range
