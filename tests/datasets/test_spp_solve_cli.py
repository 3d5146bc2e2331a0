"""``gnssaug solve --mode spp`` and ``gnssaug demo`` end to end (in process) on the Nagoya files."""

from __future__ import annotations

import pytest

from gnssaug.cli import main
from gnssaug.datasets.posfile import read_pos
from gnssaug.datasets.truth import accuracy, load_llh_point

# A 31-epoch window must still be solved everywhere and sit within RTKLIB's 95 % figures
# (3.17 m H / 2.10 m V on the whole file, see tests/solvers/test_spp_accuracy.py).
H95_M, V95_M = 3.17, 2.10


def _solve(nagoya_dir, out, *extra):
    return main(["solve", "--mode", "spp", str(nagoya_dir / "rover.obs"), str(nagoya_dir / "base.nav"),
                 "-o", str(out), "--systems", "GC", "-q", "--start", "2024-06-24T08:21:00",
                 "--end", "2024-06-24T08:21:30", *extra])


def test_solve_llh_window_and_header(nagoya_dir, tmp_path):
    out = tmp_path / "rover.pos"
    assert _solve(nagoya_dir, out) == 0
    pos = read_pos(out)
    assert len(pos) == 31 and (pos.q == 5).all()
    assert any(line.startswith("% pos mode  : Single") for line in pos.header)
    assert any(line.startswith("% navi sys  : GPS BDS") for line in pos.header)
    acc = accuracy(pos.pos_ecef_m, load_llh_point(nagoya_dir / "rover_position.txt").at(pos.t_gpst_ns))
    assert acc.h95_m <= H95_M and acc.v95_m <= V95_M


def test_solve_xyz_and_nmea(nagoya_dir, tmp_path):
    xyz = tmp_path / "rover_xyz.pos"
    assert _solve(nagoya_dir, xyz, "--format", "xyz") == 0
    assert "x-ecef(m)" in xyz.read_text() and len(read_pos(xyz)) == 31
    nmea = tmp_path / "rover.nmea"
    assert _solve(nagoya_dir, nmea, "--format", "nmea") == 0
    lines = nmea.read_text().split()
    assert len(lines) == 31 and all(line.startswith("$GPGGA,") for line in lines)


def test_solve_rejects_unknown_mode_and_empty_window(nagoya_dir, tmp_path, capsys):
    out = tmp_path / "x.pos"
    assert main(["solve", "--mode", "ppp", str(nagoya_dir / "rover.obs"), str(nagoya_dir / "base.nav"),
                 "-o", str(out)]) == 2
    assert "mode 'ppp' is not available" in capsys.readouterr().err
    assert main(["solve", str(nagoya_dir / "rover.obs"), str(nagoya_dir / "base.nav"), "-o", str(out),
                 "--start", "2030-01-01T00:00:00"]) == 2
    assert "no epochs" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_prints_accuracy(capsys):
    assert main(["demo"]) == 0
    text = capsys.readouterr().out
    assert "301 of 301 epochs" in text and "H95" in text


def test_solve_iono_structure_flag_changes_the_solution(nagoya_dir, tmp_path):
    plain, structured = tmp_path / "plain.pos", tmp_path / "structured.pos"
    assert _solve(nagoya_dir, plain, "--no-iono-structure") == 0
    assert _solve(nagoya_dir, structured) == 0  # the structure is on by default
    a, b = read_pos(plain), read_pos(structured)
    assert len(a) == len(b) == 31
    assert abs(a.pos_ecef_m - b.pos_ecef_m).max() > 1e-3  # the extra ionosphere parameters are estimated
    acc = accuracy(b.pos_ecef_m, load_llh_point(nagoya_dir / "rover_position.txt").at(b.t_gpst_ns))
    assert acc.h95_m <= H95_M and acc.v95_m <= V95_M
