"""Faults of a low-cost rover in a city, injected into a clean observation series.

Each function takes an :class:`gnssaug.obs.ObsSeries` and a ``numpy.random.Generator`` and returns
a faulted copy (the input is never changed) and a short description of what was injected. The
faults are those a low-cost receiver on a car between buildings produces (Groves 2013, "Principles
of GNSS, Inertial, and Multisensor Integrated Navigation Systems", §9.3.3-9.3.4, §10.3; Hsu 2018,
"Analysis and modeling GPS NLOS effect in highly urbanized area", GPS Solutions 22:7):

- :func:`code_outliers`: multipath and NLOS on the code only (the code correlator locks onto a
  reflection for an epoch or two while the phase-lock loop keeps the direct signal).
- :func:`nlos_episodes`: a satellite received only by its reflection for 5-30 s: the extra path
  reaches code and phase alike, the phase stays continuous (the loop tracks the reflected signal
  smoothly), so no loss of lock is flagged.
- :func:`undeclared_slips`: integer cycle slips the receiver does not flag (weak signals and a
  narrow loop bandwidth: u-blox M8 data are full of them); :func:`half_cycle_slips`: the loop
  re-locks with the wrong carrier sign, the receiver flags the half-cycle ambiguity (LLI bit 1,
  RINEX 3.05 §5.7) until it reads the navigation-message preamble, then corrects it.
- :func:`outages`: every satellite lost under a bridge or in a tunnel; :func:`canyon_blockage`:
  the satellites in the azimuth sector a building wall hides vanish and come back with a new lock.
- :func:`single_frequency`: GPS L1, Galileo E1 and BDS B1I only (patch antennas and receivers of
  the u-blox M8 class).
- :func:`keep_only_tracking_mode` (header-level): the rover reports GPS L2 as L2C (``L``) only
  while a geodetic base reports L2 P(Y) (``W``).
- :func:`low_cost_noise`: code noise of decimetres to a metre, phase noise of millimetres and lower
  C/N0 of a patch antenna.

Faults touch only GPS, Galileo and BeiDou rows (the systems the RTK benchmarks use).
"""

from __future__ import annotations

import numpy as np

from gnssaug.constants import C_MPS, NS_PER_S
from gnssaug.gnss import BDS, GAL, GPS, SAT_SYSTEM, sat_freq_hz
from gnssaug.obs import LLI_HALF_CYCLE, LLI_SLIP, OBS_FIELDS, ObsSeries

#: Systems whose rows the faults touch.
FAULT_SYSTEMS = (GPS, GAL, BDS)


def _copy(series: ObsSeries) -> ObsSeries:
    fields = {name: getattr(series, name).copy() for name in OBS_FIELDS}
    return ObsSeries(series.t_gpst_ns.copy(), series.offsets.copy(), series.flag.copy(), series.sat.copy(),
                     meta=dict(series.meta), **fields)


def select_rows(series: ObsSeries, keep: np.ndarray, keep_epochs: bool = True) -> ObsSeries:
    """The rows of ``series`` where ``keep`` (bool[n_row]); empty epochs dropped unless ``keep_epochs``."""
    epoch_of_row = epoch_index(series)
    counts = np.bincount(epoch_of_row[keep], minlength=len(series))
    fields = {name: getattr(series, name)[keep] for name in OBS_FIELDS}
    ep = np.ones(len(series), dtype=bool) if keep_epochs else counts > 0
    offsets = np.concatenate(([0], np.cumsum(counts[ep]))).astype(np.int64)
    return ObsSeries(series.t_gpst_ns[ep], offsets, series.flag[ep], series.sat[keep], meta=dict(series.meta),
                     **fields)


def epoch_index(series: ObsSeries) -> np.ndarray:
    """Epoch number of each row (int64[n_row])."""
    return np.repeat(np.arange(len(series)), np.diff(series.offsets))


def _row_time_s(series: ObsSeries) -> np.ndarray:
    """Seconds since the first epoch of each row (float64[n_row])."""
    return (series.t_gpst_ns[epoch_index(series)] - series.t_gpst_ns[0]) / NS_PER_S


def _wavelength_m(series: ObsSeries) -> np.ndarray:
    """Wavelength of each row and slot [m] (NaN for unused slots and GLONASS FDMA)."""
    return C_MPS / sat_freq_hz(series.sat)


def _eligible(series: ObsSeries) -> np.ndarray:
    return np.isin(SAT_SYSTEM[series.sat], FAULT_SYSTEMS)


