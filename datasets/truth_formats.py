"""Reference trajectories in the layouts users of public urban data sets hand to ``gnssaug evaluate``.

Understood layouts (:data:`LAYOUTS` is the text the error messages quote):

- headerless numeric rows, comma or blank separated: ``lat lon h`` (a static point), ``week tow lat
  lon h`` (TST 2019), ``tow tow lat lon h`` or ``tow lat lon h`` (TST 2020: no GPS week; the first
  column "cannot be a week" when it is not an integer below :data:`MAX_GPS_WEEK` or repeats the TOW);
- a header naming the columns, comma or blank separated, optionally followed by a units line in
  parentheses (NovAtel Inertial Explorer / SPAN exports, UrbanNav ground truth): time as GPS
  ``Week`` + ``GPSTime``/``TOW``/``Seconds``, or ``GPSTime`` alone (week-less TOW), or ``UTCTime``
  (Unix seconds, or seconds of day with a ``UTCDate``/``Date`` column), or ``Date`` + ``Time``
  calendar columns; position as ``Latitude``/``Longitude`` in decimal degrees or ``D M S`` (three
  fields each) and an ellipsoidal height ``H-Ell``/``Height``/``h``, or ECEF ``X``/``Y``/``Z``.

Week-less TOW rows take their week from the solution file being evaluated (``t_ref_ns``): the TOW
sequence is unwrapped across a Saturday/Sunday week rollover, then placed in the week that puts it
nearest the solutions. Time scale: GPST unless the time column names UTC (then GPS - UTC from
:mod:`gnssaug.time`'s leap-second table).
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

import numpy as np

from gnssaug.errors import FileFormatError, UsageError
from gnssaug.geodesy import ecef_from_llh_deg
from gnssaug.time import (
    NS_PER_S,
    NS_PER_WEEK,
    SECONDS_PER_WEEK,
    gpst_ns_from_datetime,
    gpst_ns_from_week_tow,
    utc_to_gpst_ns,
)

#: A first column at or above this (or not an integer) is a time of week, not a GPS week (week 4000 is in 2056).
MAX_GPS_WEEK = 4000

#: What :func:`load_truth_table` understands, quoted in its errors.
LAYOUTS = (
    "understood layouts: 'lat lon h' (one point); rows 'week tow lat lon h', 'tow tow lat lon h' or "
    "'tow lat lon h' (GPST, lat/lon in degrees, ellipsoidal height in metres; a week-less TOW takes the "
    "solution's week); a header naming time columns (Week + GPSTime/TOW/Seconds, GPSTime alone, UTCTime "
    "[Unix s or with UTCDate], Date + Time, t_gpst_ns) and position columns (Latitude Longitude in degrees "
    "or D M S + H-Ell/Height/h, or X Y Z ECEF metres), comma or blank separated, with an optional units "
    "line in parentheses (NovAtel Inertial Explorer / SPAN export, UrbanNav ground truth)"
)

# Normalised header names (lower case, letters and digits only) per quantity.
_WEEK = ("week", "gpsweek", "wk")
_TOW = ("gpstime", "tow", "tows", "gpstow", "seconds", "sow", "gpsseconds", "gpssow", "timeofweek", "gpstimes")
_UTC = ("utctime", "utc", "utcs", "timeutc", "unixtime", "posixtime")
_DATE = ("date", "utcdate", "gpsdate", "ymd")
_CLOCK = ("time", "hms", "gpshms", "utchms")
_T_NS = ("tgpstns",)
_LAT = ("latitude", "lat", "latdeg", "latitudedeg")
_LON = ("longitude", "lon", "long", "londeg", "longitudedeg")
_HGT = ("hell", "height", "h", "heightm", "hm", "hellm", "ellipsoidalheight", "ellheight", "ellht", "hae",
        "heightellipsoid", "ellipsoidheight")
_X, _Y, _Z = ("x", "xm", "xecef", "ecefx", "xecefm"), ("y", "ym", "yecef", "ecefy", "yecefm"), \
    ("z", "zm", "zecef", "ecefz", "zecefm")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _split(line: str) -> list[str]:
    return [c.strip() for c in line.split(",")] if "," in line else line.split()


def _data_lines(path: Path) -> list[tuple[int, str]]:
    try:
        text = path.read_text(errors="replace")
    except IsADirectoryError:
        raise FileFormatError(path, None, "is a folder, not a truth file") from None
    lines = enumerate(text.splitlines(), 1)
    return [(k, ln) for k, ln in lines if ln.strip() and not ln.lstrip().startswith(("%", "#"))]


def _is_header(line: str) -> bool:
    return any(c.isalpha() for c in line.replace("e", "").replace("E", "").replace("D", ""))


def unwrap_tow_s(tow_s: np.ndarray) -> np.ndarray:
    """Times of week [s] made continuous across week rollovers.

    Parameters
    ----------
    tow_s : float64[n]
        GPS times of week [s] in file order.

    Returns
    -------
    float64[n]
        The same times, plus one week [s] after each drop of more than half a week (Saturday -> Sunday)
        and minus one after each rise of more than half a week (a file written backwards in time).
    """
    tow = np.asarray(tow_s, dtype=np.float64)
    jumps = np.concatenate(([0.0], np.where(np.diff(tow) < -SECONDS_PER_WEEK / 2, SECONDS_PER_WEEK, 0.0)))
    jumps -= np.concatenate(([0.0], np.where(np.diff(tow) > SECONDS_PER_WEEK / 2, SECONDS_PER_WEEK, 0.0)))
    return tow + np.cumsum(jumps)


def gpst_ns_from_tow(path: Path, tow_s: np.ndarray, t_ref_ns: np.ndarray | None) -> np.ndarray:
    """GPST [ns] of week-less times of week, in the week that puts them nearest the reference epochs.

    Parameters
    ----------
    path : Path
        The truth file (named in the error).
    tow_s : float64[n]
        GPS times of week [s], in file order (unwrapped across a rollover).
    t_ref_ns : int64[m] or None
        Epochs of the solutions to evaluate (GPST ns); None is an error naming the file.

    Returns
    -------
    int64[n]
        GPST [ns], in the week whose median time is nearest the median reference epoch.

    Raises
    ------
    UsageError
        When there are no reference epochs to take the week from.
    """
    if t_ref_ns is None or len(t_ref_ns) == 0:
        raise UsageError(f"{path}: the rows carry a time of week but no GPS week; the week comes from the "
                         "solution file, and there is none")
    tow = unwrap_tow_s(tow_s)
    mid_ref_ns = int(np.median(np.asarray(t_ref_ns, dtype=np.int64)))
    mid_tow_ns = int(round(float(np.median(tow)) * NS_PER_S))
    week = int(round((mid_ref_ns - mid_tow_ns) / NS_PER_WEEK))
    return np.asarray(gpst_ns_from_week_tow(np.full(tow.shape, week, dtype=np.int64), tow), dtype=np.int64)


def _numbers(path: Path, rows: list[tuple[int, str]]) -> np.ndarray:
    out, width = [], None
    for line_no, line in rows:
        try:
            values = [float(v) for v in _split(line)]
        except ValueError:
            raise FileFormatError(path, line_no, f"expected numbers, got {line.strip()!r}; {LAYOUTS}") from None
        width = width or len(values)
        if len(values) != width:
            raise FileFormatError(path, line_no, f"expected {width} numbers like the first row, got {len(values)}")
        out.append(values)
    return np.array(out)


def _headerless(path: Path, rows: list[tuple[int, str]], t_ref_ns) -> tuple[np.ndarray | None, np.ndarray]:
    """(t_gpst_ns or None for a point, llh rows) of numeric rows without a header."""
    values = _numbers(path, rows)
    n_cols = values.shape[1]
    if n_cols == 3:
        return None, values[:1]
    if n_cols == 4:
        return gpst_ns_from_tow(path, values[:, 0], t_ref_ns), values[:, 1:4]
    if n_cols == 5:
        first = values[:, 0]
        # TST 2020 repeats the TOW in its first two columns; a week is a small integer.
        is_week = bool(np.all(first == np.round(first)) and np.all((first >= 0) & (first < MAX_GPS_WEEK))
                       and not np.array_equal(first, values[:, 1]))
        if is_week:
            t_ns = gpst_ns_from_week_tow(first.astype(np.int64), values[:, 1])
            return np.asarray(t_ns, dtype=np.int64), values[:, 2:5]
        return gpst_ns_from_tow(path, values[:, 1], t_ref_ns), values[:, 2:5]
    raise FileFormatError(path, rows[0][0], f"{n_cols} numbers per row; {LAYOUTS}")


def _find(names: list[str], options: tuple[str, ...]) -> int | None:
    return next((names.index(o) for o in options if o in names), None)


def _expand_dms(names: list[str], cells: list[str], dms_cols: set[int]) -> list[str] | None:
    """Row cells with each D M S column joined into one decimal-degree cell (None if the count is off)."""
    if len(cells) != len(names) + 2 * len(dms_cols):
        return None
    out, k = [], 0
    for i in range(len(names)):
        if i in dms_cols:
            d, m, s = (float(v) for v in cells[k:k + 3])
            sign = -1.0 if cells[k].strip().startswith("-") else 1.0
            out.append(repr(sign * (abs(d) + m / 60.0 + s / 3600.0)))
            k += 3
        else:
            out.append(cells[k])
            k += 1
    return out


def _calendar_ns(date_text: str, clock_text: str, utc: bool) -> int:
    """GPST [ns] of a date (YYYY-MM-DD, YYYY/MM/DD or MM/DD/YYYY) and a clock (H:MM:SS[.s][+HH:MM]),
    read as UTC when ``utc`` or when the clock carries a UTC offset, else as GPST."""
    parts = date_text.replace("-", "/").split("/")
    if len(parts) == 3 and len(parts[2]) == 4:  # MM/DD/YYYY (Inertial Explorer's UTCDate)
        parts = [parts[2], parts[0], parts[1]]
    hour, sep, rest = clock_text.strip().partition(":")
    stamp = f"{'-'.join(p.zfill(2) for p in parts)}T{hour.zfill(2)}{sep}{rest}"  # fromisoformat wants 03:, not 3:
    t = _dt.datetime.fromisoformat(stamp)
    if utc or t.tzinfo is not None:  # a clock with a UTC offset (03:00:00+08:00) is civil time, UTC-based
        return utc_to_gpst_ns(t)
    return gpst_ns_from_datetime(t)


class _Columns:
    """Which header column holds which quantity."""

    def __init__(self, path: Path, line_no: int, header: str, units: str | None):
        raw = _split(header)
        self.names = [_norm(n) for n in raw]
        names = self.names
        self.week, self.tow, self.utc = _find(names, _WEEK), _find(names, _TOW), _find(names, _UTC)
        self.date, self.clock, self.t_ns = _find(names, _DATE), _find(names, _CLOCK), _find(names, _T_NS)
        self.lat, self.lon, self.hgt = _find(names, _LAT), _find(names, _LON), _find(names, _HGT)
        self.xyz = [_find(names, o) for o in (_X, _Y, _Z)]
        has_time = self.t_ns is not None or self.tow is not None or self.utc is not None or (
            self.date is not None and self.clock is not None)
        has_llh = None not in (self.lat, self.lon, self.hgt)
        if not has_time or not (has_llh or None not in self.xyz):
            raise FileFormatError(path, line_no, f"header {header.strip()!r} names no time or no position "
                                                 f"columns; {LAYOUTS}")
        self.use_llh = has_llh
        unit_cells = [u.lower().replace(" ", "") for u in re.findall(r"\(([^)]*)\)", units or "")]
        self.dms = {c for c in (self.lat, self.lon) if has_llh and c < len(unit_cells) and "dms" in unit_cells[c]}
        self.utc_clock = "utc" in "".join(names[i] for i in (self.date, self.clock) if i is not None)

    def cells(self, line: str) -> list[str] | None:
        cells = _split(line)
        if self.dms or (self.use_llh and len(cells) == len(self.names) + 4):
            return _expand_dms(self.names, cells, self.dms or {self.lat, self.lon})
        return cells if len(cells) >= len(self.names) else None


#: How many leading lines may come before the column header (export preambles).
MAX_PREAMBLE_LINES = 60


def _find_header(path: Path, rows: list[tuple[int, str]]) -> tuple[int, _Columns]:
    """Index of the column header among the first lines and its columns; the first line's error if none."""
    first_error = None
    for k, (line_no, line) in enumerate(rows[:MAX_PREAMBLE_LINES]):
        if not _is_header(line):
            break  # data rows started
        units = rows[k + 1][1] if k + 1 < len(rows) and rows[k + 1][1].lstrip().startswith("(") else None
        try:
            return k, _Columns(path, line_no, line, units)
        except FileFormatError as exc:
            first_error = first_error or exc
    raise first_error


