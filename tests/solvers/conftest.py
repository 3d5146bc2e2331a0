"""Fixtures of the solver tests."""

from __future__ import annotations

import pytest

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