def _pick_windows(series: ObsSeries, rng, n: int, dur_s: tuple[float, float]):
    """``n`` windows (start, end) [s since the first epoch] inside the file, random lengths in ``dur_s``."""
    span_s = (series.t_gpst_ns[-1] - series.t_gpst_ns[0]) / NS_PER_S
    out = []
    for _ in range(n):
        d = rng.uniform(*dur_s)
        t0 = rng.uniform(0.1 * span_s, max(0.1 * span_s, span_s - d))
        out.append((t0, t0 + d))
    return out


def code_outliers(series: ObsSeries, rng, fraction: float = 0.03, extra_m: tuple[float, float] = (10.0, 150.0)):
    """Add ``extra_m`` (uniform, positive: a reflection is always longer) to every band's code of a
    ``fraction`` of the satellite-epochs.

    Returns
    -------
    ObsSeries, str
    """
    out = _copy(series)
    rows = np.nonzero(_eligible(out) & (rng.random(out.n_rows) < fraction))[0]
    out.pr_m[rows] += rng.uniform(*extra_m, size=rows.shape[0])[:, None]
    return out, f"{rows.shape[0]} satellite-epochs ({100 * rows.shape[0] / out.n_rows:.1f} %) +{extra_m[0]:g}.." \
                f"{extra_m[1]:g} m on code"


def _random_sats(series: ObsSeries, rng, n: int) -> np.ndarray:
    sats = np.unique(series.sat[_eligible(series)])
    return rng.choice(sats, size=n, replace=n > sats.shape[0])


def nlos_episodes(series: ObsSeries, rng, n: int = 6, dur_s: tuple[float, float] = (5.0, 30.0),
                  extra_m: tuple[float, float] = (5.0, 50.0)):
    """``n`` episodes where one satellite is received only by reflection: an extra path ``d`` on its
    code [m] and phase (``d / lambda`` cycles) of every band, constant within the episode, no LLI."""
    out = _copy(series)
    t_s = _row_time_s(out)
    lam = _wavelength_m(out)
    desc = []
    for sat, (t0, t1) in zip(_random_sats(out, rng, n), _pick_windows(out, rng, n, dur_s), strict=True):
        d = rng.uniform(*extra_m)
        rows = (out.sat == sat) & (t_s >= t0) & (t_s < t1)
        out.pr_m[rows] += d
        out.cp_cyc[rows] += d / lam[rows]
        desc.append(f"sat {int(sat)} {t0:.0f}-{t1:.0f} s +{d:.1f} m")
    return out, "; ".join(desc)


def undeclared_slips(series: ObsSeries, rng, n: int = 8, cycles: tuple[int, int] = (1, 20)):
    """``n`` integer slips of +-``cycles`` on one band of one satellite, from a random epoch to the
    end of the file, with no loss-of-lock flag."""
    out = _copy(series)
    t_s = _row_time_s(out)
    span_s = t_s.max()
    desc = []
    for sat in _random_sats(out, rng, n):
        rows_sat = out.sat == sat
        bands = np.nonzero(np.isfinite(out.cp_cyc[rows_sat]).any(axis=0))[0]
        band = int(rng.choice(bands))
        k = int(rng.integers(cycles[0], cycles[1] + 1)) * int(rng.choice([-1, 1]))
        t0 = rng.uniform(0.1 * span_s, 0.9 * span_s)
        rows = rows_sat & (t_s >= t0)
        out.cp_cyc[rows, band] += k
        desc.append(f"sat {int(sat)} band {band} {k:+d} cyc at {t0:.0f} s")
    return out, "; ".join(desc)


def half_cycle_slips(series: ObsSeries, rng, n: int = 4, dur_s: tuple[float, float] = (10.0, 30.0)):
    """``n`` half-cycle slips: one band of one satellite half a cycle off, flagged with LLI bit 1,
    for ``dur_s``; then the receiver resolves the sign (phase back, flag cleared)."""
    out = _copy(series)
    t_s = _row_time_s(out)
    desc = []
    for sat, (t0, t1) in zip(_random_sats(out, rng, n), _pick_windows(out, rng, n, dur_s), strict=True):
        rows_sat = out.sat == sat
        band = int(rng.choice(np.nonzero(np.isfinite(out.cp_cyc[rows_sat]).any(axis=0))[0]))
        rows = rows_sat & (t_s >= t0) & (t_s < t1) & np.isfinite(out.cp_cyc[:, band])
        out.cp_cyc[rows, band] += 0.5
        out.lli[rows, band] |= LLI_HALF_CYCLE
        desc.append(f"sat {int(sat)} band {band} {t0:.0f}-{t1:.0f} s")
    return out, "; ".join(desc)


