"""What real receivers send that our own encoder never does: frames built here from RTCM 10403.3.

Each test names the receiver behaviour it stands for. No capture files are needed: the frames are
built bit by bit (or from decoded messages) following the message tables of the standard.
"""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from gnssaug.cli import main
from gnssaug.gnss import BAND_FREQ_HZ, BDS, GLO, GPS, SAT_SYSTEM, sat_index
from gnssaug.rtcm.bits import BitWriter
from gnssaug.rtcm.codec import StreamDecoder, decode, decode_many, encode
from gnssaug.rtcm.epochs import EpochAssembler, epoch_fields, legacy_to_obs, msm_epoch_gpst_ns
from gnssaug.rtcm.errors import MessageContentError, RtcmError
from gnssaug.rtcm.framing import Deframer, frame
from gnssaug.rtcm.messages import Message, Unknown
from gnssaug.rtcm.msm import MS_TO_M, SIGNAL_CODES, Msm
from gnssaug.time import NS_PER_WEEK

C_MPS = 299_792_458.0
S = 10**9
WEEK = 2320  # June 2024: 18 leap seconds
T0 = WEEK * NS_PER_WEEK + 3 * 86_400 * S  # a Wednesday, far from any boundary


def _msm(msg_type: int, prns, sigs, t_gpst_ns: int = T0, multiple: int = 0, ext_info=None) -> Msm:
    """A full-cell MSM of plausible values, time tag from a GPST instant (RTCM 10403.3 §3.5.12)."""
    nsat, nsig = len(prns), len(sigs)
    ncell = nsat * nsig
    level = msg_type % 10
    epoch_ms, dow = epoch_fields(msg_type // 10, t_gpst_ns)
    has_rate = level in (5, 7)
    return Msm(msg_type, 5, int(epoch_ms), dow, multiple, 0, 0, 0, 0, 0,
               np.array(prns, np.uint8), np.array(sigs, np.uint8), np.ones((nsat, nsig), bool),
               70.0 + 0.5 * np.arange(nsat), np.asarray(ext_info if ext_info is not None else np.zeros(nsat), np.uint8),
               np.full(nsat, 120.0) if has_rate else np.full(nsat, np.nan),
               np.full(ncell, 2.0**-20), np.full(ncell, 2.0**-19), np.full(ncell, 5, np.uint16),
               np.zeros(ncell, np.uint8), np.full(ncell, 45.0),
               np.full(ncell, 0.25) if has_rate else np.full(ncell, np.nan))


def _roundtrip(m):
    return decode(frame(encode(m))[3:-3])


# ---- multiple-message bit across systems (DF393) ---------------------------------------------------


def _epoch_msgs(t, last_multiple=0):
    return [_msm(1077, [3, 7], [2, 9], t, multiple=1), _msm(1087, [1, 2], [2], t, multiple=1, ext_info=[8, 6]),
            _msm(1127, [19, 20], [2, 22], t, multiple=last_multiple)]


def test_multiple_message_bit_joins_the_systems_of_one_epoch():
    asm = EpochAssembler(T0)
    msgs = [_roundtrip(m) for m in _epoch_msgs(T0)]
    assert [asm.feed(m) for m in msgs[:2]] == [[], []]  # the bit says more follow: nothing yet
    (epoch,) = asm.feed(msgs[2])
    assert epoch.t_gpst_ns == T0
    assert sorted(set(SAT_SYSTEM[epoch.sat].tolist())) == sorted([GPS, GLO, BDS])
    assert epoch.n_sat == 6 and asm.flush() == []


def test_multiple_bit_never_cleared_closes_on_the_next_epoch_and_flush():
    asm = EpochAssembler(T0)
    out = []
    for t in (T0, T0 + S):
        for m in _epoch_msgs(t, last_multiple=1):
            out += asm.feed(_roundtrip(m))
    assert [e.t_gpst_ns for e in out] == [T0]  # the first epoch ends when a new time tag arrives
    (last,) = asm.flush()
    assert last.t_gpst_ns == T0 + S and last.n_sat == 6


# ---- BDT / GPST week boundary, GLONASS day of week --------------------------------------------------


@pytest.mark.parametrize("offset_s", [-15, -14, -13, -1, 0, 1, 13, 14, 15])
def test_time_tags_straddling_the_week_boundary(offset_s):
    t = (WEEK + 1) * NS_PER_WEEK + offset_s * S
    for group in (107, 108, 112):  # GPS, GLONASS, BeiDou
        epoch_ms, dow = epoch_fields(group, t)
        for ref in (t - S, t + S, t - 3 * 3600 * S):  # previous epoch, next epoch, hours away
            assert msm_epoch_gpst_ns(group, epoch_ms, ref, dow) == t, (group, ref - t)


def test_bdt_and_glonass_tags_at_the_gps_week_start_by_hand():
    t = (WEEK + 1) * NS_PER_WEEK + 2 * S  # GPST Sunday 00:00:02
    assert epoch_fields(107, t) == (2000, 0)
    assert epoch_fields(112, t) == ((604_800 - 12) * 1000, 0)  # BDT = GPST - 14 s: still last week
    # GLONASS = UTC + 3 h = GPST - 18 s + 3 h: Sunday 02:59:44
    assert epoch_fields(108, t) == ((3 * 3600 - 16) * 1000, 0)


def test_one_epoch_across_the_week_boundary_from_three_systems():
    t = (WEEK + 1) * NS_PER_WEEK + 2 * S
    asm = EpochAssembler(t - S)  # the reference is in the previous GPS week
    out = []
    for m in _epoch_msgs(t):
        out += asm.feed(_roundtrip(m))
    assert len(out) == 1 and out[0].t_gpst_ns == t and out[0].n_sat == 6


def test_glonass_day_rollover_keeps_one_epoch():
    # GLONASS midnight (Moscow) is 21:00 UTC = 21:00:18 GPST
    t = T0 + (21 * 3600 + 18) * S - T0 % (86_400 * S)
    for dt in (-1, 0, 1):
        tt = t + dt * S
        ms, dow = epoch_fields(108, tt)
        assert (ms == 0) == (dt == 0)
        assert msm_epoch_gpst_ns(108, ms, tt - S, dow) == tt


# ---- MSM shapes: no satellites, too many cells, GLONASS without extended info, BDS-3 signals -------


def test_msm_with_no_satellites():
    m = _msm(1127, [], [], multiple=0)
    p = encode(m)
    assert len(p) == 22  # 169 header bits, nothing else
    d = decode(p)
    assert d.prn.shape == (0,) and d.cell_mask.shape == (0, 0) and d.fine_pr_ms.shape == (0,)
    for got in decode_many([p] * 5) + decode_many([p]):  # the grouped path and the one-message path
        assert got == d
    (epoch,) = EpochAssembler(T0).feed(d)
    assert epoch.n_sat == 0 and epoch.t_gpst_ns == T0


def _msm_header_bits(msg_type, sat_ids, sig_ids, reserved=0) -> BitWriter:
    w = BitWriter()
    for value, width in ((msg_type, 12), (5, 12), (1000, 30), (0, 1), (0, 3), (reserved, 7), (0, 2), (0, 2),
                         (0, 1), (0, 3)):
        w.put(value, width)
    w.put(sum(1 << (64 - s) for s in sat_ids), 64)
    w.put(sum(1 << (32 - s) for s in sig_ids), 32)
    return w


@pytest.mark.parametrize("nsat,nsig", [(9, 8), (13, 5), (64, 32)])
def test_cell_mask_over_64_cells_is_an_error(nsat, nsig):
    w = _msm_header_bits(1077, range(1, nsat + 1), range(1, nsig + 1))
    w.put((1 << min(nsat * nsig, 64)) - 1, min(nsat * nsig, 64))
    w.put_bytes(bytes(300))
    p = w.to_bytes()
    with pytest.raises(MessageContentError, match="over 64 cells"):
        decode(p)
    assert all(isinstance(r, MessageContentError) for r in decode_many([p] * 5))
    sd = StreamDecoder()
    good = encode(_msm(1077, [3], [2]))
    got = sd.feed(frame(p) + frame(good))
    assert isinstance(got[0][1], RtcmError) and isinstance(got[1][1], Msm) and sd.decode_errors == 1


def test_64_cells_is_fine_and_reserved_header_bits_are_ignored():
    m = _msm(1077, list(range(1, 9)), list(range(2, 10)))
    p = bytearray(encode(m))
    p[7] |= 0x1F  # DF001, the 7 reserved bits 58-64 of the MSM header
    p[8] |= 0x80
    assert decode(bytes(p)) == decode(encode(m))


def test_glonass_msm4_without_extended_info_uses_the_channel_learned_from_msm7():
    asm = EpochAssembler(T0)
    (e1,) = asm.feed(_roundtrip(_msm(1084, [1, 2], [2], T0)))  # no DF419: channel unknown
    assert np.isfinite(e1.pr_m[:, 0]).all() and np.isnan(e1.cp_cyc[:, 0]).all()
    (e2,) = asm.feed(_roundtrip(_msm(1087, [1], [2], T0 + S, ext_info=[7 + 3])))  # MSM7: R01 on channel +3
    (e3,) = asm.feed(_roundtrip(_msm(1084, [1, 2], [2], T0 + 2 * S)))
    lam = C_MPS / (1602e6 + 3 * 562.5e3)
    assert np.isfinite(e2.cp_cyc[0, 0]) and e3.sat.tolist() == [sat_index(GLO, 1), sat_index(GLO, 2)]
    assert e3.cp_cyc[0, 0] == pytest.approx((70.0 + 2.0**-19) * MS_TO_M / lam, rel=1e-12)
    assert np.isnan(e3.cp_cyc[1, 0])  # R02's channel is still unknown


def test_bds3_b1c_b2a_b2b_signal_ids():
    # RTCM 10403.3 Table 3.5-108 with the BDS-3 amendment, as read by RTKLIB demo5 and PocketSDR
    table = SIGNAL_CODES[BDS]
    assert {k: table[k] for k in (22, 23, 24, 25, 30, 31, 32)} == {22: "5D", 23: "5P", 24: "5X", 25: "7D", 30: "1D",
                                                                   31: "1P", 32: "1X"}
    m = _roundtrip(_msm(1127, [19], [2, 8, 22, 25, 31]))  # B1I, B3I, B2a pilot, B2b data, B1C pilot
    (epoch,) = EpochAssembler(T0).feed(m)
    slots = np.flatnonzero(np.isfinite(epoch.cp_cyc[0]))
    freqs = sorted(BAND_FREQ_HZ[BDS, slots].tolist())
    assert freqs == pytest.approx([1176.45e6, 1207.14e6, 1268.52e6, 1561.098e6, 1575.42e6])
    rng_m = (70.0 + 2.0**-19) * MS_TO_M
    np.testing.assert_allclose(epoch.cp_cyc[0, slots] * C_MPS / BAND_FREQ_HZ[BDS, slots], rng_m, rtol=1e-12)
    letters = {chr(c) for c in epoch.code[0, slots]}
    assert letters == {"I", "P", "D"}


# ---- station, text and proprietary messages ------------------------------------------------------------

_ARP = {"station_id": 7, "itrf_year": 0, "gps": 1, "glonass": 1, "galileo": 1, "reference_station": 0,
        "arp_x_m": -3_962_108.7007, "single_oscillator": 1, "arp_y_m": 3_381_309.5241, "quarter_cycle": 0,
        "arp_z_m": 3_668_678.6462}


@pytest.mark.parametrize("msg_type", [1005, 1006])
def test_station_arp_with_reserved_bit_and_itrf_year_set(msg_type):
    values = dict(_ARP, **({"antenna_height_m": 1.2345} if msg_type == 1006 else {}))
    p = bytearray(encode(Message(msg_type, values)))
    clean = decode(bytes(p))
    assert clean["arp_x_m"] == pytest.approx(values["arp_x_m"], abs=1e-4)
    # DF001 reserved bit after DF142: bit 12+12+6+4+38+1 = 73 (byte 9, second bit)
    assert not p[9] & 0x40
    p[9] |= 0x40
    assert decode(bytes(p)) == clean
    values["itrf_year"] = 63  # DF021 "reserved for the ITRF realisation year": any value passes through
    assert decode(encode(Message(msg_type, values)))["itrf_year"] == 63


def test_1033_with_empty_strings():
    values = {"station_id": 3, "antenna_descriptor": "", "antenna_setup_id": 0, "antenna_serial": "",
              "receiver_type": "", "firmware": "", "receiver_serial": ""}
    p = encode(Message(1033, values))
    assert len(p) == (12 + 12 + 8 + 8 + 8 + 8 + 8 + 8 + 7) // 8  # every counter zero
    assert decode(p) == Message(1033, values)


@pytest.mark.parametrize("msg_type", [4094, 4072, 4054, 4095])
def test_proprietary_messages_are_relayed_byte_for_byte(msg_type):
    payload = bytes([msg_type >> 4, ((msg_type & 0xF) << 4) | 0x3]) + bytes(range(200))
    raw = frame(payload)
    sd = StreamDecoder()
    ((f, m),) = sd.feed(b"\x00\xd3garbage" + raw)
    assert isinstance(m, Unknown) and m.msg_type == msg_type and m.payload == payload
    assert f.raw == raw and f.station_id is None and encode(m) == payload and sd.decode_errors == 0


def test_1029_utf8_text_roundtrip_and_bad_utf8():
    text = "北斗 base station ✓ Zürich"
    values = {"station_id": 9, "mjd": 60_480, "seconds_of_day": 43_200, "text": text}
    p = encode(Message(1029, values))
    got = decode(p)
    assert got["text"] == text and got == Message(1029, values)
    # hand-built per RTCM 10403.3 Table 3.5-33: DF138 characters, DF139 code units, then the UTF-8 bytes
    data = text.encode("utf-8")
    w = BitWriter()
    for value, width in ((1029, 12), (9, 12), (60_480, 16), (43_200, 17), (len(text), 7), (len(data), 8)):
        w.put(value, width)
    w.put_bytes(data)
    assert w.to_bytes() == p
    bad = bytearray(p)
    bad[-1] = 0xFF  # not UTF-8
    with pytest.raises(MessageContentError, match="UTF-8"):
        decode(bytes(bad))


# ---- legacy 1004 without L2 ---------------------------------------------------------------------------


def test_legacy_1004_with_missing_l2():
    tow_ms, _ = epoch_fields(107, T0)
    sat = {"prn": 5, "l1_code": 0, "l1_pr_mod_m": 123_456.78, "l1_cp_minus_pr_m": 1.2345, "l1_lock": 100,
           "l1_pr_amb": 70, "l1_cn0_dbhz": 44.25, "l2_code": 0, "l2_minus_l1_pr_m": float("nan"),
           "l2_cp_minus_l1_pr_m": float("nan"), "l2_lock": 0, "l2_cn0_dbhz": float("nan")}
    values = {"station_id": 1, "tow_ms": int(tow_ms), "sync": 0, "smoothing": 0, "smoothing_interval": 0,
              "sats": [sat, dict(sat, prn=6, l2_minus_l1_pr_m=1.5, l2_cp_minus_l1_pr_m=2.5, l2_cn0_dbhz=40.0)]}
    m = decode(encode(Message(1004, values)))
    epoch = legacy_to_obs(m, T0)
    assert epoch.t_gpst_ns == T0 and epoch.sat.tolist() == [sat_index(GPS, 5), sat_index(GPS, 6)]
    assert np.isfinite(epoch.pr_m[:, 0]).all() and np.isfinite(epoch.cp_cyc[:, 0]).all()
    assert np.isnan(epoch.pr_m[0, 1]) and np.isnan(epoch.cp_cyc[0, 1]) and np.isnan(epoch.cn0_dbhz[0, 1])
    assert epoch.pr_m[1, 1] == pytest.approx(epoch.pr_m[1, 0] + 1.5, abs=1e-6)


# ---- batch and one-by-one decoding agree -----------------------------------------------------------------


def test_batch_groups_and_single_messages_decode_the_same():
    msgs = [_msm(1077 if i % 3 else 1127, [3, 7, 9][: 1 + i % 3], [2, 9], T0 + i * S) for i in range(14)]
    payloads = [encode(m) for m in msgs]
    payloads.insert(5, payloads[5][:-4])  # a truncated one in the middle of a group
    got = decode_many(payloads)
    assert isinstance(got[5], RtcmError)
    for p, g in zip(payloads[:5] + payloads[6:], got[:5] + got[6:], strict=True):
        assert g == decode(p)


# ---- gnssaug rtcm dump on stdin ----------------------------------------------------------------------------


def test_dump_stdin_with_garbage_between_frames_and_a_cut_last_frame(monkeypatch, capsys):
    a, b = frame(encode(_msm(1077, [3], [2]))), frame(encode(_msm(1127, [19], [2, 22])))
    stream = b"\x00\xd3\xff noise" + a + b"\xd3\x00\x05abc" + b + b[: len(b) // 2]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stream)))
    assert main(["rtcm", "dump", "-", "--time", "2024-06-26T00:00:00"]) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert [line.split()[0] for line in lines] == ["1077", "1127"]
    assert "1 truncated frame" in out.err
    d = Deframer()
    d.feed(stream)
    d.flush()
    assert f"{d.dropped_bytes} bytes skipped" in out.err and d.truncated == 1
