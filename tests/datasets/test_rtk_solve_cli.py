"""``gnssaug solve --mode rtk|static|dgnss`` end to end on the Nagoya pair."""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.cli import main
from gnssaug.datasets.posfile import read_pos

BASE_LLH = "35.134707705,136.977577939,104.853"


def _solve(nagoya_dir, out, *extra):
    return main(["solve", str(nagoya_dir / "rover.obs"), str(nagoya_dir / "base.nav"), "--base",
                 str(nagoya_dir / "base.obs"), "--systems", "GEC", "-q", "-o", str(out), *extra])


@pytest.mark.parametrize(("mode", "q"), [("rtk", 1), ("static", 1), ("dgnss", 4)])
def test_modes_write_rtklib_pos(nagoya_dir, tmp_path, mode, q):
    out = tmp_path / f"{mode}.pos"
    assert _solve(nagoya_dir, out, "--mode", mode, "--base-llh", BASE_LLH) == 0
    pos = read_pos(out)
    assert len(pos) == 301
    assert np.all(pos.q == q)
    assert any(line.startswith("% ref pos   :   35.134707705") for line in pos.header)


def test_base_position_defaults_to_the_header(nagoya_dir, tmp_path):
    out = tmp_path / "hdr.pos"
    assert _solve(nagoya_dir, out, "--mode", "rtk") == 0
    assert any("35.13470948" in line for line in read_pos(out).header if line.startswith("% ref pos"))


def test_differential_mode_without_base_is_a_usage_error(nagoya_dir, tmp_path, capsys):
    rc = main(["solve", "--mode", "rtk", str(nagoya_dir / "rover.obs"), str(nagoya_dir / "base.nav"), "-q", "-o",
               str(tmp_path / "x.pos")])
    assert rc == 2
    assert "--base" in capsys.readouterr().err


def test_issue_syntax_rover_base_nav_with_negative_ecef_base(nagoya_dir, tmp_path):
    # gnssaug solve --mode rtk ROVER_OBS BASE_OBS NAV... --base-pos X,Y,Z (X negative, as in Japan or China)
    from gnssaug import geodesy

    lat, lon, h = (float(v) for v in BASE_LLH.split(","))
    x, y, z = geodesy.ecef_from_llh_deg(lat, lon, h)
    out = tmp_path / "issue.pos"
    rc = main(["solve", "--mode", "rtk", str(nagoya_dir / "rover.obs"), str(nagoya_dir / "base.obs"),
               str(nagoya_dir / "base.nav"), "--base-pos", f"{x:.4f},{y:.4f},{z:.4f}", "--systems", "GEC", "-q",
               "-o", str(out)])
    assert rc == 0
    pos = read_pos(out)
    assert len(pos) == 301 and np.all(pos.q == 1)
    assert any(line.startswith("% ref pos   :   35.134707705") for line in pos.header)


def test_iono_est_estimates_the_ionosphere(nagoya_dir, tmp_path):
    # 1 m baseline: the states' prior is micrometres, so the solution is the short-baseline one.
    out_est, out_off = tmp_path / "est.pos", tmp_path / "off.pos"
    assert _solve(nagoya_dir, out_est, "--mode", "rtk", "--base-llh", BASE_LLH, "--iono", "est") == 0
    assert _solve(nagoya_dir, out_off, "--mode", "rtk", "--base-llh", BASE_LLH, "--iono", "none") == 0
    est, off = read_pos(out_est), read_pos(out_off)
    assert "% ionos opt : Estimate STEC" in est.header
    assert any(line.startswith("% ionos opt : Weighted fixed solution") for line in off.header)
    assert np.all(est.q == 1)
    np.testing.assert_allclose(est.pos_ecef_m, off.pos_ecef_m, atol=1e-4)


def test_iono_if_is_a_usage_error_in_rtk(nagoya_dir, tmp_path, capsys):
    assert _solve(nagoya_dir, tmp_path / "if.pos", "--mode", "rtk", "--iono", "if") == 2
    assert "--iono if" in capsys.readouterr().err


def test_code_phase_ratio_must_be_positive(nagoya_dir, tmp_path, capsys):
    assert _solve(nagoya_dir, tmp_path / "r.pos", "--mode", "rtk", "--code-phase-ratio", "0") == 2
    assert "code_phase_ratio" in capsys.readouterr().err


@pytest.mark.parametrize(("flag", "expected"), [((), True), (("--no-base-drift",), False), (("--base-drift",), True)])
def test_base_drift_switch_reaches_the_engine_options(flag, expected):
    import argparse

    from gnssaug.datasets.solve_rtk import add_arguments, rtk_options_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(list(flag))
    args.systems, args.elmask = "GEC", 15.0
    assert rtk_options_from_args(args, "rtk").base_drift is expected
