"""Ionosphere model of the simulator: a thin-shell VTEC field with travelling disturbances.

The vertical total electron content at a pierce point is

- a diurnal shape in local solar time: a night floor (``night_tecu``) and a Gaussian daytime bulge
  peaking at ``peak_lt_h`` with ``peak_tecu`` (at ``lat0_deg``). Defaults are for 30 N near solar
  maximum (2024-2025): 40-80 TECU daytime peaks are typical of central China at the northern crest
  of the equatorial anomaly (e.g. the IGS GIMs of 2024-2025), nights of 5-15 TECU;
- a north-south gradient (``grad_per_deg``, relative change per degree of latitude; negative:
  VTEC falls towards the north, away from the anomaly crest);
- travelling ionospheric disturbances: ``n_waves`` plane waves with wavelengths of 100-300 km,
  amplitudes of 0.5-2 TECU (default range 0.5-1.5 TECU) and periods of 20-60 min in random
  directions (medium-scale TIDs, Hernandez-Pajares et al. 2006, Radio Science 41). The default
  amplitudes were checked against the rate of change of the geometry-free combination of the real
  WUHN day (``benchmarks/sim_realism.py``); 2 TECU waves make it twice too fast for that day.

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
    night_tecu: float = 9.0
    peak_tecu: float = 55.0
    peak_lt_h: float = 14.0
    width_h: float = 3.5
    grad_per_deg: float = -0.06
    lat0_deg: float = 30.5
    n_waves: int = 3
    wave_amp_tecu: tuple[float, float] = (0.5, 1.5)
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
        waves = []
        for _ in range(self.n_waves):
            amp = rng.uniform(*self.wave_amp_tecu)
            k_rad_per_m = 2.0 * np.pi / (rng.uniform(*self.wavelength_km) * 1e3)
            heading = rng.uniform(0.0, 2.0 * np.pi)
            omega = 2.0 * np.pi / (60.0 * rng.uniform(*self.period_min))
            waves += [amp, k_rad_per_m * np.sin(heading), k_rad_per_m * np.cos(heading), omega,
                      rng.uniform(0.0, 2.0 * np.pi)]
        return np.concatenate((fixed, np.array(waves, dtype=np.float64)))

    def vtec_tecu(self, params: np.ndarray, lat_deg, lon_deg, t_s, sod_utc_s) -> np.ndarray:
        """VTEC [TECU] of the field at pierce points (arrays broadcast together); for checks and plots."""
        lat, lon, t, sod = np.broadcast_arrays(
            np.radians(lat_deg), np.radians(lon_deg), np.asarray(t_s, float), np.asarray(sod_utc_s, float)
        )
        out = np.array([_k.vtec_tecu(a, b, c, d, params) for a, b, c, d in zip(lat.ravel(), lon.ravel(),
                                                                                t.ravel(), sod.ravel(), strict=True)])
        return out.reshape(lat.shape)
