"""RTK on a simulated 20 km baseline: the relative zenith wet delay state (``RtkOptions.tropo``).

The simulator puts a different, slowly moving zenith wet delay at each station
(:mod:`gnssaug.datasets.sim.tropo`); the engine's model at each receiver is Saastamoinen with a
standard atmosphere, so the double differences keep the difference of the two stations' residual
wet delays, mapped by elevation: with every integer right, it moves the fixed height by about
2 cm at 20 km (measured over 300 s, seed 1: fixed vertical RMS 18.8 mm with ``tropo="off"``). One
relative zenith wet delay state (``tropo="est"``, RTKLIB's ``est-ztd``) takes it out (measured
10.3 mm); this test fails without the state.
"""

from __future__ import annotations

import numpy as np
import pytest
from rtk_sim_pair import fixed_errors

from gnssaug.solvers.rtk import RtkOptions, solve_rtk

#: Fixed vertical RMS bound [m]: the millimetre phase noise and the 20 km double-difference
#: ionosphere states' noise leave about 1 cm; the unestimated troposphere adds 1.5-2 cm on top.
MAX_FIXED_V_RMS_M = 0.015
#: Correct integers keep the fix horizontally within millimetres; a wrong one moves it by centimetres.
MAX_FIXED_H_M = 0.02
MIN_FIX_RATE = 0.90



@pytest.mark.slow
def test_the_tropo_state_brings_the_20km_height_within_bound(sim_20km):
    rover, base, eph, base_pos, truth = sim_20km
    rate, h, v = fixed_errors(solve_rtk(rover, base, eph, base_pos, RtkOptions(systems="GEC", tropo="est")), truth)
    rate0, _, v0 = fixed_errors(solve_rtk(rover, base, eph, base_pos, RtkOptions(systems="GEC", tropo="off")), truth)
    v_rms, v0_rms = float(np.sqrt(np.mean(v**2))), float(np.sqrt(np.mean(v0**2)))
    print(f"20 km fixed V RMS: tropo=est {1e3 * v_rms:.1f} mm ({100 * rate:.1f} % fixed), "
          f"tropo=off {1e3 * v0_rms:.1f} mm ({100 * rate0:.1f} %)")
    assert rate >= MIN_FIX_RATE
    assert h.max() < MAX_FIXED_H_M
    assert v_rms < MAX_FIXED_V_RMS_M
    assert v0_rms > MAX_FIXED_V_RMS_M  # the bound is one the model without the state misses


def test_auto_switches_the_state_by_baseline_length():
    from gnssaug.solvers.rtk import RtkEngine

    class _NoSats:
        pass

    base = np.array([-2267749.0, 5009154.0, 3221290.0])
    engine = RtkEngine(_NoSats(), base, RtkOptions(systems="GEC", tropo="auto"))
    engine.x[:3] = base + np.array([0.0, 0.0, 1.0])
    assert not engine._update_tropo()
    engine.x[:3] = base + np.array([12e3, 0.0, 0.0])
    assert engine._update_tropo()
    k = engine._trop
    assert engine.p[k, k] == pytest.approx(0.0025**2 * 12.0)
    engine.x[:3] = base + np.array([9e3, 0.0, 0.0])  # hysteresis: stays on above 80 % of 10 km
    assert engine._update_tropo()
    engine.x[:3] = base + np.array([7e3, 0.0, 0.0])
    assert not engine._update_tropo()
    assert not engine._slot_used[k] and engine.p[k, k] == 0.0
    off = RtkEngine(_NoSats(), base, RtkOptions(systems="GEC", tropo="off"))
    assert off.nx == off._trop  # no state allocated
