"""Observation codes of RINEX files and the slots of :mod:`gnssaug.gnss` they fill.

RINEX 3/4 codes are ``<type><band><attribute>`` (``C2I``: pseudorange, band 2, mode I; RINEX 3.05
§5.1). RINEX 2 types have no attribute (``C1``, ``P2``, ``L2``; RINEX 2.11 §5.1); they are mapped
to the RINEX 3 mode of the same signal, the choice RTKLIB and IGS conversions make:

- GPS/QZSS/SBAS ``C1`` -> ``1C`` (C/A); ``P1`` -> ``1W``; ``L1 D1 S1`` -> ``1C`` (the C/A carrier;
  when a file has P1 but no C1 they follow ``1W``).
- GPS ``P2`` -> ``2W``; ``C2`` -> ``2L`` (L2C); ``L2 D2 S2`` -> ``2W`` when the file has P2, else
  ``2L`` when it has C2, else ``2W`` (semi-codeless tracking, the common case).
- GLONASS ``C1 C2`` -> ``1C 2C``; ``P1 P2`` -> ``1P 2P``; ``L D S`` of band n follow ``nP`` when
  the file has Pn and no Cn, else ``nC``.
- Band 5/6/7/8 types (``C5 L5 C7 L7 C8 L8 C6``) -> attribute ``X`` (pilot+data, undefined in 2.11).
- Galileo band 1 -> ``1X``.
- BeiDou (RINEX 2.12 drafts): bands 1 and 2 -> B1I (``2I``), 7 -> ``7I``, 6 -> ``6I``.
- BeiDou ``C1I``/``C1Q`` (and L, D, S) in a RINEX 3.03+ file -> B1I: the RINEX 3.02 label kept
  after a version change (B1C has no I or Q tracking mode, so nothing else is meant).

Tracking-mode preference (:func:`prefer_modes`): the base of a differential pair can be read
preferring, per satellite and slot, the mode the rover tracks (:func:`tracking_modes` of the rover),
so that GPS L2 of a geodetic base holding C2W/L2W and C2L/L2L pairs L2L with a u-blox rover's L2L
instead of L2W (RTKLIB's per-file code priority does the same job, ``-mopt -GL2L``).
"""

from __future__ import annotations

import numpy as np

from gnssaug.errors import InvalidInputError, UnknownSignalError
from gnssaug.gnss import (
    BDS,
    GAL,
    GLO,
    GPS,
    IRN,
    N_BAND,
    N_SAT,
    QZS,
    SAT_SYSTEM,
    SBS,
    SIGNAL_PLAN,
    SYSTEM_OFFSET,
    SYSTEMS,
    attribute_rank,
    band_slot,
)
from gnssaug.kernels.rinex_text import KIND_CN0, KIND_CP, KIND_DOP, KIND_PR, KIND_SKIP

#: Observation type letter -> kind column of the parse tables.
KIND_OF_TYPE = {"C": KIND_PR, "L": KIND_CP, "D": KIND_DOP, "S": KIND_CN0}
TYPE_OF_KIND = {v: k for k, v in KIND_OF_TYPE.items()}


def v2_to_v3(system: int, code: str, file_types: list[str]) -> str | None:
    """The RINEX 3 code (``"C1C"``) standing for a RINEX 2 type (``"C1"``), or None if it has none.

    See the module docstring for the choices; ``file_types`` are all types of the file, which
    decide the mode of L/D/S on bands with both a civil and a precise code.
    """
    if len(code) != 2 or code[0] not in "CPLDS" or not code[1].isdigit():
        return None
    kind, band = code[0], code[1]
    if system == BDS:
        if band not in "1267":
            return None
        return ("C" if kind == "P" else kind) + ("2" if band in "12" else band) + "I"
    if system == GAL:
        attr = "X"
    elif band in "12":
        attr = _attr_band12(system, kind, band, set(file_types))
    else:
        attr = "X"
    return ("C" if kind == "P" else kind) + band + attr


