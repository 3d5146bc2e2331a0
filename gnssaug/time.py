"""Time scales as int64 nanoseconds of GPS time.

Every instant in gnssaug is ``t_gpst_ns``: int64 nanoseconds since the GPS epoch
(1980-01-06 00:00:00 GPST). int64 ns covers ±292 years with exact sub-nanosecond-free
arithmetic, so epoch matching is integer comparison, never float rounding.

Other scales are offsets of GPST:

- BDT  = GPST - 14 s, BDT week 0 begins at GPS week 1356 (BDS-SIS-ICD-B1I-3.0 §4.3).
- GST  = GPST (steered to within tens of ns), GST week 0 is GPS week 1024 (Galileo OS SIS ICD §5.1.2).
- UTC  = GPST - (leap seconds), from the table below (IERS Bulletin C).
- GLONASST = UTC(SU) + 3 h.

Calendar conversions are vectorised over numpy arrays for the file readers.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

from gnssaug.constants import (
    BDT_MINUS_GPST_S,
    BDT_WEEK_OFFSET,
    GST_WEEK_OFFSET,
    NS_PER_S,
    SECONDS_PER_DAY,
    SECONDS_PER_WEEK,
)
from gnssaug.errors import InvalidInputError

GPS_EPOCH = _dt.datetime(1980, 1, 6)
NS_PER_WEEK = SECONDS_PER_WEEK * NS_PER_S
NS_PER_DAY = SECONDS_PER_DAY * NS_PER_S
BDT_OFFSET_NS = BDT_MINUS_GPST_S * NS_PER_S

# GPS - UTC [s], with the UTC date from which it holds (IERS Bulletin C; no leap second has been
# announced after 2017-01-01 as of Bulletin C 72).
LEAP_SECONDS = (
    (_dt.datetime(1981, 7, 1), 1),
    (_dt.datetime(1982, 7, 1), 2),
    (_dt.datetime(1983, 7, 1), 3),
    (_dt.datetime(1985, 7, 1), 4),
    (_dt.datetime(1988, 1, 1), 5),
    (_dt.datetime(1990, 1, 1), 6),
    (_dt.datetime(1991, 1, 1), 7),
    (_dt.datetime(1992, 7, 1), 8),
    (_dt.datetime(1993, 7, 1), 9),
    (_dt.datetime(1994, 7, 1), 10),
    (_dt.datetime(1996, 1, 1), 11),
    (_dt.datetime(1997, 7, 1), 12),
    (_dt.datetime(1999, 1, 1), 13),
    (_dt.datetime(2006, 1, 1), 14),
    (_dt.datetime(2009, 1, 1), 15),
    (_dt.datetime(2012, 7, 1), 16),
    (_dt.datetime(2015, 7, 1), 17),
    (_dt.datetime(2017, 1, 1), 18),
)


def _days_from_civil(year, month, day):
    """Days since 1970-01-01 of a proleptic Gregorian date (vectorised; H. Hinnant's algorithm)."""
    year = np.asarray(year, dtype=np.int64)
    month = np.asarray(month, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_GPS_EPOCH_DAYS = int(_days_from_civil(1980, 1, 6))


def gpst_ns_from_calendar(year, month, day, hour=0, minute=0, second_ns=0):
    """GPST nanoseconds from calendar fields given in GPS time.

    Parameters
    ----------
    year, month, day, hour, minute : int or int array
        Calendar fields (two-digit years are not accepted here; readers expand them).
    second_ns : int or int64 array
        Seconds of the minute in nanoseconds (``round(sec * 1e9)``).

    Returns
    -------
    int64 or int64 array
        Nanoseconds since the GPS epoch.
    """
    days = _days_from_civil(year, month, day) - _GPS_EPOCH_DAYS
    out = (
        days * NS_PER_DAY
        + np.asarray(hour, dtype=np.int64) * 3_600 * NS_PER_S
        + np.asarray(minute, dtype=np.int64) * 60 * NS_PER_S
        + np.asarray(second_ns, dtype=np.int64)
    )
    return out if np.ndim(out) else np.int64(out)


def gpst_ns_from_datetime(t: _dt.datetime) -> int:
    """GPST nanoseconds from a naive datetime read as GPS time."""
    if t.tzinfo is not None:
        raise InvalidInputError("pass naive datetimes in GPS time; convert UTC with utc_to_gpst_ns")
    delta = t - GPS_EPOCH
    return (delta.days * SECONDS_PER_DAY + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def datetime_from_gpst_ns(t_gpst_ns: int) -> _dt.datetime:
    """Naive datetime in GPS time (microsecond resolution) of a GPST nanosecond count."""
    return GPS_EPOCH + _dt.timedelta(microseconds=int(t_gpst_ns) // 1000)


def isoformat_gpst(t_gpst_ns: int) -> str:
    """ISO 8601 text of a GPST instant, with milliseconds (``2024-06-24T08:20:00.000``)."""
    return datetime_from_gpst_ns(t_gpst_ns).isoformat(timespec="milliseconds")


def week_tow(t_gpst_ns):
    """GPS week and time of week [s] of GPST nanoseconds (scalar or array)."""
    t = np.asarray(t_gpst_ns, dtype=np.int64)
    week = np.floor_divide(t, NS_PER_WEEK)
    tow_s = (t - week * NS_PER_WEEK) / NS_PER_S
    if np.ndim(t) == 0:
        return int(week), float(tow_s)
    return week, tow_s


def gpst_ns_from_week_tow(week, tow_s):
    """GPST nanoseconds of a GPS week and time of week [s]."""
    tow_ns = np.round(np.asarray(tow_s, dtype=np.float64) * NS_PER_S).astype(np.int64)
    out = np.asarray(week, dtype=np.int64) * NS_PER_WEEK + tow_ns
    return out if np.ndim(out) else np.int64(out)


def bdt_ns_from_gpst_ns(t_gpst_ns):
    """BeiDou time (ns since the GPS epoch, BDT = GPST - 14 s) of a GPST instant."""
    return t_gpst_ns + BDT_OFFSET_NS


def gpst_ns_from_bdt_week_tow(bdt_week, bdt_tow_s):
    """GPST nanoseconds of a BDT week and time of week [s] (BDS-SIS-ICD-B1I-3.0 §4.3)."""
    return gpst_ns_from_week_tow(np.asarray(bdt_week) + BDT_WEEK_OFFSET, bdt_tow_s) - BDT_OFFSET_NS


def bdt_week_tow(t_gpst_ns):
    """BDT week and time of week [s] of a GPST instant."""
    week, tow = week_tow(np.asarray(t_gpst_ns, dtype=np.int64) + BDT_OFFSET_NS)
    return week - BDT_WEEK_OFFSET, tow


def gpst_ns_from_gst_week_tow(gst_week, gst_tow_s):
    """GPST nanoseconds of a Galileo week and time of week [s] (GST week 0 = GPS week 1024)."""
    return gpst_ns_from_week_tow(np.asarray(gst_week) + GST_WEEK_OFFSET, gst_tow_s)


def leap_seconds_at_utc(t_utc: _dt.datetime) -> int:
    """GPS - UTC [s] in force at a UTC datetime."""
    leap = 0
    for start, value in LEAP_SECONDS:
        if t_utc >= start:
            leap = value
    return leap


def leap_seconds_at_gpst_ns(t_gpst_ns: int) -> int:
    """GPS - UTC [s] in force at a GPST instant."""
    t_naive = datetime_from_gpst_ns(t_gpst_ns)
    leap = 0
    for start, value in LEAP_SECONDS:
        if t_naive - _dt.timedelta(seconds=value) >= start:
            leap = value
    return leap


def utc_to_gpst_ns(t_utc: _dt.datetime) -> int:
    """GPST nanoseconds of a UTC datetime (naive, or aware in any zone)."""
    if t_utc.tzinfo is not None:
        t_utc = t_utc.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return gpst_ns_from_datetime(t_utc) + leap_seconds_at_utc(t_utc) * NS_PER_S


def gpst_ns_to_utc(t_gpst_ns: int) -> _dt.datetime:
    """UTC datetime (naive) of a GPST instant."""
    return datetime_from_gpst_ns(t_gpst_ns - leap_seconds_at_gpst_ns(t_gpst_ns) * NS_PER_S)


def parse_time_arg(text: str) -> int:
    """GPST nanoseconds of a command-line time: ISO 8601 in GPST, or ``WEEK:TOW``."""
    text = text.strip()
    if ":" in text and text.count(":") == 1 and "-" not in text:
        week, tow = text.split(":")
        return int(gpst_ns_from_week_tow(int(week), float(tow)))
    try:
        t = _dt.datetime.fromisoformat(text.replace("Z", ""))
    except ValueError:
        raise InvalidInputError(f"cannot read a time from {text!r}: use ISO 8601 (GPST) or WEEK:TOW") from None
    return gpst_ns_from_datetime(t.replace(tzinfo=None))
