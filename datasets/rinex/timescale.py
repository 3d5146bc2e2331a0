"""UTC-based epoch tags of RINEX files (GLONASS time, UTC) to GPST, leap seconds per epoch.

GLONASS system time is UTC(SU) + 3 h and follows the leap seconds of UTC (GLONASS ICD, system time), so
a RINEX file in GLONASS time or UTC that spans a leap second needs GPS - UTC per epoch, not one
value per file. A tag inside a leap second itself (seconds field 60 in the last minute before a
leap second of the table) counts as the calendar instant of the next minute with the leap seconds
of before; elsewhere a seconds field of 60 is the next minute (a writer's rounding).
"""

from __future__ import annotations

import numpy as np

from gnssaug.constants import NS_PER_S
from gnssaug.time import LEAP_SECONDS, gpst_ns_from_datetime

__all__ = ["utc_calendar_to_gpst_ns"]

_LEAP_START_NS = np.array([gpst_ns_from_datetime(start) for start, _ in LEAP_SECONDS], dtype=np.int64)
_LEAP_VALUE = np.array([v for _, v in LEAP_SECONDS], dtype=np.int64)


def leap_seconds_of(utc_ns: np.ndarray) -> np.ndarray:
    """int64[n] GPS - UTC [s] in force at UTC calendar instants counted like GPST ns (table lookup)."""
    idx = np.searchsorted(_LEAP_START_NS, np.asarray(utc_ns, dtype=np.int64), side="right") - 1
    return np.where(idx >= 0, _LEAP_VALUE[np.maximum(idx, 0)], 0)


def utc_calendar_to_gpst_ns(utc_ns, second_field_ns=None, leap_at_first_s: int | None = None) -> np.ndarray:
    """GPST [ns] of UTC calendar instants.

    Parameters
    ----------
    utc_ns : int64[n]
        UTC calendar instants counted like GPST ns (``gpst_ns_from_calendar`` of the UTC fields).
    second_field_ns : int64[n], optional
        The seconds fields of the tags [ns]: a tag with 60 s just before a leap second of the table
        (``23:59:60``) is in the leap second and takes the leap seconds before it.
    leap_at_first_s : int, optional
        GPS - UTC [s] a file states (LEAP SECONDS) for its first tag. When it differs from the
        table (a leap second newer than the table), every epoch is shifted by the difference.

    Returns
    -------
    int64[n]
    """
    utc_ns = np.atleast_1d(np.asarray(utc_ns, dtype=np.int64))
    leap = leap_seconds_of(utc_ns)
    if second_field_ns is not None:
        over_ns = np.asarray(second_field_ns, dtype=np.int64) - 60 * NS_PER_S
        in_leap = (over_ns >= 0) & np.isin(utc_ns - np.maximum(over_ns, 0), _LEAP_START_NS)
        leap = leap - in_leap
    if leap_at_first_s is not None and leap.size:
        leap = leap + (leap_at_first_s - leap[0])
    return utc_ns + leap * NS_PER_S
