"""Test helper: satellites on exact circular orbits, an independent stand-in for broadcast states.

Used only to check the simulator's geometry against an independent light-time computation; the
simulator itself gets broadcast states from the ephemeris store.
"""

from __future__ import annotations

import numpy as np

from gnssaug.constants import MU_GPS_M3PS2, NS_PER_S, OMEGA_E_GPS_RADPS
from gnssaug.gnss import BDS, GPS, sat_index

RADIUS_M = 26_560e3
SATS = np.array(sorted([sat_index(GPS, p) for p in (1, 2, 3, 5, 8, 13, 21, 25)]
                       + [sat_index(BDS, p) for p in (6, 21, 22, 35)]), dtype=np.int16)


def circular_states_at(sat, t_s):
    """ECEF position/velocity of the helper orbits at float times t_s [s] (arrays [E, J, 3])."""
    t = np.asarray(t_s, dtype=np.float64)[:, None]
    k = np.asarray(sat, dtype=np.float64)[None, :]
    n = np.sqrt(MU_GPS_M3PS2 / RADIUS_M**3)
    raan = 0.7 * k
    inc = np.radians(55.0)
    u = n * t + 1.3 * k
    x_orb = RADIUS_M * np.cos(u)
    y_orb = RADIUS_M * np.sin(u)
    # Inertial position, then rotate into ECEF by the Earth rotation angle.
    xi = x_orb * np.cos(raan) - y_orb * np.cos(inc) * np.sin(raan)
    yi = x_orb * np.sin(raan) + y_orb * np.cos(inc) * np.cos(raan)
    zi = y_orb * np.sin(inc)
    th = OMEGA_E_GPS_RADPS * t
    pos = np.stack([np.cos(th) * xi + np.sin(th) * yi, -np.sin(th) * xi + np.cos(th) * yi, zi], axis=-1)
    return pos


def circular_states(sat, t_gpst_ns, t0_ns=0):
    """The SatelliteStates interface of the simulator for the helper orbits."""
    t_s = (np.asarray(t_gpst_ns, dtype=np.int64) - t0_ns) / NS_PER_S
    pos = circular_states_at(sat, t_s)
    vel = (circular_states_at(sat, t_s + 1e-3) - circular_states_at(sat, t_s - 1e-3)) / 2e-3
    clk = 1e-4 + 1e-11 * t_s[:, None] + 1e-6 * np.asarray(sat)[None, :]
    drift = np.full(clk.shape, 1e-11)
    return pos, vel, clk, drift, np.ones(clk.shape, dtype=bool)