def _relock(out: ObsSeries, rows: np.ndarray, rng) -> None:
    """A new phase lock at ``rows`` (the first epoch back of each satellite): LLI bit 0 set there,
    and an arbitrary new integer ambiguity from there on."""
    for r in np.nonzero(rows)[0]:
        later = (out.sat == out.sat[r]) & (np.arange(out.n_rows) >= r)
        out.cp_cyc[later] += rng.integers(-1000, 1000, size=out.cp_cyc.shape[1])
        out.lli[r] |= np.where(np.isfinite(out.cp_cyc[r]), LLI_SLIP, 0).astype(np.uint8)


def outages(series: ObsSeries, rng, n: int = 3, dur_s: tuple[float, float] = (5.0, 60.0)):
    """``n`` complete outages (no epoch at all); after each, every satellite re-locks (LLI bit 0, new
    integer ambiguities)."""
    out = _copy(series)
    desc = []
    for t0, t1 in sorted(_pick_windows(out, rng, n, dur_s)):
        t_s = _row_time_s(out)
        gone = (t_s >= t0) & (t_s < t1)
        after = t_s >= t1
        first_after = after & (t_s == (t_s[after].min() if after.any() else -1.0))
        _relock(out, first_after & _eligible(out), rng)
        out = select_rows(out, ~gone, keep_epochs=False)
        desc.append(f"{t0:.0f}-{t1:.0f} s")
    return out, "no epochs " + ", ".join(desc)


def canyon_blockage(series: ObsSeries, az_rad: np.ndarray, rng, n: int = 4, dur_s: tuple[float, float] = (10.0, 30.0),
                    sector_deg: float = 100.0):
    """``n`` windows in which the satellites in a random azimuth sector of ``sector_deg`` vanish; each
    comes back with a new lock (LLI bit 0, new integer ambiguities).

    ``az_rad`` (float64[n_row]) is each row's satellite azimuth at the rover.
    """
    out = _copy(series)
    keep = np.ones(out.n_rows, dtype=bool)
    t_s = _row_time_s(out)
    desc = []
    for t0, t1 in _pick_windows(out, rng, n, dur_s):
        a0 = rng.uniform(0.0, 2.0 * np.pi)
        in_sector = ((az_rad - a0) % (2.0 * np.pi)) < np.radians(sector_deg)
        hidden = in_sector & (t_s >= t0) & (t_s < t1) & _eligible(out)
        keep &= ~hidden
        back = np.zeros(out.n_rows, dtype=bool)
        for sat in np.unique(out.sat[hidden]):
            cand = np.nonzero((out.sat == sat) & (t_s >= t1))[0]
            if cand.shape[0]:
                back[cand[0]] = True
        _relock(out, back, rng)
        n_hidden = np.unique(out.sat[hidden]).shape[0]
        desc.append(f"az {np.degrees(a0):.0f}+{sector_deg:g} deg {t0:.0f}-{t1:.0f} s ({n_hidden} sats)")
    return select_rows(out, keep), "; ".join(desc)


def single_frequency(series: ObsSeries):
    """GPS L1, Galileo E1 and BDS B1I only (slot 0 of each); other systems removed."""
    out = _copy(series)
    for name in OBS_FIELDS:
        arr = getattr(out, name)
        if name == "code" or name == "lli":
            arr[:, 1:] = 0
        else:
            arr[:, 1:] = np.nan
    return select_rows(out, _eligible(out)), "GPS L1 + Galileo E1 + BDS B1I"


