"""Broadcast satellite states for the simulator, from the project's ephemeris store.

The simulator takes every GPS, Galileo and BeiDou satellite with a broadcast ephemeris in the
navigation data and asks :class:`gnssaug.ephemeris.store.EphStore` for its states; this module
only adapts the store's per-epoch interface to the simulator's block interface
(:data:`gnssaug.datasets.sim.engine.SatelliteStates`). Satellite group delays (TGD/BGD) come from
the same store so that simulated code carries the biases a user removes with them.
"""

from __future__ import annotations

import numpy as np
from gnssaug.datasets.sim.errors import SimError
from gnssaug.datasets.sim.noise import SIM_SYSTEMS

from gnssaug.constants import C_MPS
from gnssaug.gnss import N_BAND, SAT_SYSTEM

_DRIFT_STEP_S = 0.5  # finite-difference step for velocities/drifts a store does not provide [s]


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
        sat = np.unique(np.asarray(nav.kepler.sat, dtype=np.int16))
        self.sat = sat[np.isin(SAT_SYSTEM[sat], list(systems))]
        if self.sat.size == 0:
            raise SimError("the navigation data hold no GPS, Galileo or BeiDou ephemerides")

    def _at(self, sat, t_ns: int, dt_s: float):
        return self.store.sat_states(sat, int(t_ns), np.full(sat.size, dt_s))

    def __call__(self, sat, t_gpst_ns):
        """States of ``sat`` at each ``t_gpst_ns`` (see :data:`~gnssaug.datasets.sim.engine.SatelliteStates`)."""
        sat = np.asarray(sat, dtype=np.int16)
        t_gpst_ns = np.asarray(t_gpst_ns, dtype=np.int64)
        shape = (t_gpst_ns.size, sat.size)
        pos = np.empty(shape + (3,))
        vel = np.empty(shape + (3,))
        clk = np.empty(shape)
        drift = np.empty(shape)
        ok = np.empty(shape, dtype=bool)
        for e, t in enumerate(t_gpst_ns):
            st = self._at(sat, t, 0.0)
            pos[e] = st.pos_ecef_m
            clk[e] = st.clk_s
            ok[e] = np.asarray(st.valid, dtype=bool)
            v = getattr(st, "vel_ecef_mps", None)
            d = getattr(st, "clk_drift_sps", None)
            if v is None or d is None:
                ahead = self._at(sat, t, _DRIFT_STEP_S)
                v = (ahead.pos_ecef_m - st.pos_ecef_m) / _DRIFT_STEP_S if v is None else v
                d = (ahead.clk_s - st.clk_s) / _DRIFT_STEP_S if d is None else d
            vel[e] = v
            drift[e] = d
        return pos, vel, clk, drift, ok & np.isfinite(clk)

    def group_delays_m(self, sat) -> np.ndarray:
        """Satellite group delays per slot [m] (float64[J, N_BAND], 0 where none is broadcast).

        These are what a user subtracts from code with the broadcast TGD/BGD; simulated code
        carries them so that single-point users see the signals the way real receivers do.
        """
        sat = np.asarray(sat, dtype=np.int16)
        out = np.zeros((sat.size, N_BAND))
        if not hasattr(self.store, "group_delay_s"):
            return out
        for slot in range(N_BAND):
            try:
                gd = np.asarray(self.store.group_delay_s(sat, slot), dtype=np.float64)
            except Exception:  # a store without delays for this slot: leave zero  # noqa: BLE001
                continue
            out[:, slot] = np.where(np.isfinite(gd), gd, 0.0) * C_MPS
        return out

