"""Edge cases of the real-archive input handling found in review (brief DD): each was a traceback or a
wrong value before its fix."""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.cli import main
from gnssaug.datasets.posfile import read_pos
from gnssaug.datasets.truth_formats import load_truth_table
from gnssaug.errors import FileFormatError
from gnssaug.time import gpst_ns_from_calendar, gpst_ns_from_week_tow

#: An epoch of the TST 2020 week, for week-less rows.
T_REF_NS = np.array([gpst_ns_from_week_tow(2108, 270150.0)], dtype=np.int64)


def _header_only(src, dst):
    """``src``'s header alone (a base file whose epochs were lost)."""
    lines = []
    for line in src.read_text().splitlines(keepends=True):
        lines.append(line)
        if "END OF HEADER" in line:
            break
    dst.write_text("".join(lines))
    return dst


def test_empty_base_file_is_a_usage_error(nagoya_dir, tmp_path, capsys):
    base = _header_only(nagoya_dir / "base.obs", tmp_path / "empty_base.obs")
    rc = main(["solve", "--mode", "rtk", str(nagoya_dir / "rover.obs"), str(base), str(nagoya_dir / "base.nav"),
               "-o", str(tmp_path / "x.pos")])
    assert rc == 2
    assert "no base observation epochs" in capsys.readouterr().err


def test_missing_base_file_is_named_as_missing(nagoya_dir, tmp_path, capsys):
    missing = tmp_path / "hksc1550.obs"
    rc = main(["solve", "--mode", "rtk", str(nagoya_dir / "rover.obs"), str(missing), str(nagoya_dir / "base.nav"),
               "-o", str(tmp_path / "x.pos")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "hksc1550.obs" in err


def test_utc_pos_just_after_a_leap_second(tmp_path):
    # 2017-01-01 00:00:05 UTC is 18 s after the leap second of 2017-01-01: GPS - UTC = 18 s already.
    path = tmp_path / "utc.pos"
    path.write_text("%  UTC                   latitude(deg) longitude(deg)  height(m)   Q  ns\n"
                    "2017/01/01 00:00:05.000   35.0 136.0 50.0 2 8\n")
    assert read_pos(path).t_gpst_ns[0] == gpst_ns_from_calendar(2017, 1, 1, 0, 0, 23 * 10**9)


def test_truth_clock_with_a_utc_offset(tmp_path):
    # 03:00 at +08:00 (Hong Kong) is 19:00 UTC of the day before, 19:00:18 GPST.
    path = tmp_path / "hkt.csv"
    path.write_text("Date,Time,Latitude,Longitude,H-Ell\n2020-06-03,03:00:00+08:00,22.3,114.1,10\n")
    truth = load_truth_table(path)
    assert truth.t_gpst_ns[0] == gpst_ns_from_calendar(2020, 6, 2, 19, 0, 18 * 10**9)


@pytest.mark.parametrize("name, text", [
    ("unix_milliseconds.csv", "UTCTime,Latitude,Longitude,H-Ell\n1591153218000,22.3,114.1,10\n"),
    ("dms_bad_cell.txt", "Week GPSTime Latitude Longitude H-Ell\n(weeks) (sec) (dms) (dms) (m)\n"
                         "2108 270150 22 18 xx 114 10 10 5\n"),
])
def test_bad_truth_row_names_file_and_line(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(FileFormatError, match=f"{name}:3" if "dms" in name else f"{name}:2"):
        load_truth_table(path, T_REF_NS)
