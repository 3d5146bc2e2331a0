"""``gnssaug rtcm``: dump RTCM 3 streams, encode RINEX to RTCM 3, convert RTCM 3 back to RINEX.

- ``gnssaug rtcm dump FILE|- [--json] [--time T]``: one line per message; ``--json`` one JSON object
  per line with ``type``, ``station_id``, ``epoch_gpst`` (observation messages), and for MSM the
  satellites (``"C07"``), signals (``"2I"``) and cell values.
- ``gnssaug rtcm encode OBS NAV... -o OUT.rtcm3 [--msm 4|5|6|7] [--station-id N] [--messages LIST]``
- ``gnssaug rtcm to-rinex IN.rtcm3 -o OUT.obs [--nav OUT.nav] [--time T]``

Observation time tags in RTCM are times of week (of day for GLONASS); the full date comes from
``--time`` (ISO 8601 GPST or ``WEEK:TOW``), else from the first BeiDou/Galileo ephemeris or 1013
message in the input (they carry full weeks or the MJD), else from the clock.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sys

import numpy as np

from gnssaug.errors import UsageError
from gnssaug.rtcm.codec import decode_many, encode
from gnssaug.rtcm.epochs import EpochAssembler, MsmEncoder, msm_epoch_gpst_ns, obs_to_legacy
from gnssaug.rtcm.errors import RtcmError
from gnssaug.rtcm.framing import Deframer, frame
from gnssaug.rtcm.messages import Message, Unknown
from gnssaug.rtcm.msm import MSM_SYSTEM, SIGNAL_CODES, Msm
from gnssaug.time import NS_PER_WEEK, isoformat_gpst, parse_time_arg, utc_to_gpst_ns

_OBS_LEGACY = (1001, 1002, 1003, 1004, 1009, 1010, 1011, 1012)
_DAY_NS = 86_400 * 10**9
_MJD_GPS_EPOCH = 44244  # MJD of 1980-01-06


def register(subparsers) -> None:
    """Add ``rtcm`` and its subcommands to the ``gnssaug`` parser."""
    p = subparsers.add_parser("rtcm", help="RTCM 3: dump streams, encode RINEX, convert back to RINEX")
    sub = p.add_subparsers(dest="rtcm_command", metavar="ACTION")
    d = sub.add_parser("dump", help="print one line (or JSON object) per message")
    d.add_argument("file", help="RTCM 3 file, or - for standard input")
    d.add_argument("--json", action="store_true", help="one JSON object per line")
    d.add_argument("--time", help="approximate GPST of the data (ISO 8601 or WEEK:TOW)")
    d.set_defaults(func=run_dump)
    e = sub.add_parser("encode", help="convert RINEX observations (+ navigation) to an RTCM 3 stream")
    e.add_argument("obs", help="RINEX observation file")
    e.add_argument("nav", nargs="*", help="RINEX navigation files (ephemerides to include)")
    e.add_argument("-o", "--output", required=True, help="output .rtcm3 file")
    e.add_argument("--msm", type=int, default=7, choices=(4, 5, 6, 7), help="MSM level (default 7)")
    e.add_argument("--station-id", type=int, default=0, help="reference station ID, DF003 (0-4095)")
    e.add_argument("--messages", default=DEFAULT_MESSAGES,
                   help=f"types with intervals [s], e.g. 1006(10),1033(10),1230(1) (default {DEFAULT_MESSAGES})")
    e.set_defaults(func=run_encode)
    r = sub.add_parser("to-rinex", help="convert an RTCM 3 stream to RINEX 3.04 observations")
    r.add_argument("input", help="RTCM 3 file, or - for standard input")
    r.add_argument("-o", "--output", required=True, help="output RINEX observation file")
    r.add_argument("--nav", help="also write the ephemerides to this RINEX navigation file")
    r.add_argument("--time", help="approximate GPST of the data (ISO 8601 or WEEK:TOW)")
    r.set_defaults(func=run_to_rinex)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


DEFAULT_MESSAGES = "1006(10),1033(10),MSM(1),1230(10),1019(60),1020(60),1042(60),1044(60),1045(60),1046(60)"


# ---------------------------------------------------------------------------------------------
# Reading streams
# ---------------------------------------------------------------------------------------------


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as fh:
        return fh.read()


def _decoded(data: bytes):
    """(frame, message or RtcmError) for every frame; the deframer's counters at the end."""
    deframer = Deframer()
    frames = deframer.feed(data)
    deframer.flush()
    return list(zip(frames, decode_many(frames), strict=True)), deframer


