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


def test_rover_epochs_in_a_gap_between_base_files_are_explained(nagoya_dir):
    from gnssaug.datasets.pairing import pair_report
    from gnssaug.datasets.rinex import read_obs
    from gnssaug.datasets.rinex.merge import select_epochs

    _, rover = read_obs(nagoya_dir / "rover.obs")
    _, base = read_obs(nagoya_dir / "base.obs")
    t0 = int(base.t_gpst_ns[0])
    # Two "hourly" files with the 2 minutes between them missing (60 s - 180 s of the 5 min file).
    gap = (base.t_gpst_ns >= t0 + 60 * 10**9) & (base.t_gpst_ns < t0 + 180 * 10**9)
    report = pair_report(rover, select_epochs(base, ~gap), "G", 1, max_age_s=30.0)
    assert report.n_rover - report.n_matched == 90  # 120 s of gap less the 30 s age limit
    assert report.n_in_gaps == 90
    text = "\n".join(report.lines())
    assert "90 rover epochs fall in a gap of the base" in text and "08:20:59.000 - 08:23:00.000" in text


def test_evaluate_span_across_a_week_rollover_names_both_weeks():
    from gnssaug.datasets.evaluate import truth_span_text
    from gnssaug.datasets.truth import Truth

    t = gpst_ns_from_week_tow(2108, 604790.0) + np.arange(0, 21, 10, dtype=np.int64) * 10**9
    text = truth_span_text(Truth(np.zeros((3, 3)), t_gpst_ns=t))
    assert "week 2108 TOW 604790 s - week 2109 TOW 10 s" in text and "604810" not in text


def test_merge_into_a_missing_folder_fails_before_reading(tmp_path, capsys):
    # The input does not exist either: the output check must come first (before hours of reading).
    rc = main(["merge", str(tmp_path / "hour1.rnx"), "-o", str(tmp_path / "no_folder" / "merged.rnx")])
    assert rc == 2
    assert "no_folder does not exist" in capsys.readouterr().err


def test_wider_ephemeris_window_note_counts_only_the_extra_epochs():
    from gnssaug.datasets.solve import DIFFERENTIAL_WINDOWS_S, wider_window_notes

    # 61 epochs served with BeiDou records up to 6 h old, 20 of them already within 1 h.
    notes = wider_window_notes([("BeiDou", 0, 1, 61)], [("BeiDou", 0, 1, 20)], DIFFERENTIAL_WINDOWS_S)
    assert len(notes) == 1 and "serve 41 epochs that the 1 h limit" in notes[0]
    assert wider_window_notes([("GPS", 0, 1, 61)], [("GPS", 0, 1, 61)], DIFFERENTIAL_WINDOWS_S) == []


def test_merge_interval_zero_is_an_error(nagoya_dir, tmp_path, capsys):
    rc = main(["merge", str(nagoya_dir / "base.obs"), "-o", str(tmp_path / "m.rnx"), "--interval", "0"])
    assert rc == 2
    assert "interval must be > 0" in capsys.readouterr().err
    assert not (tmp_path / "m.rnx").exists()


def test_damaged_gzip_among_the_inputs_is_a_clear_error(nagoya_dir, tmp_path, capsys):
    import gzip

    from gnssaug.datasets.rinex.compression import rinex_file_type

    packed = gzip.compress((nagoya_dir / "base.nav").read_bytes())
    damaged = tmp_path / "hksc1550.24o.gz"
    damaged.write_bytes(packed[:10] + bytes(b ^ 0x55 for b in packed[10:]))  # header intact, deflate data not
    assert rinex_file_type(damaged) == "?"
    rc = main(["solve", "--mode", "rtk", str(nagoya_dir / "rover.obs"), str(damaged), str(nagoya_dir / "base.nav"),
               "-o", str(tmp_path / "x.pos")])
    assert rc == 2
    assert "hksc1550.24o.gz is not a RINEX observation file" in capsys.readouterr().err


def test_truth_clock_with_an_unpadded_hour(tmp_path):
    path = tmp_path / "unpadded_hour.csv"
    path.write_text("UTCDate,UTCTime,Latitude,Longitude,H-Ell\n06/03/2020,3:00:00.50,22.3,114.1,10\n")
    truth = load_truth_table(path)
    assert truth.t_gpst_ns[0] == gpst_ns_from_calendar(2020, 6, 3, 3, 0, 18_500_000_000)


def test_empty_pos_as_truth_is_a_file_error(nagoya_dir, tmp_path):
    from gnssaug.datasets.evaluate import load_truth_file

    header = [ln for ln in (nagoya_dir / "rover_rtk.pos").read_text().splitlines()[:40] if ln.startswith("%")]
    path = tmp_path / "header_only.pos"
    path.write_text("\n".join(header) + "\n")
    with pytest.raises(FileFormatError, match="header_only.pos: no reference positions"):
        load_truth_file(path)


def test_damaged_gzip_navigation_file_is_a_file_error(nagoya_dir, tmp_path):
    import gzip

    from gnssaug.datasets.rinex.nav import read_nav

    packed = gzip.compress((nagoya_dir / "base.nav").read_bytes())
    damaged = tmp_path / "brdc1760.24n.gz"
    damaged.write_bytes(packed[:10] + bytes(b ^ 0x55 for b in packed[10:]))  # header intact, deflate data not
    with pytest.raises(FileFormatError, match="cannot decompress"):
        read_nav([str(damaged)])


def test_merge_end_keeps_an_epoch_tagged_a_few_ms_after_it(data_dir, tmp_path, capsys):
    # The TST 2020 u-blox rover tags its epochs 4 ms after the second; --end on the whole second keeps that
    # epoch, as solve --end does (it was dropped).
    rover = data_dir / "hk_tst_20200603" / "2020_06_03_TST_03.obs"
    out = tmp_path / "cut.obs"
    assert main(["merge", str(rover), "--start", "2020-06-03T03:02:27", "--end", "2020-06-03T03:02:30",
                 "-o", str(out)]) == 0
    assert "merge: 4 epochs" in capsys.readouterr().err
