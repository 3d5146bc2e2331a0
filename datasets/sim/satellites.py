"""Broadcast satellite states for the simulator, from the project's ephemeris store.

The simulator takes every GPS, Galileo and BeiDou satellite with a broadcast ephemeris in the
navigation data and asks :class:`gnssaug.ephemeris.store.EphStore` for its states; this module
only adapts the store's per-epoch interface to the simulator's block interface
(:data:`gnssaug.datasets.sim.engine.SatelliteStates`). Satellite group delays (TGD/BGD) come from
the same store so that simulated code carries the biases a user removes with them.
"""

from __future__ import annotations

import numpy as np

from gnssaug.constants import C_MPS
from gnssaug.datasets.sim.errors import SimError
from gnssaug.datasets.sim.noise import SIM_SYSTEMS
from gnssaug.gnss import N_BAND, SAT_SYSTEM


class BroadcastSource:
    """Satellite states from broadcast ephemerides.

    Parameters
    ----------
    nav : gnssaug.ephemeris.records.NavData
        Navigation data (``gnssaug.datasets.rinex.nav.read_nav``).
    systems : sequence of int
        Systems to simulate (GPS, Galileo, BeiDou).
    """

    def __init__(self, nav, systems=SIM_SYSTEMS):
        from gnssaug.ephemeris.store import EphStore

        self.store = EphStore(nav)
        sat = self.store.satellites()
        self.sat = sat[np.isin(SAT_SYSTEM[sat], list(systems))].astype(np.int16)
        if self.sat.size == 0:
            raise SimError("the navigation data hold no healthy GPS, Galileo or BeiDou ephemerides")

    def __call__(self, sat, t_gpst_ns):
        """States of ``sat`` at each ``t_gpst_ns`` (see :data:`~gnssaug.datasets.sim.engine.SatelliteStates`)."""
        sat = np.asarray(sat, dtype=np.int16)
        t_gpst_ns = np.asarray(t_gpst_ns, dtype=np.int64)
        n_e, n_j = t_gpst_ns.size, sat.size
        st = self.store.sat_states(np.tile(sat, n_e), np.repeat(t_gpst_ns, n_j))
        ok = np.asarray(st.valid, dtype=bool) & np.isfinite(st.clk_s)
        return (st.pos_ecef_m.reshape(n_e, n_j, 3), st.vel_ecef_mps.reshape(n_e, n_j, 3),
                st.clk_s.reshape(n_e, n_j), st.clk_drift_sps.reshape(n_e, n_j), ok.reshape(n_e, n_j))

    def group_delays_m(self, sat) -> np.ndarray:
        """Broadcast satellite group delays per slot times c [m] (float64[J, N_BAND], 0 where none).

        Simulated code carries them, so a user who subtracts the broadcast TGD/BGD (as single-point
        engines do) sees the signals the way real receivers record them.
        """
        sat = np.asarray(sat, dtype=np.int16)
        out = np.zeros((sat.size, N_BAND))
        for slot in range(N_BAND):
            gd = np.asarray(self.store.group_delay_s(sat, slot), dtype=np.float64)
            out[:, slot] = np.where(np.isfinite(gd), gd, 0.0) * C_MPS
        return out
