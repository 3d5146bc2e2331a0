"""Troposphere model of the simulator: true zenith delays per receiver and epoch.

- Hydrostatic: the Saastamoinen zenith hydrostatic delay (:func:`gnssaug.kernels.atmosphere.
  saastamoinen_zenith`, standard atmosphere pressure at the station height), scaled by a weather
  pressure anomaly (``pressure_amp_hpa``, a synoptic wave of ~1,500 km moving at ~10 m/s), since
  the ZHD is proportional to surface pressure (Saastamoinen 1972).
- Wet: a zenith wet delay of ``zwd_winter_m`` (mid-January) to ``zwd_summer_m`` (mid-July) at sea
  level, decaying with height (scale height ``wet_scale_height_m``), modulated by ``n_waves`` slowly
  travelling waves of 50-300 km with relative amplitudes of ``wave_rel`` (mesoscale humidity
  structure), so it varies smoothly in space and time. Defaults give 5-30 cm over the seasons for
  the Yangtze valley (typical GNSS-derived ZWD in Wuhan: ~6 cm in January, ~30 cm in July).
- Mapping: Niell (1996) hydrostatic and wet functions, applied in the kernel.

A user who models the troposphere with Saastamoinen + a standard atmosphere keeps a residual of a
few centimetres of wet delay and millimetres to centimetres of hydrostatic delay, which differs
between stations tens of kilometres apart: the realism the network RTK tests need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gnssaug.kernels.atmosphere import saastamoinen_zenith

_STD_PRESSURE_HPA = 1013.25


@dataclass(frozen=True)
class TropoModel:
    """Parameters of the simulated troposphere (see the module docstring)."""

    enabled: bool = True
    zwd_winter_m: float = 0.06
    zwd_summer_m: float = 0.28
    wet_scale_height_m: float = 2000.0
    n_waves: int = 4
    wave_rel: tuple[float, float] = (0.05, 0.15)
    wavelength_km: tuple[float, float] = (50.0, 300.0)
    speed_mps: tuple[float, float] = (2.0, 10.0)
    pressure_amp_hpa: float = 4.0

    def params(self, rng: np.random.Generator) -> np.ndarray:
        """Wave parameters (n_waves + 1 rows: rel. amplitude, k_east, k_north [rad/m], omega [rad/s],
        phase); the last row is the pressure wave (amplitude in hPa)."""
        rows = []
        for i in range(self.n_waves + 1):
            pressure = i == self.n_waves
            amp = self.pressure_amp_hpa if pressure else rng.uniform(*self.wave_rel)
            wavelength_m = 1.5e6 if pressure else rng.uniform(*self.wavelength_km) * 1e3
            k = 2.0 * np.pi / wavelength_m
            heading = rng.uniform(0.0, 2.0 * np.pi)
            speed = 10.0 if pressure else rng.uniform(*self.speed_mps)
            rows.append([amp, k * np.sin(heading), k * np.cos(heading), k * speed, rng.uniform(0, 2 * np.pi)])
        return np.array(rows)

    def zenith_delays_m(self, params: np.ndarray, llh_rad: np.ndarray, t_s: np.ndarray, doy: float):
        """True zenith hydrostatic and wet delays [m] of a receiver over epochs.

        Parameters
        ----------
        params : float64[n_waves + 1, 5]
            From :meth:`params`.
        llh_rad : float64[E, 3] or float64[3]
            Receiver latitude, longitude [rad] and height [m] per epoch (or fixed).
        t_s : float64[E]
            Seconds since the start of the simulation.
        doy : float
            Day of year (season of the wet delay).

        Returns
        -------
        zhd_m, zwd_m : float64[E]
        """
        t_s = np.asarray(t_s, dtype=np.float64)
        llh = np.broadcast_to(np.asarray(llh_rad, dtype=np.float64), (t_s.size, 3))
        if not self.enabled:
            return np.zeros(t_s.size), np.zeros(t_s.size)
        lat, lon, h = llh[:, 0], llh[:, 1], llh[:, 2]
        east_m = lon * 6.371e6 * np.cos(np.radians(30.5))
        north_m = lat * 6.371e6

        def wave(row):
            return row[0] * np.sin(row[1] * east_m + row[2] * north_m - row[3] * t_s + row[4])

        zhd_std = np.array([saastamoinen_zenith(float(a), float(b), 0.0)[0] for a, b in zip(lat, h, strict=True)])
        p_std = _STD_PRESSURE_HPA * (1.0 - 2.2557e-5 * np.maximum(h, 0.0)) ** 5.2568
        zhd = zhd_std * (1.0 + wave(params[-1]) / p_std)
        season = 0.5 * (1.0 - np.cos(2.0 * np.pi * (doy - 15.0) / 365.25))
        zwd0 = self.zwd_winter_m + (self.zwd_summer_m - self.zwd_winter_m) * season
        rel = 1.0 + sum(wave(row) for row in params[:-1])
        zwd = zwd0 * np.exp(-np.maximum(h, 0.0) / self.wet_scale_height_m) * rel
        return zhd, np.maximum(zwd, 0.0)
