"""Simulator realism against an independent engine: RTKLIB fix rates at 5 and 70 km (issue 5)."""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.datasets.sim.baseline import baseline_layout, fix_statistics, rtklib_conf, run_rnx2rtkp
from gnssaug.datasets.sim.engine import SimConfig
from gnssaug.datasets.sim.output import build_simulator, write_outputs
from gnssaug.time import parse_time_arg
from tests.conftest import rtklib_tool

SHORT_FIX_MIN = 0.90  # the issue: at least 90 % fixed at 5 km
LONG_MARGIN = 0.30  # "clearly less" at 70 km: at least 30 points below the 5 km rate
FIXED_ERR95_MAX_M = 0.06  # fixed solutions must be right, not just fixed


def test_rtklib_conf_names_the_base_and_modes():
    text = rtklib_conf([1.0, 2.0, 3.0])
    assert "pos2-armode         =continuous" in text
    assert "pos1-navsys         =33" in text and "ant2-pos3           =3.0000" in text


def test_baseline_layout_distances():
    layout = baseline_layout([5.0, 70.0])
    d_km = np.linalg.norm(layout.pos_ecef_m[1:] - layout.pos_ecef_m[0], axis=1) / 1e3
    np.testing.assert_allclose(d_km, [5.0, 70.0], rtol=0.01)
    assert layout.names == ("BASE", "R005", "R070")


def _simulate(folder, wuhn_dir, layout, rovers=(), duration_s=600.0) -> SimConfig:
    """Simulate ``layout`` and ``rovers`` on the WUHN day into ``folder``, with nav.rnx."""
    rtklib_tool("rnx2rtkp")
    nav_path = wuhn_dir / "BRDC00IGS_R_20250010000_01D_MN.rnx.gz"
    sim = build_simulator(layout, rovers, nav_path, start_gpst_ns=parse_time_arg("2025-01-01T02:00:00"),
                          duration_s=duration_s, seed=1)
    write_outputs(sim, folder, layout, nav_path)
    return sim.config


@pytest.mark.rtklib
@pytest.mark.slow
def test_rtklib_fixes_5_km_and_not_70_km(tmp_path, wuhn_dir):
    layout = baseline_layout([5.0, 70.0])
    cfg = _simulate(tmp_path, wuhn_dir, layout)
    stats = {}
    for name in ("R005", "R070"):
        sol = run_rnx2rtkp(tmp_path, name, base_ecef_m=layout.pos_ecef_m[0])
        stats[name] = fix_statistics(sol, cfg.n_epochs, layout.pos_ecef_m[layout.names.index(name)])
    print(stats)
    assert stats["R005"]["fix_rate"] >= SHORT_FIX_MIN
    assert stats["R005"]["fixed_err95_m"] <= FIXED_ERR95_MAX_M
    assert stats["R070"]["fix_rate"] <= stats["R005"]["fix_rate"] - LONG_MARGIN


@pytest.mark.rtklib
@pytest.mark.slow
def test_rtklib_follows_the_tractor_to_centimetres_when_fixed(tmp_path, wuhn_dir):
    from gnssaug.datasets.sim.baseline import ROVER_BASES_LLH, read_truth_csv, rover_statistics
    from gnssaug.datasets.sim.layout import Layout
    from gnssaug.geodesy import ecef_from_llh_deg

    layout = Layout(("BASE",), ecef_from_llh_deg(*ROVER_BASES_LLH["tractor"])[None, :])
    cfg = _simulate(tmp_path, wuhn_dir, layout, ["tractor"])
    run_rnx2rtkp(tmp_path, "tractor", base_ecef_m=layout.pos_ecef_m[0], dynamics=True)
    st = rover_statistics(tmp_path / "tractor.pos", read_truth_csv(tmp_path / "tractor.truth.csv"), cfg.n_epochs)
    print(st)
    assert st["fix_rate"] >= 0.5  # open field, 2.4 km base: mostly fixed
    assert st["fixed_err95_m"] <= FIXED_ERR95_MAX_M  # and the fixes follow the truth trajectory
    assert st["float_err50_m"] > 2 * st["fixed_err95_m"]  # floats are decimetre-level, as they should be
