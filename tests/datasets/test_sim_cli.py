"""``gnssaug sim`` end to end: output folder contents, truth, and a file RTKLIB can solve."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from gnssaug.cli import main
from gnssaug.datasets.rinex import read_obs
from gnssaug.datasets.rinex.nav import read_nav
from gnssaug.datasets.sim.layout import hubei91
from gnssaug.gnss import BDS, GAL, GPS, SAT_SYSTEM
from tests.conftest import rtklib_tool

RUN = ["sim", "--stations", "HB01,HB45", "--rovers", "tractor", "--start", "2025-01-01T03:00:00",
       "--duration", "30", "--seed", "5"]


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("sim")
    assert main([*RUN, "-o", str(out)]) == 0
    return out


def test_output_folder_has_obs_nav_truth_and_summary(out_dir):
    names = {p.name for p in out_dir.iterdir()}
    assert {"HB01.obs", "HB45.obs", "tractor.obs", "tractor.truth.csv", "stations.csv", "nav.rnx",
            "sim.json"} <= names
    summary = json.loads((out_dir / "sim.json").read_text())
    assert summary["epochs"] == 30 and summary["receivers"] == ["HB01", "HB45", "tractor"]
    assert len(read_nav(out_dir / "nav.rnx").kepler) > 100


def test_station_files_carry_the_true_position_and_three_systems(out_dir):
    layout = hubei91()
    header, series = read_obs(out_dir / "HB45.obs")
    np.testing.assert_allclose(header.approx_pos_ecef_m, layout.pos_ecef_m[layout.names.index("HB45")], atol=1e-3)
    assert len(series) == 30
    systems = set(SAT_SYSTEM[series.sat].tolist())
    assert {GPS, GAL, BDS} <= systems
    # BDS-3 satellites carry B1I, B3I, B1C and B2a; every GPS satellite L1 and L2.
    assert {"C2I", "C6I", "C7I", "C1P", "C5P"} <= set(header.obs_types["C"])
    assert np.isfinite(series.pr_m[SAT_SYSTEM[series.sat] == GPS][:, :2]).all()
    rows = list(csv.DictReader(open(out_dir / "stations.csv")))
    assert [r["name"] for r in rows] == ["HB01", "HB45"]


def test_rover_truth_has_one_row_per_epoch(out_dir):
    rows = list(csv.DictReader(open(out_dir / "tractor.truth.csv")))
    _, series = read_obs(out_dir / "tractor.obs")
    assert [int(r["t_gpst_ns"]) for r in rows] == series.t_gpst_ns.tolist()


def test_bad_arguments_exit_with_a_one_line_error(tmp_path, capsys):
    assert main(["sim", "--rovers", "bicycle", "--layout", "none", "-o", str(tmp_path)]) == 2
    assert "unknown rover 'bicycle'" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lat_deg\nA,1\n")
    assert main(["sim", "--layout", str(bad), "-o", str(tmp_path / "o")]) == 2


@pytest.mark.rtklib
def test_rtklib_single_point_on_a_simulated_station_lands_near_the_truth(out_dir):
    import subprocess

    exe = rtklib_tool("rnx2rtkp")
    conf = out_dir / "spp.conf"
    conf.write_text("pos1-posmode =single\npos1-navsys =33\npos1-ionoopt =brdc\npos1-tropopt =saas\n"
                    "out-solformat =xyz\n")
    out = out_dir / "HB45.pos"
    subprocess.run([exe, "-k", str(conf), "-o", str(out), str(out_dir / "HB45.obs"), str(out_dir / "nav.rnx")],
                   check=True, capture_output=True)
    xyz = np.array([[float(v) for v in line.split()[2:5]] for line in out.read_text().splitlines()
                    if not line.startswith("%")])
    truth = hubei91().pos_ecef_m[hubei91().names.index("HB45")]
    err = np.linalg.norm(xyz - truth, axis=1)
    assert len(err) == 30
    assert np.median(err) < 15.0  # broadcast iono residual near solar maximum: metres, not more
