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
"""

from __future__ import annotations

import numpy as np

from gnssaug.errors import UnknownSignalError
from gnssaug.gnss import BDS, GAL, GLO, SIGNAL_PLAN, SYSTEMS, attribute_rank, band_slot
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