def low_cost_noise(series: ObsSeries, rng, code_std_m: tuple[float, float] = (0.5, 1.0),
                   phase_std_m: tuple[float, float] = (0.002, 0.003), cn0_drop_dbhz: float = 10.0,
                   dop_std_hz: float = 0.1):
    """White noise on code (a per-satellite standard deviation in ``code_std_m``), phase (in
    ``phase_std_m``) and Doppler, and C/N0 lowered by ``cn0_drop_dbhz``."""
    out = _copy(series)
    elig = _eligible(out)
    sats = np.unique(out.sat[elig])
    code_sd = dict(zip(sats.tolist(), rng.uniform(*code_std_m, size=sats.shape[0]), strict=True))
    phase_sd = dict(zip(sats.tolist(), rng.uniform(*phase_std_m, size=sats.shape[0]), strict=True))
    rows = np.nonzero(elig)[0]
    sd_pr = np.array([code_sd[s] for s in out.sat[rows].tolist()])
    sd_cp = np.array([phase_sd[s] for s in out.sat[rows].tolist()])
    lam = _wavelength_m(out)[rows]
    nb = out.pr_m.shape[1]
    out.pr_m[rows] += rng.standard_normal((rows.shape[0], nb)) * sd_pr[:, None]
    out.cp_cyc[rows] += rng.standard_normal((rows.shape[0], nb)) * sd_cp[:, None] / lam
    out.dop_hz[rows] += (rng.standard_normal((rows.shape[0], nb)) * dop_std_hz).astype(np.float32)
    out.cn0_dbhz[rows] -= np.float32(cn0_drop_dbhz)
    return out, (f"code {code_std_m[0]:g}-{code_std_m[1]:g} m, phase {1e3 * phase_std_m[0]:g}-"
                 f"{1e3 * phase_std_m[1]:g} mm, Doppler {dop_std_hz:g} Hz, C/N0 -{cn0_drop_dbhz:g} dB-Hz")


def keep_only_tracking_mode(rinex: bytes, system: str, band: str, drop: str) -> bytes:
    """RINEX 3 bytes in which ``system``'s observation types of ``band`` with attribute ``drop`` are
    renamed to the unknown type ``X1`` (which readers skip), so that the other tracking mode of that
    band is the only one left (e.g. GPS L2: drop ``W``, keep ``L``).

    Only the ``SYS / # / OBS TYPES`` records change; the data columns stay where they are.
    """
    head, sep, body = rinex.partition(b"END OF HEADER")
    lines = head.split(b"\n")
    in_sys = False
    for i, line in enumerate(lines):
        if line[60:79].rstrip() != b"SYS / # / OBS TYPES":
            continue
        if line[:1] != b" ":
            in_sys = line[:1] == system.encode()
        if in_sys:
            for kind in "CLDS":
                lines[i] = lines[i].replace(f" {kind}{band}{drop}".encode(), b" X1 ")
    return b"\n".join(lines) + sep + body


def azimuths_rad(series: ObsSeries, satellites, rx_ecef_m) -> np.ndarray:
    """Azimuth of each row's satellite seen from ``rx_ecef_m`` [rad] (NaN without an ephemeris).

    ``satellites`` is a satellite-state source (``sat_states(sat, t_gpst_ns)``, e.g. the
    broadcast :class:`gnssaug.ephemeris.store.EphStore`); the geometric epoch time is close enough
    for a sector of tens of degrees.
    """
    from gnssaug.geodesy import az_el

    st = satellites.sat_states(series.sat, series.t_gpst_ns[epoch_index(series)])
    pos = np.asarray(st.pos_ecef_m, dtype=np.float64)
    ok = np.asarray(st.valid, dtype=bool) & np.isfinite(pos).all(axis=1)
    az = np.full(series.n_rows, np.nan)
    if ok.any():
        az[ok] = az_el(np.asarray(rx_ecef_m, dtype=np.float64), np.ascontiguousarray(pos[ok]))[0]
    return az


def all_at_once(series: ObsSeries, satellites, rx_ecef_m, rng):
    """Code outliers (1 %), 3 NLOS episodes, 3 undeclared and 2 half-cycle slips, milder noise
    (code 0.3-0.6 m, phase 1-2 mm, C/N0 -5 dB-Hz), 2 canyon windows and one 5-20 s outage, in this
    order, from one generator. ``satellites`` and ``rx_ecef_m`` give the azimuths (:func:`azimuths_rad`)."""
    s, d_a = code_outliers(series, rng, fraction=0.01)
    s, d_b = nlos_episodes(s, rng, n=3)
    s, d_c = undeclared_slips(s, rng, n=3)
    s, d_h = half_cycle_slips(s, rng, n=2)
    s, d_n = low_cost_noise(s, rng, code_std_m=(0.3, 0.6), phase_std_m=(0.001, 0.002), cn0_drop_dbhz=5.0)
    s, d_k = canyon_blockage(s, azimuths_rad(s, satellites, rx_ecef_m), rng, n=2)
    s, d_o = outages(s, rng, n=1, dur_s=(5.0, 20.0))
    return s, " | ".join((d_a, d_b, d_c, d_h, d_n, d_k, d_o))
