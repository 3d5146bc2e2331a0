"""Rover trajectories and receiver surroundings of the simulator."""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.datasets.sim.errors import SimError
from gnssaug.datasets.sim.noise import ReceiverEnv
from gnssaug.datasets.sim.rovers import ROVER_NAMES, rover, write_truth_csv
from gnssaug.geodesy import enu_from_ecef_delta

SPEED_TOL_MPS = 0.05


@pytest.mark.parametrize(("name", "speed_mps"), [("tractor", 2.5), ("crane", 0.6), ("airport", 8.0)])
def test_rovers_move_at_their_speed_and_velocity_matches_positions(name, speed_mps):
    rx = rover(name)
    t = np.arange(0.0, 1800.0, 1.0)
    pos, vel = rx.states(t)
    speed = np.linalg.norm(vel, axis=1)
    moving = speed > 0.01
    assert moving.mean() > 0.5
    # Away from corners, speed is the nominal speed and velocity integrates to the path.
    np.testing.assert_allclose(np.median(speed[moving]), speed_mps, atol=SPEED_TOL_MPS)
    step = np.linalg.norm(np.diff(pos, axis=0), axis=1)
    assert step.max() <= speed_mps * 1.0 + 1e-6


def test_tractor_works_back_and_forth_passes_6_m_apart():
    rx = rover("tractor")
    pos, _ = rx.states(np.arange(0.0, 1200.0, 1.0))
    enu = enu_from_ecef_delta(pos - pos[0], pos[0])
    assert np.ptp(enu[:, 1]) == pytest.approx(400.0, abs=1.0)
    east_passes = np.unique(np.round(enu[np.abs(enu[:, 1] - 200.0) < 150.0, 0]))
    np.testing.assert_allclose(np.diff(east_passes), 6.0, atol=0.2)


def test_crane_dwells_at_the_ends_of_its_rails():
    pos, vel = rover("crane").states(np.arange(0.0, 2000.0, 1.0))
    still = np.linalg.norm(vel, axis=1) < 1e-6
    assert 0.1 < still.mean() < 0.4
    enu = enu_from_ecef_delta(pos - pos[0], pos[0])
    assert np.hypot(enu[:, 0], enu[:, 1]).max() == pytest.approx(500.0, abs=0.7)


def test_airport_loop_closes():
    rx = rover("airport")
    pos, _ = rx.states(np.array([0.0]))
    verts = np.vstack([rx.path.vertices_enu_m, rx.path.vertices_enu_m[:1]])
    length_m = np.linalg.norm(np.diff(verts, axis=0), axis=1).sum()
    back, _ = rx.states(np.array([length_m / rx.path.speed_mps]))
    np.testing.assert_allclose(back, pos, atol=1e-6)
    assert 2500.0 < length_m < 4000.0


def test_obstruction_sectors_wrap_through_north():
    env = ReceiverEnv(obstruction_deg=((300.0, 20.0, 20.0), (130.0, 200.0, 40.0)))
    horizon = np.degrees(env.horizon_rad(360))
    assert horizon[350] == 20.0 and horizon[10] == 20.0 and horizon[25] == 0.0
    assert horizon[150] == 40.0 and horizon[90] == 0.0


def test_unknown_rover_and_truth_file(tmp_path):
    with pytest.raises(SimError, match="tractor"):
        rover("bicycle")
    assert set(ROVER_NAMES) == {"tractor", "crane", "airport"}
    rx = rover("airport")
    pos, _ = rx.states(np.arange(3.0))
    write_truth_csv(tmp_path / "a.csv", np.arange(3, dtype=np.int64) * 10**9, pos)
    rows = (tmp_path / "a.csv").read_text().splitlines()
    assert rows[0].startswith("t_gpst_ns,x_m") and len(rows) == 4