def _attr_band12(system: int, kind: str, band: str, types: set[str]) -> str:
    precise = "P" if system == GLO else "W"
    if kind == "P":
        return precise
    civil = "L" if (band == "2" and system != GLO) else "C"
    if kind == "C":
        return civil
    has_p, has_c = "P" + band in types, "C" + band in types
    if band == "1":
        return precise if (has_p and not has_c) else civil
    if system == GLO:
        return precise if (has_p and not has_c) else civil
    if has_p or not has_c:
        return precise
    return civil


def file_code(system: int, slot: int, attribute: str, kind: str, version: float) -> str:
    """The RINEX code a file of ``version`` uses for a slot and mode (BDS B1I is ``1`` before 3.03)."""
    band = SIGNAL_PLAN[system][slot].rinex_band
    if system == BDS and slot == 0 and version < 3.03:
        band = "1"
    return f"{kind}{band}{attribute}"


def _is_b1i_302_label(system: int, code3: str) -> bool:
    """A BeiDou ``C1I``/``L1Q`` ... in a RINEX 3.03+ file: B1C has no I or Q mode, so it can only be
    B1I under its RINEX 3.02 label (files converted to a later version that kept the old labels)."""
    return system == BDS and code3[1] == "1" and code3[2] in "IQ"


def build_tables(obs_types: dict[str, list[str]], version: float, v2_types: list[str] | None = None):
    """The per-system parse tables of :func:`gnssaug.kernels.rinex_text.parse_obs_rows`.

    Parameters
    ----------
    obs_types : dict[str, list[str]]
        System letter -> codes in file order (RINEX 2 files: the two-character types).
    version : float
        The file's RINEX version.
    v2_types : list of str, optional
        For RINEX 2, the file's type list (decides modes, see :func:`v2_to_v3`).

    Returns
    -------
    n_type : int64[7]
    kind, slot, rank : int8[7, n_max]
    attr : uint8[7, n_max]
    used : dict[str, list[str]]
        Per system the RINEX 3 codes that fill a slot (unknown codes such as ``X1`` left out).
    """
    n_max = max([len(v) for v in obs_types.values()] + [1])
    n_sys = len(SYSTEMS)
    n_type = np.zeros(n_sys, dtype=np.int64)
    kind = np.full((n_sys, n_max), KIND_SKIP, dtype=np.int8)
    slot = np.zeros((n_sys, n_max), dtype=np.int8)
    rank = np.zeros((n_sys, n_max), dtype=np.int8)
    attr = np.zeros((n_sys, n_max), dtype=np.uint8)
    used: dict[str, list[str]] = {}
    for letter, codes in obs_types.items():
        s = SYSTEMS.find(letter)
        if s < 0:
            continue
        n_type[s] = len(codes)
        for j, code in enumerate(codes):
            code3 = v2_to_v3(s, code, v2_types or []) if version < 3 else code
            if code3 is None or len(code3) != 3 or code3[0] not in KIND_OF_TYPE:
                continue
            try:
                k = band_slot(s, code3[1], code3[2], version if version >= 3 else 3.04)
            except UnknownSignalError:
                if not _is_b1i_302_label(s, code3):
                    continue
                k = band_slot(s, "1", code3[2], 3.02)  # B1I, labelled as RINEX 3.02 did
                code3 = code3[0] + "2" + code3[2]
            kind[s, j] = KIND_OF_TYPE[code3[0]]
            slot[s, j] = k
            rank[s, j] = attribute_rank(s, k, code3[2])
            attr[s, j] = ord(code3[2])
            used.setdefault(letter, []).append(code3)
    return n_type, kind, slot, rank, attr, used


