"""ObsEpoch <-> MSM/legacy conversion and the epoch assembler, on the real Nagoya base observations."""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.gnss import GLO, GLO_FCN_UNKNOWN, N_SAT, SAT_SYSTEM, sat_freq_hz
from gnssaug.obs import LLI_SLIP
from gnssaug.rtcm.codec import decode, encode
from gnssaug.rtcm.epochs import (
    LOCK_MS_MSM,
    LOCK_MS_MSM_EXT,
    EpochAssembler,
    MsmEncoder,
    lock_indicator,
    msm_epoch_gpst_ns,
    obs_to_legacy,
)
from gnssaug.rtcm.framing import frame, iter_frames
from gnssaug.rtcm.msm import MS_TO_M

C = 299_792_458.0
N_EPOCH = 12


@pytest.fixture(scope="module")
def nagoya_base(nagoya_dir):
    from gnssaug.datasets.rinex.obs import read_obs

    header, series = read_obs(nagoya_dir / "base.obs")
    glo_fcn = np.asarray(header.glo_fcn, dtype=np.int8) if header.glo_fcn is not None else None
    return [series.epoch(i) for i in range(N_EPOCH)], glo_fcn


def _roundtrip(epochs, level, glo_fcn):
    enc = MsmEncoder(level, station_id=77, glo_fcn=glo_fcn)
    stream = b"".join(frame(encode(m)) for e in epochs for m in enc.encode(e))
    asm = EpochAssembler(epochs[0].t_gpst_ns + 3 * 86_400 * 10**9)  # a reference days away still resolves
    out = []
    for f in iter_frames(stream):
        out += asm.feed(decode(f))
    return out + asm.flush(), enc


# MSM resolution (RTCM 10403.3 DF405/DF406/DF404/DF408 and DF400/DF401/DF403): half an LSB.
TOL = {7: {"pr_m": 2.0**-30 * MS_TO_M, "cp_m": 2.0**-32 * MS_TO_M, "rate_mps": 0.5e-4, "cn0_dbhz": 2.0**-5},
       4: {"pr_m": 2.0**-25 * MS_TO_M, "cp_m": 2.0**-30 * MS_TO_M, "cn0_dbhz": 0.5}}


@pytest.mark.parametrize("level", [7, 4])
def test_msm_roundtrip_within_resolution(nagoya_base, level):
    epochs, glo_fcn = nagoya_base
    out, enc = _roundtrip(epochs, level, glo_fcn)
    assert len(out) == len(epochs)
    tol = TOL[level]
    for a, b in zip(epochs, out, strict=True):
        assert a.t_gpst_ns == b.t_gpst_ns
        assert np.array_equal(a.sat, b.sat)
        lam = C / sat_freq_hz(a.sat, glo_fcn)
        has = a.code != 0
        assert np.array_equal(a.code, b.code)
        for name, scale in (("pr_m", 1.0), ("cp_cyc", lam)):
            x, y = getattr(a, name) * scale, getattr(b, name) * scale
            both = np.isfinite(x) & np.isfinite(y)
            key = "pr_m" if name == "pr_m" else "cp_m"
            assert np.all(np.abs(x - y)[both] <= tol[key] * 1.0001 + 1e-9)
            # nothing present was lost (MSM4 phase of GLONASS needs a channel the message cannot carry)
            lost = np.isfinite(x) & has & ~np.isfinite(y)
            if name == "cp_cyc" and level == 4:
                lost &= (SAT_SYSTEM[a.sat] != GLO)[:, None]
            assert np.count_nonzero(lost) <= enc.dropped_signals
        cn0 = np.isfinite(a.cn0_dbhz) & (a.cn0_dbhz > 0)
        assert np.all(np.abs(a.cn0_dbhz - b.cn0_dbhz)[cn0] <= tol["cn0_dbhz"] + 1e-4)
        if level == 7:
            rate_a, rate_b = -a.dop_hz * lam, -b.dop_hz * lam
            both = np.isfinite(rate_a) & np.isfinite(rate_b)
            assert np.all(np.abs(rate_a - rate_b)[both] <= tol["rate_mps"] + 1e-6 * np.abs(rate_a[both]))


def test_glonass_phase_needs_channel(nagoya_base):
    epochs, glo_fcn = nagoya_base
    assert glo_fcn is not None and np.any(glo_fcn != GLO_FCN_UNKNOWN)
    # MSM7 carries the channel (DF419): the decoder learns it without being told
    out, _ = _roundtrip(epochs[:1], 7, glo_fcn)
    glo = SAT_SYSTEM[out[0].sat] == GLO
    assert glo.any() and np.isfinite(out[0].cp_cyc[glo, 0]).all()
    # MSM4 does not carry it: without the channel the phase is NaN, never a wrong number
    out, _ = _roundtrip(epochs[:1], 4, glo_fcn)
    assert np.isnan(out[0].cp_cyc[SAT_SYSTEM[out[0].sat] == GLO]).all()


