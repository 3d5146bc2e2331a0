"""Conversion between :class:`gnssaug.obs.ObsEpoch` and RTCM observation messages, and the epoch assembler.

- :class:`MsmEncoder` turns epochs into MSM4/5/6/7 sets (one message per system, split when a system
  has more than 64 cells), tracking lock time per signal so that rovers see continuity; the
  multiple-message bit (DF393) is set on every message of an epoch but the last.
- :func:`msm_to_obs` turns the MSMs of one epoch (several systems) back into one ``ObsEpoch``.
- :func:`legacy_to_obs` / :func:`obs_to_legacy` do the same for 1001-1004 / 1009-1012 (encode 1004, 1012).
- :class:`EpochAssembler` joins one epoch's messages as they arrive (multiple-message bit, a change
  of epoch time, or :meth:`EpochAssembler.flush`), and keeps the GLONASS frequency channels it learns
  from MSM5/7 extended satellite info, 1020 ephemerides and 1009-1012.

Time tags: GPS, QZSS, Galileo, SBAS and NavIC MSMs carry GPS time of week, BeiDou BDT time of week
(GPST - 14 s), GLONASS the time of day in GLONASS time (UTC + 3 h) and the day of week (RTCM 10403.3
DF004, DF427, DF416/DF034). A full time needs a reference within half a week (half a day for GLONASS).

Measurement relations (RTCM 10403.3 §3.5.12.3): pseudorange = c/1000 (rough + fine) [ms -> m], phase
range likewise, phase [cycles] = phase range / wavelength, Doppler = -range rate / wavelength.
"""

from __future__ import annotations

import numpy as np

from gnssaug.constants import NS_PER_S
from gnssaug.gnss import (
    BAND_FREQ_HZ,
    BAND_FREQ_STEP_HZ,
    BDS,
    GLO,
    GLO_FCN_UNKNOWN,
    GPS,
    MAX_PRN,
    N_BAND,
    N_SAT,
    PRN_BASE,
    SAT_PRN,
    SAT_SYSTEM,
    SBS,
    SYSTEM_OFFSET,
    SYSTEMS,
    attribute_rank,
    sat_index,
)
from gnssaug.obs import LLI_HALF_CYCLE, LLI_SLIP, OBS_FIELDS, ObsEpoch
from gnssaug.rtcm.errors import MessageContentError
from gnssaug.rtcm.messages import Message
from gnssaug.rtcm.msm import MAX_CELLS, MS_TO_M, MSM_SYSTEM, SIGNAL_IDS, SIGNAL_SLOTS, Msm
from gnssaug.time import NS_PER_DAY, NS_PER_WEEK, leap_seconds_at_gpst_ns

#: Size of tables indexed by MSM signal ID (IDs 1-32, RTCM 10403.3 DF395).
N_MSM_SIGNAL_ID = 33

C_MPS = 299_792_458.0
_BDT_OFFSET_NS = 14 * NS_PER_S
_GLOT_OFFSET_NS = 3 * 3600 * NS_PER_S
_MSM_GROUP = {v: k for k, v in MSM_SYSTEM.items()}

# ---------------------------------------------------------------------------------------------
# Lock-time indicators
# ---------------------------------------------------------------------------------------------


def _extended_lock_table() -> np.ndarray:
    # DF407 (RTCM 10403.3 Table 3.5-74): 1 ms steps to 63, then blocks of 32 with doubling steps.
    t = list(range(64))
    for i in range(64, 704):
        k = (i - 32) // 32
        t.append(t[-1] + (1 << (k - 1) if i % 32 == 0 else 1 << k))
    t.append(67_108_864)
    return np.array(t, dtype=np.int64)


#: Minimum lock time [ms] of each DF402 (MSM1-5) indicator (RTCM 10403.3 Table 3.5-74).
LOCK_MS_MSM = np.array([0] + [1 << (i + 4) for i in range(1, 16)], dtype=np.int64)
#: Minimum lock time [ms] of each DF407 (MSM6-7) indicator.
LOCK_MS_MSM_EXT = _extended_lock_table()


def _legacy_lock_table() -> np.ndarray:
    # DF013/DF019/DF043/DF049 (RTCM 10403.3 Table 3.4-2): minimum lock time [s] per indicator.
    t = []
    for i in range(127):
        for lo, a, b in ((0, 1, 0), (24, 2, -24), (48, 4, -120), (72, 8, -408), (96, 16, -1176), (120, 32, -3096)):
            if i >= lo:
                value = a * i + b
        t.append(value)
    t.append(937)
    return np.array(t, dtype=np.int64)


#: Minimum lock time [s] of each legacy 7-bit indicator.
LOCK_S_LEGACY = _legacy_lock_table()