def _with_header(path: Path, rows: list[tuple[int, str]], t_ref_ns) -> tuple[np.ndarray, np.ndarray, bool]:
    """(t_gpst_ns, position rows, rows are llh) of a file whose column header is among its first lines
    (an Inertial Explorer export starts with ``Project:``/``Program:`` lines before it)."""
    k, cols = _find_header(path, rows)
    header, body = rows[k][1], rows[k + 1:]
    if body and body[0][1].lstrip().startswith("("):
        body = body[1:]
    times, tows, pos = [], [], []
    for line_no, line in body:
        try:
            cells = cols.cells(line)
            if cells is None:
                raise ValueError
            pos.append([float(cells[i]) for i in ((cols.lat, cols.lon, cols.hgt) if cols.use_llh else cols.xyz)])
            times.append(_row_time(cols, cells, tows))
        except (ValueError, IndexError, OverflowError):  # OverflowError: a time far outside the calendar
            raise FileFormatError(path, line_no, f"bad trajectory row {line.strip()!r} for header "
                                                 f"{header.strip()!r}") from None
    if not pos:
        raise FileFormatError(path, None, "no reference positions in the file")
    if tows:
        t = gpst_ns_from_tow(path, np.array(tows), t_ref_ns)
    else:
        t = np.array(times, dtype=np.int64)
    return t, np.array(pos), cols.use_llh


