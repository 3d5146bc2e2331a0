"""The real-data rehearsal (brief BB): the TST 2020 u-blox rover against a simulated HKSC base in
every shape a reference-station archive serves it, and the messages and errors of ``solve``."""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.cli import main
from gnssaug.datasets.pairing import pair_report
from gnssaug.datasets.realcheck import build_variants, merged_nav
from gnssaug.datasets.rinex import read_obs
from gnssaug.datasets.rinex.merge import select_epochs
from gnssaug.time import gpst_ns_from_calendar, parse_time_arg

START, END = "2020-06-03T03:02:30", "2020-06-03T03:05:30"
SPLIT_NS = int(gpst_ns_from_calendar(2020, 6, 3, 3, 4, 0))


@pytest.fixture(scope="module")
def hk(data_dir, tmp_path_factory):
    """Navigation files, the rover, and a simulated 1 s HKSC base of 03:02:00-03:06:00 GPST."""
    folder = data_dir / "hk_tst_20200603"
    tmp = tmp_path_factory.mktemp("hk")
    navs = [folder / f"hksc155{h}.20{s}" for h in "cd" for s in "nbl"]
    nav = merged_nav(navs, tmp / "mixed.nav")
    (tmp / "hksc.csv").write_text("name,lat_deg,lon_deg,height_m\nHKSC,22.3224,114.1412,20.0\n")
    assert main(["sim", "--layout", str(tmp / "hksc.csv"), "--nav", str(nav), "--start", "2020-06-03T03:02:00",
                 "--duration", "240", "-o", str(tmp / "sim")]) == 0
    return {"rover": folder / "2020_06_03_TST_03.obs", "base": tmp / "sim" / "HKSC.obs", "navs": navs,
            "tmp": tmp, "folder": folder}


@pytest.fixture(scope="module")
def variants(hk):
    return build_variants(hk["base"], hk["tmp"] / "variants", split_ns=SPLIT_NS)


def _report(rover_path, paths, systems="GEC"):
    """Pairing of the rover's epochs between START and END (inside every variant's span)."""
    hr, rover = read_obs(rover_path, systems=systems)
    t0, t1 = (parse_time_arg(t) for t in (START, END))
    rover = select_epochs(rover, (rover.t_gpst_ns >= t0) & (rover.t_gpst_ns <= t1 + 10**8))
    hb, base = read_obs(paths if len(paths) > 1 else paths[0], systems=systems)
    return pair_report(rover, base, systems, 2, 30.0, (hr.version, hb.version))


def test_every_base_shape_gives_the_same_double_differences(hk, variants):
    ref = _report(hk["rover"], [hk["base"]])
    assert ref.n_matched == 181 and np.nanmean(ref.dd_per_epoch) > 10
    names = {v.name for v in variants}
    assert {"3.02 C1I", "3.04 with C1I", ".crx.gz", "2.11 .20d", "30 s", "two files"} <= names
    for v in variants:
        rep = _report(hk["rover"], v.paths, v.systems)
        if v.systems != "GEC":
            continue  # convbin's 2.11 (GPS+Galileo): checked against its own systems below
        same = rep.n_same_time
        if v.interval_s == 1.0:
            assert rep.n_matched == ref.n_matched, v.name
            np.testing.assert_array_equal(rep.dd_per_epoch, ref.dd_per_epoch, err_msg=v.name)
        else:  # a 5 s / 30 s base: every rover epoch still paired, the simultaneous ones alike
            assert rep.n_matched == ref.n_matched and 0 < same < ref.n_same_time, v.name
            t_base = read_obs(v.paths[0])[1].t_gpst_ns
            hits = np.isin(ref.pairs, np.flatnonzero(np.isin(read_obs(hk["base"])[1].t_gpst_ns, t_base)))
            assert hits.sum() == same, v.name
            np.testing.assert_array_equal(rep.dd_per_epoch[hits], ref.dd_per_epoch[hits], err_msg=v.name)


def test_convbin_rinex2_pairs_gps_and_galileo_like_ours(hk, variants):
    conv = [v for v in variants if v.systems == "GE"]
    if not conv:
        pytest.skip("RTKLIB convbin not installed")
    ref = _report(hk["rover"], [hk["base"]], "GE")
    rep = _report(hk["rover"], conv[0].paths, "GE")
    np.testing.assert_array_equal(rep.dd_per_epoch, ref.dd_per_epoch)


def test_b1i_under_the_302_label_in_a_304_file_is_b1i(variants):
    v = next(v for v in variants if v.name == "3.04 with C1I")
    header, series = read_obs(v.paths[0], systems="C")
    assert header.version == 3.04 and "C1I" in header.obs_types["C"]
    assert np.isfinite(series.cp_cyc[:, 0]).sum() > 0.9 * series.n_rows  # slot 0 is B1I


def _solve(hk, base_paths, out, *extra):
    navs = [str(p) for p in hk["navs"]]
    return main(["solve", "--mode", "rtk", str(hk["rover"]), *[str(p) for p in base_paths], *navs, "--systems", "GEC",
                 "--start", START, "--end", END, "-o", str(out), *extra])


