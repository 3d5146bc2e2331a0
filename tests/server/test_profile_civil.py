"""The MSM4 profile carries the civil GPS L2 mode (L2C, MSM signal 2L) a low-cost rover tracks; the
legacy profile and the relayed mountpoint keep P(Y). Station: the Nagoya base (GPS C2W/L2W and C2L/L2L)
as MSM7 with both L2 modes in one message per epoch; checked with the project codec and pyrtcm."""

from __future__ import annotations

import dataclasses
import socket
import time

import numpy as np
import pytest
from srv_service import RunningService, connect_client, recv_for

from gnssaug.datasets.rinex.obs import read_obs
from gnssaug.gnss import CIVIL_FIRST, GPS, N_BAND, N_SAT, SAT_PRN, SIGNAL_PLAN, SYSTEM_OFFSET, attribute_rank, sat_index
from gnssaug.obs import LLI_SLIP, OBS_FIELDS, ObsEpoch
from gnssaug.rtcm.codec import decode, encode_frame
from gnssaug.rtcm.epochs import EpochAssembler, MsmEncoder
from gnssaug.rtcm.framing import iter_frames
from gnssaug.rtcm.msm import Msm
from gnssaug.server.settings import Settings

N_EPOCH = 12
FLIP = 5  # epoch at which the station stream omits one satellite's 2L cell
FLIP_PRN = 5  # G05 sends L2C
PR_TOL_M = 0.03  # MSM4 pseudorange resolution 2^-24 ms (0.018 m) plus the MSM7 input's rounding
SIG_2W, SIG_2L = 10, 16  # RTCM 10403.3 Table 3.5-91


def _join_modes(a: Msm, b: Msm, omit: set[tuple[int, int]] = frozenset()) -> Msm:
    """One MSM7 with the cells of ``a`` and ``b`` (same system and epoch; ``a`` wins a shared cell and
    gives the satellite data), without the cells ``(prn, signal ID)`` in ``omit``. Fine values of
    ``b``'s cells are re-referred to the joined rough range and rate (RTCM 10403.3 §3.5.12.3)."""
    prn = np.union1d(a.prn, b.prn).astype(np.uint8)
    sig = np.union1d(a.sig, b.sig).astype(np.uint8)
    rough = np.full(len(prn), np.nan)
    rate = np.full(len(prn), np.nan)
    ext = np.zeros(len(prn), np.uint8)
    for m in (b, a):
        i = np.searchsorted(prn, m.prn)
        rough[i], rate[i], ext[i] = m.rough_range_ms, m.rough_rate_mps, m.ext_info
    cells = {}
    for m in (b, a):
        sp, gp = m.cell_index()
        for c, (s, g) in enumerate(zip(sp.tolist(), gp.tolist(), strict=True)):
            cells[(int(m.prn[s]), int(m.sig[g]))] = (m, s, c)
    for key in omit:
        cells.pop(key, None)
    mask = np.zeros((len(prn), len(sig)), dtype=bool)
    for p, g in cells:
        mask[np.searchsorted(prn, p), np.searchsorted(sig, g)] = True
    vals = {k: [] for k in ("fine_pr_ms", "fine_cp_ms", "lock", "half_cycle", "cn0_dbhz", "fine_rate_mps")}
    # MSM7 fine-field spans: DF405 20 bits x 2^-29 ms, DF406 24 bits x 2^-31 ms, DF404 15 bits x 1e-4 m/s
    span = {"fine_pr_ms": 2.0**-10, "fine_cp_ms": 2.0**-8, "fine_rate_mps": 1.6383}
    for s, g in zip(*np.nonzero(mask), strict=True):
        m, s_m, c = cells[(int(prn[s]), int(sig[g]))]
        shift = {"fine_pr_ms": m.rough_range_ms[s_m] - rough[s], "fine_cp_ms": m.rough_range_ms[s_m] - rough[s],
                 "fine_rate_mps": m.rough_rate_mps[s_m] - rate[s]}
        for k in vals:
            x = getattr(m, k)[c] + shift.get(k, 0)
            vals[k].append(x if k not in span or abs(x) < span[k] else np.nan)
    per_cell = {k: np.array(v, dtype=getattr(a, k).dtype) for k, v in vals.items()}
    return dataclasses.replace(a, prn=prn, sig=sig, cell_mask=mask, rough_range_ms=rough, rough_rate_mps=rate,
                               ext_info=ext, **per_cell)


