"""Real-data rehearsal (brief BB) items 3-6: navigation file shapes, a 10 Hz rover against a 1 Hz
base, the single-frequency 2019 M8T rover with ``--freqs 2``, swapped rover and base."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from gnssaug.cli import main
from gnssaug.datasets.pairing import pair_report
from gnssaug.datasets.realcheck import merged_nav, write_decimated
from gnssaug.datasets.rinex import read_obs
from gnssaug.datasets.rinex.nav import read_nav
from gnssaug.time import NS_PER_S

HKSC = "name,lat_deg,lon_deg,height_m\nHKSC,22.3224,114.1412,20.0\n"
WINDOW = ["--start", "2020-06-03T03:02:30", "--end", "2020-06-03T03:03:30"]


def _sim(tmp, nav, start, duration, rate=1, rover_row=""):
    (tmp / "layout.csv").write_text(HKSC + rover_row)
    assert main(["sim", "--layout", str(tmp / "layout.csv"), "--nav", str(nav), "--start", start, "--duration",
                 str(duration), "--rate", str(rate), "-o", str(tmp / "sim")]) == 0
    return tmp / "sim"


@pytest.fixture(scope="module")
def hk2020(data_dir, tmp_path_factory):
    folder = data_dir / "hk_tst_20200603"
    tmp = tmp_path_factory.mktemp("hk2020")
    nav = merged_nav([folder / f"hksc155{h}.20{s}" for h in "cd" for s in "nbl"], tmp / "mixed.nav")
    sim = _sim(tmp, nav, "2020-06-03T03:02:00", 120)
    return {"folder": folder, "tmp": tmp, "nav": nav, "base": sim / "HKSC.obs",
            "rover": folder / "2020_06_03_TST_03.obs"}


def _rtk(hk, navs, out, *extra):
    return main(["solve", "--mode", "rtk", str(hk["rover"]), str(hk["base"]), *map(str, navs), "--systems", "GC",
                 *WINDOW, "-o", str(out), *extra])


def test_navigation_file_shapes(hk2020, tmp_path, capsys):
    folder = hk2020["folder"]
    gz = tmp_path / "hksc155d.20b.gz"
    gz.write_bytes(gzip.compress((folder / "hksc155d.20b").read_bytes()))
    shapes = {
        "per-system RINEX 3.02": [folder / "hksc155d.20n", folder / "hksc155d.20b"],
        "merged mixed 3.04": [hk2020["nav"]],
        "gzipped BDS": [folder / "hksc155d.20n", gz],
    }
    if shutil.which("convbin"):
        import subprocess

        v2 = tmp_path / "hksc155d_v2.20n"
        # convbin replaces its -o file: never /dev/null (it would become a regular file for everyone)
        subprocess.run(["convbin", "-r", "rinex", "-v", "2.11", "-n", str(v2), "-o", str(tmp_path / "v2.obs"),
                        str(folder / "hksc155d.20n")], check=True, capture_output=True)
        assert v2.read_text().startswith("     2.11           N: GPS NAV DATA")
        shapes["RINEX 2 GPS + 3.02 BDS"] = [v2, folder / "hksc155d.20b"]
    lines = {}
    for name, navs in shapes.items():
        assert _rtk(hk2020, navs, tmp_path / "x.pos") == 0, name
        err = capsys.readouterr().err
        lines[name] = [ln for ln in err.splitlines() if "epochs solved" in ln][0].split("->")[0]
    assert len(set(lines.values())) == 1, lines


def test_nav_of_another_day_is_named_with_its_span(hk2020, data_dir, tmp_path, capsys):
    old = data_dir / "hk_tst_20190428" / "hksc1180.19n"
    assert _rtk(hk2020, [old], tmp_path / "x.pos") == 2
    err = capsys.readouterr().err
    assert "do not cover the observations" in err and "hksc1180.19n" in err and "GPS 2019-04-27" in err
    assert "the observations span 2020-06-03T03:02:30" in err


def test_bds_nav_an_hour_old_serves_rtk_not_spp(hk2020, tmp_path, capsys):
    folder = hk2020["folder"]
    navs = [folder / "hksc155c.20n", folder / "hksc155c.20b"]
    # Hour c's BDS records (toe 02:00 BDT) are beyond the store's 1 h BeiDou window at 03:02: RTK takes
    # them (6 h, as RTKLIB), single-point positioning does not.
    assert _rtk(hk2020, navs, tmp_path / "x.pos", "--systems", "C") == 0
    err = capsys.readouterr().err
    assert "BeiDou ephemerides up to 6 h from their toe serve 61 epochs" in err
    assert "61 of 61 epochs solved" in err
    assert main(["solve", str(hk2020["rover"]), *map(str, navs), *WINDOW, "-o", str(tmp_path / "s.pos")]) == 0
    assert "BeiDou ephemerides serve 0 of 61 epochs" in capsys.readouterr().err


def test_10hz_rover_against_a_1hz_base(hk2020, tmp_path, capsys):
    tst = "TSTR,22.299915404,114.177707462,4.89\n"
    sim = _sim(tmp_path, hk2020["nav"], "2020-06-03T03:05:00", 20, rate=10, rover_row=tst)
    base_1hz = write_decimated(sim / "HKSC.obs", tmp_path / "HKSC_1hz.obs", 1.0)
    _, rover = read_obs(sim / "TSTR.obs", systems="GEC")
    _, base = read_obs(base_1hz, systems="GEC")
    assert len(rover) == 200 and len(base) == 20
    rep = pair_report(rover, base, "GEC", 2, 30.0)
    assert rep.n_matched == 200 and rep.n_same_time == 20
    age_s = (rover.t_gpst_ns - base.t_gpst_ns[rep.pairs]) / NS_PER_S
    assert age_s.min() == 0.0 and age_s.max() == pytest.approx(0.9)
    assert rep.rover_interval_s == 0.2 / 2 and rep.base_interval_s == 1.0
    out = tmp_path / "r10.pos"
    assert main(["solve", "--mode", "rtk", str(sim / "TSTR.obs"), str(base_1hz), str(hk2020["nav"]), "--systems",
                 "GEC", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "every 0.1 s (10 Hz)" in err and "200 of 200 rover epochs have a base epoch (20 at the same time" in err
    assert "200 of 200 epochs solved" in err


def test_m8t_single_frequency_rover_with_freqs_2(data_dir, tmp_path, capsys):
    folder = data_dir / "hk_tst_20190428"
    navs = [folder / "hksc1180.19n", folder / "hksc1180.19b"]
    sim = _sim(tmp_path, merged_nav(navs, tmp_path / "mixed.nav"), "2019-04-28T12:58:00", 300)
    common = [str(folder / "COM3_190428_124409.obs"), str(sim / "HKSC.obs"), *map(str, navs),
              "--start", "2019-04-28T12:58:10", "--end", "2019-04-28T13:02:00"]
    assert main(["solve", "--mode", "rtk", *common, "--freqs", "2", "-o", str(tmp_path / "rtk.pos")]) == 0
    err = capsys.readouterr().err
    assert "GPS      L1       L1C" in err and "BDS-2    B1I      L2I" in err
    assert "L2 " not in err and "B2I" not in err  # one frequency: nothing paired on a second
    solved = [ln for ln in err.splitlines() if "epochs solved" in ln][0]
    n_solved, n_all = (int(w) for w in solved.split()[1:4:2])
    assert n_all == 231 and n_solved >= 0.9 * n_all, solved  # was 17 of 1760 (NaN state kept after one bad epoch)
    assert main(["evaluate", str(tmp_path / "rtk.pos"), "--truth-file", str(folder / "groundTruth_TST.csv")]) == 0
    out = capsys.readouterr().out
    n_compared = int(out.split(";")[1].split()[0])
    assert n_compared > 200  # the SPAN truth covers 12:58:21-13:06:25


def test_swapped_rover_and_base_are_flagged(hk2020, tmp_path, capsys):
    argv = ["solve", "--mode", "rtk", str(hk2020["base"]), str(hk2020["rover"]), str(hk2020["nav"]), "--systems",
            "GC", "--start", "2020-06-03T03:02:30", "--end", "2020-06-03T03:02:40", "-o", str(tmp_path / "s.pos")]
    assert main(argv) == 0
    assert "are the rover and base files swapped?" in capsys.readouterr().err


def test_merged_nav_keeps_every_record(hk2020):
    folder = hk2020["folder"]
    parts = [read_nav([str(folder / f"hksc155{h}.20{s}") for h in "cd"]) for s in "nbl"]
    merged = read_nav(str(hk2020["nav"]))
    assert len(merged.kepler) == sum(len(p.kepler) for p in parts)
    assert np.array_equal(np.sort(merged.kepler.toe_gpst_ns), np.sort(np.concatenate([p.kepler.toe_gpst_ns
                                                                                        for p in parts])))