def reference_time(messages, given: str | None) -> int:
    """GPST ns to resolve observation time tags: ``--time``, else the stream's full-week messages, else now."""
    if given:
        return parse_time_arg(given)
    for m in messages:
        if not isinstance(m, Message):
            continue
        v = m.values
        if m.msg_type == 1042:
            return (v["week"] + 1356) * NS_PER_WEEK + int(v["toe_s"] * 1e9) + 14 * 10**9
        if m.msg_type in (1045, 1046):
            return (v["week"] + 1024) * NS_PER_WEEK + int(v["toe_s"] * 1e9)
        if m.msg_type == 1013:
            return (v["mjd"] - _MJD_GPS_EPOCH) * _DAY_NS + v["seconds_of_day"] * 10**9 + v["leap_seconds"] * 10**9
    return utc_to_gpst_ns(dt.datetime.now(dt.timezone.utc))


# ---------------------------------------------------------------------------------------------
# dump
# ---------------------------------------------------------------------------------------------


def _clean(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x


def msm_summary(m: Msm, t_ref_gpst_ns: int) -> dict:
    """JSON-ready description of an MSM: satellites, signals and per-cell values."""
    system = m.system
    letter = "GREJCSI"[system]
    offset = 119 if m.msg_type // 10 == 110 else 0
    sats = [f"{letter}{int(p) + offset - (100 if letter == 'S' else 0):02d}" for p in m.prn]
    codes = SIGNAL_CODES[system]
    sigs = [codes.get(int(s), f"id{int(s)}") for s in m.sig]
    sat_pos, sig_pos = m.cell_index()
    rough = m.rough_range_ms[sat_pos]
    ms_m = 299_792.458
    cells = []
    for c in range(m.n_cell):
        cells.append({
            "sat": sats[sat_pos[c]], "sig": sigs[sig_pos[c]],
            "pr_m": float((rough[c] + m.fine_pr_ms[c]) * ms_m), "cp_m": float((rough[c] + m.fine_cp_ms[c]) * ms_m),
            "rate_mps": float(m.rough_rate_mps[sat_pos[c]] + m.fine_rate_mps[c]), "cn0_dbhz": float(m.cn0_dbhz[c]),
            "lock": int(m.lock[c]), "half_cycle": int(m.half_cycle[c]),
        })
    t = msm_epoch_gpst_ns(m.msg_type // 10, m.epoch_ms, t_ref_gpst_ns, m.glo_dow)
    return {"type": m.msg_type, "station_id": m.station_id, "epoch_gpst": isoformat_gpst(t), "msm": m.level,
            "multiple": m.multiple, "satellites": sats, "signals": sigs, "cells": cells}


def message_summary(m, t_ref_gpst_ns: int) -> dict:
    """JSON-ready description of any decoded message."""
    if isinstance(m, Msm):
        return msm_summary(m, t_ref_gpst_ns)
    if isinstance(m, Unknown):
        return {"type": m.msg_type, "station_id": None, "unknown": True, "payload_hex": m.payload.hex()}
    out = {"type": m.msg_type, "station_id": m.station_id}
    if m.msg_type in _OBS_LEGACY:
        glonass = m.msg_type >= 1009
        t = msm_epoch_gpst_ns(101 if glonass else 100, m.values["tod_ms" if glonass else "tow_ms"], t_ref_gpst_ns)
        out["epoch_gpst"] = isoformat_gpst(t)
    out.update({k: v for k, v in m.values.items() if k != "station_id"})
    return out


def _text_line(f, m, t_ref) -> str:
    if isinstance(m, Msm):
        s = msm_summary(m, t_ref)
        return (f"{m.msg_type} station {m.station_id} {s['epoch_gpst']} MSM{m.level} {len(s['satellites'])} sats "
                f"{','.join(s['signals'])} {m.n_cell} cells{' more' if m.multiple else ''}")
    if isinstance(m, Unknown):
        return f"{m.msg_type} unknown, {len(m.payload)} bytes"
    keys = [k for k in m.values if not isinstance(m.values[k], list)][:6]
    detail = " ".join(f"{k}={m.values[k]:.10g}" if isinstance(m.values[k], float) else f"{k}={m.values[k]}"
                      for k in keys)
    lists = [f"{k}[{len(v)}]" for k, v in m.values.items() if isinstance(v, list)]
    return f"{m.msg_type} {detail} {' '.join(lists)}".rstrip()


def run_dump(args) -> int:
    """``gnssaug rtcm dump``."""
    decoded, deframer = _decoded(_read_input(args.file))
    t_ref = reference_time([m for _, m in decoded], args.time)
    out = sys.stdout
    for f, m in decoded:
        if isinstance(m, RtcmError):
            line = json.dumps({"type": f.msg_type, "error": str(m)}) if args.json else f"{f.msg_type} error: {m}"
        elif args.json:
            line = json.dumps(_clean(message_summary(m, t_ref)), ensure_ascii=False)
        else:
            line = _text_line(f, m, t_ref)
        out.write(line + "\n")
    if deframer.crc_errors or deframer.dropped_bytes:
        cut = f", {deframer.truncated} truncated frame at the end" if deframer.truncated else ""
        print(f"gnssaug: {deframer.crc_errors} CRC errors, {deframer.dropped_bytes} bytes skipped{cut}",
              file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------------
# encode
# ---------------------------------------------------------------------------------------------


def parse_messages(spec: str) -> dict[str, float]:
    """``"1006(10),MSM(1),1230"`` -> ``{"1006": 10.0, "MSM": 1.0, "1230": 1.0}`` (interval [s])."""
    out = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        m = re.fullmatch(r"(\d{4}|MSM)(?:\((\d+(?:\.\d+)?)\))?", item, re.IGNORECASE)
        if not m:
            raise UsageError(f"--messages: cannot read {item!r}; write TYPE or TYPE(SECONDS), e.g. 1006(10)")
        out[m.group(1).upper()] = float(m.group(2) or 1.0)
    return out


def _station_messages(header, station_id: int) -> dict[int, Message]:
    pos = header.approx_pos_ecef_m if header.approx_pos_ecef_m is not None else np.zeros(3)
    arp = {"station_id": station_id, "itrf_year": 0, "gps": 1, "glonass": 1, "galileo": 1, "reference_station": 0,
           "arp_x_m": float(pos[0]), "single_oscillator": 0, "arp_y_m": float(pos[1]), "quarter_cycle": 0,
           "arp_z_m": float(pos[2])}
    ant = {"station_id": station_id, "antenna_descriptor": (header.antenna_type or "")[:31], "antenna_setup_id": 0}
    return {
        1005: Message(1005, dict(arp)),
        1006: Message(1006, {**arp, "antenna_height_m": float(header.antenna_delta_hen_m[0])}),
        1007: Message(1007, dict(ant)),
        1008: Message(1008, {**ant, "antenna_serial": ""}),
        1033: Message(1033, {**ant, "antenna_serial": "", "receiver_type": (header.receiver_type or "")[:31],
                             "firmware": "", "receiver_serial": ""}),
        1230: Message(1230, {"station_id": station_id, "bias_indicator": 0}),
    }


class _Schedule:
    def __init__(self):
        self.last: dict = {}

    def due(self, key, t_ns: int, interval_s: float) -> bool:
        last = self.last.get(key)
        if last is None or t_ns - last >= interval_s * 1e9 - 1e6:
            self.last[key] = t_ns
            return True
        return False


def run_encode(args) -> int:
    """``gnssaug rtcm encode``."""
    from gnssaug.datasets.rinex.obs import read_obs

    if not 0 <= args.station_id <= 4095:
        raise UsageError("--station-id must be within 0..4095")
    wanted = parse_messages(args.messages)
    header, series = read_obs(args.obs)
    nav = None
    if args.nav:
        from gnssaug.datasets.rinex.nav import read_nav

        nav = read_nav(args.nav)
    glo_fcn = np.asarray(header.glo_fcn, dtype=np.int8)
    if nav is not None:
        known = nav.glo_fcn != -128
        glo_fcn = np.where(known, nav.glo_fcn, glo_fcn).astype(np.int8)
    n_frames = write_stream(args.output, header, series, nav, wanted, args.msm, args.station_id, glo_fcn)
    print(f"wrote {n_frames} messages for {len(series)} epochs to {args.output}", file=sys.stderr)
    return 0


def write_stream(path, header, series, nav, wanted: dict, msm_level: int, station_id: int, glo_fcn) -> int:
    """Write an RTCM 3 stream of a RINEX series; returns the number of frames written."""
    from gnssaug.rtcm.ephemerides import nav_to_messages

    station = _station_messages(header, station_id)
    eph_msgs = nav_to_messages(nav) if nav is not None else []
    eph_toe = [_eph_time(m, series) for m in eph_msgs]
    explicit_msm = {int(k) for k in wanted if k.isdigit() and int(k) // 10 in MSM_SYSTEM}
    systems = sorted({MSM_SYSTEM[k // 10] for k in explicit_msm}) if explicit_msm else None
    do_msm = "MSM" in wanted or explicit_msm
    if explicit_msm:
        msm_level = max(k % 10 for k in explicit_msm)
    encoder = MsmEncoder(msm_level, station_id, glo_fcn, systems)
    schedule = _Schedule()
    n = 0
    with open(path, "wb") as fh:
        for epoch in series:
            t = epoch.t_gpst_ns
            chunk = []
            for mt, msg in station.items():
                if str(mt) in wanted and schedule.due(mt, t, wanted[str(mt)]):
                    chunk.append(msg)
            # ephemerides: the newest record of each satellite whose toe is not more than 2 h ahead
            latest: dict = {}
            for m, toe in zip(eph_msgs, eph_toe, strict=True):
                if str(m.msg_type) in wanted and toe <= t + 2 * 3600 * 10**9:
                    latest[(m.msg_type, _eph_sat(m))] = m
            for key, m in latest.items():
                if schedule.due(("eph", key, id(m)), t, wanted[str(m.msg_type)]):
                    chunk.append(m)
            obs = []
            if do_msm:
                obs.extend(encoder.encode(epoch))
            if "1004" in wanted or "1012" in wanted:
                legacy = [m for m in obs_to_legacy(epoch, station_id, glo_fcn) if str(m.msg_type) in wanted]
                obs.extend(legacy)
            for m in chunk + obs:
                fh.write(frame(encode(m)))
                n += 1
    return n


def _eph_sat(m: Message) -> int:
    return m.values.get("prn", m.values.get("slot", m.values.get("prn_minus_192")))


def _eph_time(m: Message, series) -> int:
    # The reference time of a message's record, on the observation file's week.
    t0 = int(series.t_gpst_ns[0]) if len(series) else 0
    v = m.values
    if m.msg_type == 1020:
        from gnssaug.rtcm.ephemerides import message_to_glonass

        return message_to_glonass(m, t0)["toe_gpst_ns"]
    week_start = (t0 // NS_PER_WEEK) * NS_PER_WEEK
    toe = week_start + int(v["toe_s"] * 1e9) + (14 * 10**9 if m.msg_type == 1042 else 0)
    return toe + NS_PER_WEEK * round((t0 - toe) / NS_PER_WEEK)


# ---------------------------------------------------------------------------------------------
# to-rinex
# ---------------------------------------------------------------------------------------------


def run_to_rinex(args) -> int:
    """``gnssaug rtcm to-rinex``."""
    from gnssaug.datasets.rinex.obs_header import ObsHeader
    from gnssaug.datasets.rinex.obs_write import write_obs
    from gnssaug.obs import ObsSeries

    decoded, deframer = _decoded(_read_input(args.input))
    messages = [m for _, m in decoded if not isinstance(m, RtcmError)]
    t_ref = reference_time(messages, args.time)
    asm = EpochAssembler(t_ref)
    epochs = []
    header = ObsHeader()
    for m in messages:
        epochs.extend(asm.feed(m))
        if isinstance(m, Message):
            v = m.values
            if m.msg_type in (1005, 1006):
                header.approx_pos_ecef_m = np.array([v["arp_x_m"], v["arp_y_m"], v["arp_z_m"]])
                header.marker_name = header.marker_name or f"STN{v['station_id']:04d}"
            if m.msg_type == 1006:
                header.antenna_delta_hen_m = np.array([v["antenna_height_m"], 0.0, 0.0])
            if m.msg_type in (1007, 1008, 1033):
                header.antenna_type = v["antenna_descriptor"]
            if m.msg_type == 1033:
                header.receiver_type = v["receiver_type"]
    epochs.extend(asm.flush())
    epochs = [e for e in epochs if e.n_sat]
    epochs.sort(key=lambda e: e.t_gpst_ns)
    header.glo_fcn = asm.glo_fcn.copy()
    if epochs:
        header.time_first_gpst_ns = epochs[0].t_gpst_ns
        header.time_last_gpst_ns = epochs[-1].t_gpst_ns
        if len(epochs) > 1:
            header.interval_s = float(np.median(np.diff([e.t_gpst_ns for e in epochs]))) / 1e9
    write_obs(args.output, header, ObsSeries.from_epochs(epochs))
    n_nav = 0
    if args.nav:
        from gnssaug.rtcm.ephemerides import messages_to_nav
        from gnssaug.rtcm.rinexnav import write_nav

        nav = messages_to_nav(messages, t_ref)
        n_nav = write_nav(args.nav, nav)
    bad = sum(isinstance(m, RtcmError) for _, m in decoded)
    print(f"wrote {len(epochs)} epochs to {args.output}" + (f", {n_nav} ephemerides to {args.nav}" if args.nav else "")
          + (f"; {bad} undecodable messages, {deframer.crc_errors} CRC errors" if bad or deframer.crc_errors else ""),
          file=sys.stderr)
    return 0

