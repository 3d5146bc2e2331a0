"""``gnssaug info FILE``: what a RINEX file holds (station, receiver, epochs, systems, signals, satellites).

Observation files (RINEX 2/3/4, plain or packed) are summarised from :func:`read_obs`; navigation
files from :func:`gnssaug.datasets.rinex.nav.read_nav` (records and satellites per system).
``--json`` prints the same summary as JSON.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from gnssaug.errors import FileFormatError, UnknownSignalError
from gnssaug.gnss import SAT_SYSTEM, SIGNAL_PLAN, SYSTEM_NAMES, SYSTEMS, band_slot, sv_name
from gnssaug.time import datetime_from_gpst_ns

from .rinex.compression import read_rinex_bytes
from .rinex.obs import ObsHeader, parse_obs_bytes
from .rinex.obs_codes import v2_to_v3

__all__ = ["nav_summary", "obs_summary", "register", "run_info"]


def _iso(t_gpst_ns: int) -> str:
    return datetime_from_gpst_ns(int(t_gpst_ns)).isoformat(timespec="milliseconds")


def _signals(header: ObsHeader, series, system: int, rows: np.ndarray) -> list[dict]:
    """Per slot used by a system: slot name, the file's codes that filled it, observation count."""
    out = []
    letter = SYSTEMS[system]
    for k, band in enumerate(SIGNAL_PLAN[system]):
        codes_here = series.code[rows, k]
        used = {chr(a) for a in np.unique(codes_here) if a}
        if not used:
            continue
        file_codes = []
        types = header.obs_types.get(letter, [])
        for code in types:
            code3 = code if header.version >= 3 else v2_to_v3(system, code, types)
            if code3 is None or len(code3) != 3 or code3[2] not in used:
                continue
            try:
                if band_slot(system, code3[1], code3[2], header.version if header.version >= 3 else 3.04) == k:
                    file_codes.append(code)
            except UnknownSignalError:
                continue
        out.append({
            "slot": band.name,
            "codes": file_codes,
            "n_pr": int(np.count_nonzero(np.isfinite(series.pr_m[rows, k]))),
            "n_cp": int(np.count_nonzero(np.isfinite(series.cp_cyc[rows, k]))),
        })
    return out


def _interval_s(header: ObsHeader, t_gpst_ns: np.ndarray) -> tuple[float | None, str]:
    if header.interval_s:
        return header.interval_s, "header"
    if t_gpst_ns.size > 1:
        return float(np.median(np.diff(t_gpst_ns))) / 1e9, "data"
    return None, "unknown"


def obs_summary(path: str | Path) -> dict:
    """Summary of an observation file as a JSON-ready dict (see :func:`run_info` for the fields)."""
    header, series = parse_obs_bytes(read_rinex_bytes(path), str(path))
    return _obs_summary(header, series)


def _obs_summary(header: ObsHeader, series) -> dict:
    from gnssaug.geodesy import llh_deg_from_ecef

    pos = header.approx_pos_ecef_m
    llh = llh_deg_from_ecef(pos) if pos is not None else None
    t = series.t_gpst_ns
    interval, source = _interval_s(header, t)
    span_s = float(t[-1] - t[0]) / 1e9 if t.size else 0.0
    missing = None
    if interval and t.size:
        missing = max(0, int(round(span_s / interval)) + 1 - t.size)
    row_system = SAT_SYSTEM[series.sat]
    systems = {}
    for s in np.unique(row_system).tolist():
        rows = row_system == s
        sats = np.unique(series.sat[rows])
        systems[SYSTEMS[s]] = {
            "name": SYSTEM_NAMES[s],
            "n_satellites": int(sats.size),
            "satellites": [sv_name(int(i)) for i in sats],
            "signals": _signals(header, series, s, rows),
        }
    # RINEX 2 types are declared once for all systems, so only RINEX 3+ says what was declared.
    declared_empty = sorted(set(header.obs_types) - set(systems)) if header.version >= 3 else []
    return {
        "file": header.path,
        "kind": "observation",
        "rinex_version": header.version,
        "marker": header.marker_name,
        "receiver": header.receiver_type,
        "antenna": header.antenna_type,
        "approx_pos_ecef_m": None if pos is None else [float(v) for v in pos],
        "approx_pos_llh_deg_m": None if llh is None else [float(v) for v in llh],
        "antenna_delta_hen_m": [float(v) for v in header.antenna_delta_hen_m],
        "time_system": header.time_system,
        "interval_s": interval,
        "interval_source": source,
        "first_epoch_gpst": _iso(t[0]) if t.size else None,
        "last_epoch_gpst": _iso(t[-1]) if t.size else None,
        "span_s": span_s,
        "n_epochs": int(t.size),
        "n_missing_epochs": missing,
        "n_observation_rows": series.n_rows,
        "systems": systems,
        "declared_but_empty": declared_empty,
    }


