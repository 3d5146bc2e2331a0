"""Fixtures of the solver tests."""

from __future__ import annotations

import pytest
from rtk_sim_pair import simulated_pair

from gnssaug.datasets.rinex import read_obs
from gnssaug.datasets.rinex.nav import read_nav
from gnssaug.datasets.truth import load_llh_point
from gnssaug.ephemeris.store import EphStore


@pytest.fixture(scope="module")
def nagoya_rtk(nagoya_dir):
    """The Nagoya pair for RTK: rover, base, ephemerides, base truth, rover truth [m], base header."""
    eph = EphStore(read_nav(nagoya_dir / "base.nav"))
    _, rover = read_obs(nagoya_dir / "rover.obs")
    base_header, base = read_obs(nagoya_dir / "base.obs")
    base_pos = load_llh_point(nagoya_dir / "base_position.txt").pos_ecef_m[0]
    truth = load_llh_point(nagoya_dir / "rover_position.txt").pos_ecef_m[0]
    return rover, base, eph, base_pos, truth, base_header


#: Length of the simulated pairs the RTK tests share [s] (seed 1).
SIM_DURATION_S = 300.0


@pytest.fixture(scope="session")
def sim_5km(data_dir, tmp_path_factory):
    """Simulated 5 km pair, every error model on, 300 s (simulated once per test session)."""
    return simulated_pair(data_dir, tmp_path_factory.mktemp("sim_5km"), 5.0, SIM_DURATION_S)


@pytest.fixture(scope="session")
def sim_20km(data_dir, tmp_path_factory):
    """Simulated 20 km pair, every error model on, 300 s (simulated once per test session)."""
    return simulated_pair(data_dir, tmp_path_factory.mktemp("sim_20km"), 20.0, SIM_DURATION_S)
