"""Time scales (gnssaug.time)."""

import datetime as dt

import numpy as np

from gnssaug import time as gt


def test_calendar_and_week():
    t = gt.gpst_ns_from_calendar(2024, 6, 24, 8, 20, 0)
    assert gt.week_tow(t) == (2320, 116400.0)  # the Nagoya data: week 2320, TOW 116400
    assert gt.gpst_ns_from_datetime(dt.datetime(2024, 6, 24, 8, 20)) == t
    arr = gt.gpst_ns_from_calendar(np.array([2025, 2025]), 1, 1, 0, 0, np.array([30, 60]) * 10**9)
    assert np.diff(arr)[0] == 30 * 10**9


def test_bdt_is_gpst_minus_14s():
    t = gt.gpst_ns_from_calendar(2025, 1, 1)
    week, tow = gt.bdt_week_tow(t)
    assert week == gt.week_tow(t)[0] - 1356
    assert gt.gpst_ns_from_bdt_week_tow(week, tow) == t
    assert tow == gt.week_tow(t)[1] - 14


def test_utc_leap_seconds():
    utc = dt.datetime(2025, 1, 1)
    t = gt.utc_to_gpst_ns(utc)
    assert t - gt.gpst_ns_from_datetime(utc) == 18 * 10**9
    assert gt.gpst_ns_to_utc(t) == utc
    assert gt.leap_seconds_at_utc(dt.datetime(2016, 12, 31, 23, 59, 59)) == 17


def test_time_argument():
    assert gt.parse_time_arg("2320:116400") == gt.parse_time_arg("2024-06-24T08:20:00")
