"""What a rover/base file pair has in common: epochs, time spans, signals per system.

``gnssaug solve`` prints this before it runs a differential mode, and stops with a clear error
when the pair cannot work (no common time, a base file given as the rover); the real-data
rehearsal (``benchmarks/realcheck_rehearsal.py``) compares it across file variants. Epochs are
paired as the RTK engine pairs them (:func:`gnssaug.solvers.rtk.match_base_epochs`: the latest base
epoch not newer than the rover's, within the age limit, a u-blox tag a few ms late counting as
simultaneous); signals as the engine takes them (:data:`gnssaug.solvers.rtk.FREQ_SLOTS`: the
observation slot of each frequency per clock group), whatever RINEX label each file gave them
(BDS B1I is ``C1I`` in RINEX 3.02, ``C2I`` from 3.03, ``C1``/``C2`` in RINEX 2).

A double-difference signal is a (satellite, frequency) whose carrier phase and pseudorange both
receivers report, minus one reference per clock group and frequency; elevation masks and the
engine's own screening come later, so this is the upper bound the engine starts from.

Tracking modes: per clock group and frequency the report says which modes were paired on those
signals (rover L2L with base L2L ...), and :meth:`PairReport.mode_warnings` names the signals
differenced across tracking modes (per-satellite code biases, phases of two tracking loops).
``solve`` reads the base preferring the rover's modes (:func:`gnssaug.datasets.rinex.obs_codes.tracking_modes`),
so a warning is left only where the base file lacks the rover's mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gnssaug.errors import UsageError
from gnssaug.gnss import CLOCK_GROUPS, SAT_CLOCK_GROUP, SAT_SYSTEM, SIGNAL_PLAN, SYSTEMS, system_index
from gnssaug.time import NS_PER_S, isoformat_gpst

#: A rover time tag this far after the whole second still pairs with that second's base epoch
#: (u-blox receivers tag x.004 s); the same tolerance as the engine's.
SYNC_TOL_NS = 25_000_000


@dataclass
class PairReport:
    """Epochs and signals a rover/base pair share.

    Attributes
    ----------
    n_rover, n_base : int
        Epochs in each file (after the --start/--end and --systems selections).
    rover_span_ns, base_span_ns : tuple[int, int]
        First and last epoch [GPST ns].
    rover_interval_s, base_interval_s : float
        Median epoch spacing [s] (NaN with one epoch).
    pairs : int64[n_rover]
        Base epoch used by each rover epoch, -1 where none is within ``max_age_s``.
    n_same_time : int
        Rover epochs whose base epoch is simultaneous (within :data:`SYNC_TOL_NS`).
    dd_per_epoch : float64[n_rover]
        Double-difference signals per rover epoch (NaN where unmatched).
    signals : list[dict]
        Per clock group and frequency: ``group``, ``freq`` (signal name), ``rover``/``base``
        (RINEX phase codes that filled the slot in each file on the common signals), ``mean`` (common
        satellites per matched epoch), ``modes`` (list of (rover code, base code, satellite-epochs),
        most frequent first; codes of a RINEX 2 file are the RINEX 3 codes its types stand for),
        ``system`` and ``slot`` (the signal's system index and observation slot).
    n_before, n_after : int
        Unpaired rover epochs before the base's first epoch / after its last one plus the age limit.
    n_in_gaps : int
        Unpaired rover epochs within the base's span: in a gap between base epochs longer than the age limit.
    base_gaps_ns : list of (int, int)
        Those gaps: the base epochs before and after each [GPST ns].
    """

    n_rover: int
    n_base: int
    rover_span_ns: tuple
    base_span_ns: tuple
    rover_interval_s: float
    base_interval_s: float
    pairs: np.ndarray
    n_same_time: int
    dd_per_epoch: np.ndarray
    signals: list = field(default_factory=list)
    n_before: int = 0
    n_after: int = 0
    n_in_gaps: int = 0
    base_gaps_ns: list = field(default_factory=list)

    @property
    def n_matched(self) -> int:
        """Rover epochs with a base epoch within the age limit."""
        return int(np.count_nonzero(self.pairs >= 0))

    def lines(self) -> list[str]:
        """The report in words, one line per fact (what ``solve`` prints)."""
        out = [
            f"rover: {self.n_rover} epochs {_span_text(self.rover_span_ns)}, "
            f"every {_interval_text(self.rover_interval_s)}",
            f"base : {self.n_base} epochs {_span_text(self.base_span_ns)}, "
            f"every {_interval_text(self.base_interval_s)}",
            f"epochs: {self.n_matched} of {self.n_rover} rover epochs have a base epoch ({self.n_same_time} at the "
            f"same time, {self.n_matched - self.n_same_time} with an older one), "
            f"{self.n_rover - self.n_matched} have none",
        ]
        if self.n_after:
            out.append(f"  {self.n_after} rover epochs come after the base file ends: give the next base file too "
                       "(ROVER BASE1 BASE2 NAV...)")
        if self.n_before:
            out.append(f"  {self.n_before} rover epochs come before the base file starts: give the previous base "
                       "file too")
        if self.n_in_gaps:
            gaps = ", ".join(_span_text(g) for g in self.base_gaps_ns[:3]) + (", ..." if len(self.base_gaps_ns) > 3
                                                                                else "")
            out.append(f"  {self.n_in_gaps} rover epochs fall in a gap of the base ({gaps}): is a base file missing?")
        if self.n_matched:
            dd = self.dd_per_epoch[np.isfinite(self.dd_per_epoch)]
            out.append(f"double differences per matched epoch: mean {dd.mean():.1f}, min {dd.min():.0f}, "
                       f"max {dd.max():.0f} (before the elevation mask)")
        for s in self.signals:
            out.append(f"  {s['group']:8s} {s['freq']:8s} {_modes_text(s):34s} {s['mean']:5.1f} satellites per epoch")
        return out

    def mode_warnings(self) -> list[str]:
        """One line per clock group and frequency whose common signals pair different tracking modes
        (``"GPS L2: rover L2L, base L2W (differenced across tracking modes)"``; "of one signal" for
        components of one signal, e.g. L2C's L2L and L2X); labels of one mode (BDS B1I ``L1I`` in
        RINEX 3.02, ``L2I`` later) are no difference."""
        from gnssaug.datasets.rinex.obs_codes import same_signal

        out = []
        for s in self.signals:
            total = sum(n for *_, n in s["modes"])
            cross = [(r, b, n) for r, b, n in s["modes"] if _attribute(r) != _attribute(b)]
            if not cross or total == 0:
                continue
            n_cross = sum(n for *_, n in cross)
            pairs = " and ".join(f"rover {r}, base {b}" for r, b, _ in cross)
            one = all(same_signal(s["system"], s["slot"], _attribute(r), _attribute(b)) for r, b, _ in cross)
            share = "" if n_cross == total else f" on {_percent(n_cross, total)} of its {total} satellite-epochs"
            out.append(f"{s['group']} {s['freq']}: {pairs} (differenced across tracking modes"
                       f"{' of one signal' if one else ''}{share})")
        return out


def _percent(n: int, total: int) -> str:
    """``"37 %"``; ``"<1 %"`` and ``">99 %"`` for shares that would round to none or all."""
    share = 100.0 * n / max(total, 1)
    if 0 < share < 0.5:
        return "<1 %"
    return ">99 %" if 99.5 <= share < 100.0 else f"{share:.0f} %"


def _attribute(code: str) -> str:
    """Tracking-mode letter of a reported code (``"L2W (RINEX 2)"`` -> ``"W"``)."""
    return code.split()[0][2:3]


def _modes_text(row: dict) -> str:
    """The mode pairs of a signal row: ``L2W`` when both files used it, ``rover L2L <-> base L2W`` across
    labels or modes, several pairs with their shares of the satellite-epochs."""
    modes = row["modes"]
    total = max(sum(n for *_, n in modes), 1)
    parts = [r if r == b else f"rover {r} <-> base {b}" for r, b, _ in modes]
    if len(parts) <= 1:
        return parts[0] if parts else "-"
    return ", ".join(f"{p} {_percent(n, total)}" for p, (*_, n) in zip(parts, modes, strict=True))


def _span_text(span) -> str:
    a, b = isoformat_gpst(span[0]), isoformat_gpst(span[1])
    return f"{a} - {b[11:] if a[:10] == b[:10] else b} GPST"


def _interval_text(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "? s"
    return f"{seconds:g} s" if seconds >= 1 else f"{seconds:g} s ({1 / seconds:g} Hz)"


def _interval_s(t_ns: np.ndarray) -> float:
    if t_ns.shape[0] < 2:
        return float("nan")
    return float(np.round(np.median(np.diff(t_ns)) / NS_PER_S, 3))


def freq_slots(systems: str, n_freq: int) -> np.ndarray:
    """Observation slot of each frequency per global satellite (int64[N_SAT, n_freq], -1: not used)."""
    from gnssaug.solvers.rtk import FREQ_SLOTS

    slots = FREQ_SLOTS[SAT_CLOCK_GROUP.astype(np.int64), :n_freq].copy()
    allowed = np.zeros(SAT_SYSTEM.shape[0], dtype=bool)
    for letter in systems:
        allowed |= SAT_SYSTEM == system_index(letter)
    slots[~allowed] = -1
    return slots


def _has_signal(series, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bool[n_row, n_freq] phase and code present in the frequency's slot, int64[n_row] epoch of each row)."""
    sat = series.sat.astype(np.int64)
    slot = slots[sat]
    rows = np.arange(sat.shape[0])
    safe = np.maximum(slot, 0)
    cp = series.cp_cyc[rows[:, None], safe]
    pr = series.pr_m[rows[:, None], safe]
    has = (slot >= 0) & np.isfinite(cp) & np.isfinite(pr)
    epoch = np.repeat(np.arange(len(series)), np.diff(series.offsets))
    return has, epoch


def _dense(series, has: np.ndarray, epoch: np.ndarray, n_sat: int) -> np.ndarray:
    """bool[n_epoch, n_sat, n_freq]: which satellite has which frequency at each epoch."""
    out = np.zeros((len(series), n_sat, has.shape[1]), dtype=bool)
    out[epoch, series.sat.astype(np.int64)] = has
    return out


def _dense_codes(series, slots: np.ndarray, epoch: np.ndarray, n_sat: int) -> np.ndarray:
    """uint8[n_epoch, n_sat, n_freq]: the tracking mode (ASCII attribute) of each frequency's slot, 0 if none."""
    sat = series.sat.astype(np.int64)
    slot = slots[sat]
    code = np.where(slot >= 0, series.code[np.arange(sat.shape[0])[:, None], np.maximum(slot, 0)], 0)
    out = np.zeros((len(series), n_sat, slots.shape[1]), dtype=np.uint8)
    out[epoch, sat] = code
    return out


def _code_name(system: int, slot: int, attribute: int, version: float) -> str:
    """The RINEX phase code of a mode in a file (``"L2W"``; a RINEX 2 type as its RINEX 3 equivalent)."""
    from gnssaug.datasets.rinex.obs_codes import file_code

    code = file_code(system, slot, chr(attribute), "L", max(version, 3.04) if version < 3 else version)
    return f"{code} (RINEX 2)" if version < 3 else code


def _mode_pairs(rover_codes: np.ndarray, base_codes: np.ndarray, system: int, slot: int,
                versions: tuple) -> list[tuple[str, str, int]]:
    """(rover code, base code, satellite-epochs) of the modes paired on common signals, most frequent first."""
    key = rover_codes.astype(np.int64) * 256 + base_codes
    values, counts = np.unique(key, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return [(_code_name(system, slot, int(values[i]) // 256, versions[0]),
             _code_name(system, slot, int(values[i]) % 256, versions[1]), int(counts[i])) for i in order]


def pair_report(rover, base, systems: str, n_freq: int, max_age_s: float, versions=(3.04, 3.04)) -> PairReport:
    """Epochs and signals that ``rover`` and ``base`` (ObsSeries) share, as the RTK engine pairs them.

    Parameters
    ----------
    rover, base : gnssaug.obs.ObsSeries
    systems : str
        RINEX system letters in use.
    n_freq : int
        Frequencies per satellite (``--freqs``).
    max_age_s : float
        Largest age of differential [s].
    versions : tuple[float, float]
        RINEX versions of the rover and base files (only to name their codes).

    Returns
    -------
    PairReport
    """
    from gnssaug.solvers.rtk import match_base_epochs

    slots = freq_slots(systems, n_freq)
    pairs = match_base_epochs(rover.t_gpst_ns, base.t_gpst_ns, max_age_s)
    matched = pairs >= 0
    if len(base) == 0:  # check_pair says so; nothing to index
        dt_ns = np.zeros(len(rover), dtype=np.int64)
    else:
        dt_ns = np.where(matched, rover.t_gpst_ns - base.t_gpst_ns[np.maximum(pairs, 0)], 0)
    n_same = int(np.count_nonzero(matched & (np.abs(dt_ns) <= SYNC_TOL_NS)))
    has_r, ep_r = _has_signal(rover, slots)
    has_b, ep_b = _has_signal(base, slots)
    n_sat = slots.shape[0]
    both = _dense(rover, has_r, ep_r, n_sat)[matched] & _dense(base, has_b, ep_b, n_sat)[pairs[matched]]
    # Common satellites per epoch, clock group and frequency; one reference each.
    per_group = np.stack([both[:, SAT_CLOCK_GROUP == g].sum(axis=1) for g in range(len(CLOCK_GROUPS))], axis=1)
    dd = np.full(len(rover), np.nan)
    dd[matched] = np.maximum(per_group - 1, 0).sum(axis=(1, 2))
    codes = (_dense_codes(rover, slots, ep_r, n_sat)[matched], _dense_codes(base, slots, ep_b, n_sat)[pairs[matched]])
    signals = _signal_rows(per_group, slots, both, codes, versions)
    gaps_ns = _gaps_ns(base.t_gpst_ns, max_age_s)
    n_before = int(np.count_nonzero(~matched & (rover.t_gpst_ns < base.t_gpst_ns[0]))) if len(base) else 0
    n_after = int(np.count_nonzero(~matched & (rover.t_gpst_ns > base.t_gpst_ns[-1]))) if len(base) else 0
    return PairReport(
        n_rover=len(rover), n_base=len(base),
        rover_span_ns=(int(rover.t_gpst_ns[0]), int(rover.t_gpst_ns[-1])),
        base_span_ns=(int(base.t_gpst_ns[0]), int(base.t_gpst_ns[-1])) if len(base) else (0, 0),
        rover_interval_s=_interval_s(rover.t_gpst_ns), base_interval_s=_interval_s(base.t_gpst_ns),
        pairs=pairs, n_same_time=n_same, dd_per_epoch=dd, signals=signals,
        n_before=n_before, n_after=n_after, n_in_gaps=int(np.count_nonzero(~matched)) - n_before - n_after
        if len(base) else 0, base_gaps_ns=gaps_ns,
    )


def _gaps_ns(t_ns: np.ndarray, max_age_s: float) -> list[tuple[int, int]]:
    """(epoch before, epoch after) of each gap between epochs longer than ``max_age_s`` [GPST ns]: a base
    file missing from a list of hourly files, or a receiver that stopped."""
    k = np.flatnonzero(np.diff(t_ns) > max_age_s * NS_PER_S)
    return [(int(t_ns[i]), int(t_ns[i + 1])) for i in k]


def _signal_rows(per_group: np.ndarray, slots: np.ndarray, both: np.ndarray, codes: tuple,
                 versions: tuple) -> list[dict]:
    """One :attr:`PairReport.signals` row per clock group and frequency that some matched epoch shares.

    Parameters
    ----------
    per_group : int64[n_matched, n_group, n_freq]
        Common satellites per matched epoch, clock group and frequency.
    slots : int64[N_SAT, n_freq]
        :func:`freq_slots`.
    both : bool[n_matched, N_SAT, n_freq]
        Signals both files hold at each matched epoch.
    codes : (uint8[n_matched, N_SAT, n_freq], uint8[n_matched, N_SAT, n_freq])
        Rover and base tracking modes there (:func:`_dense_codes`).
    versions : (float, float)
        RINEX versions of the rover and base files.
    """
    rows = []
    for g, name in enumerate(CLOCK_GROUPS):
        group_sats = SAT_CLOCK_GROUP == g
        for f in range(slots.shape[1]):
            if not per_group[:, g, f].any():
                continue
            sat = np.flatnonzero(group_sats)[0]
            system, slot = int(SAT_SYSTEM[sat]), int(slots[sat, f])
            common = both[:, group_sats, f]
            modes = _mode_pairs(codes[0][:, group_sats, f][common], codes[1][:, group_sats, f][common], system, slot,
                                versions)
            rows.append({
                "group": name,
                "freq": SIGNAL_PLAN[system][slot].name,
                "rover": "/".join(dict.fromkeys(r for r, _, _ in modes)),
                "base": "/".join(dict.fromkeys(b for _, b, _ in modes)),
                "mean": float(per_group[:, g, f].mean()),
                "modes": modes,
                "system": system,
                "slot": slot,
            })
    return rows


def off_second_ms(t_gpst_ns: np.ndarray) -> float:
    """Median distance of epoch tags from the whole second [ms] (reference stations tag on it, u-blox
    rovers a few ms off)."""
    if t_gpst_ns.shape[0] == 0:
        return 0.0
    frac = np.mod(t_gpst_ns, NS_PER_S)
    return float(np.median(np.minimum(frac, NS_PER_S - frac))) / 1e6


def check_pair(report: PairReport, rover_path: str, base_path: str, max_age_s: float) -> None:
    """Raise a :class:`UsageError` that says why when a rover/base pair cannot be solved.

    No rover epoch has a base epoch within ``max_age_s`` (different days, hours, or a base that
    ends before the rover starts), or no signal is common to both files.
    """
    if report.n_base == 0:
        raise UsageError(f"{base_path}: no base observation epochs of the selected systems")
    if report.n_matched == 0:
        raise UsageError(
            f"the rover and base files do not overlap in time: rover {rover_path} "
            f"{_span_text(report.rover_span_ns)}, base {base_path} {_span_text(report.base_span_ns)} "
            f"(a base epoch may be at most {max_age_s:g} s older than the rover's)")
    if not report.signals:
        raise UsageError(f"{rover_path} and {base_path} share no signal of the selected systems and frequencies")


def systems_text(systems: str) -> str:
    """``"GEC"`` -> ``"GPS, Galileo, BeiDou"``."""
    from gnssaug.gnss import SYSTEM_NAMES

    return ", ".join(SYSTEM_NAMES[SYSTEMS.find(c)] for c in systems if SYSTEMS.find(c) >= 0)


def nav_coverage(nav, t_gpst_ns: np.ndarray, systems: str, observed: set[int],
                 windows_s: dict | None = None) -> list[tuple[str, int, int, int]]:
    """Per system, the span the broadcast records serve and how many epochs fall inside it.

    Parameters
    ----------
    nav : gnssaug.ephemeris.records.NavData
    t_gpst_ns : int64[n]
        Epochs to solve.
    systems : str
        System letters in use.
    observed : set of int
        System indices the observations hold.
    windows_s : dict, optional
        System index -> validity half-window [s] replacing the store's default for that system.

    Returns
    -------
    list of (system name, first_ns, last_ns, epochs covered)
        One row per system in use and observed; first/last are 0 when the files hold no record of it.
        A record serves toe +- the store's validity half-window (:data:`gnssaug.ephemeris.store.DEFAULT_WINDOWS_S`,
        updated with ``windows_s``: system index -> seconds).
    """
    from gnssaug.ephemeris.store import DEFAULT_WINDOWS_S
    from gnssaug.gnss import GLO, SYSTEM_NAMES

    out = []
    for letter in systems:
        s = SYSTEMS.find(letter)
        if s < 0 or s not in observed:
            continue
        table = nav.glonass if s == GLO else nav.kepler
        sel = SAT_SYSTEM[table.sat.astype(np.int64)] == s
        if not sel.any():
            out.append((SYSTEM_NAMES[s], 0, 0, 0))
            continue
        half_ns = int({**DEFAULT_WINDOWS_S, **(windows_s or {})}.get(s, 7200.0) * NS_PER_S)
        toe = np.sort(table.toe_gpst_ns[sel])
        first, last = int(toe[0]) - half_ns, int(toe[-1]) + half_ns
        # An epoch is served when some record's toe is within the half-window.
        k = np.clip(np.searchsorted(toe, t_gpst_ns), 1, toe.shape[0] - 1) if toe.shape[0] > 1 else np.zeros(
            t_gpst_ns.shape[0], dtype=np.int64)
        near = np.minimum(np.abs(toe[k] - t_gpst_ns), np.abs(toe[np.maximum(k - 1, 0)] - t_gpst_ns))
        out.append((SYSTEM_NAMES[s], first, last, int(np.count_nonzero(near <= half_ns))))
    return out


def check_nav_coverage(coverage, t_gpst_ns: np.ndarray, nav_paths: list[str]) -> list[str]:
    """Raise a :class:`UsageError` naming the files and spans when no system's records serve any
    epoch; else return notes for systems served only in part or not at all.

    Parameters
    ----------
    coverage : list of (system name, first_ns, last_ns, epochs served)
        :func:`nav_coverage`.
    t_gpst_ns : int64[n]
        Epochs to solve.
    nav_paths : list of str
        The navigation files (named in the error).

    Returns
    -------
    list of str
        One note per system served in part or not at all.
    """
    n = t_gpst_ns.shape[0]
    spans = "; ".join(f"{name} {_span_text((a, b)) if b else 'no records'}" for name, a, b, _ in coverage)
    rover = _span_text((int(t_gpst_ns[0]), int(t_gpst_ns[-1]))) if n else "no epochs"
    if coverage and all(c == 0 for *_, c in coverage):
        raise UsageError(f"the navigation files {', '.join(nav_paths)} do not cover the observations: they serve "
                         f"{spans}; the observations span {rover}")
    notes = []
    for name, a, b, c in coverage:
        if b == 0:
            notes.append(f"no {name} ephemerides in the navigation files: {name} satellites are not used")
        elif c < n:
            notes.append(f"{name} ephemerides serve {c} of {n} epochs (the files cover {_span_text((a, b))}, "
                         f"the observations {rover})")
    return notes
