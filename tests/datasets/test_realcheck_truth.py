"""``gnssaug evaluate --truth-file`` on the truth layouts of public urban data sets (brief BB, item 1)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from gnssaug.cli import main
from gnssaug.datasets.evaluate import load_truth_file
from gnssaug.datasets.truth_formats import unwrap_tow_s
from gnssaug.errors import FileFormatError, UsageError
from gnssaug.geodesy import ecef_from_llh_deg
from gnssaug.time import NS_PER_S, gpst_ns_from_calendar, gpst_ns_from_week_tow, utc_to_gpst_ns

#: Week of the TST 2020 rover (2020-06-03).
WEEK_2020 = 2108


def _pos_file(path, t_gpst_ns, llh_deg):
    """A minimal RTKLIB llh .pos file (Q = 2) at the given GPST epochs."""
    from gnssaug.time import datetime_from_gpst_ns

    lines = ["%  GPST                  latitude(deg) longitude(deg)  height(m)   Q  ns"]
    for t in t_gpst_ns:
        d = datetime_from_gpst_ns(int(t))
        stamp = d.strftime("%Y/%m/%d %H:%M:%S.") + f"{d.microsecond // 1000:03d}"
        lines.append(f"{stamp} {llh_deg[0]:14.9f} {llh_deg[1]:14.9f} {llh_deg[2]:10.4f}   2   8")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_tst2020_weekless_rows_take_the_solution_week(data_dir):
    path = data_dir / "hk_tst_20200603" / "groundTruth_TST.csv"
    # The rover's epochs are tagged x.004 s; rows are "TOW,TOW,lat,lon,h" of a static point.
    t_sol = gpst_ns_from_week_tow(WEEK_2020, 270147.0) + np.arange(300, dtype=np.int64) * NS_PER_S + 4_000_000
    truth = load_truth_file(path, t_sol)
    assert truth.t_gpst_ns.shape == (157,)
    assert truth.t_gpst_ns[0] == gpst_ns_from_week_tow(WEEK_2020, 270149.0)
    ref = truth.at(t_sol)
    matched = np.isfinite(ref).all(axis=1)
    assert matched.sum() == 157
    np.testing.assert_allclose(ref[matched][0], ecef_from_llh_deg(22.299915404, 114.177707462, 4.89), atol=1e-6)


def test_tst2020_cli_evaluate_reads_its_truth(data_dir, tmp_path, capsys):
    t_sol = gpst_ns_from_week_tow(WEEK_2020, 270147.0) + np.arange(200, dtype=np.int64) * NS_PER_S
    pos = _pos_file(tmp_path / "tst.pos", t_sol, (22.299915404, 114.177707462, 4.89))
    status = main(["evaluate", str(pos), "--truth-file", str(data_dir / "hk_tst_20200603" / "groundTruth_TST.csv")])
    out = capsys.readouterr().out
    assert status == 0
    assert "157 of 200 solution epochs compared" in out
    assert "week 2108" in out
    assert "H RMS 0.0 mm" in out


def test_tst2019_week_tow_rows_still_read(data_dir):
    truth = load_truth_file(data_dir / "hk_tst_20190428" / "groundTruth_TST.csv")
    assert truth.t_gpst_ns.shape == (485,)
    assert truth.t_gpst_ns[0] == gpst_ns_from_week_tow(2051, 46701.0)


def test_weekless_rows_across_a_week_rollover(tmp_path):
    tows = [604798.0, 604799.0, 0.0, 1.0]
    path = tmp_path / "gt.csv"
    path.write_text("".join(f"{t:.0f},{t:.0f},22.3,114.17,5.0\n" for t in tows))
    t_sol = gpst_ns_from_week_tow(WEEK_2020 + 1, 0.5) + np.arange(2, dtype=np.int64) * NS_PER_S
    truth = load_truth_file(path, t_sol)
    expect = gpst_ns_from_week_tow(WEEK_2020, 604798.0) + np.arange(4, dtype=np.int64) * NS_PER_S
    assert truth.t_gpst_ns.tolist() == expect.tolist()
    assert unwrap_tow_s(np.array([1.0, 0.0, 604799.0])).tolist() == [1.0, 0.0, -1.0]


def test_weekless_rows_without_solutions_say_why(tmp_path):
    path = tmp_path / "gt.csv"
    path.write_text("270149,270149,22.3,114.17,5.0\n")
    with pytest.raises(UsageError, match="no GPS week"):
        load_truth_file(path)


def test_inertial_explorer_export_with_units_line_and_dms(tmp_path):
    # UrbanNav / Inertial Explorer style: blank separated, a units line, latitude/longitude in D M S.
    path = tmp_path / "UrbanNav_TST_GT_raw.txt"
    path.write_text(
        "UTCTime Week GPSTime Latitude Longitude H-Ell VelBdyX\n"
        "(sec) (weeks) (sec) (+/-D M S) (+/-D M S) (m) (m/s)\n"
        "1621218775.00 2158 95593.00 22 18 04.31949 114 10 44.60559 3.472 0.01\n"
        "1621218776.00 2158 95594.00 22 18 04.31950 114 10 44.60560 3.473 0.01\n")
    truth = load_truth_file(path)
    assert truth.t_gpst_ns[0] == gpst_ns_from_week_tow(2158, 95593.0)
    lat = 22 + 18 / 60 + 4.31949 / 3600
    lon = 114 + 10 / 60 + 44.60559 / 3600
    np.testing.assert_allclose(truth.pos_ecef_m[0], ecef_from_llh_deg(lat, lon, 3.472), atol=1e-6)


def test_span_export_decimal_degrees_and_utc_times(tmp_path):
    path = tmp_path / "span.txt"
    path.write_text("GPSTime, Latitude, Longitude, H-Ell\n(sec), (deg), (deg), (m)\n"
                    "270149.0, 22.299915404, 114.177707462, 4.89\n")
    truth = load_truth_file(path, np.array([gpst_ns_from_week_tow(WEEK_2020, 270000.0)]))
    assert truth.t_gpst_ns[0] == gpst_ns_from_week_tow(WEEK_2020, 270149.0)
    unix = tmp_path / "utc.csv"
    unix.write_text("UTCTime,Latitude,Longitude,Height\n1591153331.0,22.3,114.17,5.0\n")
    import datetime as dt

    t = load_truth_file(unix).t_gpst_ns[0]
    assert t == utc_to_gpst_ns(dt.datetime(2020, 6, 3, 3, 2, 11))  # 18 leap seconds: 03:02:29 GPST
    cal = tmp_path / "cal.csv"
    cal.write_text("date,time,lat,lon,h\n2020/06/03,03:02:29.0,22.3,114.17,5.0\n")
    assert load_truth_file(cal).t_gpst_ns[0] == gpst_ns_from_calendar(2020, 6, 3, 3, 2, 29 * NS_PER_S)


@pytest.mark.parametrize("text", ["1 2 3 4 5 6 7\n", "stamp,northing,easting\n1,2,3\n"])
def test_unknown_layout_lists_what_is_understood(tmp_path, text):
    path = tmp_path / "odd.txt"
    path.write_text(text)
    with pytest.raises(FileFormatError, match="understood layouts"):
        load_truth_file(path)


def test_a_10hz_rover_is_compared_with_the_interpolated_trajectory():
    from gnssaug.datasets.truth import Truth

    t_ref = gpst_ns_from_week_tow(WEEK_2020, 270149.0) + np.arange(5, dtype=np.int64) * NS_PER_S
    vel_mps = np.array([10.0, -3.0, 0.5])  # a car along a straight line
    start = ecef_from_llh_deg(22.3, 114.17, 5.0)
    truth = Truth(start + np.outer((t_ref - t_ref[0]) / NS_PER_S, vel_mps), t_gpst_ns=t_ref)
    t_sol = t_ref[0] + np.arange(41, dtype=np.int64) * (NS_PER_S // 10) + 4_000_000  # 10 Hz, tagged x.x04
    t_sol = t_sol[t_sol <= t_ref[-1]]
    ref = truth.at(t_sol)
    expect = start + np.outer((t_sol - t_ref[0]) / NS_PER_S, vel_mps)
    assert np.isfinite(ref).all()
    np.testing.assert_allclose(ref, expect, atol=1e-6)
    gap = truth.at(np.array([t_ref[-1] + NS_PER_S // 2]))  # after the last row: nothing to interpolate
    assert np.isnan(gap).all()


def test_inertial_explorer_preamble_and_us_dates(tmp_path):
    path = tmp_path / "ie_export.txt"
    path.write_text(
        "Project:     TST_drive\nProgram:     Inertial Explorer Version 8.90\nProfile:     SPAN\n"
        "Source:      GNSS/INS Epochs(Smoothed TC Combined)\n\n"
        "   UTCDate     UTCTime     Latitude      Longitude       H-Ell\n"
        "  (MM/DD/YYYY)   (sec)       (deg)         (deg)          (m)\n"
        "  06/03/2020  11000.00  22.299915404  114.177707462    4.890\n")
    truth = load_truth_file(path)
    assert truth.t_gpst_ns[0] == gpst_ns_from_calendar(2020, 6, 3, 3, 3, 38 * NS_PER_S)  # 03:03:20 UTC + 18 s
    np.testing.assert_allclose(truth.pos_ecef_m[0], ecef_from_llh_deg(22.299915404, 114.177707462, 4.89), atol=1e-6)


def test_pos_in_utc_as_rtklib_writes_it(tmp_path):
    from gnssaug.datasets.posfile import read_pos

    gpst = tmp_path / "gpst.pos"
    t = gpst_ns_from_week_tow(WEEK_2020, 270149.0) + np.arange(3, dtype=np.int64) * NS_PER_S
    _pos_file(gpst, t, (22.299915404, 114.177707462, 4.89))
    utc = tmp_path / "utc.pos"
    lines = gpst.read_text().splitlines()
    body = [ln.replace("03:02:29", "03:02:11").replace("03:02:30", "03:02:12").replace("03:02:31", "03:02:13")
            for ln in lines[1:]]
    utc.write_text("\n".join([lines[0].replace("GPST", "UTC "), *body]) + "\n")
    assert read_pos(utc).t_gpst_ns.tolist() == read_pos(gpst).t_gpst_ns.tolist() == t.tolist()


@pytest.mark.rtklib
def test_rnx2rtkp_utc_output_reads_as_its_gpst_output(nagoya_dir, tmp_path):
    import subprocess

    from gnssaug.datasets.posfile import read_pos

    # (not conftest.rtklib_tool: imported at run time, "conftest" may name tests/solvers/conftest.py)
    exe = shutil.which("rnx2rtkp") or pytest.skip("RTKLIB rnx2rtkp is not installed")
    files = [str(nagoya_dir / n) for n in ("rover.obs", "base.obs", "base.nav")]
    out = {}
    for timesys in ("gpst", "utc"):
        conf = tmp_path / f"{timesys}.conf"
        conf.write_text(f"pos1-posmode=single\nout-timesys={timesys}\nout-solformat=llh\n")
        pos = tmp_path / f"{timesys}.pos"
        subprocess.run([exe, "-k", str(conf), "-o", str(pos), *files], check=True, capture_output=True)
        out[timesys] = read_pos(pos)
    assert len(out["utc"]) > 100
    assert out["utc"].t_gpst_ns.tolist() == out["gpst"].t_gpst_ns.tolist()
