"""Simulator realism against the real WUHN day (issue 5): statistics within a factor of 1.5."""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.datasets.sim.realism import compare, wuhn_comparison

FACTOR = 1.5  # the acceptance factor between simulated and real statistics


@pytest.mark.slow
def test_simulated_wuhn_matches_real_wuhn_statistics(data_dir):
    sim, real = wuhn_comparison(data_dir, hours=24.0, seed=1)
    rows = compare(sim, real, FACTOR)
    keys = {r[0] for r in rows}
    # Every statistic kind is present for both groups, so the check cannot pass by being empty.
    for group in ("GPS", "BDS-2"):
        assert f"{group} visible" in keys
        assert sum(k.startswith(f"{group} MP1") for k in keys) >= 4
        assert sum(k.startswith(f"{group} GF rate") for k in keys) >= 4
    outside = [(k, round(r, 2)) for k, _, _, r, ok in rows if not ok]
    assert outside == []


def test_statistics_see_the_multipath_switch(data_dir):
    """The MP1 statistic responds to the simulator's multipath and noise switches."""
    from dataclasses import replace

    from gnssaug.datasets.rinex.nav import read_nav
    from gnssaug.datasets.sim.engine import SimConfig, Simulator
    from gnssaug.datasets.sim.layout import WUHN_ECEF_M
    from gnssaug.datasets.sim.realism import elevations_deg, flat_statistics
    from gnssaug.datasets.sim.rovers import Receiver
    from gnssaug.datasets.sim.satellites import BroadcastSource
    from gnssaug.time import gpst_ns_from_calendar

    source = BroadcastSource(read_nav(data_dir / "wuhan_wuhn_20250101" / "BRDC00IGS_R_20250010000_01D_MN.rnx.gz"))
    cfg = SimConfig(start_gpst_ns=int(gpst_ns_from_calendar(2025, 1, 1, 2)), duration_s=7200, rate_hz=1 / 30,
                    seed=3, block_s=3600)
    spreads = []
    for c in (cfg, replace(cfg, multipath=False, noise=False)):
        series = Simulator(c, [Receiver("WUHN", WUHN_ECEF_M)], source.sat, source).run()["WUHN"]
        st = flat_statistics(series, elevations_deg(series, WUHN_ECEF_M, source.store), ("GPS",))
        spreads.append(np.nanmean([v for k, v in st.items() if "MP1" in k]))
    assert spreads[1] < 0.02 < 0.2 < spreads[0]
