"""Broadcast ephemerides against precise orbits and clocks (SP3): per-row differences and summaries.

Conventions applied (and why):

- Orbits. SP3 positions are satellite centre of mass (CoM); broadcast orbits are those of each
  system's ICD (GPS and GLONASS: antenna phase centre (APC) as the control segment defines it;
  Galileo and BeiDou: the ICDs give the APC too, with the operators' own offsets). No antenna
  offsets are applied here (no ANTEX file is available offline), so the differences include the
  CoM-APC offset, which lies mostly along the radial direction (body z axis points to the Earth).
  The differences are therefore reported in radial, along-track and cross-track components
  (:func:`rac_components`), where a constant radial mean per satellite is that offset.
- Clocks. SP3 clocks are ionosphere-free clocks relative to the analysis centre's reference,
  whereas each broadcast system has its own time scale: per epoch and system, the mean clock
  difference is removed (``clk_mean_removed_m``; BDS-2 and BDS-3 apart, as the clock groups of
  :data:`gnssaug.gnss.CLOCK_GROUPS`: the products carry an inter-system bias between them).
  Reference signals are aligned first:
  GPS L1/L2 P(Y) IF on both sides; Galileo: the F/NAV family (E1/E5a IF clock, the convention of
  the CODE and WUM products); BeiDou: the broadcast clock refers to B3I, the products to the B1I/B3I
  ionosphere-free combination, so ``clk_B1I/B3I = clk_B3I - f1^2/(f1^2 - f3^2) TGD1``
  (BDS-SIS-ICD-B1I-3.0 §5.2.4.10, with ``clk_B1I = clk - TGD1``); GLONASS as broadcast (L1).
  The periodic relativistic term is removed from the broadcast clocks, because SP3 clocks
  exclude it (IGS convention).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gnssaug.constants import C_MPS
from gnssaug.ephemeris import records as rec
from gnssaug.ephemeris.store import EphStore
from gnssaug.gnss import (
    BAND_FREQ_HZ,
    BDS,
    BDS3_FIRST_PRN,
    GAL,
    GLO,
    GPS,
    SAT_CLOCK_GROUP,
    SAT_IS_GEO,
    SAT_PRN,
    SAT_SYSTEM,
)

#: Groups of the summary: name -> predicate on (system, prn, is_geo, is_igso).
GROUPS = ("GPS", "GLO", "GAL", "BDS-2 GEO", "BDS-2 IGSO", "BDS-2 MEO", "BDS-3 GEO", "BDS-3 IGSO", "BDS-3 MEO")
#: sqrt(A) above which a non-GEO BeiDou satellite is IGSO (A ~ 42 164 km; MEO has A ~ 27 906 km).
_IGSO_SQRTA = 6000.0


@dataclass(frozen=True)
class OrbitComparison:
    """Per-row differences broadcast - precise over the epochs and satellites of an SP3 file.

    Attributes
    ----------
    sat : int16[n] ; t_gpst_ns : int64[n]
    group : int8[n]
        Index into :data:`GROUPS`.
    d_rac_m : float64[n, 3]
        Position difference in radial, along-track, cross-track [m].
    clk_diff_m : float64[n]
        c x (broadcast - precise) clock after the reference-signal alignment [m].
    clk_mean_removed_m : float64[n]
        ``clk_diff_m`` minus its per-epoch mean over the satellites of the same clock group [m].
    """

    sat: np.ndarray
    t_gpst_ns: np.ndarray
    group: np.ndarray
    d_rac_m: np.ndarray
    clk_diff_m: np.ndarray
    clk_mean_removed_m: np.ndarray

    def summary(self) -> dict[str, dict[str, float]]:
        """Per group: rows, satellites, 3D orbit RMS, R/A/C RMS, radial mean, clock RMS and clock
        RMS without per-satellite constant biases (``clock_std_m``) [m]."""
        out = {}
        for g, name in enumerate(GROUPS):
            r = self.group == g
            if not r.any():
                continue
            d = self.d_rac_m[r]
            c = self.clk_mean_removed_m[r]
            c = c[np.isfinite(c)]
            out[name] = {
                "rows": int(r.sum()),
                "sats": int(np.unique(self.sat[r]).size),
                "orbit_3d_rms_m": float(np.sqrt(np.mean(np.sum(d * d, axis=1)))),
                "radial_rms_m": float(np.sqrt(np.mean(d[:, 0] ** 2))),
                "along_rms_m": float(np.sqrt(np.mean(d[:, 1] ** 2))),
                "cross_rms_m": float(np.sqrt(np.mean(d[:, 2] ** 2))),
                "radial_mean_m": float(np.mean(d[:, 0])),
                "clock_rms_m": float(np.sqrt(np.mean(c * c))) if c.size else float("nan"),
                "clock_std_m": self._clock_std_m(r),
            }
        return out


    def _clock_std_m(self, rows: np.ndarray) -> float:
        """Clock RMS after also removing each satellite's mean (its constant bias) [m]."""
        c = self.clk_mean_removed_m[rows]
        sat = self.sat[rows]
        ok = np.isfinite(c)
        if not ok.any():
            return float("nan")
        _, inv = np.unique(sat[ok], return_inverse=True)
        mean = np.bincount(inv, weights=c[ok]) / np.bincount(inv)
        return float(np.sqrt(np.mean((c[ok] - mean[inv]) ** 2)))


