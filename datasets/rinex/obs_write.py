"""Writing :class:`gnssaug.obs.ObsSeries` as RINEX 3.04 observation files.

Header records follow RINEX 3.04 Table A2 (the mandatory ones, plus INTERVAL, LEAP SECONDS and
SIGNAL STRENGTH UNIT when known); data records Table A3. Tags are written in GPS time.

:class:`ObsWriter` writes a file block by block for callers that cannot hold a whole file's
observations (the simulator streams an hour of 91 stations): the observation types are given up
front, TIME OF LAST OBS and # OF SATELLITES are filled in when the file is closed.
:func:`write_obs` writes a whole series with the types present in it (the slots and tracking
modes present, each with the kinds C, L, D, S that hold at least one value). The data records
are formatted by the numba kernel :func:`gnssaug.kernels.rinex_text.format_obs_records`; Python
only formats the header.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from gnssaug import __version__
from gnssaug.errors import InvalidInputError, UnknownSignalError
from gnssaug.gnss import GLO, GLO_FCN_UNKNOWN, N_BAND, N_SAT, SAT_SYSTEM, SYSTEMS, attribute_rank, band_slot, sv_name
from gnssaug.kernels.rinex_text import FIELD_WIDTH, format_obs_records
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


def signal_obs_types(sat: np.ndarray, code: np.ndarray) -> dict[str, list[str]]:
    """The RINEX 3.04 codes of every signal a receiver tracks: C, L, D and S of each slot and mode.

    Parameters
    ----------
    sat : int16[n]
        Satellites (global index).
    code : uint8[n, N_BAND]
        Tracking mode (RINEX attribute letter) of each satellite's signal per slot, 0 for none.

    Returns
    -------
    dict[str, list[str]]
        System letter -> codes, slots in plan order, modes by preference rank, then C L D S
        (``{"C": ["C2I", "L2I", "D2I", "S2I", "C6I", ...]}``).
    """
    out: dict[str, list[str]] = {}
    row_sys = SAT_SYSTEM[np.asarray(sat)]
    for s in np.unique(row_sys).tolist():
        codes = []
        for k in range(N_BAND):
            used = np.unique(code[row_sys == s, k])
            for a in sorted((chr(int(a)) for a in used if a), key=lambda a: attribute_rank(s, k, a)):
                codes += [file_code(s, k, a, kind, WRITE_VERSION) for kind in _KIND_FIELDS]
        if codes:
            out[SYSTEMS[s]] = codes
    return out


def format_header(header: ObsHeader, obs_types: dict[str, list[str]], t_first_ns: int | None = None,
                  t_last_ns: int | None = None, n_sat: int = 0, comments=()) -> str:
    """The RINEX 3.04 header text (80-character lines ended by newlines).

    Parameters
    ----------
    header : ObsHeader
        Marker, receiver and antenna types, position, antenna offset, interval, GLONASS channels
        and leap seconds are written from it.
    obs_types : dict[str, list[str]]
        System letter -> RINEX 3.04 codes (SYS / # / OBS TYPES).
    t_first_ns, t_last_ns : int, optional
        TIME OF FIRST / LAST OBS (GPST ns); the first defaults to ``header.time_first_gpst_ns``.
    n_sat : int
        # OF SATELLITES.
    comments : sequence of str
        COMMENT records (60 characters each at most), written after PGM / RUN BY / DATE.
    """
    pos = header.approx_pos_ecef_m if header.approx_pos_ecef_m is not None else np.zeros(3)
    hen = np.asarray(header.antenna_delta_hen_m, dtype=np.float64)
    letters = "".join(obs_types)
    file_type = letters if len(letters) == 1 else "M"
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d %H%M%S UTC")
    lines = [
        _rec(f"{WRITE_VERSION:9.2f}{'':11s}{'OBSERVATION DATA':20s}{file_type:20s}", "RINEX VERSION / TYPE"),
        _rec(f"{'gnssaug ' + __version__:20.20s}{'':20s}{now:20s}", "PGM / RUN BY / DATE"),
        *(_rec(text, "COMMENT") for text in comments),
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
    if t_first_ns is None:
        t_first_ns = header.time_first_gpst_ns
    if t_first_ns is not None:
        lines.append(_time_record(int(t_first_ns), "TIME OF FIRST OBS"))
    if t_last_ns is not None:
        lines.append(_time_record(int(t_last_ns), "TIME OF LAST OBS"))
    lines += [_rec(letter, "SYS / PHASE SHIFT") for letter in obs_types]
    lines += _glonass_records(header.glo_fcn, set(obs_types))
    if header.leap_seconds is not None:
        lines.append(_rec(f"{header.leap_seconds:6d}", "LEAP SECONDS"))
    lines.append(_rec(f"{n_sat:6d}", "# OF SATELLITES"))
    lines.append(_rec("", "END OF HEADER"))
    return "\n".join(lines) + "\n"


def _tables(obs_types: dict[str, list[str]], path):
    """The type tables of :func:`format_obs_records`; a code that cannot be written is an error."""
    n_max = max([len(v) for v in obs_types.values()] + [1])
    n_type = np.zeros(len(SYSTEMS), dtype=np.int64)
    kind = np.zeros((len(SYSTEMS), n_max), dtype=np.int8)
    slot = np.zeros((len(SYSTEMS), n_max), dtype=np.int8)
    attr = np.zeros((len(SYSTEMS), n_max), dtype=np.uint8)
    for letter, codes in obs_types.items():
        s = SYSTEMS.find(letter) if len(letter) == 1 else -1
        if s < 0:
            raise InvalidInputError(f"{path}: unknown satellite system {letter!r} in the observation types")
        n_type[s] = len(codes)
        for j, code in enumerate(codes):
            try:
                if len(code) != 3 or code[0] not in KIND_OF_TYPE:
                    raise UnknownSignalError(code)
                slot[s, j] = band_slot(s, code[1], code[2], WRITE_VERSION)
            except UnknownSignalError:
                raise InvalidInputError(f"{path}: observation type {code!r} of system {letter} "
                                        "is not a RINEX 3.04 code gnssaug writes") from None
            kind[s, j] = KIND_OF_TYPE[code[0]]
            attr[s, j] = ord(code[2])
    return n_type, kind, slot, attr


class ObsWriter:
    """A RINEX 3.04 observation file written block by block (RINEX 3.04 §5, Tables A2 and A3).

    Use as a context manager::

        with ObsWriter(path, header, {"C": ["C2I", "L2I", "D2I", "S2I"]}) as w:
            for block in blocks:
                w.write(block)

    Parameters
    ----------
    path : str or Path
        Output file (plain text; parent folder must exist). Opened at once.
    header : ObsHeader
        Marker, receiver, antenna, position, interval, GLONASS channels and leap seconds are
        written from it (see :func:`format_header`); its ``obs_types``, version and time system
        are not used.
    obs_types : dict[str, list[str]]
        System letter -> RINEX 3.04 codes to write (e.g. from :func:`signal_obs_types`).
        Satellites of other systems are left out of the file, and so are values of slots and
        tracking modes without a type.
    comments : sequence of str
        COMMENT records of the header.

    Notes
    -----
    The header is written with the first block (TIME OF FIRST OBS is its first epoch; the
    header's ``time_first_gpst_ns`` only for a file without epochs); TIME OF LAST OBS and
    # OF SATELLITES are rewritten in place on :meth:`close`, so the file must be seekable.
    Epoch tags are rounded to 100 ns, the resolution of F11.7; blocks must come in time order.
    """

    def __init__(self, path, header: ObsHeader, obs_types: dict[str, list[str]], comments=()):
        self.path = str(path)
        self.header = header
        self.obs_types = {k: list(v) for k, v in obs_types.items() if v}
        self.comments = tuple(comments)
        self._tables = _tables(self.obs_types, self.path)
        self._seen = np.zeros(N_SAT, dtype=bool)
        self._t_first_ns: int | None = None
        self._t_last_ns: int | None = None
        self._fh = open(path, "wb")  # noqa: SIM115 (closed in close())

    def write(self, series: ObsSeries) -> None:
        """Append the epochs of ``series`` (later than every epoch written before)."""
        if self._fh.closed:
            raise InvalidInputError(f"{self.path}: write after close")
        if not len(series):
            return
        t0 = int(series.t_gpst_ns[0])
        if self._t_last_ns is not None and t0 <= self._t_last_ns:
            raise InvalidInputError(
                f"{self.path}: epoch {t0} ns written after {self._t_last_ns} ns (blocks out of order)")
        n_type, kind, slot, attr = self._tables
        row_sys = SAT_SYSTEM[series.sat]
        keep = n_type[row_sys] > 0
        if not keep.all():
            series = _select_rows(series, keep)
            row_sys = row_sys[keep]
        if np.diff(series.offsets).max() > 999:
            raise InvalidInputError(f"{self.path}: an epoch has more than 999 satellites, which RINEX cannot write")
        if self._t_first_ns is None:
            self._write_header(t0)
        t_ns = (series.t_gpst_ns + 50) // 100 * 100
        y, mo, d, h, mi, sec_ns = _calendar(t_ns)
        epoch_cal = np.stack((y, mo, d, h, mi, sec_ns // 100), axis=1)
        size = 36 * len(series) + 4 * series.n_rows + FIELD_WIDTH * int(n_type[row_sys].sum())
        buf = np.empty(size, dtype=np.uint8)  # per block: malloc hands back memory still in cache
        n_byte = format_obs_records(
            epoch_cal, series.flag, series.offsets, row_sys.astype(np.int8), _SV_NAMES[series.sat],
            n_type, kind, slot, attr,
            series.pr_m, series.cp_cyc, series.dop_hz, series.cn0_dbhz, series.lli, series.code, buf,
        )
        self._fh.write(buf[:n_byte].data)
        self._seen[series.sat] = True
        self._t_last_ns = int(series.t_gpst_ns[-1])

    def _write_header(self, t_first_ns: int) -> None:
        self._t_first_ns = t_first_ns
        text = format_header(self.header, self.obs_types, t_first_ns, t_first_ns, 0, self.comments)
        self._fh.write(text.encode("ascii"))

    def close(self) -> None:
        """Complete the header (TIME OF LAST OBS, # OF SATELLITES) and close the file."""
        if self._fh.closed:
            return
        try:
            if self._t_first_ns is None:  # nothing written: a header alone
                self._fh.write(format_header(self.header, self.obs_types, comments=self.comments).encode("ascii"))
            else:
                text = format_header(self.header, self.obs_types, self._t_first_ns, self._t_last_ns,
                                     int(self._seen.sum()), self.comments)
                self._fh.seek(0)
                self._fh.write(text.encode("ascii"))  # same length: only two values changed
        finally:
            self._fh.close()

    def __enter__(self) -> ObsWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_obs(path: str | Path, header: ObsHeader, series: ObsSeries) -> None:
    """Write a RINEX 3.04 observation file.

    Parameters
    ----------
    path : str or Path
        Output file (plain text; parent folder must exist).
    header : ObsHeader
        Marker, receiver, antenna, position, interval, GLONASS channels and leap seconds are
        written from it; its ``obs_types``, version and time system are not used: the types
        are those present in ``series`` (:func:`series_obs_types`) and the tags are GPS time.
    series : ObsSeries
        The observations. Values are written as F14.3 (the RINEX resolution); phases carry
        their LLI, pseudoranges and phases a signal strength indicator from the C/N0.

    Notes
    -----
    RINEX 3.04 §5 and Tables A2/A3, through :class:`ObsWriter`. Epoch tags are rounded to
    100 ns, the resolution of F11.7.
    """
    with ObsWriter(path, header, series_obs_types(series)) as writer:
        writer.write(series)


def _select_rows(series: ObsSeries, keep: np.ndarray) -> ObsSeries:
    """The rows of ``series`` where ``keep`` (bool[n_row]) is True; every epoch stays."""
    epoch_of_row = np.repeat(np.arange(len(series)), np.diff(series.offsets))
    counts = np.bincount(epoch_of_row[keep], minlength=len(series))
    fields = {f: getattr(series, f)[keep] for f in ("sat", "pr_m", "cp_cyc", "dop_hz", "cn0_dbhz", "lli", "code")}
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return ObsSeries(series.t_gpst_ns, offsets, series.flag, meta=series.meta, **fields)