def nav_summary(path: str | Path) -> dict:
    """Summary of a navigation file: records and satellites per system (needs ``read_nav``)."""
    try:
        from .rinex.nav import read_nav
    except ImportError:
        return {"file": str(path), "kind": "navigation", "note": "gnssaug has an observation-only RINEX reader here"}
    nav = read_nav(path)
    sats = np.concatenate([np.asarray(nav.kepler.sat), np.asarray(nav.glonass.sat)]).astype(np.int64)
    systems = {}
    for s in np.unique(SAT_SYSTEM[sats]).tolist():
        mine = sats[SAT_SYSTEM[sats] == s]
        systems[SYSTEMS[s]] = {
            "name": SYSTEM_NAMES[s],
            "n_records": int(mine.size),
            "n_satellites": int(np.unique(mine).size),
            "satellites": [sv_name(int(i)) for i in np.unique(mine)],
        }
    return {"file": str(path), "kind": "navigation", "systems": systems, "skipped": dict(nav.skipped)}


def _file_kind(data: bytes, path) -> str:
    first = data[:80].decode("ascii", errors="replace")
    if first[60:80].strip() != "RINEX VERSION / TYPE":
        raise FileFormatError(path, 1, "not a RINEX file: the first line is not RINEX VERSION / TYPE")
    return "observation" if first[20:21] in ("O", "o") else "navigation"


def _fmt_obs(info: dict) -> list[str]:
    def num(v, fmt):
        return "-" if v is None else format(v, fmt)

    out = [
        f"file            {info['file']}",
        f"format          RINEX {info['rinex_version']:.2f} observation, time system {info['time_system']}",
        f"marker          {info['marker'] or '-'}",
        f"receiver        {info['receiver'] or '-'}",
        f"antenna         {info['antenna'] or '-'}",
    ]
    if info["approx_pos_ecef_m"]:
        x, y, z = info["approx_pos_ecef_m"]
        lat, lon, h = info["approx_pos_llh_deg_m"]
        out.append(f"approx position X {x:.4f}  Y {y:.4f}  Z {z:.4f} m")
        out.append(f"                lat {lat:.8f}  lon {lon:.8f} deg  h {h:.4f} m")
    else:
        out.append("approx position -")
    out += [
        f"interval        {num(info['interval_s'], 'g')} s ({info['interval_source']})",
        f"first epoch     {info['first_epoch_gpst'] or '-'} GPST",
        f"last epoch      {info['last_epoch_gpst'] or '-'} GPST",
        f"span            {info['span_s']:.3f} s",
        f"epochs          {info['n_epochs']} ({num(info['n_missing_epochs'], 'd')} missing)" if info["n_epochs"]
        else "epochs          0 (no observation records: the file holds a header only)",
        "systems         " + " ".join(f"{k} ({v['name']})" for k, v in info["systems"].items()),
    ]
    if info["declared_but_empty"]:
        out.append(f"declared, empty {' '.join(info['declared_but_empty'])}")
    for letter, sysinfo in info["systems"].items():
        sats = " ".join(sysinfo["satellites"])
        out.append(f"{letter} {sysinfo['name']}: {sysinfo['n_satellites']} satellites: {sats}")
        for sig in sysinfo["signals"]:
            codes = ",".join(sig["codes"])
            out.append(f"    {sig['slot']:<8} {codes:<24} {sig['n_pr']:>7} pseudoranges {sig['n_cp']:>7} phases")
    return out


def _fmt_nav(info: dict) -> list[str]:
    out = [f"file            {info['file']}", "format          RINEX navigation"]
    if "note" in info:
        return out + [info["note"]]
    for letter, s in info["systems"].items():
        out.append(f"{letter} {s['name']}: {s['n_records']} records, {s['n_satellites']} satellites: "
                   f"{' '.join(s['satellites'])}")
    if info["skipped"]:
        out.append("skipped         " + ", ".join(f"{k} {v}" for k, v in info["skipped"].items()))
    return out


def run_info(args) -> int:
    """Print the summary of ``args.file`` (text, or JSON with ``args.json``); returns 0."""
    data = read_rinex_bytes(args.file)
    if _file_kind(data, args.file) == "observation":
        header, series = parse_obs_bytes(data, str(args.file))
        info = _obs_summary(header, series)
        lines = _fmt_obs(info)
    else:
        info = nav_summary(args.file)
        lines = _fmt_nav(info)
    if args.json:
        print(json.dumps(info, indent=2, allow_nan=False, default=_json_default))
    else:
        print("\n".join(lines))
    return 0


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def register(subparsers) -> None:
    """Add ``info`` to the ``gnssaug`` parser."""
    p = subparsers.add_parser(
        "info",
        help="summarise a RINEX observation or navigation file",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("file", help="RINEX 2/3/4 file, plain, .gz or Hatanaka (.crx, .yyd)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run_info)