def test_lock_time_and_slip(nagoya_base):
    epochs, glo_fcn = nagoya_base
    slipped = epochs[5]
    lli = slipped.lli.copy()
    lli[0, 0] |= LLI_SLIP
    from dataclasses import replace

    epochs = [*epochs[:5], replace(slipped, lli=lli), *epochs[6:]]
    out, _ = _roundtrip(epochs, 7, glo_fcn)
    assert out[5].lli[0, 0] & LLI_SLIP
    assert not any(o.lli[0, 0] & LLI_SLIP for o in out[1:5] + out[6:])


def test_lock_indicator_tables():
    assert lock_indicator(np.array([0, 31, 32, 63, 64, 10**9]), LOCK_MS_MSM).tolist() == [0, 0, 1, 1, 2, 15]
    assert lock_indicator(np.array([0, 63, 64, 65, 66, 67_108_864]), LOCK_MS_MSM_EXT).tolist() == [0, 63, 64, 64, 65,
                                                                                                    704]


def test_legacy_1004_1012_roundtrip(nagoya_base):
    epochs, glo_fcn = nagoya_base
    e = epochs[0]
    msgs = obs_to_legacy(e, 5, glo_fcn)
    assert [m.msg_type for m in msgs] == [1004, 1012]
    asm = EpochAssembler(e.t_gpst_ns)
    out = []
    for m in msgs:
        out += asm.feed(decode(encode(m)))
    (d,) = out + asm.flush()
    assert d.t_gpst_ns == e.t_gpst_ns
    for k in (0, 1):
        rows = np.isin(e.sat, d.sat)
        x, y = e.pr_m[rows, k], d.pr_m[:, k]
        both = np.isfinite(x) & np.isfinite(y)
        assert both.sum() > 10
        assert np.all(np.abs(x - y)[both] <= 0.02)  # DF011 / DF017 resolution 0.02 m


def test_glonass_time_of_day_resolves():
    t = 1_403_000_000 * 10**9 + 123_000_000  # some GPST instant
    from gnssaug.rtcm.epochs import epoch_fields

    for group in (107, 108, 112):
        ms, _ = epoch_fields(group, t)
        assert msm_epoch_gpst_ns(group, ms, t + 40_000 * 10**9) == t


def test_empty_glo_fcn_array_shape():
    assert np.full(N_SAT, GLO_FCN_UNKNOWN, dtype=np.int8).shape == (N_SAT,)


def test_bds3_signals_survive_msm7():
    """B1I, B3I, B2b (7D/7P/7Z), B1C, B2a, B2a+b of a BDS-3 satellite keep their slots and codes."""
    from gnssaug.gnss import BDS, band_slot, sat_index
    from gnssaug.obs import ObsEpoch

    t = 1_403_252_400 * 10**9
    sats = np.array([sat_index(BDS, 7), sat_index(BDS, 35)], dtype=np.int16)
    e = ObsEpoch.empty(t, sats)
    codes = {("2", "I"): 0, ("6", "I"): 0, ("7", "P"): 0, ("1", "P"): 0, ("5", "P"): 0, ("8", "X"): 0}
    freq = sat_freq_hz(sats)
    for row in range(2):
        for band, attr in codes:
            k = band_slot(BDS, band, attr)
            e.pr_m[row, k] = 21_000_000.0 + 1000 * row + 3.1 * k
            e.cp_cyc[row, k] = e.pr_m[row, k] * freq[row, k] / C + 0.25
            e.dop_hz[row, k] = -1234.5
            e.cn0_dbhz[row, k] = 44.0
            e.code[row, k] = ord(attr)
    (m,) = MsmEncoder(7).encode(e)
    assert m.msg_type == 1127 and set(m.sig.tolist()) == {2, 8, 26, 31, 23, 20}
    (d,) = EpochAssembler(t).feed(decode(encode(m)))
    assert np.array_equal(d.code, e.code)
    ok = np.isfinite(e.pr_m)
    assert np.all(np.abs(d.pr_m - e.pr_m)[ok] <= TOL[7]["pr_m"])
    lam = C / freq
    assert np.all(np.abs((d.cp_cyc - e.cp_cyc) * lam)[ok] <= TOL[7]["cp_m"] * 1.0001)