#: Tracking modes of one signal (the same ranging codes; data, pilot or both components), per system
#: and slot (RINEX 3.05 Tables 4-10): where a file lacks the mode preferred, a mode of the same
#: signal goes before the usual ranking (a u-blox rover's GPS L2L pairs a Trimble base's L2X, the
#: same L2C signal, rather than its L2W). Letters alone in a slot are signals of their own.
SIGNAL_FAMILIES = {
    (GPS, 0): ("SLX", "PWY"), (GPS, 1): ("SLX", "PWY"), (GPS, 2): ("IQX",),
    (GLO, 2): ("IQX",),
    (GAL, 0): ("BCX", "AZ"), (GAL, 1): ("IQX",), (GAL, 2): ("IQX",), (GAL, 3): ("BCX", "AZ"), (GAL, 4): ("IQX",),
    (QZS, 0): ("SLX",), (QZS, 1): ("SLX",), (QZS, 2): ("IQX", "DPZ"), (QZS, 3): ("SLX", "EZ"),
    (BDS, 0): ("IQX",), (BDS, 1): ("IQX",), (BDS, 2): ("IQX", "DPZ"), (BDS, 3): ("DPX", "SLZ"), (BDS, 4): ("DPX",),
    (BDS, 5): ("DPX",),
    (SBS, 1): ("IQX",),
    (IRN, 0): ("BCX",), (IRN, 1): ("BCX",),
}


def same_signal(system: int, slot: int, a: str, b: str) -> bool:
    """True when tracking modes ``a`` and ``b`` of a slot are one signal (:data:`SIGNAL_FAMILIES`)."""
    return a == b or any(a in f and b in f for f in SIGNAL_FAMILIES.get((system, slot), ()))


#: Rank given to the preferred mode's types: better than every ranked mode (0 is the best rank).
PREFERRED_RANK = -1
#: Rows of the parse tables are indexed by ``int8`` (the kernel's ``row_sys``): at most this many.
MAX_TABLE_ROWS = 127


def tracking_modes(series) -> np.ndarray:
    """The tracking mode a receiver mostly used, per satellite and slot (the rover's, for :func:`prefer_modes`).

    Parameters
    ----------
    series : gnssaug.obs.ObsSeries
        Observations as read (``code`` holds the attribute letter that filled each slot).

    Returns
    -------
    uint8[N_SAT, N_BAND]
        ASCII attribute letter (``ord("L")``) most rows of the satellite hold in each slot; for a
        satellite the series lacks, the mode most rows of its system hold in that slot; 0 where the
        system has no observation in the slot.
    """
    sat = np.asarray(series.sat, dtype=np.int64)
    code = np.asarray(series.code)
    key = (sat[:, None] * N_BAND + np.arange(N_BAND)) * 256 + code
    counts = np.bincount(key[code != 0], minlength=N_SAT * N_BAND * 256).reshape(N_SAT, N_BAND, 256)
    bounds = np.concatenate((SYSTEM_OFFSET, [N_SAT]))
    per_system = np.add.reduceat(counts, bounds[:-1], axis=0)  # satellites of a system are contiguous
    modes = np.where(counts.any(axis=2), counts.argmax(axis=2), per_system.argmax(axis=2)[SAT_SYSTEM])
    return modes.astype(np.uint8)


def _check_preferred(preferred_modes) -> np.ndarray:
    pref = np.asarray(preferred_modes)
    if pref.shape != (N_SAT, N_BAND) or pref.dtype != np.uint8:
        raise InvalidInputError(f"preferred_modes must be uint8[{N_SAT}, {N_BAND}] (ASCII attribute letters per "
                                f"satellite and slot, as tracking_modes returns), got {pref.dtype}{list(pref.shape)}")
    return pref


def _pairable_ranks(n_type, kind, slot, rank, attr) -> np.ndarray:
    """int16[n_sys, N_BAND, 256]: the rank of each mode that has both a pseudorange and a phase type in the
    file, per system and slot; 127 for the others (a code-only mode would take the slot from the phase)."""
    has = np.zeros((len(SYSTEMS), N_BAND, 256, 2), dtype=bool)
    ranks = np.full((len(SYSTEMS), N_BAND, 256), 127, dtype=np.int16)
    for s in range(len(SYSTEMS)):
        for j in range(int(n_type[s])):
            if kind[s, j] in (KIND_PR, KIND_CP):
                has[s, slot[s, j], attr[s, j], int(kind[s, j] == KIND_CP)] = True
                ranks[s, slot[s, j], attr[s, j]] = rank[s, j]
    ranks[~has.all(axis=3)] = 127
    return ranks


