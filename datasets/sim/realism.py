"""Realism statistics: compare simulated observations with a real receiver's.

Three statistics of one receiver's :class:`~gnssaug.obs.ObsSeries`, each per satellite group:

``visible``
    Mean number of satellites with a code observation per epoch.
``mp_spread_m``
    Spread (standard deviation) of the code-minus-phase multipath combination of the first code
    by elevation bin: ``MP1 = P1 - (1 + 2/(a-1)) L1 + (2/(a-1)) L2`` with ``a = (f1/f2)^2`` and
    phases in metres (Estey & Meertens 1999, TEQC ``mp1``), with the mean of each continuous arc
    removed. It holds multipath and code noise; the ionosphere and the ambiguities cancel.
``gf_rate_mps``
    The median absolute rate of change of the geometry-free phase combination ``L1 - L2`` [m/s]
    within arcs (ionosphere change, scaled by ``1 - f1^2/f2^2``), by elevation bin.

Arcs break where a satellite is missing for more than ``max_gap_s``, where a loss-of-lock flag is
set, and where the multipath or geometry-free combination jumps (a cycle slip the receiver did not
flag: more than ``SLIP_MP_M`` or ``SLIP_GF_M`` between epochs). Spreads are robust (1.4826 times the
median absolute deviation about each arc's median), so that an undetected small slip or a few
outliers of a real receiver do not dominate the comparison.
"""

from __future__ import annotations

import numpy as np

from gnssaug.constants import C_MPS
from gnssaug.geodesy import llh_from_ecef
from gnssaug.gnss import BDS, BDS3_FIRST_PRN, GPS, SAT_PRN, SAT_SYSTEM, sat_freq_hz
from gnssaug.obs import ObsSeries

#: Elevation bin edges [deg] of the spread and rate statistics. Nothing below 10 deg is compared:
#: the real WUHN receiver acquires satellites only above 8-16 deg, so its rows below 10 deg (1 %)
#: are the tails of setting satellites, not a sample of low-elevation tracking.
EL_BINS_DEG = (10.0, 20.0, 35.0, 55.0, 90.0)
#: Satellite groups compared: name -> (system, PRN range, first slot, second slot).
GROUPS = {
    "GPS": (GPS, (1, 32), 0, 1),
    "BDS-2": (BDS, (1, BDS3_FIRST_PRN - 1), 0, 2),
    "BDS-3": (BDS, (BDS3_FIRST_PRN, 63), 0, 1),
}
_MIN_ARC_POINTS = 10
#: Jumps between epochs that break an arc: multipath combination [m] and geometry-free phase [m].
SLIP_MP_M = 3.0
SLIP_GF_M = 0.15


def _rows(series: ObsSeries, group: str) -> np.ndarray:
    system, (lo, hi), _, _ = GROUPS[group]
    prn = SAT_PRN[series.sat]
    return (SAT_SYSTEM[series.sat] == system) & (prn >= lo) & (prn <= hi)


def visible_per_epoch(series: ObsSeries, group: str) -> float:
    """Mean number of satellites of ``group`` with a first-slot code per epoch."""
    rows = _rows(series, group) & np.isfinite(series.pr_m[:, GROUPS[group][2]])
    epoch = np.repeat(np.arange(len(series)), np.diff(series.offsets))
    return float(np.bincount(epoch[rows], minlength=len(series)).mean())


def _arcs(series: ObsSeries, rows: np.ndarray, slots, max_gap_s: float):
    """Yield (row indices in time order) of each continuous arc of each satellite."""
    epoch = np.repeat(np.arange(len(series)), np.diff(series.offsets))
    t_s = (series.t_gpst_ns - series.t_gpst_ns[0]) / 1e9
    idx = np.nonzero(rows)[0]
    for sat in np.unique(series.sat[idx]):
        r = idx[series.sat[idx] == sat]
        ok = np.all(np.isfinite(series.pr_m[r][:, slots]) & np.isfinite(series.cp_cyc[r][:, slots]), axis=1)
        r = r[ok]
        if r.size == 0:
            continue
        t = t_s[epoch[r]]
        slip = np.any(series.lli[r][:, slots] & 1, axis=1)
        brk = np.concatenate(([True], (np.diff(t) > max_gap_s) | slip[1:]))
        starts = np.nonzero(brk)[0]
        for a, b in zip(starts, np.concatenate((starts[1:], [r.size])), strict=True):
            yield r[a:b], t[a:b]