def test_solve_says_what_it_used(hk, tmp_path, capsys):
    assert _solve(hk, [hk["base"]], tmp_path / "a.pos") == 0
    err = capsys.readouterr().err
    assert "rtk: systems GPS, Galileo, BeiDou, 2 frequencies, elevation mask 15 deg; base HKSC.obs" in err
    assert "base : 240 epochs" in err and "every 1 s" in err
    assert "epochs: 181 of 181 rover epochs have a base epoch (181 at the same time" in err
    assert "BDS-2    B1I      rover L1I <-> base L2I" in err
    assert "GPS      L2       rover L2L <-> base L2W" in err
    assert "meteorological" not in err
    assert "epochs/s" in err and "of 181 epochs solved (" in err


def test_two_hourly_base_files_are_joined(hk, variants, tmp_path, capsys):
    parts = next(v for v in variants if v.name == "two files").paths
    assert _solve(hk, parts[:1], tmp_path / "first.pos") == 0  # the first "hour" ends at 03:03:59
    assert "rover epochs come after the base file ends: give the next base file too" in capsys.readouterr().err
    assert _solve(hk, parts, tmp_path / "two.pos") == 0
    err = capsys.readouterr().err
    assert "(2 files joined in time)" in err and "base : 240 epochs" in err
    header = [ln for ln in (tmp_path / "two.pos").read_text().splitlines() if ln.startswith("% inp file")]
    assert [ln.split(":", 1)[1].strip().rsplit("/", 1)[-1] for ln in header][-2:] == ["hour_1.rnx", "hour_2.rnx"]
    _solve(hk, [hk["base"]], tmp_path / "one.pos", "-q")
    body = [ln for ln in (tmp_path / "two.pos").read_text().splitlines() if not ln.startswith("%")]
    assert body == [ln for ln in (tmp_path / "one.pos").read_text().splitlines() if not ln.startswith("%")]


def test_pairs_that_cannot_work_get_a_clear_error(hk, variants, tmp_path, capsys):
    first_hour = next(v for v in variants if v.name == "two files").paths[0]  # ends at 03:03:59
    navs = [str(p) for p in hk["navs"]]
    late = ["--start", "2020-06-03T03:10:00", "--end", "2020-06-03T03:11:00"]
    cases = [
        (["solve", "--mode", "rtk", str(hk["rover"]), str(first_hour), *navs, *late], "do not overlap in time"),
        (["solve", "--mode", "rtk", str(hk["base"]), str(hk["base"]), *navs], "given as both the rover and the base"),
        (["solve", "--mode", "rtk", str(hk["rover"]), *navs], "is a navigation file, but the base observation"),
        (["solve", "--mode", "rtk", str(hk["rover"]), str(hk["base"]), *navs, "-o", str(tmp_path / "no" / "x.pos")],
         "does not exist"),
        (["solve", "--mode", "rtk", str(hk["rover"]), str(hk["base"]), str(hk["folder"].parent / "hk_tst_20190428"
                                                                          / "hksc1180.19n")],
         "do not cover the observations"),
    ]
    for argv, message in cases:
        if "-o" not in argv:
            argv = [*argv, "-o", str(tmp_path / "x.pos")]
        assert main(argv) == 2, message
        err = capsys.readouterr().err
        assert message in err, err
        assert "Traceback" not in err
    assert not (tmp_path / "x.pos").exists()


def test_merge_command_joins_hourly_files_and_decimates(hk, variants, tmp_path, capsys):
    parts = next(v for v in variants if v.name == "two files").paths
    out = tmp_path / "merged.obs"
    assert main(["merge", str(parts[1]), str(parts[0]), "--interval", "30", "-o", str(out)]) == 0
    assert "merge: 8 epochs 2020-06-03T03:02:00.000 - 2020-06-03T03:05:30.000 GPST from 2 file(s)" in \
        capsys.readouterr().err
    header, merged = read_obs(out)
    _, whole = read_obs(hk["base"])
    keep = np.isin(whole.t_gpst_ns, merged.t_gpst_ns)
    assert header.interval_s == 30.0 and keep.sum() == 8
    np.testing.assert_array_equal(merged.cp_cyc, whole.cp_cyc[np.repeat(keep, np.diff(whole.offsets))])


def test_file_kinds_are_told_apart_in_every_packing(hk, variants):
    from gnssaug.datasets.rinex.compression import rinex_file_type

    for v in variants:
        assert all(rinex_file_type(p) == "O" for p in v.paths), v.name
    assert {rinex_file_type(p) for p in hk["navs"]} == {"N"}
    assert rinex_file_type(hk["folder"] / "hksc155c.20m") == "M"
    assert rinex_file_type(hk["folder"] / "groundTruth_TST.csv") == "?"


def test_navigation_list_is_sorted_out_in_every_mode(hk, tmp_path, capsys):
    met = str(hk["folder"] / "hksc155c.20m")
    navs = [str(p) for p in hk["navs"]]
    spp = ["solve", str(hk["rover"]), *navs, met, "--start", START, "--end", "2020-06-03T03:02:40", "-q"]
    assert main([*spp, "-o", str(tmp_path / "s.pos")]) == 0
    assert main(["solve", str(hk["rover"]), str(hk["base"]), *navs, "-o", str(tmp_path / "x.pos")]) == 2
    assert "is an observation file among the navigation files" in capsys.readouterr().err
    assert main(["solve", "--mode", "rtk", str(hk["rover"]), *navs, met, "--base", str(hk["base"]), "--start", START,
                 "--end", "2020-06-03T03:02:40", "-o", str(tmp_path / "b.pos")]) == 0
    assert "meteorological file, not used" in capsys.readouterr().err
