"""The ephemeris store: per-satellite record selection and satellite states at transmission time.

:class:`EphStore` keeps the usable broadcast records sorted by satellite and toe and answers, for
arrays of satellites and times, the position, velocity, clock and clock drift from the selected
record (numba kernels in :mod:`gnssaug.kernels.orbits`; no Python loop over satellites).

Selection rules (documented choices):

- Per query, the record with toe nearest to the requested time within the validity half-window
  of :data:`DEFAULT_WINDOWS_S` (GPS/QZSS: 2 h or half the curve-fit interval if longer, IS-GPS-200
  §20.3.4.4; Galileo: 2 h, although the ICD allows 4 h: Galileo records are fitted on short arcs
  and refreshed every 10 min, and on the WUHN day (2025-01-01, against WUM final orbits) their 3D
  error grows from 1.2 m within 1 h of toe to 4.7 m at 1-2 h, 16 m at 2-3 h and 38 m at 3-4 h;
  BeiDou: 1 h, the hourly update of BDS-SIS-ICD-B1I-3.0 §5.2.4 (1.4 m within 1 h, 1.8 m at 1-2 h
  on the same day); NavIC: 2 h; GLONASS: 30 min, the t_b spacing, so one missed update is
  bridged). On equal distance the earlier toe wins. If that record declares the
  satellite unhealthy (health word not 0; QZSS: ignoring bit 0), the satellite has no
  state: an unhealthy satellite is never served from an older healthy record.
- Records with the same satellite and toe (a re-upload with a new IODE, or the same data
  received twice) are reduced to the one transmitted last: the newest IODE wins.
- Galileo: the store serves one navigation message family per satellite: I/NAV by default
  (clock referenced to E1/E5b, the family for E1 and E5b users), F/NAV with ``gal_source="fnav"``
  (clock E1/E5a, for E5a users). A satellite without records of the chosen family uses the other.
- GPS/QZSS CNAV/CNAV-2 and BDS-3 CNAV-1/2/3 records (RINEX 4.00 ``CNAV``, ``CNV2``, ``CNV1``,
  ``CNV3``) are served only for satellites without legacy records (LNAV; BDS D1/D2) in the store:
  they carry other group delays (no BDS TGD1 for B1I, whose users would lose the satellite) and
  another issue-of-data scheme, and mixing families per query would make the selected clock and
  group delay jump between them.

Conventions of the states: positions are those of the broadcast orbit, i.e. the antenna phase
centre for GPS and GLONASS (as broadcast; the reference point of each system's ICD), in the
system's ECEF frame (WGS-84, PZ-90.11, GTRF, CGCS2000: equal at the centimetre level); clocks
include the relativistic term for Keplerian systems and refer to each system's reference signal
(GPS L1/L2 P(Y) ionosphere-free, Galileo E1/E5b (I/NAV) or E1/E5a (F/NAV), BeiDou B3I,
GLONASS L1); :meth:`EphStore.group_delay_s` gives the correction for other signals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gnssaug.constants import NS_PER_S
from gnssaug.ephemeris import records as rec
from gnssaug.errors import InvalidInputError
from gnssaug.gnss import (
    BAND_FREQ_HZ,
    BDS,
    BDS3_FIRST_PRN,
    GAL,
    GLO,
    GPS,
    IRN,
    N_SAT,
    QZS,
    SAT_PRN,
    SAT_SYSTEM,
    SYSTEM_OFFSET,
)
from gnssaug.kernels import orbits as _k

#: Validity half-windows per system [s] (see the module docstring).
DEFAULT_WINDOWS_S = {GPS: 7200.0, GLO: 1800.0, GAL: 7200.0, QZS: 7200.0, BDS: 3600.0, IRN: 7200.0}


@dataclass(frozen=True)
class SatStates:
    """Satellite states for n query rows (NaN where ``valid`` is False).

    Attributes
    ----------
    pos_ecef_m : float64[n, 3]
        Broadcast-orbit position at the transmission time [m] (ECEF at that time: the caller
        applies the Earth rotation during the signal travel time).
    vel_ecef_mps : float64[n, 3]
        Velocity in the rotating ECEF frame [m/s].
    clk_s : float64[n]
        Satellite clock offset [s], relativistic term included (Keplerian systems).
    clk_drift_sps : float64[n]
        Clock drift [s/s].
    valid : bool[n]
        False where no usable ephemeris exists.
    iode : int32[n]
        Issue of data of the record used (GLONASS: t_b index), -1 where invalid.
    acc_m : float64[n]
        Broadcast signal-in-space accuracy [m] (URA/SISA), NaN if unknown.
    rec : int64[n]
        Index of the record used in the store (Keplerian or GLONASS table), -1 where invalid.
    """

    pos_ecef_m: np.ndarray
    vel_ecef_mps: np.ndarray
    clk_s: np.ndarray
    clk_drift_sps: np.ndarray
    valid: np.ndarray
    iode: np.ndarray
    acc_m: np.ndarray
    rec: np.ndarray


def kepler_healthy(k: rec.KeplerEphemerides) -> np.ndarray:
    """bool[n]: the record declares its satellite usable (health word 0).

    QZSS: bit 0 of the health word flags one L1 signal variant (L1C/A vs L1C/B, IS-QZSS-PNT
    §4.1.2.3), set on every QZSS satellite of the WUHN day; it does not mark the satellite
    unusable and is ignored, as RTKLIB does.
    """
    return np.where(SAT_SYSTEM[k.sat] == QZS, k.health & ~1, k.health) == 0


def _usable_kepler(k: rec.KeplerEphemerides, gal_source: str) -> rec.KeplerEphemerides:
    """Records with finite orbits, of the chosen Galileo family and legacy messages first (healthy or not)."""
    finite = np.isfinite(k.param[:, :rec.K_IDOT + 1]).all(axis=1)
    keep = finite & (k.param[:, rec.K_SQRTA] > 0)
    is_gal = SAT_SYSTEM[k.sat] == GAL
    inav = (k.data_source & (rec.GAL_SRC_INAV_E1B | rec.GAL_SRC_INAV_E5B | rec.GAL_SRC_CLK_E5B)) != 0
    inav |= k.msg_type == rec.NAV_INAV
    fnav = (k.data_source & (rec.GAL_SRC_FNAV_E5A | rec.GAL_SRC_CLK_E5A)) != 0
    fnav |= k.msg_type == rec.NAV_FNAV
    preferred = is_gal & (inav if gal_source == "inav" else fnav)
    has_preferred = np.zeros(N_SAT, dtype=bool)
    has_preferred[k.sat[keep & preferred]] = True
    keep &= ~is_gal | preferred | ~has_preferred[k.sat]
    modern = np.isin(k.msg_type, (rec.NAV_CNAV, rec.NAV_CNV2, rec.NAV_CNV1, rec.NAV_CNV3)) & ~is_gal
    has_legacy = np.zeros(N_SAT, dtype=bool)
    has_legacy[k.sat[keep & ~modern & ~is_gal]] = True
    keep &= ~modern | ~has_legacy[k.sat]
    return k.take(keep)


def _sorted_unique(sat, toe, ttr):
    """Order by (sat, toe, ttr) and keep the last row of each (sat, toe)."""
    order = np.lexsort((ttr, toe, sat))
    s, t = sat[order], toe[order]
    last = np.ones(order.size, dtype=bool)
    last[:-1] = (s[1:] != s[:-1]) | (t[1:] != t[:-1])
    return order[last]


def _starts(sat: np.ndarray) -> np.ndarray:
    return np.searchsorted(sat, np.arange(N_SAT + 1)).astype(np.int64)


class EphStore:
    """Broadcast ephemerides ready for evaluation.

    Parameters
    ----------
    nav : NavData, optional
        Navigation data (e.g. from :func:`gnssaug.datasets.rinex.nav.read_nav`).
    kepler, glonass : record sets, optional
        Instead of (or added to) ``nav``: records, e.g. decoded from RTCM.
    windows_s : dict[int, float], optional
        Validity half-window per system [s]; defaults :data:`DEFAULT_WINDOWS_S`.
    gal_source : {"inav", "fnav"}
        Galileo message family to serve (see the module docstring).
    """

    def __init__(self, nav: rec.NavData | None = None, *, kepler: rec.KeplerEphemerides | None = None,
                 glonass: rec.GlonassEphemerides | None = None, windows_s: dict | None = None,
                 gal_source: str = "inav"):
        if gal_source not in ("inav", "fnav"):
            raise InvalidInputError(f"gal_source must be 'inav' or 'fnav', got {gal_source!r}")
        kep_parts = [p for p in (nav.kepler if nav is not None else None, kepler) if p is not None]
        glo_parts = [p for p in (nav.glonass if nav is not None else None, glonass) if p is not None]
        k = _usable_kepler(rec.concat_kepler(kep_parts), gal_source)
        self.kepler = k.take(_sorted_unique(k.sat, k.toe_gpst_ns, k.ttr_gpst_ns))
        g = rec.concat_glonass(glo_parts)
        g = g.take(np.isfinite(g.pos_m).all(axis=1) & np.isfinite(g.tau_n_s))
        self.glonass = g.take(_sorted_unique(g.sat, g.toe_gpst_ns, g.toe_gpst_ns))
        self._kep_healthy = kepler_healthy(self.kepler)
        self._glo_healthy = self.glonass.health == 0
        self.gal_source = gal_source
        windows = {**DEFAULT_WINDOWS_S, **(windows_s or {})}
        self._windows_s = windows
        win = np.array([windows.get(s, 7200.0) for s in range(8)])
        kw = win[SAT_SYSTEM[self.kepler.sat]]
        fit_half_s = np.nan_to_num(self.kepler.param[:, rec.K_FIT_H]) * 1800.0
        kw = np.where(np.isin(SAT_SYSTEM[self.kepler.sat], (GPS, QZS)), np.maximum(kw, fit_half_s), kw)
        self._kep_window_ns = np.round(kw * NS_PER_S).astype(np.int64)
        self._glo_window_ns = np.full(len(self.glonass), int(round(win[GLO] * NS_PER_S)), dtype=np.int64)
        self._kep_start = _starts(self.kepler.sat)
        self._glo_start = _starts(self.glonass.sat)
        self._kep_system = SAT_SYSTEM[self.kepler.sat].astype(np.int8)
        # Issue of data and accuracy of every record, Keplerian then GLONASS, and a last row for
        # "no record" (index -1): one gather per query instead of masked assignments.
        self._iode_table = np.concatenate([self.kepler.iode, self.glonass.iode, [-1]]).astype(np.int32)
        self._acc_table_m = np.concatenate([self.kepler.param[:, rec.K_ACC_M], self.glonass.acc_m, [np.nan]])
        self.glo_fcn = (nav.glo_fcn.copy() if nav is not None else np.full(N_SAT, -128, dtype=np.int8))
        self.glo_fcn[self.glonass.sat] = self.glonass.fcn

    @classmethod
    def from_nav(cls, nav: rec.NavData, **options) -> EphStore:
        """Store of a :class:`NavData` (options as the constructor)."""
        return cls(nav, **options)

    def extended(self, kepler: rec.KeplerEphemerides | None = None,
                 glonass: rec.GlonassEphemerides | None = None) -> EphStore:
        """A new store with more records (e.g. ephemerides just decoded from RTCM).

        The store itself is never modified, so readers in other threads keep a consistent view;
        a record with the same satellite and toe as a stored one replaces it if transmitted later.
        """
        store = EphStore(kepler=rec.concat_kepler([self.kepler] + ([kepler] if kepler is not None else [])),
                         glonass=rec.concat_glonass([self.glonass] + ([glonass] if glonass is not None else [])),
                         windows_s=self._windows_s, gal_source=self.gal_source)
        fcn = self.glo_fcn.copy()
        fcn[store.glonass.sat] = store.glonass.fcn
        store.glo_fcn = fcn
        return store

    def satellites(self) -> np.ndarray:
        """Satellites with at least one healthy record (int16, sorted)."""
        healthy = np.union1d(self.kepler.sat[self._kep_healthy], self.glonass.sat[self._glo_healthy])
        return healthy.astype(np.int16)

    # ------------------------------------------------------------------------------------------
    def select(self, sat, t_gpst_ns) -> tuple[np.ndarray, np.ndarray]:
        """Selected Keplerian and GLONASS record per row (-1 where none / other family).

        Parameters
        ----------
        sat : int16[n]
        t_gpst_ns : int64 or int64[n]

        Returns
        -------
        kep_rec, glo_rec : int64[n]
        """
        sat, t = self._queries(sat, t_gpst_ns)
        kep = np.full(sat.shape[0], -1, dtype=np.int64)
        glo = np.full(sat.shape[0], -1, dtype=np.int64)
        _k.select_records(self._kep_start, self.kepler.toe_gpst_ns, self._kep_window_ns, self._kep_healthy, sat,
                          t, kep)
        _k.select_records(self._glo_start, self.glonass.toe_gpst_ns, self._glo_window_ns, self._glo_healthy, sat,
                          t, glo)
        return kep, glo

    @staticmethod
    def _queries(sat, t_gpst_ns):
        sat = np.ascontiguousarray(sat, dtype=np.int16)
        if not sat.flags.writeable:
            sat = sat.copy()  # the kernels' entries are compiled for writeable arrays (see _per_row)
        if sat.ndim != 1:
            raise InvalidInputError(f"sat must be 1-D, got shape {sat.shape}")
        # One reduction for both bounds: a negative int16 is 32768 or more as uint16.
        if sat.size and sat.view(np.uint16).max() >= N_SAT:
            raise InvalidInputError(f"sat holds values outside 0..{N_SAT - 1}")
        return sat, _per_row(t_gpst_ns, sat.shape[0])

    def sat_states(self, sat, t_gpst_ns, dt_s=None, t_select_ns=None) -> SatStates:
        """Satellite states at the transmission times ``t_gpst_ns + dt_s``.

        Parameters
        ----------
        sat : int16[n]
            Global satellite indices.
        t_gpst_ns : int64 or int64[n]
            GPST ns (e.g. the receiver time tag).
        dt_s : float64[n], optional
            Offset added to ``t_gpst_ns`` [s] (e.g. minus the signal travel time), kept apart so
            no nanosecond precision is lost.
        t_select_ns : int64 or int64[n], optional
            Time at which each satellite's record is selected (default: ``t_gpst_ns + dt_s``
            rounded to the second). Differential positioning selects the records of both
            receivers at one time, so that a record change between the base's and the rover's
            epochs (a new upload; a rover tagged a few ms after a toe midpoint) cannot put the
            clock and orbit difference of two records, centimetres, into the single differences.

        Returns
        -------
        SatStates
        """
        sat, t = self._queries(sat, t_gpst_ns)
        n = sat.shape[0]
        dt = np.zeros(n) if dt_s is None else np.asarray(dt_s, dtype=np.float64)
        if dt.shape != (n,) or not dt.flags.carray:
            dt = np.array(np.broadcast_to(dt, (n,)), order="C")
        if t_select_ns is None:
            whole_s = np.where(np.isfinite(dt), np.round(dt), 0.0).astype(np.int64)
            t_sel = t + whole_s * NS_PER_S
        else:
            t_sel = _per_row(t_select_ns, n)
        pos, vel = np.empty((n, 3)), np.empty((n, 3))
        clk, drift = np.empty(n), np.empty(n)
        kep, glo = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
        k, g = self.kepler, self.glonass
        _k.states_at(sat, t, dt, t_sel, self._kep_start, k.toe_gpst_ns, k.toc_gpst_ns, self._kep_window_ns,
                     self._kep_healthy, k.param, self._kep_system, k.is_geo, k.toe_s, self._glo_start, g.toe_gpst_ns,
                     self._glo_window_ns, self._glo_healthy, g.pos_m, g.vel_mps, g.acc_mps2, g.tau_n_s, g.gamma_n,
                     kep, glo, pos, vel, clk, drift)
        # The kernel gives a row a GLONASS record only when it has no Keplerian one.
        is_glo = glo >= 0
        used = np.where(is_glo, glo, kep)
        table_row = np.where(is_glo, glo + len(k), kep)  # -1 (no record): the tables' last row
        return SatStates(pos, vel, clk, drift, table_row >= 0, self._iode_table[table_row],
                         self._acc_table_m[table_row], used)

    # ------------------------------------------------------------------------------------------
    def group_delay_s(self, sat, slot: int, t_gpst_ns=None) -> np.ndarray:
        """Single-frequency code group delay of ``slot`` [s], to subtract (times c) from the code.

        Equivalently, the satellite clock for that signal is ``clk_s - group_delay_s``.

        - GPS/QZSS (IS-GPS-200 §20.3.3.3.3.2, §30.3.3.3.1.1): L1 ``TGD - ISC_L1CA`` (ISC 0 for
          LNAV), L2 ``gamma TGD`` (LNAV; ``TGD - ISC_L2C`` with CNAV), L5 ``TGD - ISC_L5I5`` (NaN
          without CNAV); gamma = (f1/f2)^2.
        - Galileo (OS SIS ICD §5.1.5): E1 ``BGD(E1,E5b)`` with the I/NAV clock (``BGD(E1,E5a)``
          with F/NAV), E5a ``(f1/f5a)^2 BGD(E1,E5a)``, E5b ``(f1/f5b)^2 BGD(E1,E5b)``.
        - BeiDou (BDS-SIS-ICD-B1I-3.0 §5.2.4.10; clock referenced to B3I): B1I ``TGD1``, B3I 0,
          B2I ``TGD2`` (BDS-2 only: BDS-3 satellites send B2b in that slot, NaN), B1C ``TGD_B1Cp``
          and B2a ``TGD_B2ap`` (CNAV records only, else NaN).
        - GLONASS: G1 0, G2 ``Delta tau_n`` where broadcast (else NaN).
        - NavIC: L5 ``TGD``.

        Parameters
        ----------
        sat : int16[n]
        slot : int
            Observation slot of the signal (:data:`gnssaug.gnss.SIGNAL_PLAN`).
        t_gpst_ns : int64 or int64[n], optional
            Time for record selection; default: each satellite's last record.

        Returns
        -------
        float64[n]
            NaN where no record or no delay for that signal is known.
        """
        sat = np.ascontiguousarray(sat, dtype=np.int16)
        if t_gpst_ns is None:
            kep = np.where(self._kep_start[sat + 1] > self._kep_start[sat], self._kep_start[sat + 1] - 1, -1)
            glo = np.where(self._glo_start[sat + 1] > self._glo_start[sat], self._glo_start[sat + 1] - 1, -1)
        else:
            kep, glo = self.select(sat, t_gpst_ns)
        out = np.full(sat.shape[0], np.nan)
        system = SAT_SYSTEM[sat]
        if len(self.kepler):
            p = self.kepler.param[np.maximum(kep, 0)]
            r = np.maximum(kep, 0)
            gd = _kepler_group_delay(p, system, SAT_PRN[sat], slot, self.kepler.msg_type[r], self.kepler.data_source[r])
            out = np.where(kep >= 0, gd, np.nan)
        if slot in (0, 1) and len(self.glonass):
            gd = 0.0 if slot == 0 else self.glonass.delta_tau_n_s[np.maximum(glo, 0)]
            out = np.where((glo >= 0) & (system == GLO), gd, out)
        return out


def _per_row(t_ns, n: int) -> np.ndarray:
    """``t_ns`` (int64 or int64[n]) as a C-contiguous writeable int64[n] (no copy if it is one).

    Always writeable, although the kernels only read it: their ahead-of-time entries are compiled
    for the arrays the workload passes, and a read-only one would match none of them.
    """
    if type(t_ns) is np.ndarray and t_ns.shape == (n,) and t_ns.dtype == np.int64 and t_ns.flags.carray:
        return t_ns
    if isinstance(t_ns, (int, np.integer)):
        return np.full(n, t_ns, dtype=np.int64)
    return np.array(np.broadcast_to(np.asarray(t_ns, dtype=np.int64), (n,)), order="C")  # a copy


def _ratio2(system: int, slot_a: int, slot_b: int) -> float:
    return (BAND_FREQ_HZ[system, slot_a] / BAND_FREQ_HZ[system, slot_b]) ** 2


def _kepler_group_delay(p, system, prn, slot, msg_type, data_source):
    tgd, tgd2 = p[:, rec.K_TGD], p[:, rec.K_TGD2]
    out = np.full(p.shape[0], np.nan)
    gps = np.isin(system, (GPS, QZS))
    if slot == 0:
        gps_v = tgd - np.nan_to_num(p[:, rec.K_ISC_L1CA])
    elif slot == 1:
        gps_v = np.where(np.isnan(p[:, rec.K_ISC_L2C]), _ratio2(GPS, 0, 1) * tgd, tgd - p[:, rec.K_ISC_L2C])
    elif slot == 2:
        gps_v = tgd - p[:, rec.K_ISC_L5I5]
    else:
        gps_v = np.full(p.shape[0], np.nan)
    out = np.where(gps, gps_v, out)
    gal = system == GAL
    fnav_clock = (msg_type == rec.NAV_FNAV) | ((data_source & (rec.GAL_SRC_FNAV_E5A | rec.GAL_SRC_CLK_E5A)) != 0)
    gal_v = {0: np.where(fnav_clock, tgd, tgd2), 1: _ratio2(GAL, 0, 1) * tgd, 2: _ratio2(GAL, 0, 2) * tgd2}
    out = np.where(gal, gal_v.get(slot, np.nan), out)
    # BDS-3 satellites transmit B2b, not B2I, in slot 2: TGD2 (a copy of TGD1 in their D1 records)
    # does not apply to it.
    b2i = np.where(prn >= BDS3_FIRST_PRN, np.nan, tgd2)
    bds_v = {0: tgd, 1: np.zeros(p.shape[0]), 2: b2i, 3: p[:, rec.K_TGD_B1CP], 4: p[:, rec.K_TGD_B2AP]}
    out = np.where(system == BDS, bds_v.get(slot, np.nan), out)
    out = np.where(system == IRN, tgd if slot == 0 else np.nan, out)
    return out


def warm_up() -> SatStates:
    """Compile (or load from the numba cache) the orbit kernels, e.g. at server start.

    Returns the states of the two synthetic satellites used (one Keplerian, one GLONASS).
    """
    k = rec.KeplerEphemerides.from_records([{
        "sat": 0, "toe_gpst_ns": 0, "toc_gpst_ns": 0, "week": 0, "toe_s": 0.0, "toc_s": 0.0, "iode": 0,
        "sqrta_sqrtm": 5153.6, "e": 0.01, **{name: 0.0 for name in rec.KEPLER_PARAM_NAMES[:rec.K_IDOT + 1]
                                              if name not in ("sqrta_sqrtm", "e")}}])
    g = rec.GlonassEphemerides.from_records([{
        "sat": int(SYSTEM_OFFSET[GLO]), "toe_gpst_ns": 0, "tb_s": 0.0, "pos_m": [2.55e7, 0.0, 0.0],
        "vel_mps": [0.0, 3.9e3, 0.0], "acc_mps2": [0.0, 0.0, 0.0], "tau_n_s": 0.0, "gamma_n": 0.0, "fcn": 0}])
    store = EphStore(kepler=k, glonass=g)
    store.group_delay_s(np.array([0], dtype=np.int16), 0, 0)
    return store.sat_states(np.array([0, SYSTEM_OFFSET[GLO]], dtype=np.int16), 60 * NS_PER_S, np.zeros(2))