def arc_statistics(series: ObsSeries, el_deg_rows: np.ndarray, group: str, max_gap_s: float = 90.0) -> dict:
    """Multipath spread and geometry-free rate by elevation bin for one satellite group.

    Parameters
    ----------
    series : ObsSeries
        One receiver's observations.
    el_deg_rows : float64[n_rows]
        Elevation [deg] of each row (NaN where unknown).
    group : str
        A key of :data:`GROUPS`.
    max_gap_s : float
        A gap longer than this starts a new arc [s].

    Returns
    -------
    dict
        ``mp_spread_m`` and ``gf_rate_mps``: lists, one value per bin between :data:`EL_BINS_DEG`
        (NaN for an empty bin), and ``n_arcs``.
    """
    _, _, s1, s2 = GROUPS[group]
    rows = _rows(series, group)
    f = sat_freq_hz(series.sat)
    mp_all, gf_rate_all, el_mp, el_rate = [], [], [], []
    n_arcs = 0
    for r, t in _arcs(series, rows, [s1, s2], max_gap_s):
        if r.size < _MIN_ARC_POINTS:
            continue
        n_arcs += 1
        f1, f2 = f[r[0], s1], f[r[0], s2]
        a = (f1 / f2) ** 2
        l1 = series.cp_cyc[r, s1] * C_MPS / f1
        l2 = series.cp_cyc[r, s2] * C_MPS / f2
        mp = series.pr_m[r, s1] - (1.0 + 2.0 / (a - 1.0)) * l1 + (2.0 / (a - 1.0)) * l2
        gf = l1 - l2
        jump = (np.abs(np.diff(mp)) > SLIP_MP_M) | (np.abs(np.diff(gf)) > SLIP_GF_M)
        cuts = np.concatenate(([0], np.nonzero(jump)[0] + 1, [r.size]))
        el = el_deg_rows[r]
        for a0, b0 in zip(cuts[:-1], cuts[1:], strict=True):
            if b0 - a0 < _MIN_ARC_POINTS:
                continue
            mp_all.append(mp[a0:b0] - np.median(mp[a0:b0]))
            el_mp.append(el[a0:b0])
            gf_rate_all.append(np.abs(np.diff(gf[a0:b0])) / np.diff(t[a0:b0]))
            el_rate.append(0.5 * (el[a0 + 1:b0] + el[a0:b0 - 1]))
    out = {"mp_spread_m": [], "gf_rate_mps": [], "n_arcs": n_arcs}
    mp_all = np.concatenate(mp_all) if mp_all else np.zeros(0)
    el_mp = np.concatenate(el_mp) if el_mp else np.zeros(0)
    rate = np.concatenate(gf_rate_all) if gf_rate_all else np.zeros(0)
    el_rate = np.concatenate(el_rate) if el_rate else np.zeros(0)
    for lo, hi in zip(EL_BINS_DEG[:-1], EL_BINS_DEG[1:], strict=True):
        m = (el_mp >= lo) & (el_mp < hi)
        spread = 1.4826 * np.median(np.abs(mp_all[m])) if m.sum() > 20 else float("nan")
        out["mp_spread_m"].append(float(spread))
        m = (el_rate >= lo) & (el_rate < hi)
        out["gf_rate_mps"].append(float(np.median(rate[m])) if m.sum() > 20 else float("nan"))
    return out


def elevations_deg(series: ObsSeries, rx_ecef_m, store) -> np.ndarray:
    """Elevation [deg] of every row of ``series`` seen from ``rx_ecef_m``, from broadcast orbits.

    ``store`` is a :class:`gnssaug.ephemeris.store.EphStore`; NaN where it has no valid state.
    """
    epoch = np.repeat(np.arange(len(series)), np.diff(series.offsets))
    st = store.sat_states(series.sat, series.t_gpst_ns[epoch], np.full(series.n_rows, -0.075))
    rx = np.asarray(rx_ecef_m, dtype=np.float64)
    los = st.pos_ecef_m - rx
    lat, lon, _ = llh_from_ecef(rx)
    up = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    sin_el = (los @ up) / np.linalg.norm(los, axis=1)
    return np.where(st.valid, np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0))), np.nan)


