"""Half-cycle ambiguities (LLI bit 1) on the real Nagoya pair: low-cost rovers set the flag while
their phase may be half a cycle off (about a third of the TST 2019 u-blox rover's phases carry it).

The rover's GPS L1 phases of some satellites are shifted by half a cycle, as a receiver that has
not yet resolved the carrier's sign would report them. Unflagged, that shift stops every fix (the
double differences are half-integers); flagged, those phases stay in the float solution only, are
never the reference, and the rest fixes as on the clean pair.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from gnssaug.datasets.truth import enu_errors
from gnssaug.gnss import GPS, sat_index
from gnssaug.obs import LLI_HALF_CYCLE
from gnssaug.solvers.rtk import RtkOptions, solve_rtk
from gnssaug.solvers.types import SolStatus

#: GPS satellites in view over the whole Nagoya file (one of them the highest, a reference).
HALF_SATS = [sat_index(GPS, prn) for prn in (5, 11, 13)]
L1_SLOT = 0


@pytest.fixture(scope="module")
def nagoya_pair(nagoya_rtk):
    return nagoya_rtk[:5]


def _half_cycle_rover(rover, flagged: bool, until_s: float | None = None):
    """The rover with the L1 phases of HALF_SATS half a cycle off (and flagged) up to ``until_s``."""
    r = copy.deepcopy(rover)
    rows = np.isin(r.sat, HALF_SATS)
    if until_s is not None:
        epoch_of_row = np.repeat(np.arange(len(r)), np.diff(r.offsets))
        t_s = (r.t_gpst_ns[epoch_of_row] - r.t_gpst_ns[0]) / 1e9
        rows &= t_s < until_s
    assert rows.sum() > 100
    r.cp_cyc[rows, L1_SLOT] += 0.5
    if flagged:
        r.lli[rows, L1_SLOT] |= LLI_HALF_CYCLE
    return r


def _fixed_errors(pair, rover, n_freq: int = 2):
    _, base, eph, base_pos, truth = pair
    sols = solve_rtk(rover, base, eph, base_pos, RtkOptions(systems="GEC", n_freq=n_freq))
    fixed = sols.status == SolStatus.FIX
    return fixed, enu_errors(sols.pos_ecef_m[fixed], truth)


def test_the_satellites_are_in_view_all_along(nagoya_pair):
    rover = nagoya_pair[0]
    assert all(np.count_nonzero(rover.sat == s) == len(rover) for s in HALF_SATS)


def test_unflagged_half_cycles_stop_every_fix(nagoya_pair):
    fixed, _ = _fixed_errors(nagoya_pair, _half_cycle_rover(nagoya_pair[0], flagged=False))
    assert fixed.mean() < 0.05  # what the flag handling below is needed for


def test_flagged_half_cycles_stay_float_and_the_rest_fixes(nagoya_pair):
    fixed, enu = _fixed_errors(nagoya_pair, _half_cycle_rover(nagoya_pair[0], flagged=True))
    first = int(np.argmax(fixed))
    assert first <= 10 and fixed[first:].all()
    assert np.max(np.hypot(enu[:, 0], enu[:, 1])) < 0.005
    assert np.max(np.abs(enu[:, 2])) < 0.01


@pytest.mark.parametrize("n_freq", [1, 2])
def test_resolving_the_half_cycle_restarts_the_ambiguity(nagoya_pair, n_freq):
    # Flagged and half a cycle off for 2 min, then resolved: the receiver removes the half cycle.
    # With one frequency (an L1-only rover) no geometry-free or wide-lane test sees that jump.
    rover = _half_cycle_rover(nagoya_pair[0], flagged=True, until_s=120.0)
    fixed, enu = _fixed_errors(nagoya_pair, rover, n_freq)
    first = int(np.argmax(fixed))
    assert first <= 10 and fixed[first:].mean() > 0.98
    assert np.max(np.hypot(enu[:, 0], enu[:, 1])) < 0.005