def lock_indicator(lock_ms: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The largest indicator whose minimum lock time is not above ``lock_ms`` (same unit as ``table``)."""
    return np.clip(np.searchsorted(table, np.asarray(lock_ms), side="right") - 1, 0, len(table) - 1)


# ---------------------------------------------------------------------------------------------
# Time tags
# ---------------------------------------------------------------------------------------------


def _nearest(t_ns: int, period_ns: int, ref_ns: int) -> int:
    return t_ns + period_ns * round((ref_ns - t_ns) / period_ns)


def msm_epoch_gpst_ns(msg_group: int, epoch_ms: int, t_ref_gpst_ns: int, glo_dow: int = 7) -> int:
    """GPST nanoseconds of an observation message time tag, resolved near a reference time.

    Parameters
    ----------
    msg_group : int
        ``msg_type // 10`` (107 GPS ... 112 BeiDou) or 100 for 1001-1004, 101 for 1009-1012.
    epoch_ms : int
        DF004 / DF427 / DF248 time of week [ms], or DF034 GLONASS time of day [ms].
    t_ref_gpst_ns : int
        Any time within half a week of the epoch (GLONASS without a day of week: half a day).
    glo_dow : int
        GLONASS day of week (DF416, 0 Sunday); 7 when unknown (legacy messages).
    """
    tod_ns = int(epoch_ms) * 1_000_000
    if msg_group in (108, 101):
        leap_ns = leap_seconds_at_gpst_ns(t_ref_gpst_ns) * NS_PER_S
        ref_glot = t_ref_gpst_ns - leap_ns + _GLOT_OFFSET_NS
        if 0 <= glo_dow <= 6:  # GPS time began on a Sunday, so whole weeks of GLONASS days align
            t_glot = _nearest(glo_dow * NS_PER_DAY + tod_ns, NS_PER_WEEK, ref_glot)
        else:
            t_glot = _nearest(tod_ns, NS_PER_DAY, ref_glot)
        return t_glot - _GLOT_OFFSET_NS + leap_ns
    if msg_group == 112:
        return _nearest(tod_ns, NS_PER_WEEK, t_ref_gpst_ns - _BDT_OFFSET_NS) + _BDT_OFFSET_NS
    return _nearest(tod_ns, NS_PER_WEEK, t_ref_gpst_ns)


def epoch_fields(msg_group: int, t_gpst_ns: int) -> tuple[int, int]:
    """(``epoch_ms``, ``glo_dow``) of an MSM header for a GPST instant."""
    if msg_group in (108, 101):
        t_glot = t_gpst_ns - leap_seconds_at_gpst_ns(t_gpst_ns) * NS_PER_S + _GLOT_OFFSET_NS
        days = t_glot // NS_PER_DAY
        return (t_glot - days * NS_PER_DAY) // 1_000_000, int(days % 7)  # the GPS epoch was a Sunday
    if msg_group == 112:
        t_gpst_ns -= _BDT_OFFSET_NS
    return (t_gpst_ns % NS_PER_WEEK) // 1_000_000, 0


# ---------------------------------------------------------------------------------------------
# MSM -> ObsEpoch
# ---------------------------------------------------------------------------------------------


def _wavelength_m(system: int, slots: np.ndarray, fcn: np.ndarray) -> np.ndarray:
    freq = BAND_FREQ_HZ[system, slots] + BAND_FREQ_STEP_HZ[system, slots] * np.where(
        fcn == GLO_FCN_UNKNOWN, np.nan, fcn)
    return C_MPS / freq


def _msm_sats(m: Msm) -> np.ndarray:
    # Global satellite indices of an MSM's satellite IDs (SBAS ID 1 is PRN 120; QZSS ID 1 is J01).
    system = m.system
    prn = m.prn.astype(np.int64) + (PRN_BASE[SBS] - 1 if system == SBS else 0)
    slot = prn - PRN_BASE[system]
    if np.any((slot < 0) | (slot >= MAX_PRN[system])):
        bad = int(prn[(slot < 0) | (slot >= MAX_PRN[system])][0])
        raise MessageContentError(f"MSM {m.msg_type}: satellite ID {bad} is outside the {SYSTEMS[system]} range")
    return SYSTEM_OFFSET[system] + slot


class _Cells:
    # Per-cell arrays of several messages, before they become one ObsEpoch.
    def __init__(self):
        self.parts: list[dict] = []

    def add(self, sat, slot, rank, **values):
        self.parts.append({"sat": sat, "slot": slot, "rank": rank, **values})

    def to_epoch(self, t_gpst_ns: int) -> ObsEpoch:
        if not self.parts:
            return ObsEpoch.empty(t_gpst_ns, np.zeros(0, np.int16))
        cat = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        # one signal per slot: keep the most preferred tracking mode among the cells that carry the
        # most data, so a preferred mode whose range and phase are flagged invalid (NaN) does not hide
        # a valid cell of another mode of the same band
        key = cat["sat"] * N_BAND + cat["slot"]
        n_invalid = np.isnan(cat["pr_m"]).astype(np.int64) + np.isnan(cat["cp_cyc"])
        order = np.lexsort((cat["rank"], n_invalid, key))
        keep = order[np.unique(key[order], return_index=True)[1]]
        sats, row = np.unique(cat["sat"][keep], return_inverse=True)
        epoch = ObsEpoch.empty(t_gpst_ns, sats.astype(np.int16))
        slot = cat["slot"][keep]
        for name, dtype in OBS_FIELDS.items():
            getattr(epoch, name)[row, slot] = cat[name][keep].astype(dtype)
        return epoch


class LockState:
    """Lock times seen at the previous epoch per satellite and MSM signal, to turn MSM lock-time
    indicators into loss-of-lock flags (a lock time that went down, or restarted from zero, is a slip).

    Keyed by signal ID (RTCM 10403.3 Tables 3.5-91 ff.), not by observation slot: a station sending two
    tracking modes of one band (GPS L2 P(Y) and L2C) runs two tracking loops, each with its own lock time.
    """

    def __init__(self):
        self.t_gpst_ns = np.full((N_SAT, N_MSM_SIGNAL_ID), -1, dtype=np.int64)
        self.lock_ms = np.zeros((N_SAT, N_MSM_SIGNAL_ID), dtype=np.int64)

    def update(self, sats: np.ndarray, sig_ids: np.ndarray, lock_ms: np.ndarray, t_gpst_ns: int) -> np.ndarray:
        """Record this epoch's lock times of the cells ``(sats[i], sig_ids[i])`` (MSM signal IDs 1-32);
        returns bool[n], True where the signal slipped."""
        prev_t = self.t_gpst_ns[sats, sig_ids]
        prev = self.lock_ms[sats, sig_ids]
        elapsed_ms = (t_gpst_ns - prev_t) // 1_000_000
        slip = (prev_t >= 0) & (lock_ms < prev + elapsed_ms) & ((lock_ms < prev) | (lock_ms == 0))
        self.t_gpst_ns[sats, sig_ids] = t_gpst_ns
        self.lock_ms[sats, sig_ids] = lock_ms
        return slip


def _signal_tables(system: int, rank_fn=attribute_rank):
    # MSM signal ID (0..32) -> ObsEpoch slot (-1: none), attribute letter, preference rank
    slot = np.full(N_MSM_SIGNAL_ID, -1, dtype=np.int64)
    letter = np.zeros(N_MSM_SIGNAL_ID, dtype=np.uint8)
    rank = np.zeros(N_MSM_SIGNAL_ID, dtype=np.int64)
    for sig, (k, attr) in SIGNAL_SLOTS[system].items():
        slot[sig], letter[sig], rank[sig] = k, ord(attr), rank_fn(system, k, attr)
    return slot, letter, rank


# tables per (rank function, system), built at the first use of a ranking
_SIG_TABLES: dict = {(attribute_rank, s): _signal_tables(s) for s in SIGNAL_SLOTS}


def _sig_tables(system: int, rank_fn):
    key = (rank_fn, system)
    if key not in _SIG_TABLES:
        _SIG_TABLES[key] = _signal_tables(system, rank_fn)
    return _SIG_TABLES[key]


def _add_msm(cells: _Cells, m: Msm, glo_fcn: np.ndarray, lock_state: LockState | None, t_gpst_ns: int,
             rank=attribute_rank) -> None:
    system = m.system
    slot_of, letter_of, rank_of = _sig_tables(system, rank)
    sat_pos, sig_pos = m.cell_index()
    sig_ids = m.sig[sig_pos]
    slot = slot_of[sig_ids]
    known = slot >= 0
    if not known.any():
        return
    idx = np.flatnonzero(known)
    sat_pos, sig_ids, slot = sat_pos[idx], sig_ids[idx], slot[idx]
    letter, rank = letter_of[sig_ids], rank_of[sig_ids]
    all_sats = _msm_sats(m)
    sats = all_sats[sat_pos]
    if system == GLO:
        if m.level in (5, 7):
            ext = m.ext_info.astype(np.int64)
            learned = ext <= 13
            glo_fcn[all_sats[learned]] = ext[learned] - 7
        fcn = glo_fcn[sats].astype(np.float64)
    else:
        fcn = np.zeros(len(sats))
    lam = _wavelength_m(system, slot, fcn)
    rough = m.rough_range_ms[sat_pos]
    pr_m = (rough + m.fine_pr_ms[idx]) * MS_TO_M
    cp_cyc = (rough + m.fine_cp_ms[idx]) * MS_TO_M / lam
    rate = m.rough_rate_mps[sat_pos] + m.fine_rate_mps[idx]
    dop = -rate / lam
    lli = np.where(m.half_cycle[idx] == 1, LLI_HALF_CYCLE, 0).astype(np.uint8)
    if lock_state is not None:
        table_ms = LOCK_MS_MSM_EXT if m.level >= 6 else LOCK_MS_MSM
        lock_ms = table_ms[np.minimum(m.lock[idx], len(table_ms) - 1)]
        lli |= np.where(lock_state.update(sats, sig_ids, lock_ms, t_gpst_ns), LLI_SLIP, 0).astype(np.uint8)
    cells.add(sats, slot, rank, pr_m=pr_m, cp_cyc=cp_cyc, dop_hz=dop, cn0_dbhz=m.cn0_dbhz[idx], lli=lli,
              code=letter)


def msm_to_obs(messages: list[Msm], t_ref_gpst_ns: int, glo_fcn: np.ndarray | None = None,
               lock_state: LockState | None = None, rank=attribute_rank) -> ObsEpoch:
    """One ObsEpoch from the MSMs of one epoch (any systems, any levels).

    Parameters
    ----------
    messages : list of Msm
        Messages of the same epoch.
    t_ref_gpst_ns : int
        Reference time to resolve the week (or GLONASS day), within half of it.
    glo_fcn : int8[N_SAT], optional
        GLONASS frequency channel per satellite; updated from MSM5/7 extended info. Phases and
        Dopplers of GLONASS satellites with unknown channel are NaN.
    lock_state : LockState, optional
        Per-signal lock times of the previous epoch, updated; a shorter lock time sets the LLI slip
        bit. Without it only the half-cycle bit is set.
    rank : callable, optional
        ``rank(system, slot, attribute) -> int`` (0 most preferred): which tracking mode fills a
        slot where a satellite has several (e.g. GPS L2 W and L). Default
        :func:`gnssaug.gnss.attribute_rank`; :func:`gnssaug.gnss.civil_rank` for civil-signal rovers.
        A cell with valid range and phase beats a preferred one without them.

    Returns
    -------
    ObsEpoch
        Signals without an ObsEpoch slot (e.g. GPS L1 P) are left out.
    """
    if glo_fcn is None:
        glo_fcn = np.full(N_SAT, GLO_FCN_UNKNOWN, dtype=np.int8)
    cells = _Cells()
    t = None
    for m in messages:
        t_m = msm_epoch_gpst_ns(m.msg_type // 10, m.epoch_ms, t_ref_gpst_ns, m.glo_dow)
        t = t_m if t is None else t
        _add_msm(cells, m, glo_fcn, lock_state, t_m, rank)
    return cells.to_epoch(t if t is not None else t_ref_gpst_ns)


# ---------------------------------------------------------------------------------------------
# ObsEpoch -> MSM
# ---------------------------------------------------------------------------------------------


def _split_sats(sig_masks: list[int], max_cells: int = MAX_CELLS) -> list[list[int]]:
    # Greedy: add satellites (signal sets as bit masks) while n_sat x n_signals fits in the cell mask.
    groups, cur, union = [], [], 0
    for i, m in enumerate(sig_masks):
        u = union | m
        if cur and (len(cur) + 1) * u.bit_count() > max_cells:
            groups.append(cur)
            cur, u = [], m
        cur.append(i)
        union = u
    if cur:
        groups.append(cur)
    return groups


def _signal_lut(system: int) -> np.ndarray:
    # [slot, attribute ASCII] -> MSM signal ID (0: none)
    lut = np.zeros((N_BAND, 256), dtype=np.int64)
    for (slot, letter), sig in SIGNAL_IDS[system].items():
        lut[slot, ord(letter)] = sig
    return lut


_SIG_LUT = {s: _signal_lut(s) for s in SIGNAL_IDS}
_SLOTS = np.arange(N_BAND)[None, :]


class MsmEncoder:
    """Encode epochs as MSM sets, keeping lock times between epochs.

    Parameters
    ----------
    level : int
        MSM level 4, 5, 6 or 7 (1-3 also work; they carry fewer fields).
    station_id : int
        DF003.
    glo_fcn : int8[N_SAT], optional
        GLONASS frequency channels; GLONASS phase needs them (NaN phase otherwise).
    systems : iterable of int, optional
        Systems to encode (default: every system with an MSM).

    Attributes
    ----------
    dropped_signals : int
        Signals that had no MSM signal ID or did not fit their fields (written as invalid).
    """

    def __init__(self, level: int = 7, station_id: int = 0, glo_fcn: np.ndarray | None = None, systems=None):
        self.level = level
        self.station_id = station_id
        self.glo_fcn = glo_fcn if glo_fcn is not None else np.full(N_SAT, GLO_FCN_UNKNOWN, dtype=np.int8)
        self.systems = tuple(systems) if systems is not None else tuple(sorted(_MSM_GROUP))
        self._lock = SlotLockClock()
        self.dropped_signals = 0

    def encode(self, epoch: ObsEpoch) -> list[Msm]:
        """The MSMs of one epoch, in system order, with DF393 set on all but the last."""
        out: list[Msm] = []
        for system in self.systems:
            out.extend(self._system(epoch, system))
        self._lock.end_epoch(epoch.t_gpst_ns)
        for m in out[:-1]:
            m.multiple = 1
        return out

    def _system(self, epoch: ObsEpoch, system: int) -> list[Msm]:
        rows = np.flatnonzero(SAT_SYSTEM[epoch.sat] == system)
        if not len(rows):
            return []
        code = epoch.code[rows]
        has = (np.isfinite(epoch.pr_m[rows]) | np.isfinite(epoch.cp_cyc[rows])) & (code != 0)
        sig = _SIG_LUT[system][_SLOTS, code]
        self.dropped_signals += int(np.count_nonzero(has & (sig == 0)))
        r_idx, k_idx = np.nonzero(has & (sig != 0))
        if not len(r_idx):
            return []
        cell_sig = sig[r_idx, k_idx]
        order = np.lexsort((cell_sig, r_idx))  # cells: satellite-major, then signal ID
        r_idx, k_idx, cell_sig = r_idx[order], k_idx[order], cell_sig[order]
        sat_rows, first = np.unique(r_idx, return_index=True)
        # signal set of each satellite as a bit mask, then split so that n_sat x n_sig <= 64 cells
        masks = np.bitwise_or.reduceat(np.left_shift(1, cell_sig.astype(np.int64)), first)
        groups = _split_sats([int(x) for x in masks])
        bounds = np.append(first, len(r_idx))
        out = []
        for g in groups:
            lo, hi = bounds[g[0]], bounds[g[-1] + 1]
            out.append(self._message(epoch, system, rows[sat_rows[g[0]:g[-1] + 1]], rows[r_idx[lo:hi]], k_idx[lo:hi],
                                     cell_sig[lo:hi]))
        return out

    def _message(self, epoch: ObsEpoch, system: int, sat_rows, rows_a, slots_a, cell_sig) -> Msm:
        group = _MSM_GROUP[system]
        sig = np.unique(cell_sig)
        nsat = len(sat_rows)
        cell_sat = np.searchsorted(sat_rows, rows_a)
        cell_mask = np.zeros((nsat, len(sig)), dtype=bool)
        cell_mask[cell_sat, np.searchsorted(sig, cell_sig)] = True
        sats = epoch.sat[sat_rows].astype(np.int64)
        prn = SAT_PRN[sats].astype(np.int64) - (PRN_BASE[SBS] - 1 if system == SBS else 0)
        fcn = self.glo_fcn[epoch.sat[rows_a]].astype(np.int64) if system == GLO else np.zeros(len(rows_a), np.int64)
        lam = _wavelength_m(system, slots_a, fcn)
        pr_ms = epoch.pr_m[rows_a, slots_a] / MS_TO_M
        cp_ms = epoch.cp_cyc[rows_a, slots_a] * lam / MS_TO_M
        rate = -epoch.dop_hz[rows_a, slots_a].astype(np.float64) * lam
        # rough range: the satellite's first valid pseudorange (else phase range), on the 1/1024 ms grid
        ref = np.full(nsat, np.nan)
        for src in (cp_ms, pr_ms):
            ok = np.isfinite(src)
            ref[cell_sat[ok][::-1]] = src[ok][::-1]
        rough = np.round(ref * 1024.0) / 1024.0
        rough[~((rough >= 0) & (rough < 255))] = np.nan
        rough_rate = np.full(nsat, np.nan)
        ok = np.isfinite(rate)
        rough_rate[cell_sat[ok][::-1]] = np.round(rate[ok][::-1])
        rough_rate[np.abs(rough_rate) > 8191] = np.nan
        level = self.level
        ext = self.level >= 6
        fine_pr = self._fit(pr_ms - rough[cell_sat], 2.0**-29 if ext else 2.0**-24, 20 if ext else 15)
        fine_cp = self._fit(cp_ms - rough[cell_sat], 2.0**-31 if ext else 2.0**-29, 24 if ext else 22)
        fine_rate = self._fit(rate - rough_rate[cell_sat], 1e-4, 15)
        cn0 = epoch.cn0_dbhz[rows_a, slots_a].astype(np.float64)
        cn0_step = 2.0**-4 if ext else 1.0
        cn0 = np.where(np.isfinite(cn0) & (cn0 > 0), np.clip(np.round(cn0 / cn0_step) * cn0_step, cn0_step,
                                                              (1023 if ext else 63) * cn0_step), np.nan)
        lock_ms = self._lock.lock_ms(epoch, epoch.sat[rows_a], slots_a)
        lock = lock_indicator(lock_ms, LOCK_MS_MSM_EXT if ext else LOCK_MS_MSM).astype(np.uint16)
        half = ((epoch.lli[rows_a, slots_a] & LLI_HALF_CYCLE) != 0).astype(np.uint8)
        ext_info = np.zeros(nsat, np.uint8)
        if system == GLO:
            f = self.glo_fcn[sats]
            ext_info = np.where(f == GLO_FCN_UNKNOWN, 15, f.astype(np.int64) + 7).astype(np.uint8)
        epoch_ms, dow = epoch_fields(group, epoch.t_gpst_ns)
        if level not in (5, 7):
            rough_rate = np.full(nsat, np.nan)
            fine_rate = np.full(len(rows_a), np.nan)
            ext_info = np.zeros(nsat, np.uint8)
        if level in (1, 2, 3):
            rough = np.where(np.isfinite(rough), rough % 1.0, 0.0)
        return Msm(
            group * 10 + level, self.station_id, int(epoch_ms), dow, 0, 0, 0, 0, 0, 0,
            prn.astype(np.uint8), np.array(sig, dtype=np.uint8), cell_mask, rough, ext_info, rough_rate,
            fine_pr if level != 2 else np.full(len(rows_a), np.nan), fine_cp if level != 1 else np.full(len(rows_a),
                                                                                                      np.nan),
            lock if level != 1 else np.zeros(len(rows_a), np.uint16), half, cn0 if level >= 4 else np.full(
                len(rows_a), np.nan), fine_rate,
        )

    def _fit(self, fine: np.ndarray, scale: float, width: int) -> np.ndarray:
        # Values that do not fit the fine field go out as invalid (counted), never wrapped.
        q = np.round(fine / scale)
        limit = (1 << (width - 1)) - 1
        bad = np.isfinite(q) & (np.abs(q) > limit)
        self.dropped_signals += int(bad.sum())
        return np.where(bad | ~np.isfinite(q), np.nan, q * scale)


class SlotLockClock:
    """Lock times of an output stream, per satellite and observation slot, for encoders.

    A slot's lock time restarts at a slip (LLI bit 0), after an epoch without the signal, without
    phase, and when the slot's tracking mode (``ObsEpoch.code``) changes, e.g. GPS L2 from L2C to
    P(Y) and back: the phase then comes from another tracking loop, another arc, and a rover that keys
    lock times by band (RTKLIB) must see a slip. Call :meth:`lock_ms` for the cells of an epoch (in
    one or several calls), then :meth:`end_epoch`.
    """

    def __init__(self):
        self._start = np.full((N_SAT, N_BAND), -1, dtype=np.int64)
        self._last_seen = np.full((N_SAT, N_BAND), -1, dtype=np.int64)
        self._mode = np.zeros((N_SAT, N_BAND), dtype=np.uint8)  # tracking mode (attribute) last sent
        self._last_epoch = -1

    def lock_ms(self, epoch: ObsEpoch, sats: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """int64[n] lock time [ms] of the cells ``(sats[i], slots[i])`` of ``epoch`` (satellites in it)."""
        t = epoch.t_gpst_ns
        rows = np.searchsorted(epoch.sat, sats)
        start = self._start[sats, slots]
        slip = ((epoch.lli[rows, slots] & LLI_SLIP) != 0) | ~np.isfinite(epoch.cp_cyc[rows, slots])
        gap = self._last_seen[sats, slots] != self._last_epoch
        mode = epoch.code[rows, slots]
        switched = self._mode[sats, slots] != mode
        reset = slip | gap | switched | (start < 0)
        start = np.where(reset, t, start)
        self._start[sats, slots] = start
        self._mode[sats, slots] = mode
        self._last_seen[sats, slots] = t
        return (t - start) // 1_000_000

    def end_epoch(self, t_gpst_ns: int) -> None:
        """Close the epoch ``t_gpst_ns``: signals not seen in it restart at their next epoch."""
        self._last_epoch = t_gpst_ns


# ---------------------------------------------------------------------------------------------
# Legacy observations 1001-1004 / 1009-1012
# ---------------------------------------------------------------------------------------------
_GPS_PR_AMB_M = 299_792.458  # DF014 unit (RTCM 10403.3 Table 3.4-1)
_GLO_PR_AMB_M = 599_584.916  # DF044 unit
_GPS_L1_CODES = "CP"  # DF010: 0 C/A, 1 P(Y)
_GPS_L2_CODES = "XPDW"  # DF016: 0 C/A (L2C), 1 P(Y) direct, 2 P(Y) cross-correlated, 3 codeless (RTKLIB's mapping)
_GLO_L2_CODES = "CP"  # DF046: 0 C/A, 1 P


def legacy_to_obs(message: Message, t_ref_gpst_ns: int, glo_fcn: np.ndarray | None = None) -> ObsEpoch:
    """ObsEpoch of a legacy GPS (1001-1004) or GLONASS (1009-1012) observation message.

    The GLONASS frequency channel comes with each satellite (DF040) and is stored into ``glo_fcn``.
    """
    t = message.msg_type
    glonass = t >= 1009
    system = GLO if glonass else GPS
    v = message.values
    t_gpst = msm_epoch_gpst_ns(101 if glonass else 100, v["tod_ms" if glonass else "tow_ms"], t_ref_gpst_ns)
    sats = v["sats"]
    ids = [sat_index(system, s["slot" if glonass else "prn"]) for s in sats]
    order = np.argsort(ids)
    epoch = ObsEpoch.empty(t_gpst, np.array(ids, dtype=np.int16)[order])
    amb_unit = _GLO_PR_AMB_M if glonass else _GPS_PR_AMB_M
    for row, i in enumerate(order):
        s = sats[i]
        fcn = s["fcn_plus7"] - 7 if glonass else 0
        if glonass and glo_fcn is not None and -7 <= fcn <= 6:
            glo_fcn[ids[i]] = fcn
        lam1 = C_MPS / (BAND_FREQ_HZ[system, 0] + BAND_FREQ_STEP_HZ[system, 0] * fcn)
        lam2 = C_MPS / (BAND_FREQ_HZ[system, 1] + BAND_FREQ_STEP_HZ[system, 1] * fcn)
        pr1 = s["l1_pr_mod_m"] + s.get("l1_pr_amb", 0) * amb_unit
        epoch.pr_m[row, 0] = pr1
        epoch.cp_cyc[row, 0] = (pr1 + s["l1_cp_minus_pr_m"]) / lam1
        epoch.code[row, 0] = ord(_GPS_L1_CODES[s["l1_code"]] if not glonass else "CP"[s["l1_code"]])
        epoch.cn0_dbhz[row, 0] = s.get("l1_cn0_dbhz", np.nan)
        if "l2_code" in s:
            epoch.pr_m[row, 1] = pr1 + s["l2_minus_l1_pr_m"]
            epoch.cp_cyc[row, 1] = (pr1 + s["l2_cp_minus_l1_pr_m"]) / lam2
            epoch.code[row, 1] = ord((_GLO_L2_CODES if glonass else _GPS_L2_CODES)[s["l2_code"] % (2 if glonass
                                                                                                  else 4)])
            epoch.cn0_dbhz[row, 1] = s.get("l2_cn0_dbhz", np.nan)
    return epoch


def obs_to_legacy(epoch: ObsEpoch, station_id: int, glo_fcn: np.ndarray | None = None,
                  lock_s: dict | None = None) -> list[Message]:
    """1004 (GPS) and 1012 (GLONASS) messages of an epoch, for rovers without MSM support.

    L1 must be C/A (or P) and L2 present for a satellite to be written. The phase is written
    relative to the L1 pseudorange; a difference over the field span (±262 m) is written invalid.

    Parameters
    ----------
    lock_s : dict, optional
        ``{(sat, slot): lock time [s]}`` for the L1/L2 lock-time indicators (DF013, DF019, DF043,
        DF049), e.g. from a :class:`SlotLockClock`; a missing key is 0 s. None writes the maximum
        indicator (127, over 937 s) everywhere, i.e. no slips.
    """
    out = []
    for system, msg_type in ((GPS, 1004), (GLO, 1012)):
        rows = np.flatnonzero(SAT_SYSTEM[epoch.sat] == system)
        sats = []
        for r in rows.tolist():
            pr1 = epoch.pr_m[r, 0]
            if not np.isfinite(pr1):
                continue
            prn = int(SAT_PRN[epoch.sat[r]])
            fcn = 0
            if system == GLO:
                fcn = int(glo_fcn[epoch.sat[r]]) if glo_fcn is not None else GLO_FCN_UNKNOWN
                if fcn == GLO_FCN_UNKNOWN:
                    continue
            amb_unit = _GLO_PR_AMB_M if system == GLO else _GPS_PR_AMB_M
            amb = int(pr1 // amb_unit)
            lam1 = C_MPS / (BAND_FREQ_HZ[system, 0] + BAND_FREQ_STEP_HZ[system, 0] * fcn)
            lam2 = C_MPS / (BAND_FREQ_HZ[system, 1] + BAND_FREQ_STEP_HZ[system, 1] * fcn)

            def rel(x, lim):
                return float(x) if np.isfinite(x) and abs(x) < lim else float("nan")

            pr1_mod = round((pr1 - amb * amb_unit) / 0.02) * 0.02
            pr1_q = pr1_mod + amb * amb_unit
            code1 = chr(epoch.code[r, 0]) if epoch.code[r, 0] else "C"
            code2 = chr(epoch.code[r, 1]) if epoch.code[r, 1] else ("X" if system == GPS else "C")
            l2codes = _GLO_L2_CODES if system == GLO else _GPS_L2_CODES
            row = {
                ("slot" if system == GLO else "prn"): prn,
                "l1_code": 1 if code1 in "PWY" else 0,
                "l1_pr_mod_m": pr1_mod,
                "l1_cp_minus_pr_m": rel(epoch.cp_cyc[r, 0] * lam1 - pr1_q, 262.0),
                "l1_lock": 127 if lock_s is None else int(lock_indicator(lock_s.get((int(epoch.sat[r]), 0), 0),
                                                                         LOCK_S_LEGACY)),
                "l1_pr_amb": amb,
                "l1_cn0_dbhz": _cn0_q(epoch.cn0_dbhz[r, 0]),
                "l2_code": max(l2codes.find(code2), 0) if code2 in l2codes else (3 if system == GPS and code2 in "WY"
                                                                                  else 0),
                "l2_minus_l1_pr_m": rel(epoch.pr_m[r, 1] - pr1_q, 163.8),
                "l2_cp_minus_l1_pr_m": rel(epoch.cp_cyc[r, 1] * lam2 - pr1_q, 262.0),
                "l2_lock": 127 if lock_s is None else int(lock_indicator(lock_s.get((int(epoch.sat[r]), 1), 0),
                                                                         LOCK_S_LEGACY)),
                ("l2_cn0_dbhz"): _cn0_q(epoch.cn0_dbhz[r, 1]),
            }
            if system == GLO:
                row["fcn_plus7"] = fcn + 7
                row = {k: row[k] for k in ("slot", "l1_code", "fcn_plus7", "l1_pr_mod_m", "l1_cp_minus_pr_m",
                                           "l1_lock", "l1_pr_amb", "l1_cn0_dbhz", "l2_code", "l2_minus_l1_pr_m",
                                           "l2_cp_minus_l1_pr_m", "l2_lock", "l2_cn0_dbhz")}
            for key in ("l1_cp_minus_pr_m", "l2_minus_l1_pr_m", "l2_cp_minus_l1_pr_m"):
                if np.isfinite(row[key]):
                    row[key] = round(row[key] / (0.02 if key == "l2_minus_l1_pr_m" else 0.0005)) * (
                        0.02 if key == "l2_minus_l1_pr_m" else 0.0005)
            sats.append(row)
        if not sats:
            continue
        sats = sats[:31]
        if system == GLO:
            tod_ms, _ = epoch_fields(108, epoch.t_gpst_ns)
            head = {"station_id": station_id, "tod_ms": int(tod_ms)}
        else:
            tow_ms, _ = epoch_fields(107, epoch.t_gpst_ns)
            head = {"station_id": station_id, "tow_ms": int(tow_ms)}
        head.update({"sync": 0, "smoothing": 0, "smoothing_interval": 0, "sats": sats})
        out.append(Message(msg_type, head))
    if len(out) == 2:
        out[0].values["sync"] = 1
    return out


def _cn0_q(x) -> float:
    return float(np.clip(round(float(x) / 0.25) * 0.25, 0.25, 63.75)) if np.isfinite(x) and x > 0 else float("nan")


# ---------------------------------------------------------------------------------------------
# Assembler
# ---------------------------------------------------------------------------------------------


class EpochAssembler:
    """Join the observation messages of one epoch from several systems into one ObsEpoch.

    An epoch is complete when a message arrives with the multiple-message bit clear (MSM DF393,
    legacy DF005), when a message with another time tag arrives, or at :meth:`flush`.

    Parameters
    ----------
    t_ref_gpst_ns : int
        Reference time (within half a week, or half a day with GLONASS) of the first epoch; later
        epochs use the previous epoch as reference.
    rank : callable, optional
        Tracking-mode preference ``rank(system, slot, attribute) -> int`` used where a satellite
        sends several modes of one band (see :func:`msm_to_obs`). The default,
        :func:`gnssaug.gnss.attribute_rank`, serves ingest, the solvers and the legacy profile;
        :func:`gnssaug.gnss.civil_rank` (GPS L2C before P(Y)) serves the MSM4 profile. Lock times are
        kept per MSM signal ID either way, so switching modes in a slot is not itself a slip here; an
        encoder of the result must restart the slot's lock time (:class:`MsmEncoder` does).

    Attributes
    ----------
    glo_fcn : int8[N_SAT]
        GLONASS frequency channels learned so far (MSM5/7, 1009-1012, 1020).
    """

    def __init__(self, t_ref_gpst_ns: int, rank=attribute_rank):
        self.t_ref_gpst_ns = int(t_ref_gpst_ns)
        self.rank = rank
        self.glo_fcn = np.full(N_SAT, GLO_FCN_UNKNOWN, dtype=np.int8)
        self._pending: list = []
        self._pending_t: int | None = None
        self._lock_state = LockState()

    def feed(self, message) -> list[ObsEpoch]:
        """Add one decoded message; returns the epochs it completes (usually none or one).

        Raises
        ------
        MessageContentError
            For an observation message naming satellites outside the satellite index; the message
            is not added and the pending epoch is kept.
        """
        if isinstance(message, Message):
            if message.msg_type == 1020:
                fcn, slot = message.values["fcn_plus7"] - 7, message.values["slot"]
                if -7 <= fcn <= 6 and 1 <= slot <= MAX_PRN[GLO]:
                    self.glo_fcn[sat_index(GLO, slot)] = fcn
                return []
            if message.msg_type not in (1001, 1002, 1003, 1004, 1009, 1010, 1011, 1012):
                return []
            glonass = message.msg_type >= 1009
            system = GLO if glonass else GPS
            prns = [s["slot" if glonass else "prn"] for s in message.values["sats"]]
            if any(not 1 <= p <= MAX_PRN[system] for p in prns) or len(set(prns)) != len(prns):
                raise MessageContentError(f"message {message.msg_type}: satellite IDs {prns} are outside "
                                          f"1..{MAX_PRN[system]} or repeated")
            t = msm_epoch_gpst_ns(101 if glonass else 100, message.values["tod_ms" if glonass else "tow_ms"],
                                  self.t_ref_gpst_ns)
            more = message.values["sync"]
        elif isinstance(message, Msm):
            _msm_sats(message)  # rejects satellite IDs outside the system's range
            t = msm_epoch_gpst_ns(message.msg_type // 10, message.epoch_ms, self.t_ref_gpst_ns, message.glo_dow)
            more = message.multiple
        else:
            return []
        out = []
        if self._pending and t != self._pending_t:
            out.extend(self.flush())
        self._pending.append(message)
        self._pending_t = t
        if not more:
            out.extend(self.flush())
        return out

    def flush(self) -> list[ObsEpoch]:
        """Emit the pending epoch, if any."""
        if not self._pending:
            return []
        msms = [m for m in self._pending if isinstance(m, Msm)]
        t = self._pending_t
        parts = []
        if msms:
            parts.append(msm_to_obs(msms, t, self.glo_fcn, self._lock_state, self.rank))
        for m in self._pending:
            if isinstance(m, Message):
                parts.append(legacy_to_obs(m, t, self.glo_fcn))
        self._pending = []
        self.t_ref_gpst_ns = t
        return [merge_epochs(parts, t)]


def merge_epochs(parts: list[ObsEpoch], t_gpst_ns: int) -> ObsEpoch:
    """Join epochs of disjoint (or overlapping: the first wins) satellite sets into one."""
    parts = [p for p in parts if p.n_sat]
    if not parts:
        return ObsEpoch.empty(t_gpst_ns, np.zeros(0, np.int16))
    if len(parts) == 1:
        return parts[0]
    sat = np.concatenate([p.sat for p in parts])
    uniq, first = np.unique(sat, return_index=True)
    arrays = {name: np.concatenate([getattr(p, name) for p in parts])[first] for name in OBS_FIELDS}
    return ObsEpoch(t_gpst_ns, uniq.astype(np.int16), **arrays)


__all__ = ["BDS", "EpochAssembler", "LOCK_MS_MSM", "LOCK_MS_MSM_EXT", "LOCK_S_LEGACY", "LockState", "MsmEncoder",
           "SlotLockClock",
           "epoch_fields", "legacy_to_obs", "lock_indicator", "merge_epochs", "msm_epoch_gpst_ns", "msm_to_obs",
           "obs_to_legacy"]
