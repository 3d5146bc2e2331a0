"""Writing :class:`gnssaug.obs.ObsSeries` as RINEX 3.04 observation files.

Header records follow RINEX 3.04 Table A2 (the mandatory ones, plus INTERVAL, LEAP SECONDS and
SIGNAL STRENGTH UNIT when known); data records Table A3. Tags are written in GPS time. The
observation types of each system are the slots and tracking modes present in the series, each
with the kinds (C, L, D, S) that hold at least one value. The data records are formatted by the
numba kernel :func:`gnssaug.kernels.rinex_text.format_obs_rows`; Python only formats the header
and the epoch lines.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from gnssaug import __version__
from gnssaug.errors import InvalidInputError
from gnssaug.gnss import GLO, GLO_FCN_UNKNOWN, N_BAND, N_SAT, SAT_SYSTEM, SYSTEMS, attribute_rank, band_slot, sv_name
from gnssaug.kernels.rinex_text import format_obs_rows
from gnssaug.obs import ObsSeries
from gnssaug.time import NS_PER_DAY

from .obs_codes import KIND_OF_TYPE, file_code
from .obs_header import ObsHeader

WRITE_VERSION = 3.04
_GPS_EPOCH_DAY = np.datetime64("1980-01-06", "D")
_KIND_FIELDS = {"C": "pr_m", "L": "cp_cyc", "D": "dop_hz", "S": "cn0_dbhz"}
#: ``_SV_NAMES[sat]``: the three ASCII bytes of every satellite's name (uint8[N_SAT, 3]).
_SV_NAMES = np.frombuffer("".join(sv_name(i) for i in range(N_SAT)).encode("ascii"), dtype=np.uint8).reshape(-1, 3)


def _rec(body: str, label: str) -> str:
    return f"{body:<60.60}{label:<20}"


def series_obs_types(series: ObsSeries) -> dict[str, list[str]]:
    """The RINEX 3.04 codes of each system present in a series (slot, then mode rank, then C L D S)."""
    out: dict[str, list[str]] = {}
    row_sys = SAT_SYSTEM[series.sat]
    for s in np.unique(row_sys).tolist():
        rows = row_sys == s
        codes = []
        for k in range(N_BAND):
            used = np.unique(series.code[rows, k])
            for a in sorted((int(a) for a in used if a), key=lambda a: attribute_rank(s, k, chr(a))):
                take = rows.copy()
                take[rows] = series.code[rows, k] == a
                for kind, field in _KIND_FIELDS.items():
                    if np.any(np.isfinite(getattr(series, field)[take, k])):
                        codes.append(file_code(s, k, chr(a), kind, WRITE_VERSION))
        if codes:
            out[SYSTEMS[s]] = codes
    return out


def _calendar(t_gpst_ns: np.ndarray):
    t = np.asarray(t_gpst_ns, dtype=np.int64)
    days = t // NS_PER_DAY
    ns_of_day = t - days * NS_PER_DAY
    date = _GPS_EPOCH_DAY + days.astype("timedelta64[D]")
    y = date.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = date.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (date - date.astype("datetime64[M]")).astype(np.int64) + 1
    h, rest = np.divmod(ns_of_day, 3600 * 10**9)
    mi, sec_ns = np.divmod(rest, 60 * 10**9)
    return y, mo, d, h, mi, sec_ns


def _seconds(sec_ns: int, width: int) -> str:
    """Seconds F(width).7 from integer nanoseconds, rounded to 100 ns without float error."""
    units = (int(sec_ns) + 50) // 100  # 1e-7 s
    return f"{units // 10**7:{width - 8}d}.{units % 10**7:07d}"


def _time_record(t_ns: int, label: str) -> str:
    y, mo, d, h, mi, sec = (int(v[0]) for v in _calendar(np.array([t_ns])))
    return _rec(f"{y:6d}{mo:6d}{d:6d}{h:6d}{mi:6d}{_seconds(sec, 13)}     GPS", label)


def _obs_type_records(obs_types: dict[str, list[str]]) -> list[str]:
    lines = []
    for letter in SYSTEMS:
        codes = obs_types.get(letter)
        if not codes:
            continue
        for i in range(0, len(codes), 13):
            head = f"{letter}  {len(codes):3d}" if i == 0 else " " * 6
            body = head + "".join(f" {c:3s}" for c in codes[i : i + 13])
            lines.append(_rec(body, "SYS / # / OBS TYPES"))
    return lines


def _glonass_records(glo_fcn: np.ndarray, systems: set[str]) -> list[str]:
    if "R" not in systems:
        return []
    sats = [i for i in np.flatnonzero(glo_fcn != GLO_FCN_UNKNOWN).tolist() if SAT_SYSTEM[i] == GLO]
    items = [f"{sv_name(i)} {int(glo_fcn[i]):2d}" for i in sats]
    lines = []
    for i in range(0, max(len(items), 1), 8):
        head = f"{len(items):3d} " if i == 0 else "    "
        lines.append(_rec(head + " ".join(items[i : i + 8]), "GLONASS SLOT / FRQ #"))
    lines.append(_rec("", "GLONASS COD/PHS/BIS"))
    return lines


def format_header(header: ObsHeader, series: ObsSeries, obs_types: dict[str, list[str]]) -> str:
    """The RINEX 3.04 header text (lines ended by newlines) for a series."""
    pos = header.approx_pos_ecef_m if header.approx_pos_ecef_m is not None else np.zeros(3)
    hen = np.asarray(header.antenna_delta_hen_m, dtype=np.float64)
    letters = "".join(obs_types)
    file_type = letters if len(letters) == 1 else "M"
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d %H%M%S UTC")
    lines = [
        _rec(f"{WRITE_VERSION:9.2f}{'':11s}{'OBSERVATION DATA':20s}{file_type:20s}", "RINEX VERSION / TYPE"),
        _rec(f"{'gnssaug ' + __version__:20.20s}{'':20s}{now:20s}", "PGM / RUN BY / DATE"),
        _rec(header.marker_name or "UNKNOWN", "MARKER NAME"),
        _rec("", "OBSERVER / AGENCY"),
        _rec(f"{'':20s}{header.receiver_type:20.20s}", "REC # / TYPE / VERS"),
        _rec(f"{'':20s}{header.antenna_type:20.20s}", "ANT # / TYPE"),
        _rec("".join(f"{v:14.4f}" for v in pos), "APPROX POSITION XYZ"),
        _rec("".join(f"{v:14.4f}" for v in hen), "ANTENNA: DELTA H/E/N"),
        *_obs_type_records(obs_types),
        _rec("DBHZ", "SIGNAL STRENGTH UNIT"),
    ]
    if header.interval_s:
        lines.append(_rec(f"{header.interval_s:10.3f}", "INTERVAL"))
    if len(series):
        lines.append(_time_record(int(series.t_gpst_ns[0]), "TIME OF FIRST OBS"))
        lines.append(_time_record(int(series.t_gpst_ns[-1]), "TIME OF LAST OBS"))
    elif header.time_first_gpst_ns is not None:
        lines.append(_time_record(header.time_first_gpst_ns, "TIME OF FIRST OBS"))
    lines += [_rec(letter, "SYS / PHASE SHIFT") for letter in obs_types]
    lines += _glonass_records(header.glo_fcn, set(obs_types))
    if header.leap_seconds is not None:
        lines.append(_rec(f"{header.leap_seconds:6d}", "LEAP SECONDS"))
    lines.append(_rec(f"{np.unique(series.sat).size:6d}", "# OF SATELLITES"))
    lines.append(_rec("", "END OF HEADER"))
    return "\n".join(lines) + "\n"


def _epoch_lines(series: ObsSeries) -> np.ndarray:
    y, mo, d, h, mi, sec = _calendar(series.t_gpst_ns)
    counts, flag = np.diff(series.offsets).tolist(), series.flag.tolist()
    y, mo, d, h, mi, sec = (v.tolist() for v in (y, mo, d, h, mi, sec))
    if max(counts, default=0) > 999:
        raise InvalidInputError("an epoch has more than 999 satellites, which RINEX cannot write")
    text = "".join(
        f"> {y[i]:4d} {mo[i]:02d} {d[i]:02d} {h[i]:02d} {mi[i]:02d}{_seconds(sec[i], 11)}  {flag[i]:1d}{counts[i]:3d}"
        for i in range(len(series))
    )
    return np.frombuffer(text.encode("ascii"), dtype=np.uint8).reshape(len(series), -1)


def _tables(obs_types: dict[str, list[str]]):
    n_max = max([len(v) for v in obs_types.values()] + [1])
    n_type = np.zeros(len(SYSTEMS), dtype=np.int64)
    kind = np.zeros((len(SYSTEMS), n_max), dtype=np.int8)
    slot = np.zeros((len(SYSTEMS), n_max), dtype=np.int8)
    attr = np.zeros((len(SYSTEMS), n_max), dtype=np.uint8)
    for letter, codes in obs_types.items():
        s = SYSTEMS.index(letter)
        n_type[s] = len(codes)
        for j, code in enumerate(codes):
            kind[s, j] = KIND_OF_TYPE[code[0]]
            slot[s, j] = band_slot(s, code[1], code[2], WRITE_VERSION)
            attr[s, j] = ord(code[2])
    return n_type, kind, slot, attr


def write_obs(path: str | Path, header: ObsHeader, series: ObsSeries) -> None:
    """Write a RINEX 3.04 observation file.

    Parameters
    ----------
    path : str or Path
        Output file (plain text; parent folder must exist).
    header : ObsHeader
        Marker, receiver, antenna, position, interval, GLONASS channels and leap seconds are
        written from it; its ``obs_types``, version and time system are not used: the types
        are those present in ``series`` and the tags are GPS time.
    series : ObsSeries
        The observations. Values are written as F14.3 (the RINEX resolution); the LLI of
        phases is written, signal strength indicators are left blank.

    Notes
    -----
    RINEX 3.04 §5 and Tables A2/A3. Epoch tags are rounded to 100 ns, the resolution of F11.7.
    """
    obs_types = series_obs_types(series)
    n_type, kind, slot, attr = _tables(obs_types)
    row_name = _SV_NAMES[series.sat]
    epoch_text = _epoch_lines(series) if len(series) else np.zeros((0, 35), np.uint8)
    body = format_obs_rows(
        epoch_text, series.offsets, SAT_SYSTEM[series.sat].astype(np.int8), row_name, n_type, kind, slot, attr,
        series.pr_m, series.cp_cyc, series.dop_hz, series.cn0_dbhz, series.lli, series.code,
    )
    with open(path, "wb") as f:
        f.write(format_header(header, series, obs_types).encode("ascii"))
        f.write(body.tobytes())