def _targets(ranks: np.ndarray) -> np.ndarray:
    """uint8[n_sys, N_BAND, 256]: for each preferred mode, the mode to read: itself where the file can pair
    it, else the best-ranked pairable mode of the same signal (:data:`SIGNAL_FAMILIES`), else 0."""
    target = np.where(ranks < 127, np.arange(256), 0).astype(np.uint8)
    for (s, k), families in SIGNAL_FAMILIES.items():
        for family in families:
            members = np.frombuffer(family.encode(), dtype=np.uint8)
            r = ranks[s, k, members]
            if r.min() < 127:
                target[s, k, members[r >= 127]] = members[int(r.argmin())]
    return target


def prefer_modes(tables: tuple, preferred_modes: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Parse tables that rank a preferred tracking mode first, per satellite and slot.

    A satellite's preferred mode in a slot goes before the usual ranking
    (:func:`gnssaug.gnss.attribute_rank`) when the file has both its pseudorange and its phase type,
    else the best-ranked such mode of the same signal (:data:`SIGNAL_FAMILIES`: L2X for L2L); where
    an epoch lacks it, the usual ranking picks as before. Satellites whose preferences change
    nothing read through their system's row; the others through extra rows (one per system and
    distinct preference), so the kernel's per-row table index does the per-satellite choice.

    Parameters
    ----------
    tables : tuple
        ``(n_type, kind, slot, rank, attr)`` of :func:`build_tables`.
    preferred_modes : uint8[N_SAT, N_BAND]
        ASCII attribute letter per global satellite and slot, 0 for no preference
        (:func:`tracking_modes` of the other receiver).

    Returns
    -------
    table_of_sat : int8[N_SAT]
        The table row each satellite reads through (its system's index when nothing changes).
    tables : tuple
        ``(n_type, kind, slot, rank, attr)`` with the extra rows appended.

    Raises
    ------
    InvalidInputError
        When ``preferred_modes`` is not ``uint8[N_SAT, N_BAND]``.
    """
    pref = _check_preferred(preferred_modes)
    n_type, kind, slot, rank, attr = tables
    ranks = _pairable_ranks(n_type, kind, slot, rank, attr)
    best = ranks.min(axis=2)  # the usual choice per system and slot, among pairable modes
    k = np.arange(N_BAND)
    sys = SAT_SYSTEM.astype(np.int64)
    goal = _targets(ranks)[sys[:, None], k[None, :], pref]
    goal_rank = ranks[sys[:, None], k[None, :], goal]
    # A preference matters when a mode of its signal is pairable and not already the usual choice.
    wanted = np.where((pref != 0) & (goal != 0) & (goal_rank > best[sys]), goal, 0).astype(np.uint8)
    table_of_sat = sys.astype(np.int8)
    active = np.flatnonzero(wanted.any(axis=1))
    if active.size == 0:
        return table_of_sat, tables
    keys, inverse = np.unique(np.column_stack((sys[active], wanted[active])), axis=0, return_inverse=True)
    keys = keys[: MAX_TABLE_ROWS - len(SYSTEMS)]  # beyond (never seen): those satellites keep the usual ranking
    inverse = inverse.reshape(-1)
    fits = inverse < keys.shape[0]
    table_of_sat[active[fits]] = (len(SYSTEMS) + inverse[fits]).astype(np.int8)
    base_row = keys[:, 0]
    extra_rank = rank[base_row].copy()
    want = keys[:, 1:][np.arange(keys.shape[0])[:, None], slot[base_row]]
    extra_rank[(want != 0) & (attr[base_row] == want)] = PREFERRED_RANK
    out = (np.concatenate((n_type, n_type[base_row])), np.concatenate((kind, kind[base_row])),
           np.concatenate((slot, slot[base_row])), np.concatenate((rank, extra_rank)),
           np.concatenate((attr, attr[base_row])))
    return table_of_sat, out