def test_valid_cell_of_another_mode_wins_over_invalid_preferred_one():
    """A station sending GPS L2 as P(Y) (2W) and L2C (2L): where the preferred mode's range and phase
    are flagged invalid, the slot takes the valid mode instead of NaN."""
    from gnssaug.gnss import GPS, attribute_rank, band_slot, sat_index
    from gnssaug.rtcm.epochs import _Cells

    sat = np.array([sat_index(GPS, 5)], dtype=np.int16)
    k = band_slot(GPS, "2", "W")
    assert band_slot(GPS, "2", "L") == k
    rank_w, rank_l = attribute_rank(GPS, k, "W"), attribute_rank(GPS, k, "L")
    best, other = ("W", "L") if rank_w < rank_l else ("L", "W")

    def cell(attr, pr_m, cp_cyc):
        return dict(pr_m=np.array([pr_m]), cp_cyc=np.array([cp_cyc]), dop_hz=np.array([0.0], np.float32),
                    cn0_dbhz=np.array([40.0], np.float32), lli=np.array([0], np.uint8),
                    code=np.array([ord(attr)], np.uint8))

    both_valid = _Cells()
    both_valid.add(sat, np.array([k]), np.array([min(rank_w, rank_l)]), **cell(best, 2.1e7, 1.1e8))
    both_valid.add(sat, np.array([k]), np.array([max(rank_w, rank_l)]), **cell(other, 2.2e7, 1.2e8))
    assert chr(both_valid.to_epoch(0).code[0, k]) == best

    preferred_invalid = _Cells()
    preferred_invalid.add(sat, np.array([k]), np.array([min(rank_w, rank_l)]), **cell(best, np.nan, np.nan))
    preferred_invalid.add(sat, np.array([k]), np.array([max(rank_w, rank_l)]), **cell(other, 2.2e7, 1.2e8))
    e = preferred_invalid.to_epoch(0)
    assert chr(e.code[0, k]) == other
    assert e.pr_m[0, k] == 2.2e7 and e.cp_cyc[0, k] == 1.2e8


def test_two_tracking_modes_of_one_band_keep_their_own_lock_times():
    """A station sends GPS L2 P(Y) and L2C of one satellite, the two loops locked for different times
    (1 and 10 min). Each keeps its own lock history: no slip is flagged on a steady stream (keyed by
    slot, the shorter lock was compared with the other's and slipped every epoch)."""
    from dataclasses import replace

    from gnssaug.gnss import GPS, attribute_rank, band_slot, sat_index
    from gnssaug.obs import ObsEpoch
    from gnssaug.rtcm.epochs import LockState, msm_to_obs

    sat = np.array([sat_index(GPS, 5)], dtype=np.int16)
    k = band_slot(GPS, "2", "W")
    t0 = 1_403_252_400 * 10**9
    freq = sat_freq_hz(sat)[0, k]

    def epoch(t, attr):
        e = ObsEpoch.empty(t, sat)
        e.pr_m[0, k] = 21_000_000.0 + (t - t0) * 1e-6
        e.cp_cyc[0, k] = e.pr_m[0, k] * freq / C
        e.cn0_dbhz[0, k] = 45.0
        e.code[0, k] = ord(attr)
        return e

    encoders = {attr: MsmEncoder(7) for attr in "WL"}
    # the mode that fills the slot has the shorter lock: keyed by slot, it was compared with the other's
    best = min("WL", key=lambda a: attribute_rank(GPS, k, a))
    started_s = {a: -60 if a == best else -600 for a in "WL"}
    for attr, enc in encoders.items():  # lock since the start time of each loop
        enc.encode(epoch(t0 + started_s[attr] * 10**9, attr))
    lock = LockState()
    out = []
    for i in range(5):
        t = t0 + i * 10**9
        msgs = [m for attr in "WL" for m in encoders[attr].encode(epoch(t, attr))]
        out.append(msm_to_obs(msgs, t, lock_state=lock))
    assert all(chr(o.code[0, k]) == best for o in out)
    assert not any(o.lli[0, k] & LLI_SLIP for o in out[1:])
    # a real slip of the loop that fills the slot is still seen
    kept = chr(out[0].code[0, k])
    enc = encoders[kept]
    e = epoch(t0 + 5 * 10**9, kept)
    slipped = replace(e, lli=np.full_like(e.lli, LLI_SLIP))
    other = "L" if kept == "W" else "W"
    msgs = enc.encode(slipped) + encoders[other].encode(epoch(t0 + 5 * 10**9, other))
    assert msm_to_obs(msgs, t0 + 5 * 10**9, lock_state=lock).lli[0, k] & LLI_SLIP
