"""Ionosphere model of the simulator: a thin-shell VTEC field with travelling disturbances.

The vertical total electron content at a pierce point is

- a diurnal shape in local solar time: a night floor (``night_tecu``) and a Gaussian daytime bulge
  peaking at ``peak_lt_h`` with ``peak_tecu`` (at ``lat0_deg``). Defaults are for 30 N near solar
  maximum (2024-2025): 40-80 TECU daytime peaks are typical of central China at the northern crest
  of the equatorial anomaly (e.g. the IGS GIMs of 2024-2025), nights of 5-15 TECU. The default
  shape (10 TECU nights, 60 TECU at 14 h, 4.5 h wide) follows the broadcast Klobuchar model of
  2025-01-01, which the real WUHN single-point solutions of that day show to be about right
  (RTKLIB SPP with it is biased by only 1-3 m vertically);
- a north-south gradient (``grad_per_deg``, relative change per degree of latitude; negative:
  VTEC falls towards the north, away from the anomaly crest);
- travelling ionospheric disturbances (medium-scale TIDs, Hernandez-Pajares et al. 2006, Radio
  Science 41): a superposition of ``n_waves`` plane waves with wavelengths of 100-300 km and periods
  of 20-60 min in random directions, scaled to an rms of ``tid_rms_tecu`` (1.4 TECU: disturbances
  of 0.5-2 TECU with occasional peaks near 4). Many small waves rather than three big ones keep the
  statistics of one simulated day close to their expectation whatever the seed; with these values
  the rate of change of the geometry-free combination matches the real WUHN day within about 25 %
  in every elevation bin (``benchmarks/sim_realism.py``).

The slant TEC is VTEC times the thin-shell obliquity factor, and the delay on a carrier of frequency
f is ``40.3e16 STEC / f**2`` metres (first order), added to code and subtracted from phase. The field
itself is evaluated in :func:`gnssaug.kernels.sim.vtec_tecu`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gnssaug.kernels import sim as _k


@dataclass(frozen=True)
class IonoModel:
    """Parameters of the simulated ionosphere (defaults: 30 N, solar maximum; see the module doc)."""

    enabled: bool = True
    shell_height_m: float = 350e3
    night_tecu: float = 10.0
    peak_tecu: float = 60.0
    peak_lt_h: float = 14.0
    width_h: float = 4.5
    grad_per_deg: float = -0.05
    lat0_deg: float = 30.5
    n_waves: int = 12
    tid_rms_tecu: float = 1.4
    wavelength_km: tuple[float, float] = (100.0, 300.0)
    period_min: tuple[float, float] = (20.0, 60.0)

    def params(self, rng: np.random.Generator) -> np.ndarray:
        """The parameter vector of the kernel field (``ION_*`` layout), waves drawn from ``rng``.

        A disabled model gives a field of zero everywhere.
        """
        fixed = np.zeros(_k.ION_N_FIXED)
        fixed[_k.ION_SHELL_H_M] = self.shell_height_m
        fixed[_k.ION_WIDTH_H] = 1.0
        if not self.enabled:
            return fixed
        fixed[_k.ION_NIGHT_TECU] = self.night_tecu
        fixed[_k.ION_PEAK_TECU] = self.peak_tecu
        fixed[_k.ION_PEAK_LT_H] = self.peak_lt_h
        fixed[_k.ION_WIDTH_H] = self.width_h
        fixed[_k.ION_GRAD_PER_DEG] = self.grad_per_deg
        fixed[_k.ION_LAT0_DEG] = self.lat0_deg
        waves = np.zeros((self.n_waves, 5))
        for w in range(self.n_waves):
            k_rad_per_m = 2.0 * np.pi / (rng.uniform(*self.wavelength_km) * 1e3)
            heading = rng.uniform(0.0, 2.0 * np.pi)
            omega = 2.0 * np.pi / (60.0 * rng.uniform(*self.period_min))
            waves[w] = (rng.uniform(0.5, 2.0), k_rad_per_m * np.sin(heading), k_rad_per_m * np.cos(heading),
                        omega, rng.uniform(0.0, 2.0 * np.pi))
        if self.n_waves:
            waves[:, 0] *= self.tid_rms_tecu / np.sqrt(0.5 * np.sum(waves[:, 0] ** 2))
        return np.concatenate((fixed, waves.ravel()))

    def vtec_tecu(self, params: np.ndarray, lat_deg, lon_deg, t_s, sod_utc_s) -> np.ndarray:
        """VTEC [TECU] of the field at pierce points (arrays broadcast together); for checks and plots."""
        lat, lon, t, sod = np.broadcast_arrays(
            np.radians(lat_deg), np.radians(lon_deg), np.asarray(t_s, float), np.asarray(sod_utc_s, float)
        )
        out = np.array([_k.vtec_tecu(a, b, c, d, params) for a, b, c, d in zip(lat.ravel(), lon.ravel(),
                                                                                t.ravel(), sod.ravel(), strict=True)])
        return out.reshape(lat.shape)