@pytest.fixture(scope="module")
def station(nagoya_dir):
    """Per-epoch frames of the station stream (G05 without 2L at FLIP), and the W and L epochs."""
    return _station(nagoya_dir, SIG_2L)


def _station(nagoya_dir, omit_sig: int):
    path = nagoya_dir / "base.obs"
    _, s_w = read_obs(path, systems="GEC")
    modes = np.zeros((N_SAT, N_BAND), np.uint8)
    modes[SYSTEM_OFFSET[GPS]:SYSTEM_OFFSET[GPS] + 32, 1] = ord("L")
    _, s_l = read_obs(path, systems="G", preferred_modes=modes)
    enc_w, enc_l = MsmEncoder(7, 7), MsmEncoder(7, 7, systems=(GPS,))
    groups, eps_w, eps_l = [], [], []
    for i in range(N_EPOCH):
        e_w, e_l = s_w.epoch(i), s_l.epoch(i)
        e_l = ObsEpoch(e_l.t_gpst_ns, e_l.sat, **{n: getattr(e_l, n).copy() for n in OBS_FIELDS})
        e_l.code[:, 0] = 0  # L1 and L5 come from the W encoding; only L2 L is added
        e_l.code[:, 2] = 0
        e_l.code[e_l.code[:, 1] != ord("L"), 1] = 0
        msgs = enc_w.encode(e_w)
        (m_l,) = enc_l.encode(e_l)  # the L encoder runs every epoch: its 2L lock times stay continuous
        gps = [k for k, m in enumerate(msgs) if m.msg_type == 1077]
        assert len(gps) == 1
        omit = {(FLIP_PRN, omit_sig)} if i == FLIP else set()
        msgs[gps[0]] = _join_modes(msgs[gps[0]], m_l, omit)
        groups.append(b"".join(encode_frame(m) for m in msgs))
        eps_w.append(e_w)
        eps_l.append(e_l)
    return groups, eps_w, eps_l


def test_civil_table_and_default_unchanged():
    # the default order (ingest, solvers, legacy) keeps P(Y) first; the civil table differs only in GPS L2
    assert SIGNAL_PLAN[GPS][1].attributes == "WPYCMLSXDN" and attribute_rank(GPS, 1, "W") == 0
    assert CIVIL_FIRST[GPS][1].index("L") < CIVIL_FIRST[GPS][1].index("W")
    for s, bands in enumerate(SIGNAL_PLAN):
        for k, band in enumerate(bands):
            assert sorted(CIVIL_FIRST[s][k]) == sorted(band.attributes)
            assert CIVIL_FIRST[s][k] == band.attributes or (s, band.name) == (GPS, "L2")


def _msm_cells(frame_raw: bytes) -> dict[tuple[int, str], dict]:
    from pyrtcm import RTCMReader
    from pyrtcm.rtcmhelpers import parse_msm

    _, _, cells = parse_msm(RTCMReader.parse(frame_raw))
    return {(int(c["CELLPRN"]), str(c["CELLSIG"])): c for c in cells}


def _serve(tmp_path, groups):
    with RunningService(Settings(data_dir=tmp_path)) as svc:
        svc.registry.add_station("NAG", "pw")
        svc.registry.add_user("al", "pw", max_sessions=3)
        clients = {}
        for m in ("NAG", "NAG_MSM4", "NAG_LEGACY"):
            clients[m] = connect_client(svc.ntrip_port, m)
            assert clients[m].recv(12) == b"ICY 200 OK\r\n"
        svc.wait_for(lambda: all(svc.hub.subscribers(m) == 1 for m in clients))
        src = socket.create_connection(("127.0.0.1", svc.ntrip_port), timeout=5)
        src.sendall(b"SOURCE pw /NAG\r\n\r\n")
        assert src.recv(20) == b"ICY 200 OK\r\n"
        for g in groups:
            src.sendall(g)
            time.sleep(0.05)
        got = {m: recv_for(s, 1.5) for m, s in clients.items()}
        table = svc.sync(svc.caster.sourcetable)
        src.close()
        for s in clients.values():
            s.close()
    return got, table