def rac_components(d_ecef_m: np.ndarray, pos_ecef_m: np.ndarray, vel_ecef_mps: np.ndarray) -> np.ndarray:
    """Express ECEF differences (float64[n, 3]) in radial, along-track, cross-track axes.

    Radial along the position, cross-track along r x v, along-track completes the triad.
    """
    radial = pos_ecef_m / np.linalg.norm(pos_ecef_m, axis=1, keepdims=True)
    cross = np.cross(pos_ecef_m, vel_ecef_mps)
    cross /= np.linalg.norm(cross, axis=1, keepdims=True)
    along = np.cross(cross, radial)
    return np.stack([np.sum(d_ecef_m * radial, axis=1), np.sum(d_ecef_m * along, axis=1),
                     np.sum(d_ecef_m * cross, axis=1)], axis=1)


def _group_of(sat: np.ndarray, sqrt_a: np.ndarray) -> np.ndarray:
    system = SAT_SYSTEM[sat]
    bds3 = SAT_PRN[sat] >= BDS3_FIRST_PRN
    geo = SAT_IS_GEO[sat]
    igso = ~geo & (sqrt_a > _IGSO_SQRTA)
    group = np.full(sat.shape, -1, dtype=np.int8)
    group[system == GPS] = 0
    group[system == GLO] = 1
    group[system == GAL] = 2
    bds = system == BDS
    for k, (is3, kind) in enumerate([(False, "geo"), (False, "igso"), (False, "meo"),
                                     (True, "geo"), (True, "igso"), (True, "meo")]):
        kind_mask = {"geo": geo, "igso": igso, "meo": ~geo & ~igso}[kind]
        group[bds & (bds3 == is3) & kind_mask] = 3 + k
    return group


def compare_broadcast_precise(nav: rec.NavData, sp3) -> OrbitComparison:
    """Broadcast minus precise over every epoch and satellite of ``sp3`` with both available.

    Parameters
    ----------
    nav : NavData
        Broadcast navigation data covering the SP3 span.
    sp3 : Sp3Orbits
        Precise orbits and clocks (:func:`gnssaug.datasets.sp3.read_sp3`).

    Returns
    -------
    OrbitComparison
    """
    store = EphStore(nav, gal_source="fnav")  # F/NAV: E1/E5a clock, the products' convention
    e, m = sp3.t_gpst_ns.size, sp3.sat.size
    sat = np.tile(sp3.sat, e)
    t = np.repeat(sp3.t_gpst_ns, m)
    keep = np.isin(SAT_SYSTEM[sat], (GPS, GLO, GAL, BDS))
    sat, t = sat[keep], t[keep]
    ref_pos = sp3.pos_ecef_m.reshape(-1, 3)[keep]
    ref_clk = sp3.clk_s.reshape(-1)[keep]
    st = store.sat_states(sat, t)
    ok = st.valid & np.isfinite(ref_pos).all(axis=1)
    sat, t, ref_pos, ref_clk = sat[ok], t[ok], ref_pos[ok], ref_clk[ok]
    pos, vel, clk, kep = st.pos_ecef_m[ok], st.vel_ecef_mps[ok], st.clk_s[ok], st.rec[ok]
    system = SAT_SYSTEM[sat]
    is_kep = system != GLO
    sqrt_a = np.where(is_kep, store.kepler.param[np.where(is_kep, kep, 0), rec.K_SQRTA], 0.0)
    tgd1 = np.where(system == BDS, store.kepler.param[np.where(is_kep, kep, 0), rec.K_TGD1], 0.0)
    f1, f3 = BAND_FREQ_HZ[BDS, 0], BAND_FREQ_HZ[BDS, 1]
    clk = clk - f1**2 / (f1**2 - f3**2) * tgd1
    # SP3 clocks exclude the periodic relativistic effect (IGS convention; users add -2 r.v / c^2),
    # the broadcast states include it (F e sqrt(A) sin E, the same quantity for a Keplerian orbit;
    # r.v is the same in ECEF and inertial axes): take it out of the broadcast side.
    clk = np.where(is_kep, clk + 2.0 * np.sum(pos * vel, axis=1) / C_MPS**2, clk)
    clk_diff = (clk - ref_clk) * C_MPS
    removed = np.full(clk_diff.shape, np.nan)
    finite = np.isfinite(clk_diff)
    group_clock = SAT_CLOCK_GROUP[sat]
    for g in np.unique(group_clock):
        rows = finite & (group_clock == g)
        if not rows.any():
            continue
        times, inv = np.unique(t[rows], return_inverse=True)
        mean = np.bincount(inv, weights=clk_diff[rows]) / np.bincount(inv)
        removed[rows] = clk_diff[rows] - mean[inv]
    return OrbitComparison(sat=sat, t_gpst_ns=t, group=_group_of(sat, sqrt_a),
                           d_rac_m=rac_components(pos - ref_pos, ref_pos, vel), clk_diff_m=clk_diff,
                           clk_mean_removed_m=removed)
