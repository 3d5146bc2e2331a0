"""Ionosphere model of the simulator: a thin-shell VTEC field with travelling disturbances.

The vertical total electron content at a pierce point is

- a diurnal shape in local solar time: a night floor (``night_tecu``) and a Gaussian daytime bulge
  peaking at ``peak_lt_h`` with ``peak_tecu`` (at ``lat0_deg``). Defaults are for 30 N near solar
  maximum (2024-2025): 40-80 TECU daytime peaks are typical of central China at the northern crest
  of the equatorial anomaly (e.g. the IGS GIMs of 2024-2025), nights of 5-15 TECU. The default
  shape (12 TECU nights, 75 TECU at 14 h, 4.5 h wide) follows the broadcast Klobuchar model of
  2025-01-01 (36-66 TECU over Wuhan from 8 to 14 h local time), which the real WUHN single-point
  solutions of that day show to be about right (RTKLIB SPP with it is biased by 1-3 m vertically);
- a north-south gradient (``grad_per_deg``, relative change per degree of latitude; negative:
  VTEC falls towards the north, away from the anomaly crest);
- travelling ionospheric disturbances: medium-scale waves (MSTIDs, Hernandez-Pajares et al. 2006,
  Radio Science 41): ``n_waves`` plane waves of 100-300 km wavelength and 20-60 min period in
  random directions, scaled to an rms of ``tid_rms_tecu``; and large-scale waves (LSTIDs,
  1,000-3,000 km travelling at 400-1,000 m/s, rms ``lstid_rms_tecu``; Tsugawa et al. 2004,
  Annales Geophysicae 22). Many small waves rather than a few big ones keep the statistics of one
  simulated day close to their expectation whatever the seed.

Calibration (``benchmarks/sim_realism.py``, ``benchmarks/sim_baseline_fixrate.py``): MSTIDs of the
sizes often quoted (0.5-2 TECU at 100-300 km) make spatial gradients of ~0.1 TECU/km, 5-10 cm of
double-difference delay over 5 km, under which RTKLIB fixes no 5 km baseline at all, unlike real
5 km baselines. The defaults therefore keep MSTIDs at 0.3 TECU rms and carry most of the temporal
variability in LSTIDs (1.15 TECU rms), whose gradients are ten times gentler; the north-south
gradient is 2 %/deg and the diurnal peak 75 TECU. With these, the geometry-free rates of the real
WUHN day are matched within a factor of 1.5 in every elevation bin above 10 deg (seeds 1-3; the
GEO-dominated BDS-2 bins fall to 0.6 for some seeds), RTKLIB fixes ~96 % of a 5 km baseline and
none of 20-70 km ones within 20 minutes.

The slant TEC is VTEC times the thin-shell obliquity factor, and the delay on a carrier of frequency
f is ``40.3e16 STEC / f**2`` metres (first order), added to code and subtracted from phase. The field
itself is evaluated in :func:`gnssaug.kernels.sim.vtec_tecu`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gnssaug.kernels import sim as _k


def _waves(rng, n: int, rms_tecu: float, wavelength_km, period_min=None, speed_mps=None) -> np.ndarray:
    """``n`` plane waves (amplitude, k_east, k_north, omega, phase) scaled to ``rms_tecu``.

    The temporal frequency comes from a period range [min] or from a phase-speed range [m/s].
    """
    waves = np.zeros((n, 5))
    for w in range(n):
        wavelength_m = rng.uniform(*wavelength_km) * 1e3
        k_rad_per_m = 2.0 * np.pi / wavelength_m
        heading = rng.uniform(0.0, 2.0 * np.pi)
        if period_min is not None:
            omega = 2.0 * np.pi / (60.0 * rng.uniform(*period_min))
        else:
            omega = k_rad_per_m * rng.uniform(*speed_mps)
        waves[w] = (rng.uniform(0.5, 2.0), k_rad_per_m * np.sin(heading), k_rad_per_m * np.cos(heading), omega,
                    rng.uniform(0.0, 2.0 * np.pi))
    if n:
        waves[:, 0] *= rms_tecu / np.sqrt(0.5 * np.sum(waves[:, 0] ** 2))
    return waves


@dataclass(frozen=True)
class IonoModel:
    """Parameters of the simulated ionosphere (defaults: 30 N, solar maximum; see the module doc)."""

    enabled: bool = True
    shell_height_m: float = 350e3
    night_tecu: float = 12.0
    peak_tecu: float = 75.0
    peak_lt_h: float = 14.0
    width_h: float = 4.5
    grad_per_deg: float = -0.02
    lat0_deg: float = 30.5
    n_waves: int = 12
    tid_rms_tecu: float = 0.3
    wavelength_km: tuple[float, float] = (100.0, 300.0)
    period_min: tuple[float, float] = (20.0, 60.0)
    n_large_waves: int = 6
    lstid_rms_tecu: float = 1.15
    large_wavelength_km: tuple[float, float] = (1000.0, 3000.0)
    large_speed_mps: tuple[float, float] = (400.0, 1000.0)

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
        waves = np.vstack([
            _waves(rng, self.n_waves, self.tid_rms_tecu, self.wavelength_km, period_min=self.period_min),
            _waves(rng, self.n_large_waves, self.lstid_rms_tecu, self.large_wavelength_km,
                   speed_mps=self.large_speed_mps),
        ])
        return np.concatenate((fixed, waves.ravel()))

    def vtec_tecu(self, params: np.ndarray, lat_deg, lon_deg, t_s, sod_utc_s) -> np.ndarray:
        """VTEC [TECU] of the field at pierce points (arrays broadcast together); for checks and plots."""
        lat, lon, t, sod = np.broadcast_arrays(
            np.radians(lat_deg), np.radians(lon_deg), np.asarray(t_s, float), np.asarray(sod_utc_s, float)
        )
        out = np.array([_k.vtec_tecu(a, b, c, d, params) for a, b, c, d in zip(lat.ravel(), lon.ravel(),
                                                                                t.ravel(), sod.ravel(), strict=True)])
        return out.reshape(lat.shape)