def test_msm4_profile_carries_l2c(tmp_path, station):
    groups, eps_w, eps_l = station
    got, table = _serve(tmp_path, groups)
    # the station's own mountpoint is relayed byte for byte, both L2 modes included
    assert got["NAG"] == b"".join(groups)
    raw_cells = [_msm_cells(f.raw) for f in iter_frames(got["NAG"]) if f.msg_type == 1077]
    assert len(raw_cells) == N_EPOCH and any((p, "2W") in c and (p, "2L") in c for c in raw_cells for p, _ in c)

    msm4 = [f for f in iter_frames(got["NAG_MSM4"]) if f.msg_type == 1074]
    assert len(msm4) >= N_EPOCH - 1  # the last epoch may still be pending when the stream stops
    tow_of = {e.t_gpst_ns // 1_000_000 % (7 * 86_400_000): i for i, e in enumerate(eps_w)}
    seen_l = seen_w_only = 0
    lock = {}
    for f in msm4:
        i = tow_of[decode(f).epoch_ms]
        cells = _msm_cells(f.raw)
        e_w, e_l = eps_w[i], eps_l[i]
        for r in np.flatnonzero((e_w.sat >= SYSTEM_OFFSET[GPS]) & (e_w.sat < SYSTEM_OFFSET[GPS] + 32)):
            prn = int(SAT_PRN[e_w.sat[r]])
            r_l = np.searchsorted(e_l.sat, e_w.sat[r])
            has_l = e_l.code[r_l, 1] == ord("L") and not (i == FLIP and prn == FLIP_PRN)
            has_w = np.isfinite(e_w.pr_m[r, 1])
            # pyrtcm's reading: 2L where the satellite sends it, else 2W, never both
            assert ((prn, "2L") in cells) == has_l, (i, prn)
            assert ((prn, "2W") in cells) == (has_w and not has_l), (i, prn)
            seen_l += has_l
            seen_w_only += has_w and not has_l
            sig = "2L" if has_l else "2W"
            if (prn, sig) in cells:
                lock[(i, prn)] = (sig, int(cells[(prn, sig)]["DF402"]))
    assert seen_l > 5 * N_EPOCH and seen_w_only >= 2 * N_EPOCH  # G13, G20, G22 are GPS IIR: P(Y) only

    # the codec's reading of the MSM4 epochs: L2 pseudoranges are the RINEX C2L ones where L2C exists
    asm = EpochAssembler(int(eps_w[0].t_gpst_ns))
    out = [e for f in iter_frames(got["NAG_MSM4"]) if 1070 < f.msg_type < 1130 for e in asm.feed(decode(f))]
    for e in out:
        i = next(k for k, x in enumerate(eps_w) if x.t_gpst_ns == e.t_gpst_ns)
        gps = (e.sat >= SYSTEM_OFFSET[GPS]) & (e.sat < SYSTEM_OFFSET[GPS] + 32)
        for r in np.flatnonzero(gps):
            r_l = np.searchsorted(eps_l[i].sat, e.sat[r])
            r_w = np.searchsorted(eps_w[i].sat, e.sat[r])
            want = eps_l[i] if chr(e.code[r, 1]) == "L" else eps_w[i]
            rr = r_l if want is eps_l[i] else r_w
            assert abs(e.pr_m[r, 1] - want.pr_m[rr, 1]) < PR_TOL_M
        # G05's return to 2L after the 2W epoch is a slip (its lock time restarted); nothing else slips
        slips = {int(SAT_PRN[x]) for x in e.sat[gps & ((e.lli[:, 1] & LLI_SLIP) != 0)]}
        if i > 0:
            assert slips == ({FLIP_PRN} if i == FLIP + 1 else set()), i
    # lock-time indicators (pyrtcm): restarted at each mode change in G05's L2 slot, growing elsewhere
    assert lock[(FLIP, FLIP_PRN)] == ("2W", 0)
    assert lock[(FLIP - 1, FLIP_PRN)][1] > 0
    assert lock[(FLIP + 1, FLIP_PRN)] == ("2L", 0)
    assert lock[(FLIP + 2, FLIP_PRN)][1] > 0
    # the station's own 2L lock did not restart after the missing cell: the restart is the profile's
    raw_lock = [c[(FLIP_PRN, "2L")]["DF407"] for c in raw_cells if (FLIP_PRN, "2L") in c]
    assert raw_lock == sorted(raw_lock)

    # legacy profile: P(Y) for every satellite (DF016 = 3) with the C2W pseudoranges
    _check_legacy(got["NAG_LEGACY"], eps_w)
    assert "STR;NAG_MSM4;" in table and "L2C" in table.split("STR;NAG_MSM4;")[1].split("\n")[0]
    assert "P(Y)" in table.split("STR;NAG_LEGACY;")[1].split("\n")[0]


def _check_legacy(data: bytes, eps_w):
    from pyrtcm import RTCMReader

    n = 0
    for f in iter_frames(data):
        if f.msg_type != 1004:
            continue
        msg = RTCMReader.parse(f.raw)
        t = msg.DF004
        e = next(x for x in eps_w if x.t_gpst_ns // 1_000_000 % (7 * 86_400_000) == t)
        for j in range(1, msg.DF006 + 1):
            prn = getattr(msg, f"DF009_{j:02d}")
            assert getattr(msg, f"DF016_{j:02d}") == 3
            r = np.searchsorted(e.sat, sat_index(GPS, prn))
            pr1 = getattr(msg, f"DF011_{j:02d}") + getattr(msg, f"DF014_{j:02d}") * 299_792.458
            pr2 = pr1 + getattr(msg, f"DF017_{j:02d}")
            assert abs(pr2 - e.pr_m[r, 1]) < PR_TOL_M
            n += 1
    assert n > 8 * len(eps_w) // 2


def test_legacy_profile_lock_restarts_at_mode_change(nagoya_dir):
    """Legacy profile (P(Y) first): where G05's 2W is missing for an epoch, its L2C fills the 1004 L2
    (DF016 = 0) and the L2 lock-time indicator restarts at both mode changes."""
    from pyrtcm import RTCMReader

    from gnssaug.server.profiles import ProfileEncoder

    groups, eps_w, _ = _station(nagoya_dir, SIG_2W)
    out = []
    enc = ProfileEncoder(lambda mount, data: out.append(data), "NAG", "legacy")
    for g in groups:
        enc(g)
    l2 = {}  # (epoch index, prn) -> (DF016 L2 code indicator, DF019 L2 lock indicator)
    for f in iter_frames(b"".join(out)):
        if f.msg_type == 1004:
            msg = RTCMReader.parse(f.raw)
            i = next(k for k, x in enumerate(eps_w) if x.t_gpst_ns // 1_000_000 % (7 * 86_400_000) == msg.DF004)
            for j in range(1, msg.DF006 + 1):
                l2[(i, getattr(msg, f"DF009_{j:02d}"))] = (getattr(msg, f"DF016_{j:02d}"),
                                                           getattr(msg, f"DF019_{j:02d}"))
    assert enc.errors == 0 and len({i for i, _ in l2}) >= N_EPOCH - 1
    codes = [l2[(i, FLIP_PRN)][0] for i in range(FLIP - 1, FLIP + 3)]
    assert codes == [3, 0, 3, 3]  # P(Y), L2C for the one epoch, P(Y) again
    locks = [l2[(i, FLIP_PRN)][1] for i in range(N_EPOCH - 1)]
    assert locks[FLIP] == 0 and locks[FLIP + 1] == 0 and locks[FLIP - 1] == FLIP - 1 > 0
    assert locks[FLIP + 2] > 0
    for prn in {p for _, p in l2} - {FLIP_PRN}:  # every other satellite: 1 s more per 1 s epoch
        assert [l2[(i, prn)][1] for i in range(N_EPOCH - 1) if (i, prn) in l2] == list(range(N_EPOCH - 1))