def compare(sim: dict, real: dict, factor: float = 1.5) -> list[tuple[str, float, float, float, bool]]:
    """Rows ``(statistic, simulated, real, ratio, within factor)`` for every statistic both have."""
    rows = []
    for key in sorted(real):
        a, b = sim.get(key, float("nan")), real[key]
        if not (np.isfinite(a) and np.isfinite(b)) or b == 0:
            continue
        ratio = a / b
        rows.append((key, a, b, ratio, 1.0 / factor <= ratio <= factor))
    return rows


def flat_statistics(series: ObsSeries, el_deg_rows: np.ndarray, groups=("GPS", "BDS-2")) -> dict:
    """All statistics of a receiver as one flat mapping ``{"GPS visible": 8.1, ...}``."""
    out = {}
    edges = EL_BINS_DEG
    for g in groups:
        out[f"{g} visible"] = visible_per_epoch(series, g)
        st = arc_statistics(series, el_deg_rows, g)
        for i in range(len(EL_BINS_DEG) - 1):
            label = f"{edges[i]:.0f}-{edges[i + 1]:.0f}"
            out[f"{g} MP1 std {label} deg [m]"] = st["mp_spread_m"][i]
            out[f"{g} GF rate {label} deg [mm/s]"] = 1e3 * st["gf_rate_mps"][i]
    return out


def subset_satellites(series: ObsSeries, sats: np.ndarray) -> ObsSeries:
    """The series restricted to the satellites ``sats`` (e.g. those a real receiver tracked)."""
    keep = np.isin(series.sat, sats)
    epoch = np.repeat(np.arange(len(series)), np.diff(series.offsets))
    counts = np.bincount(epoch[keep], minlength=len(series))
    fields = {f: getattr(series, f)[keep] for f in ("sat", "pr_m", "cp_cyc", "dop_hz", "cn0_dbhz", "lli", "code")}
    return ObsSeries(series.t_gpst_ns, np.concatenate(([0], np.cumsum(counts))).astype(np.int64), series.flag,
                     meta=series.meta, **fields)


def wuhn_comparison(data_dir, hours: float = 24.0, seed: int = 1, groups=("GPS", "BDS-2")):
    """Simulate a station at WUHN's position on the WUHN day and compare statistics with the real file.

    The simulated station uses the real receiver's sampling (30 s) and span; its statistics are
    taken over the satellites the real receiver tracked (the Trimble NetR9 of WUHN tracks GPS and
    BDS-2 only, no BDS-3 and no Galileo that day), so the comparison is receiver for receiver.

    Returns
    -------
    (sim_stats, real_stats) : dicts of :func:`flat_statistics`
    """
    from pathlib import Path

    from gnssaug.datasets.rinex import read_obs
    from gnssaug.datasets.rinex.nav import read_nav
    from gnssaug.datasets.sim.engine import SimConfig, Simulator
    from gnssaug.datasets.sim.layout import WUHN_ECEF_M
    from gnssaug.datasets.sim.rovers import Receiver
    from gnssaug.datasets.sim.satellites import BroadcastSource

    folder = Path(data_dir) / "wuhan_wuhn_20250101"
    source = BroadcastSource(read_nav(folder / "BRDC00IGS_R_20250010000_01D_MN.rnx.gz"))
    _, real = read_obs(folder / "WUHN00CHN_R_20250010000_01D_30S_MO.crx")
    t0 = int(real.t_gpst_ns[0])
    n = int(np.searchsorted(real.t_gpst_ns, t0 + int(hours * 3600e9)))
    real = ObsSeries(real.t_gpst_ns[:n], real.offsets[:n + 1], real.flag[:n], meta=real.meta,
                     **{f: getattr(real, f)[:real.offsets[n]] for f in
                        ("sat", "pr_m", "cp_cyc", "dop_hz", "cn0_dbhz", "lli", "code")})
    cfg = SimConfig(start_gpst_ns=t0, duration_s=n * 30.0, rate_hz=1.0 / 30.0, seed=seed, block_s=3600.0)
    sim = Simulator(cfg, [Receiver("WUHN", WUHN_ECEF_M)], source.sat, source, source.group_delays_m(source.sat))
    simulated = subset_satellites(sim.run()["WUHN"], np.unique(real.sat))
    el_sim = elevations_deg(simulated, WUHN_ECEF_M, source.store)
    el_real = elevations_deg(real, WUHN_ECEF_M, source.store)
    return flat_statistics(simulated, el_sim, groups), flat_statistics(real, el_real, groups)
