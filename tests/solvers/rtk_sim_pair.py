"""Test helper: a simulated base-rover pair written to RINEX and read back (RTK tests)."""

from __future__ import annotations

import numpy as np

from gnssaug.datasets.rinex import read_obs
from gnssaug.datasets.rinex.nav import read_nav
from gnssaug.ephemeris.store import EphStore


def simulated_pair(data_dir, folder, distance_km: float, duration_s: float, seed: int = 1):
    """A simulated base and rover ``distance_km`` apart, every error model on, written and read back.

    Returns rover and base (GPS+Galileo+BDS ObsSeries), the ephemeris store of the written nav file,
    and the base and rover true positions [m].
    """
    from gnssaug.datasets.sim.baseline import baseline_layout
    from gnssaug.datasets.sim.cli import DEFAULT_NAV, DEFAULT_START
    from gnssaug.datasets.sim.output import build_simulator, write_outputs
    from gnssaug.time import parse_time_arg

    nav_path = data_dir.joinpath(*DEFAULT_NAV)
    layout = baseline_layout([distance_km])
    sim = build_simulator(layout, (), nav_path, start_gpst_ns=parse_time_arg(DEFAULT_START), duration_s=duration_s,
                          seed=seed)
    write_outputs(sim, folder, layout, nav_path)
    _, rover = read_obs(folder / f"{layout.names[1]}.obs", systems="GEC")
    _, base = read_obs(folder / "BASE.obs", systems="GEC")
    return rover, base, EphStore(read_nav(folder / "nav.rnx")), layout.pos_ecef_m[0], layout.pos_ecef_m[1]


def fixed_errors(sols, truth_ecef_m):
    """Fix rate, and the fixed epochs' horizontal and up errors [m] against a static truth."""
    from gnssaug.datasets.truth import enu_errors
    from gnssaug.solvers.types import SolStatus

    fixed = sols.status == SolStatus.FIX
    enu = enu_errors(sols.pos_ecef_m[fixed], truth_ecef_m)
    return float(fixed.mean()), np.hypot(enu[:, 0], enu[:, 1]), enu[:, 2]
