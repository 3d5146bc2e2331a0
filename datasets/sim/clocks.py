"""Clock and orbit error models of the simulator.

Receiver clocks
    ``"jump"`` (free-running oscillator, the default of stations): an initial offset, a frequency
    offset of 0.05-0.5 ppm with a random walk, and a millisecond jump whenever the offset passes
    +-0.5 ms (the receiver keeps its time tags within a millisecond of GPST by steps, as many
    geodetic receivers do; pseudorange and phase both carry the jump). ``"steered"`` (rovers):
    offset kept within ~50 ns by a loop.

Broadcast orbit and clock errors
    The receivers see the TRUE satellite position and clock: broadcast plus an error of about a
    metre, slowly varying (periods of 3-12 h) and common to all receivers; a user correcting with
    broadcast ephemerides keeps this error, and differential positioning cancels it over short
    baselines. Sigmas per system (radial, along-track, cross-track, clock) follow published
    signal-in-space range error studies: GPS and Galileo ~0.2-0.6 m, BDS-3 MEO ~0.5-1 m, BDS-2 and
    GEO larger (Montenbruck et al. 2018, GPS Solutions 22:36).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gnssaug.constants import C_MPS
from gnssaug.gnss import BDS, GAL, SAT_CLOCK_GROUP, SAT_IS_GEO, SAT_SYSTEM

_MS_S = 1e-3


@dataclass(frozen=True)
class ReceiverClockModel:
    """A receiver clock: ``kind`` is ``"jump"`` (millisecond steps) or ``"steered"``."""

    kind: str = "jump"
    freq_offset_ppm: tuple[float, float] = (0.05, 0.5)
    freq_random_walk: float = 1e-11  # frequency random walk per sqrt(second) [s/s / sqrt(s)]

    def offsets(self, rng: np.random.Generator, t_s: np.ndarray):
        """Clock offset [s] and drift [s/s] at the epochs ``t_s`` [s from start] (both float64[E])."""
        t_s = np.asarray(t_s, dtype=np.float64)
        dt = np.diff(t_s, prepend=t_s[0])
        if self.kind == "steered":
            # The steering loop keeps a residual wander of some 50 ns with periods of 5-15 minutes.
            omega = 2.0 * np.pi / rng.uniform(300.0, 900.0)
            phase = rng.uniform(0.0, 2.0 * np.pi)
            amp_s = 50e-9
            return amp_s * np.sin(omega * t_s + phase), amp_s * omega * np.cos(omega * t_s + phase)
        sign = rng.choice([-1.0, 1.0])
        drift = sign * rng.uniform(*self.freq_offset_ppm) * 1e-6
        drift = drift + np.cumsum(self.freq_random_walk * np.sqrt(dt) * rng.standard_normal(t_s.size))
        free = rng.uniform(-0.5, 0.5) * _MS_S + np.cumsum(drift * dt)
        # Millisecond steps keep the offset within +-0.5 ms.
        offset = free - np.round(free / _MS_S) * _MS_S
        return offset, drift


@dataclass(frozen=True)
class OrbitClockErrorModel:
    """Broadcast orbit and clock error sigmas [m] per satellite group (see the module docstring)."""

    enabled: bool = True
    gps_racc_m: tuple[float, float, float, float] = (0.25, 0.8, 0.5, 0.5)
    gal_racc_m: tuple[float, float, float, float] = (0.2, 0.5, 0.4, 0.3)
    bds2_racc_m: tuple[float, float, float, float] = (0.5, 1.5, 1.0, 1.0)
    bds3_racc_m: tuple[float, float, float, float] = (0.3, 0.9, 0.6, 0.6)
    geo_racc_m: tuple[float, float, float, float] = (0.8, 2.5, 1.5, 1.0)
    period_h: tuple[float, float] = (3.0, 12.0)

    def params(self, rng: np.random.Generator, sat: np.ndarray) -> np.ndarray:
        """Per satellite and component (R, A, C, clock): mean, amplitude, angular rate, phase.

        Returns float64[J, 4, 4].
        """
        out = np.zeros((sat.size, 4, 4))
        if not self.enabled:
            return out
        for i, s in enumerate(sat):
            system, group = SAT_SYSTEM[s], SAT_CLOCK_GROUP[s]
            if SAT_IS_GEO[s]:
                sig = self.geo_racc_m
            elif system == BDS:
                sig = self.bds3_racc_m if group == 5 else self.bds2_racc_m
            elif system == GAL:
                sig = self.gal_racc_m
            else:
                sig = self.gps_racc_m
            sig = np.asarray(sig)
            out[i, :, 0] = sig * rng.standard_normal(4) * 0.6
            out[i, :, 1] = sig * rng.uniform(0.5, 1.1, 4)
            out[i, :, 2] = 2.0 * np.pi / (rng.uniform(*self.period_h, 4) * 3600.0)
            out[i, :, 3] = rng.uniform(0.0, 2.0 * np.pi, 4)
        return out

    @staticmethod
    def apply(params, t_s, pos_m, vel_mps, clk_s, drift_sps):
        """Add the errors to broadcast states in place.

        Parameters
        ----------
        params : float64[J, 4, 4]
            From :meth:`params`.
        t_s : float64[E]
            Seconds since the start.
        pos_m, vel_mps : float64[E, J, 3]
            Broadcast states (modified: they become the true states).
        clk_s, drift_sps : float64[E, J]
            Broadcast clock offsets and drifts (modified).
        """
        t = np.asarray(t_s, dtype=np.float64)[:, None, None]
        arg = params[None, :, :, 2] * t + params[None, :, :, 3]
        err = params[None, :, :, 0] + params[None, :, :, 1] * np.sin(arg)  # [E, J, 4]
        rate = params[None, :, :, 1] * params[None, :, :, 2] * np.cos(arg)
        r_hat = pos_m / np.linalg.norm(pos_m, axis=-1, keepdims=True)
        c_vec = np.cross(pos_m, vel_mps)
        c_norm = np.linalg.norm(c_vec, axis=-1, keepdims=True)
        c_hat = c_vec / np.where(c_norm > 0.0, c_norm, 1.0)  # unusable satellites carry zeros
        a_hat = np.cross(c_hat, r_hat)
        pos_m += err[..., 0:1] * r_hat + err[..., 1:2] * a_hat + err[..., 2:3] * c_hat
        vel_mps += rate[..., 0:1] * r_hat + rate[..., 1:2] * a_hat + rate[..., 2:3] * c_hat
        clk_s += err[..., 3] / C_MPS
        drift_sps += rate[..., 3] / C_MPS
