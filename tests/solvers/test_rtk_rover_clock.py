"""RTK with a rover whose clock runs a few milliseconds off GPS time (u-blox receivers).

Such a rover tags its epochs ``t + dt`` and its code and phase carry ``c dt``; the engine must give
the same positions as for a receiver steered to GPS time. The Nagoya rover is turned into one
exactly: tags ``+ dt``, pseudoranges ``+ c dt``, phases ``+ f dt`` (the same measurements taken by a
receiver whose clock is ``dt`` ahead). At the last epoch (08:25:00) a toe midpoint of the Galileo
records lies between the base epoch and the rover's tag: before the engine selected both
receivers' records at the base epoch, the rover used the new records and the base the old ones,
and that epoch was 11 mm off. Solutions are dated tag minus receiver clock (RTKLIB's convention),
so both rovers' solutions carry the same times.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gnssaug.constants import C_MPS
from gnssaug.gnss import BAND_FREQ_HZ, SAT_SYSTEM
from gnssaug.solvers.rtk import RtkOptions, solve_rtk
from gnssaug.solvers.types import SolStatus

#: Largest position change allowed from the clock offset [m]: what remains is the rover's 1-3 ms
#: clock term in the satellite clock and Sagnac evaluation, micrometres.
MAX_CHANGE_M = 2e-4
#: Largest dating difference [ns]: the clock estimate from code is good to tens of nanoseconds.
MAX_TIME_ERROR_NS = 1000


def _clock_ahead(series, dt_ns: int):
    """The same observations from a receiver whose clock is ``dt_ns`` ahead of GPS time."""
    dt_s = dt_ns * 1e-9
    freq_hz = BAND_FREQ_HZ[SAT_SYSTEM[series.sat].astype(np.int64)]
    return replace(series, t_gpst_ns=series.t_gpst_ns + dt_ns, pr_m=series.pr_m + C_MPS * dt_s,
                   cp_cyc=series.cp_cyc + freq_hz * dt_s)


@pytest.mark.parametrize("dt_ms", [3, -3])
def test_rover_clock_offset_leaves_the_solution_unchanged(nagoya_rtk, dt_ms):
    rover, base, eph, base_pos, _, _ = nagoya_rtk
    opts = RtkOptions(systems="GEC")
    ref = solve_rtk(rover, base, eph, base_pos, opts)
    off = solve_rtk(_clock_ahead(rover, dt_ms * 1_000_000), base, eph, base_pos, opts)
    assert np.array_equal(off.status, ref.status) and np.all(ref.status == SolStatus.FIX)
    change_m = np.linalg.norm(off.pos_ecef_m - ref.pos_ecef_m, axis=1)
    assert change_m.max() < MAX_CHANGE_M, f"epoch {change_m.argmax()} moved {1e3 * change_m.max():.2f} mm"
    # and the solutions are dated when the measurements were taken, as the steered rover's are
    np.testing.assert_allclose(off.time_ns() - ref.time_ns(), 0, atol=MAX_TIME_ERROR_NS)
