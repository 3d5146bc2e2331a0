"""BDS Klobuchar sets by broadcast hour (RINEX 3.04 header time marks) and their use per epoch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gnssaug.constants import NS_PER_S
from gnssaug.datasets.rinex.nav import read_nav
from gnssaug.solvers.spp import bds_klobuchar_by_epoch

DATA = Path(__file__).resolve().parents[1] / "data"
HOUR_NS = 3600 * NS_PER_S
DAY0_NS = 1_419_638_400 * NS_PER_S  # a GPST midnight (whole days since the GPS epoch)


def test_time_marks_fill_hour_rows_first_set_per_hour_wins():
    nav = read_nav(DATA / "nav_bds_klobuchar_time_marks.rnx")
    table = nav.bds_klobuchar_hourly
    have = np.flatnonzero(np.isfinite(table).all(axis=1))
    assert list(have) == [6, 12]  # G = 06h, m (lower case) = 12h; the blank mark is not an hour
    assert table[6, 0] == 1e-8 and table[6, 4] == 1e5  # the second G line (C23) does not replace C22's
    assert table[12, 0] == 3e-8 and table[12, 4] == 3e5
    assert nav.bds_klobuchar_alpha[0] == 1e-8  # the single set stays the file's first


def test_merged_igs_file_holds_several_hours(data_dir):
    nav = read_nav(data_dir / "wuhan_wuhn_20250101" / "BRDC00IGS_R_20250010000_01D_MN.rnx.gz")
    have = np.isfinite(nav.bds_klobuchar_hourly).all(axis=1)
    assert have.sum() >= 8  # BDS updates every 2 h: a day's merged header has many marks
    assert np.unique(nav.bds_klobuchar_hourly[have, 4]).size > 1  # and they differ


def test_epochs_take_the_latest_set_at_or_before_them_wrapping_over_midnight():
    table = np.full((24, 8), np.nan)
    table[6] = 6.0
    table[12] = 12.0
    # BDT hour = GPST - 14 s: 06:00:10 GPST is still 05:59:56 BDT
    t = DAY0_NS + np.array([0, 6 * HOUR_NS + 10 * NS_PER_S, 6 * HOUR_NS + 20 * NS_PER_S, 11 * HOUR_NS,
                            13 * HOUR_NS, 23 * HOUR_NS])
    got = bds_klobuchar_by_epoch(table, t)[:, 0]
    assert list(got) == [12.0, 12.0, 6.0, 6.0, 12.0, 12.0]


def test_no_hourly_sets_means_no_per_epoch_table():
    assert bds_klobuchar_by_epoch(np.full((24, 8), np.nan), np.array([0], np.int64)) is None
