"""RINEX observation files (2.11, 3.0x, 4.0x) to :class:`gnssaug.obs.ObsSeries`, and back.

Reading is split in two: Python walks the epoch records (a few thousand per file: time tag,
flag, satellite count), and one numba kernel (:func:`gnssaug.kernels.rinex_text.parse_obs_rows`)
reads every fixed-width observation field of every satellite record from the file's bytes.

Record layouts: RINEX 3.05 §5.7 and Table A3 (``>`` epoch lines, one line per satellite);
RINEX 2.11 §5.3 and Table A1 (satellite list in the epoch line, 5 fields per line); RINEX 4.01
data records are those of 3.05. Epoch flags (RINEX 3.05 Table A3): 0 OK, 1 power failure since
the previous epoch (both kept), 2-5 events followed by ``n`` header lines (skipped; header lines
that change the observation types are a :class:`FileFormatError`, the layout of later records
would change), 6 cycle-slip records (skipped). RINEX 2.11: a blank system letter is GPS.
Values of types listed in SYS / SCALE FACTOR are divided by their factor. Epoch tags in GLONASS
time or UTC take GPS - UTC per epoch (:mod:`.timescale`).

Missing data: blank fields, fields of asterisks (Fortran overflow) and values equal to 0.0 are
NaN. Per slot, the tracking mode with the
best :func:`gnssaug.gnss.attribute_rank` whose pseudorange or phase is present fills the slot, and
its Doppler and C/N0 come from the same mode; a satellite record with no pseudorange or phase
in any slot is dropped. With ``preferred_modes`` (the base of a differential pair, given the
rover's :func:`~.obs_codes.tracking_modes`), a satellite's preferred mode goes first where the file
has its pseudorange and phase types (:func:`~.obs_codes.prefer_modes`).

Broken records never raise from inside numpy: a bad header raises
:class:`gnssaug.errors.FileFormatError` (file and line), a broken or truncated epoch is skipped
with an :class:`ObsFileWarning` naming the file and line.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from gnssaug.errors import FileFormatError, UnknownSignalError
from gnssaug.gnss import MAX_PRN, N_BAND, PRN_BASE, SBS, SYSTEM_OFFSET, SYSTEMS, band_slot
from gnssaug.kernels.rinex_text import parse_obs_rows
from gnssaug.obs import ObsSeries
from gnssaug.time import gpst_ns_from_calendar

from .compression import read_rinex_bytes
from .obs_codes import build_tables, prefer_modes
from .obs_header import _GLO_MINUS_UTC_NS, ObsHeader, _HeaderReader, parse_obs_header, seconds_to_ns, to_gpst_ns
from .obs_write import write_obs
from .timescale import utc_calendar_to_gpst_ns

__all__ = ["ObsFileWarning", "ObsHeader", "parse_obs_bytes", "read_obs", "read_obs_header", "write_obs"]

#: At most this many broken-epoch warnings per file; the rest are summed up in one.
MAX_WARNINGS = 10
_NL, _CR, _SPACE, _GT = 10, 13, 32, 62


class ObsFileWarning(UserWarning):
    """Issued for a broken or truncated epoch that was skipped (the message names file and line)."""


class _Lines:
    """Byte ranges of the lines of a file, computed once with numpy."""

    def __init__(self, data: bytes):
        self.buf = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(self.buf == _NL)
        self.start = np.concatenate(([0], ends + 1)).astype(np.int64)
        self.stop = np.concatenate((ends, [self.buf.size])).astype(np.int64)
        if self.start[-1] == self.buf.size:  # the file ends with a newline
            self.start, self.stop = self.start[:-1], self.stop[:-1]
        has_cr = (self.stop > self.start) & (self.buf[np.maximum(self.stop - 1, 0)] == _CR)
        self.stop = self.stop - has_cr
        nonempty = self.stop > self.start
        self.first = np.where(nonempty, self.buf[np.minimum(self.start, self.buf.size - 1)], _SPACE)
        self.data = data

    def __len__(self) -> int:
        return int(self.start.size)

    def text(self, i: int) -> str:
        return self.data[self.start[i] : self.stop[i]].decode("ascii", errors="replace")

    def char_at(self, lines: np.ndarray, col: int) -> np.ndarray:
        """Byte at column ``col`` of each of ``lines`` (space where the line is shorter)."""
        pos = self.start[lines] + col
        inside = pos < self.stop[lines]
        return np.where(inside, self.buf[np.minimum(pos, self.buf.size - 1)], _SPACE)


class _Warner:
    def __init__(self, path: str):
        self.path = path
        self.count = 0

    def __call__(self, line: int, message: str) -> None:
        self.count += 1
        if self.count <= MAX_WARNINGS:
            warnings.warn(f"{self.path}:{line}: {message}; epoch skipped", ObsFileWarning, stacklevel=4)

    def finish(self) -> None:
        if self.count > MAX_WARNINGS:
            warnings.warn(
                f"{self.path}: {self.count - MAX_WARNINGS} more broken epochs skipped", ObsFileWarning, stacklevel=3
            )


class _Epochs:
    """Epoch records found while walking the file; rows are satellite records."""

    def __init__(self):
        self.fields: list[tuple[int, int, int, int, int, int]] = []  # y, mo, d, h, mi, sec_ns
        self.flag: list[int] = []
        self.line: list[int] = []
        self.row_first: list[int] = []  # first line of the epoch's first satellite record
        self.row_count: list[int] = []
        self.row_sv: list[list[str]] = []  # RINEX 2: names from the epoch line


def _header_lines(data: bytes, path: str) -> list[str]:
    end = data.find(b"END OF HEADER")
    stop = len(data) if end < 0 else data.find(b"\n", end)
    text = data[: len(data) if stop < 0 else stop].decode("ascii", errors="replace")
    return text.splitlines()[:5000]


def read_obs_header(path: str | Path) -> ObsHeader:
    """Read only the header of a RINEX observation file (plain or packed)."""
    data = read_rinex_bytes(path)
    return parse_obs_header(str(path), _header_lines(data, str(path)))


def _epoch_v3(text: str) -> tuple[tuple[int, ...], int, int]:
    # A1, 1X, I4, 4(1X, I2.2), F11.7, 2X, I1, I3 (RINEX 3.05 Table A3); event epochs (flags 2-5)
    # may leave the time blank, so it is read only for observation epochs.
    flag, n = int(text[31:32]), int(text[32:35])
    if n < 0:
        raise ValueError("negative record count")
    if flag > 1:
        return (0, 0, 0, 0, 0, 0), flag, n
    y, mo, d, h, mi = (int(text[a:b]) for a, b in ((2, 6), (7, 9), (10, 12), (13, 15), (16, 18)))
    return (y, mo, d, h, mi, seconds_to_ns(text[18:29])), flag, n


_TYPE_LABELS = ("# / TYPES OF OBSERV", "SYS / # / OBS TYPES")


def _check_event_header(lines: _Lines, first: int, n: int, header: ObsHeader) -> None:
    """Raise when the header lines of an event (flags 2-5) change the observation types.

    RINEX 2.11 §5.3 / 3.05 §5.7 let event records carry header lines; new observation types
    would change the layout of every later record, which this reader does not follow: failing
    clearly is better than reading later fields into the wrong types. A repeat of the same
    types is accepted.
    """
    stop = min(first + n, len(lines))
    texts = [lines.text(j) for j in range(first, stop)]
    if not any(t[60:80].strip() in _TYPE_LABELS for t in texts):
        return
    reader = _HeaderReader(header.path)
    reader.h.version = header.version
    for j, text in enumerate(texts):
        if text[60:80].strip() in _TYPE_LABELS:
            reader.line(first + j + 1, text)
    new = {s: reader.v2_types for s in header.obs_types} if header.version < 3 else reader.h.obs_types
    changed = [s for s, codes in new.items() if codes != header.obs_types.get(s)]
    if changed:
        line = first + next(j for j, t in enumerate(texts) if t[60:80].strip() in _TYPE_LABELS) + 1
        raise FileFormatError(header.path, line, f"an event record changes the observation types of system(s) "
                              f"{''.join(changed)}; files whose types change mid-file are not supported")


def _walk_v3(lines: _Lines, first_line: int, warn: _Warner, header: ObsHeader) -> _Epochs:
    ep = _Epochs()
    marks = (np.flatnonzero(lines.first[first_line:] == _GT) + first_line).tolist()
    marks.append(len(lines))
    resume = first_line  # lines before this belong to the records of an earlier epoch
    for k in range(len(marks) - 1):
        i = marks[k]
        if i < resume:
            continue
        text = lines.text(i)
        try:
            fields, flag, n = _epoch_v3(text)
        except ValueError:
            warn(i + 1, f"cannot read the epoch line {text.strip()!r}")
            continue
        if flag > 6:
            warn(i + 1, f"unknown epoch flag {flag}")
            continue
        if 2 <= flag <= 5:  # event records: n header lines, which may hold any text
            _check_event_header(lines, i + 1, n, header)
            resume = i + 1 + n
            continue
        nxt = marks[k + 1]
        if i + 1 + n > nxt:
            warn(i + 1, f"epoch announces {n} records but only {nxt - i - 1} follow (truncated)")
            continue
        resume = i + 1 + n
        if flag != 0 and flag != 1:  # 6: cycle-slip records, not observations
            continue
        ep.fields.append(fields)
        ep.flag.append(flag)
        ep.line.append(i + 1)
        ep.row_first.append(i + 1)
        ep.row_count.append(n)
    return ep


def _epoch_v2(lines: _Lines, i: int, file_letter: str):
    # 1X, I2.2, 4(1X, I2), F11.7, 2X, I1, I3, 12(A1, I2) [, F12.9] (RINEX 2.11 Table A2).
    text = lines.text(i)
    flag, n = int(text[28:29]), int(text[29:32])
    if n < 0 or flag > 6:
        raise ValueError("bad epoch flag or record count")
    if 2 <= flag <= 5:  # events: the time may be blank, n header lines follow
        return (0, 0, 0, 0, 0, 0), flag, n, [], 1
    y, mo, d, h, mi = (int(text[a:b]) for a, b in ((1, 3), (4, 6), (7, 9), (10, 12), (13, 15)))
    sec_ns = seconds_to_ns(text[15:26])
    y += 2000 if y < 80 else 1900
    svs, n_line = [], 0
    while len(svs) < n:
        if i + n_line >= len(lines):
            raise ValueError("satellite list continues past the end of the file")
        part = lines.text(i + n_line)[32:68]
        n_line += 1
        for k in range(0, len(part), 3):
            sv = part[k : k + 3].ljust(3)
            if sv.strip() and len(svs) < n:
                svs.append((sv[0] if sv[0] != " " else file_letter) + sv[1:].replace(" ", "0"))
        if not part.strip():
            raise ValueError("satellite list shorter than announced")
    return (y, mo, d, h, mi, sec_ns), flag, n, svs, n_line


def _walk_v2(lines: _Lines, first_line: int, n_types: int, file_letter: str, warn: _Warner,
             header: ObsHeader) -> _Epochs:
    ep = _Epochs()
    per_sat = max(1, (n_types + 4) // 5)
    i = first_line
    resyncing = False  # after a broken epoch: look for the next epoch line, one warning only
    while i < len(lines):
        if lines.stop[i] == lines.start[i] or not lines.text(i).strip():
            i += 1
            continue
        try:
            fields, flag, n, svs, n_line = _epoch_v2(lines, i, file_letter)
        except ValueError:
            if not resyncing:
                warn(i + 1, f"cannot read the epoch line {lines.text(i).strip()!r}")
            resyncing = True
            i += 1
            continue
        resyncing = False
        if flag in (2, 3, 4, 5):
            _check_event_header(lines, i + 1, n, header)
            i += 1 + n
            continue
        n_rec = n * per_sat
        if flag == 6:
            i += n_line + n_rec
            continue
        if i + n_line + n_rec > len(lines):
            warn(i + 1, f"epoch announces {n} satellites but the file ends first (truncated)")
            break
        ep.fields.append(fields)
        ep.flag.append(flag)
        ep.line.append(i + 1)
        ep.row_first.append(i + n_line)
        ep.row_count.append(n)
        ep.row_sv.append(svs)
        i += n_line + n_rec
    return ep


def _rows_v3(lines: _Lines, ep: _Epochs):
    """Row line, system and satellite index of every satellite record (vectorised)."""
    counts = np.asarray(ep.row_count, dtype=np.int64)
    firsts = np.asarray(ep.row_first, dtype=np.int64)
    row_epoch = np.repeat(np.arange(counts.size), counts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if counts.size else counts
    row_line = firsts[row_epoch] + (np.arange(row_epoch.size) - starts[row_epoch])
    letter = lines.char_at(row_line, 0)
    d1, d2 = lines.char_at(row_line, 1), lines.char_at(row_line, 2)
    return row_epoch, row_line, letter, d1, d2


def _rows_v2(ep: _Epochs, n_types: int):
    per_sat = max(1, (n_types + 4) // 5)
    counts = np.asarray(ep.row_count, dtype=np.int64)
    row_epoch = np.repeat(np.arange(counts.size), counts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if counts.size else counts
    firsts = np.asarray(ep.row_first, dtype=np.int64)
    row_line = firsts[row_epoch] + per_sat * (np.arange(row_epoch.size) - starts[row_epoch])
    # "?" for non-ASCII bytes keeps 3 bytes per name; such a name is no satellite and is dropped.
    text = "".join(sv for svs in ep.row_sv for sv in svs).encode("ascii", errors="replace")
    names = np.frombuffer(text, dtype=np.uint8)
    names = names.reshape(-1, 3) if names.size else np.zeros((0, 3), np.uint8)
    return row_epoch, row_line, names[:, 0], names[:, 1], names[:, 2]


def _sat_of(letter: np.ndarray, d1: np.ndarray, d2: np.ndarray):
    """System and global satellite index of names given as three byte columns; -1 if invalid."""
    lut = np.full(256, -1, dtype=np.int8)
    for s, c in enumerate(SYSTEMS):
        lut[ord(c)] = lut[ord(c.lower())] = s  # lower-case letters: seen from some writers
    system = lut[letter]
    ok = (system >= 0) & ((d1 == _SPACE) | ((d1 >= 48) & (d1 <= 57))) & (d2 >= 48) & (d2 <= 57)
    number = np.where(d1 == _SPACE, 0, d1.astype(np.int64) - 48) * 10 + (d2.astype(np.int64) - 48)
    sys_safe = np.maximum(system, 0)
    prn = number + np.where(sys_safe == SBS, 100, 0)
    slot = prn - np.asarray(PRN_BASE)[sys_safe]
    ok &= (slot >= 0) & (slot < np.asarray(MAX_PRN)[sys_safe])
    sat = np.where(ok, np.asarray(SYSTEM_OFFSET)[sys_safe] + slot, -1)
    return np.where(ok, system, -1).astype(np.int8), sat.astype(np.int16)


def _epoch_times(ep: _Epochs, header: ObsHeader) -> np.ndarray:
    if not ep.fields:
        return np.zeros(0, dtype=np.int64)
    f = np.asarray(ep.fields, dtype=np.int64)
    t = np.atleast_1d(gpst_ns_from_calendar(f[:, 0], f[:, 1], f[:, 2], f[:, 3], f[:, 4], f[:, 5]))
    if header.time_system in ("GLO", "UTC"):  # leap seconds per epoch: a file may span one
        utc = t - (_GLO_MINUS_UTC_NS if header.time_system == "GLO" else 0)
        return utc_calendar_to_gpst_ns(utc, f[:, 5], header.leap_seconds)
    return np.asarray(to_gpst_ns(t, header.time_system, header.leap_seconds), dtype=np.int64)


#: Observation type letter -> the output array its values go to.
_ARRAY_OF_TYPE = {"C": "pr_m", "L": "cp_cyc", "D": "dop_hz", "S": "cn0_dbhz"}


def _apply_scale_factors(out: dict, system: np.ndarray, header: ObsHeader) -> None:
    """Divide the values of types listed in SYS / SCALE FACTOR by their factor (RINEX 3.05 Table A2).

    Each slot's values all come from one tracking mode (``out["code"]``), so a code's values are
    the rows of its system whose slot holds that mode.
    """
    for letter, codes in header.scale_factors.items():
        s = SYSTEMS.find(letter)
        rows = system == s
        if s < 0 or not rows.any():
            continue
        for code, factor in codes.items():
            if factor == 1 or len(code) != 3 or code[0] not in _ARRAY_OF_TYPE:
                continue
            try:
                k = band_slot(s, code[1], code[2], header.version)
            except UnknownSignalError:
                continue
            sel = rows & (out["code"][:, k] == ord(code[2]))
            out[_ARRAY_OF_TYPE[code[0]]][sel, k] /= factor


def _systems_mask(system: np.ndarray, systems: str | None) -> np.ndarray:
    if systems is None:
        return system >= 0
    wanted = np.zeros(len(SYSTEMS) + 1, dtype=bool)
    for c in systems.upper():
        if c in SYSTEMS:
            wanted[SYSTEMS.index(c)] = True
    return wanted[system]


def read_obs(path: str | Path | list, systems: str | None = None,
             preferred_modes: np.ndarray | None = None) -> tuple[ObsHeader, ObsSeries]:
    """Read a RINEX observation file into a header and an observation series.

    Parameters
    ----------
    path : str or Path, or a list of them
        RINEX 2.11, 3.0x or 4.0x observation file: plain, gzip/Z/bz2/zip, or Hatanaka
        (``.crx``, ``.crx.gz``, RINEX 2 ``.yyd``), decompressed in memory. Several files of one
        receiver (consecutive hourly files) are read as one series
        (:func:`gnssaug.datasets.rinex.merge.read_obs_files`).
    systems : str, optional
        System letters to keep (``"GC"``); all systems when None.
    preferred_modes : uint8[N_SAT, N_BAND], optional
        Tracking mode (ASCII attribute letter, 0: none) to prefer per satellite and slot, e.g. the
        rover's :func:`~.obs_codes.tracking_modes` when reading the base of a differential pair:
        it fills the slot where the file has its pseudorange and phase, the usual ranking elsewhere.
        None (the default): the best-ranked mode of the file, per slot.

    Returns
    -------
    header : ObsHeader
    series : ObsSeries
        Epochs with flag 0 or 1, tags converted to GPST [ns] from the file's time system;
        satellites sorted within each epoch; ``series.meta`` holds ``path``, ``version`` and
        ``codes`` (system letter -> the RINEX 3 codes that can fill slots).

    Raises
    ------
    FileFormatError
        For a file that cannot be decompressed or a header that cannot be read.

    Warns
    -----
    ObsFileWarning
        For each epoch skipped because it is truncated or cannot be read.
    """
    if isinstance(path, list | tuple):
        if len(path) != 1:
            from .merge import read_obs_files

            return read_obs_files(path, systems, preferred_modes=preferred_modes)
        path = path[0]
    return parse_obs_bytes(read_rinex_bytes(path), str(path), systems, preferred_modes)


def parse_obs_bytes(data: bytes, path: str = "<bytes>", systems: str | None = None,
                    preferred_modes: np.ndarray | None = None) -> tuple[ObsHeader, ObsSeries]:
    """:func:`read_obs` for the plain text of a file already in memory (``path`` names it in messages)."""
    path_s = path
    header = parse_obs_header(path_s, _header_lines(data, path_s))
    lines = _Lines(data)
    warn = _Warner(path_s)
    if header.version >= 3:
        ep = _walk_v3(lines, header.n_lines, warn, header)
        row_epoch, row_line, letter, d1, d2 = _rows_v3(lines, ep)
        col0, per_line, v2_types = 3, 1 << 30, None
    else:
        v2_types = next(iter(header.obs_types.values()))
        # RINEX 2.11 Table A1: a blank system letter means GPS (in a single-system file, that system)
        blank_letter = header.file_type if header.file_type in SYSTEMS else "G"
        ep = _walk_v2(lines, header.n_lines, len(v2_types), blank_letter, warn, header)
        row_epoch, row_line, letter, d1, d2 = _rows_v2(ep, len(v2_types))
        col0, per_line = 0, 5
    n_type, kind, slot, rank, attr, used = build_tables(header.obs_types, header.version, v2_types)
    system, sat = _sat_of(letter, d1, d2)
    keep = _systems_mask(system, systems) & (sat >= 0)
    keep &= n_type[np.maximum(system, 0)] > 0
    row_epoch, row_line, system, sat = row_epoch[keep], row_line[keep], system[keep], sat[keep]
    row_table = system  # the parse-table row of each record: its system, or a preference row
    if preferred_modes is not None:
        table_of_sat, (n_type, kind, slot, rank, attr) = prefer_modes((n_type, kind, slot, rank, attr),
                                                                      preferred_modes)
        row_table = table_of_sat[sat]

    n = row_line.size
    out = {
        "pr_m": np.full((n, N_BAND), np.nan),
        "cp_cyc": np.full((n, N_BAND), np.nan),
        "dop_hz": np.full((n, N_BAND), np.nan, dtype=np.float32),
        "cn0_dbhz": np.full((n, N_BAND), np.nan, dtype=np.float32),
        "lli": np.zeros((n, N_BAND), dtype=np.uint8),
        "code": np.zeros((n, N_BAND), dtype=np.uint8),
    }
    bad = np.zeros(n, dtype=np.bool_)
    if n:
        parse_obs_rows(
            lines.buf, lines.start, lines.stop, row_line, row_table, n_type, kind, slot, rank, attr,
            col0, per_line, out["pr_m"], out["cp_cyc"], out["dop_hz"], out["cn0_dbhz"], out["lli"], out["code"], bad,
        )
    _apply_scale_factors(out, system, header)
    series = _assemble(ep, header, row_epoch, row_line, sat, bad, out, warn)
    warn.finish()
    series.meta.update(path=path_s, version=header.version, codes=used)
    return header, series


def _assemble(ep, header, row_epoch, row_line, sat, bad, out, warn) -> ObsSeries:
    """Drop broken epochs and empty records, order epochs by time and satellites within epochs."""
    n_epoch = len(ep.fields)
    epoch_bad = np.zeros(n_epoch, dtype=bool)
    if bad.any():
        epoch_bad[row_epoch[bad]] = True
        for e in np.flatnonzero(epoch_bad).tolist():
            line = int(row_line[bad & (row_epoch == e)][0]) + 1
            warn(line, "an observation field is not a number")
    t_all = _epoch_times(ep, header)
    # ObsSeries promises non-decreasing tags; a file written out of order is sorted (stably).
    by_time = np.argsort(t_all, kind="stable")
    if np.any(np.diff(t_all) < 0):
        warnings.warn(f"{header.path}: epochs are not in time order; sorted", ObsFileWarning, stacklevel=3)
    rank = np.empty(n_epoch, dtype=np.int64)
    rank[by_time] = np.arange(n_epoch)
    row_rank = rank[row_epoch]
    keep = ~epoch_bad[row_epoch] & (out["code"] != 0).any(axis=1)
    order = np.lexsort((sat, row_rank))
    order = order[keep[order]]
    e_sorted, s_sorted = row_rank[order], sat[order]
    dup = np.zeros(order.size, dtype=bool)
    dup[1:] = (e_sorted[1:] == e_sorted[:-1]) & (s_sorted[1:] == s_sorted[:-1])
    if dup.any():
        for k in np.flatnonzero(dup)[:MAX_WARNINGS].tolist():
            line = int(row_line[order[k]]) + 1
            message = f"{header.path}:{line}: satellite listed twice in one epoch; second record ignored"
            warnings.warn(message, ObsFileWarning, stacklevel=3)
        order, e_sorted = order[~dup], e_sorted[~dup]
    good = by_time[~epoch_bad[by_time]]  # good epochs in time order
    counts = np.bincount(e_sorted, minlength=n_epoch)[rank[good]]
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    flag = np.asarray(ep.flag, dtype=np.uint8).reshape(-1)[good]
    arrays = {name: np.ascontiguousarray(arr[order]) for name, arr in out.items()}
    return ObsSeries(t_gpst_ns=t_all[good], offsets=offsets, flag=flag, sat=sat[order].astype(np.int16), **arrays)
