"""Solver types: status flags, defaults, series round trip, the BaseStation protocol."""

from __future__ import annotations

import numpy as np

from gnssaug.gnss import N_CLOCK_GROUPS
from gnssaug.obs import ObsEpoch
from gnssaug.solvers.types import BaseStation, SolStatus, Solution, SolutionSeries


def test_status_order_and_pos_quality_flags():
    assert max(SolStatus.SPP, SolStatus.FIX, SolStatus.FLOAT) is SolStatus.FIX
    assert [s.pos_q for s in SolStatus] == [0, 5, 4, 2, 1]


def test_default_solution_is_none_with_nan_position():
    sol = Solution(t_gpst_ns=5, reason="2 satellites < 4")
    assert not sol.ok and sol.status is SolStatus.NONE
    assert np.isnan(sol.pos_ecef_m).all() and sol.sats.dtype == np.int16


def test_series_round_trip():
    a = Solution(1, pos_ecef_m=np.array([1.0, 2.0, 3.0]), status=SolStatus.SPP, n_sat=7)
    b = Solution(2, reason="no satellites")
    series = SolutionSeries.from_solutions([a, b])
    assert len(series) == 2
    assert series.solution(0).status is SolStatus.SPP
    np.testing.assert_array_equal(series.solution(0).pos_ecef_m, [1.0, 2.0, 3.0])
    assert series.solution(1).reason == "no satellites" and not series.solution(1).ok


def test_base_station_protocol_is_structural():
    class FileBase:
        pos_ecef_m = np.zeros(3)

        def epochs(self):
            yield ObsEpoch.empty(0, np.zeros(0, np.int16))

        def epoch_at(self, t_gpst_ns, tolerance_ns):
            return None

    assert isinstance(FileBase(), BaseStation)
    assert not isinstance(object(), BaseStation)


def test_solutions_are_dated_tag_minus_receiver_clock():
    from gnssaug.constants import C_MPS
    from gnssaug.solvers.types import solution_time_ns

    tags = np.array([1_000_000_000_000, 2_000_000_000_000, 3_000_000_000_000])
    clk = np.full((3, N_CLOCK_GROUPS), np.nan)
    clk[0, 0], clk[0, 4] = 3e-3 * C_MPS, 9e-3 * C_MPS  # GPS clock wins over BDS-2's
    clk[1, 5] = -0.5e-3 * C_MPS  # no GPS: the first group that has a clock
    times = solution_time_ns(tags, clk)
    assert times.tolist() == [tags[0] - 3_000_000, tags[1] + 500_000, tags[2]]  # none: the tag
    sol = Solution(t_gpst_ns=int(tags[0]), clk_bias_m=clk[0])
    assert sol.time_ns == tags[0] - 3_000_000