def _row_time(cols: _Columns, cells: list[str], tows: list[float]) -> int:
    """GPST [ns] of a row (0 when only a week-less TOW is known: collected in ``tows``)."""
    if cols.t_ns is not None:
        return int(cells[cols.t_ns])
    if cols.week is not None and cols.tow is not None:
        return int(gpst_ns_from_week_tow(int(float(cells[cols.week])), float(cells[cols.tow])))
    if cols.tow is not None:
        tows.append(float(cells[cols.tow]))
        return 0
    if cols.utc is not None:
        if cols.date is not None and ":" in cells[cols.utc]:  # UTCTime as H:MM:SS.ss beside a UTCDate
            return _calendar_ns(cells[cols.date], cells[cols.utc], utc=True)
        value = float(cells[cols.utc])
        if cols.date is not None:
            midnight = _calendar_ns(cells[cols.date], "00:00:00", utc=True)
            return midnight + int(round(value * NS_PER_S))
        if value < 3.0e8:
            raise ValueError("UTC seconds of day without a date column")
        unix = _dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=value)
        return utc_to_gpst_ns(unix)
    return _calendar_ns(cells[cols.date], cells[cols.clock], utc=cols.utc_clock)


def load_truth_table(path: str | Path, t_ref_ns: np.ndarray | None = None):
    """A reference trajectory (or point) in any layout of :data:`LAYOUTS`.

    Parameters
    ----------
    path : str or Path
    t_ref_ns : int64[m] or None
        Epochs of the solutions to evaluate (GPST ns): where rows carry no GPS week, their week.

    Returns
    -------
    gnssaug.datasets.truth.Truth
        Sorted by time.

    Raises
    ------
    FileFormatError
        Unknown layout or a bad row (file and line named, with the list of understood layouts).
    """
    from gnssaug.datasets.truth import Truth

    path = Path(path)
    rows = _data_lines(path)
    if not rows:
        raise FileFormatError(path, None, "no reference positions in the file")
    if _is_header(rows[0][1]):
        t, pos, is_llh = _with_header(path, rows, t_ref_ns)
    else:
        t, pos = _headerless(path, rows, t_ref_ns)
        is_llh = True
    if is_llh:
        bad = (np.abs(pos[:, 0]) > 90.0) | (np.abs(pos[:, 1]) > 360.0)
        if bad.any():
            raise FileFormatError(path, None, f"latitude/longitude out of range (row {int(np.argmax(bad)) + 1}: "
                                              f"{pos[bad][0, :2].tolist()}); {LAYOUTS}")
        pos = np.atleast_2d(ecef_from_llh_deg(pos[:, 0], pos[:, 1], pos[:, 2]))
    if t is None:
        return Truth(pos[:1].reshape(1, 3), name=path.name)
    order = np.argsort(t, kind="stable")
    return Truth(pos[order], t_gpst_ns=np.asarray(t, dtype=np.int64)[order], name=path.name)
