"""Multiple Signal Messages (MSM1-MSM7), decoded and encoded as arrays (RTCM 10403.3 §3.5.12).

An MSM carries one system's observations at one epoch: a 169-bit header with satellite and signal
masks, a cell mask (which satellite tracks which signal), then *field blocks*: every satellite's
value of one field, then the next field, and the same for the cells. Each block holds equal-width
fields, so the whole data section is a fixed pattern of (offset, width) pairs for a given MSM level,
satellite count and cell count. That pattern is computed once and cached; a run of messages (one
socket read, a file) is then decoded with a dozen numpy operations however many messages, systems and
cells it holds (each field is read from the 32-bit word at its first byte; the patterns of the
messages of a run are laid end to end, and cached too, since stations repeat the same runs epoch after
epoch). :func:`decode_msm` is the same code with a run of one. Encoding packs all fields of a message
in one numpy pass.

Values stay in the units of the message (milliseconds of range, m/s of range rate); the conversion
to pseudorange, phase and Doppler of an :class:`gnssaug.obs.ObsEpoch` is in
:mod:`gnssaug.rtcm.epochs`.

Signal identifiers follow RTCM 10403.3 Tables 3.5-91 (GPS), 3.5-96 (GLONASS), 3.5-99 (Galileo),
3.5-105 (QZSS), 3.5-108.3 (NavIC) and 3.5-108 (BeiDou). The BeiDou table carries the BDS-3 signals:
B1C 1D/1P/1X at 30-32, B2a 5D/5P/5X at 22-24, B2b 7D/7P/7Z at 25-27 and B2a+b 8D/8P/8X at 18-20 (the
amended table 3.5-108 as read by PocketSDR and RTKLIB demo5; RTKLIB 2.4.3 and pyrtcm 1.2 know only
7D of these, so their decoders skip the other B2b and B2a+b cells).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from gnssaug.gnss import BDS, GAL, GLO, GPS, IRN, QZS, SBS, UnknownSignalError, band_slot
from gnssaug.rtcm.bits import BitWriter
from gnssaug.rtcm.errors import FieldRangeError, MessageContentError, MessageLengthError, RtcmError

#: MSM message group (message number // 10) -> gnssaug system index.
MSM_SYSTEM = {107: GPS, 108: GLO, 109: GAL, 110: SBS, 111: QZS, 112: BDS, 113: IRN}

_SIG_GPS = {2: "1C", 3: "1P", 4: "1W", 8: "2C", 9: "2P", 10: "2W", 15: "2S", 16: "2L", 17: "2X", 22: "5I",
            23: "5Q", 24: "5X", 30: "1S", 31: "1L", 32: "1X"}
_SIG_GLO = {2: "1C", 3: "1P", 8: "2C", 9: "2P"}
_SIG_GAL = {2: "1C", 3: "1A", 4: "1B", 5: "1X", 6: "1Z", 8: "6C", 9: "6A", 10: "6B", 11: "6X", 12: "6Z",
            14: "7I", 15: "7Q", 16: "7X", 18: "8I", 19: "8Q", 20: "8X", 22: "5I", 23: "5Q", 24: "5X"}
_SIG_SBS = {2: "1C", 22: "5I", 23: "5Q", 24: "5X"}
_SIG_QZS = {2: "1C", 9: "6S", 10: "6L", 11: "6X", 15: "2S", 16: "2L", 17: "2X", 22: "5I", 23: "5Q", 24: "5X",
            30: "1S", 31: "1L", 32: "1X"}
_SIG_BDS = {2: "2I", 3: "2Q", 4: "2X", 8: "6I", 9: "6Q", 10: "6X", 14: "7I", 15: "7Q", 16: "7X", 18: "8D",
            19: "8P", 20: "8X", 22: "5D", 23: "5P", 24: "5X", 25: "7D", 26: "7P", 27: "7Z", 30: "1D", 31: "1P",
            32: "1X"}
_SIG_IRN = {22: "5A"}

#: ``SIGNAL_CODES[system][signal_id]`` -> RINEX band digit + attribute (``"2I"``).
SIGNAL_CODES: dict[int, dict[int, str]] = {GPS: _SIG_GPS, GLO: _SIG_GLO, GAL: _SIG_GAL, SBS: _SIG_SBS,
                                           QZS: _SIG_QZS, BDS: _SIG_BDS, IRN: _SIG_IRN}


def _slot_table(system: int) -> dict[int, tuple[int, str]]:
    out = {}
    for sig, code in SIGNAL_CODES[system].items():
        try:
            out[sig] = (band_slot(system, code[0], code[1]), code[1])
        except UnknownSignalError:
            continue  # a signal the plan has no slot for (e.g. GPS L1 P); decoded, never stored
    return out


#: ``SIGNAL_SLOTS[system][signal_id]`` -> (ObsEpoch slot, attribute letter).
SIGNAL_SLOTS: dict[int, dict[int, tuple[int, str]]] = {s: _slot_table(s) for s in SIGNAL_CODES}
#: ``SIGNAL_IDS[system][(slot, attribute)]`` -> MSM signal ID (the inverse of :data:`SIGNAL_SLOTS`).
SIGNAL_IDS: dict[int, dict[tuple[int, str], int]] = {
    s: {v: k for k, v in table.items()} for s, table in SIGNAL_SLOTS.items()
}

MS_TO_M = 299_792.458  # light milliseconds -> metres (RTCM 10403.3 §3.5.12.3: ranges in ms)


@dataclass(frozen=True)
class _Field:
    name: str
    df: str
    width: int
    signed: bool
    scale: float | None
    invalid: int | None


_ROUGH_INT = _Field("rough_int", "DF397", 8, False, None, 255)
_EXT_INFO = _Field("ext_info", "DF419", 4, False, None, None)
_ROUGH_MOD = _Field("rough_mod", "DF398", 10, False, None, None)
_ROUGH_RATE = _Field("rough_rate_mps", "DF399", 14, True, 1.0, -8192)
_PR = _Field("fine_pr_ms", "DF400", 15, True, 2.0**-24, -16384)
_PR_X = _Field("fine_pr_ms", "DF405", 20, True, 2.0**-29, -(1 << 19))
_CP = _Field("fine_cp_ms", "DF401", 22, True, 2.0**-29, -(1 << 21))
_CP_X = _Field("fine_cp_ms", "DF406", 24, True, 2.0**-31, -(1 << 23))
_LOCK = _Field("lock", "DF402", 4, False, None, None)
_LOCK_X = _Field("lock", "DF407", 10, False, None, None)
_HALF = _Field("half_cycle", "DF420", 1, False, None, None)
_CN0 = _Field("cn0_dbhz", "DF403", 6, False, 1.0, 0)
_CN0_X = _Field("cn0_dbhz", "DF408", 10, False, 2.0**-4, 0)
_RATE = _Field("fine_rate_mps", "DF404", 15, True, 1e-4, -16384)

#: Satellite and cell field blocks of MSM1..MSM7 (RTCM 10403.3 Tables 3.5-78 to 3.5-87).
LEVELS = {
    1: ((_ROUGH_MOD,), (_PR,)),
    2: ((_ROUGH_MOD,), (_CP, _LOCK, _HALF)),
    3: ((_ROUGH_MOD,), (_PR, _CP, _LOCK, _HALF)),
    4: ((_ROUGH_INT, _ROUGH_MOD), (_PR, _CP, _LOCK, _HALF, _CN0)),
    5: ((_ROUGH_INT, _EXT_INFO, _ROUGH_MOD, _ROUGH_RATE), (_PR, _CP, _LOCK, _HALF, _CN0, _RATE)),
    6: ((_ROUGH_INT, _ROUGH_MOD), (_PR_X, _CP_X, _LOCK_X, _HALF, _CN0_X)),
    7: ((_ROUGH_INT, _EXT_INFO, _ROUGH_MOD, _ROUGH_RATE), (_PR_X, _CP_X, _LOCK_X, _HALF, _CN0_X, _RATE)),
}
HEADER_BITS = 169
MAX_CELLS = 64


@dataclass(eq=False, slots=True)
class Msm:
    """One decoded MSM (RTCM 10403.3 §3.5.12).

    Attributes
    ----------
    msg_type : int
        1071-1127 style message number; ``msg_type % 10`` is the MSM level, ``// 10`` the system.
    station_id : int
        DF003.
    epoch_ms : int
        Epoch time: GPS/QZSS TOW, Galileo TOW, BeiDou BDT TOW [ms]; GLONASS: time of day [ms]
        in GLONASS time (DF034).
    glo_dow : int
        GLONASS day of week (DF416, 0 Sunday, 7 unknown); 0 for other systems.
    multiple : int
        Multiple-message bit (DF393): 1 when more MSMs of the same epoch follow.
    iods, clock_steering, external_clock, smoothing, smoothing_interval : int
        DF409, DF411, DF412, DF417, DF418.
    prn : uint8[nsat]
        Satellite IDs 1..64 of the satellite mask, increasing (QZSS 1 is PRN 193).
    sig : uint8[nsig]
        Signal IDs 1..32 of the signal mask, increasing.
    cell_mask : bool[nsat, nsig]
        Which satellite has which signal; cells are ordered satellite-major.
    rough_range_ms : float64[nsat]
        Rough range DF397 + DF398 [ms] (MSM1-3: DF398 only, the range modulo 1 ms); NaN if invalid.
    ext_info : uint8[nsat]
        Extended satellite information (DF419: GLONASS channel + 7), MSM5/7; 0 otherwise.
    rough_rate_mps : float64[nsat]
        Rough phase-range rate DF399 [m/s], MSM5/7; NaN if invalid or absent.
    fine_pr_ms, fine_cp_ms : float64[ncell]
        Fine pseudorange and phase range DF400/DF405, DF401/DF406 [ms]; NaN if invalid or absent.
    lock : uint16[ncell]
        Lock-time indicator (DF402 in MSM1-5, DF407 in MSM6-7).
    half_cycle : uint8[ncell]
        Half-cycle ambiguity indicator DF420.
    cn0_dbhz : float64[ncell]
        CNR DF403/DF408 [dB-Hz]; NaN where 0 (not computed) or absent.
    fine_rate_mps : float64[ncell]
        Fine phase-range rate DF404 [m/s]; NaN if invalid or absent.
    """

    msg_type: int
    station_id: int
    epoch_ms: int
    glo_dow: int
    multiple: int
    iods: int
    clock_steering: int
    external_clock: int
    smoothing: int
    smoothing_interval: int
    prn: np.ndarray
    sig: np.ndarray
    cell_mask: np.ndarray
    rough_range_ms: np.ndarray
    ext_info: np.ndarray
    rough_rate_mps: np.ndarray
    fine_pr_ms: np.ndarray
    fine_cp_ms: np.ndarray
    lock: np.ndarray
    half_cycle: np.ndarray
    cn0_dbhz: np.ndarray
    fine_rate_mps: np.ndarray

    @property
    def level(self) -> int:
        """MSM level 1..7."""
        return self.msg_type % 10

    @property
    def system(self) -> int:
        """gnssaug system index."""
        return MSM_SYSTEM[self.msg_type // 10]

    @property
    def n_cell(self) -> int:
        """Number of cells."""
        return int(self.cell_mask.sum())

    def cell_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Satellite and signal positions (into :attr:`prn`, :attr:`sig`) of each cell, in cell order."""
        return np.nonzero(self.cell_mask)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Msm):
            return NotImplemented
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if isinstance(a, np.ndarray):
                if a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
                    return False
            elif a != b:
                return False
        return True


def is_msm(msg_type: int) -> bool:
    """True for MSM1-7 message numbers of the supported systems."""
    return msg_type // 10 in MSM_SYSTEM and 1 <= msg_type % 10 <= 7


_PLAN_CACHE: dict = {}
_MASKS_CACHE: dict = {}
_FLAGS_CACHE: dict = {}
_LAYOUT_CACHE: dict = {}
_CONST_CACHE: dict = {}
_CACHE_MAX = 4096  # entries per cache; a cache that fills up is emptied (masks change slowly)
_NO_INVALID = np.int64(1) << 62  # a raw value no field can hold (encoder ranges)
_NEVER32 = 1 << 30  # the same for the decoder's int32 raw values (fields are at most 24 bits)
_TYPE_AND_MASKS = ((1 << 12) - 1) << 157 | ((1 << 96) - 1)  # DF002 and the satellite + signal masks in the header
_I4BE = np.dtype(">i4")
_I32 = np.dtype(np.int32)
_U16 = np.dtype(np.uint16)
_U8 = np.dtype(np.uint8)


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _const(kind: str, n: int) -> np.ndarray:
    # Shared read-only fill arrays for the fields an MSM level does not carry.
    key = (kind, n)
    a = _CONST_CACHE.get(key)
    if a is None:
        a = {"nan": lambda: np.full(n, np.nan), "u8": lambda: np.zeros(n, np.uint8),
             "u16": lambda: np.zeros(n, np.uint16)}[kind]()
        if len(_CONST_CACHE) > _CACHE_MAX:
            _CONST_CACHE.clear()
        a = _CONST_CACHE[key] = _readonly(a)
    return a


#: The arrays of an :class:`Msm` after the masks, in order: (field, converted source: 0 float, 1 uint16,
#: 2 uint8, fill kind when the level does not carry the field, satellite (True) or cell field).
_PARTS = (("rough_mod", 0, "nan", True), ("ext_info", 2, "u8", True), ("rough_rate_mps", 0, "nan", True),
          ("fine_pr_ms", 0, "nan", False), ("fine_cp_ms", 0, "nan", False), ("lock", 1, "u16", False),
          ("half_cycle", 2, "u8", False), ("cn0_dbhz", 0, "nan", False), ("fine_rate_mps", 0, "nan", False))


class _Plan:
    """Bit positions and conversions of every data field of one MSM shape (level, nsat, ncell).

    Decoding reads each field from the big-endian 32-bit word at its first byte (no MSM field is wider
    than 24 bits, so a field at any bit alignment lies within 4 bytes), shifted to the top, then down
    (arithmetic shift: signed fields come out sign-extended; unsigned ones are masked), then scales it.

    Attributes
    ----------
    ints : int32[6, n]
        Per field: byte offset of its word in the payload, left shift, right shift, mask, the raw value
        that marks it invalid, and the offset of the field whose value is added to it (0: none). The rows
        of several plans are concatenated to convert the fields of a batch of messages of any shapes in
        one pass (:class:`_Layout`).
    scale : float64[n]
        Per field: the physical value of one raw unit (rough range: 1 ms and 1/1024 ms).
    parts : tuple
        Where each array of an :class:`Msm` after the masks comes from: ``(source, slice)``, source 0-2
        the converted values (float, uint16, uint8), 3 the rough ranges (MSM4-7), 4 + i a shared
        read-only fill (``fills[i]`` for the i-th field this level does not carry, e.g. Doppler in MSM4).
    layout : _Layout
        The layout of a message decoded on its own.
    """

    __slots__ = ("ints", "scale", "invalid", "slices", "end", "n", "fields", "width", "lo", "hi", "parts",
                 "fills", "nrough", "layout")

    def __init__(self, level: int, nsat: int, ncell: int, start: int):
        sat_fields, cell_fields = LEVELS[level]
        offs, widths, signed, scale, invalid, slices = [], [], [], [], [], {}
        self.fields = []
        pos = start
        for group, n in ((sat_fields, nsat), (cell_fields, ncell)):
            for f in group:
                first = len(offs)
                offs.extend(range(pos, pos + n * f.width, f.width))
                widths.extend([f.width] * n)
                signed.extend([f.signed] * n)
                # rough ranges: whole ms (255 invalid) and 1/1024 ms; they are added after scaling
                sc = f.scale if f.scale is not None else (1.0 / 1024.0 if f is _ROUGH_MOD else 1.0)
                scale.extend([sc] * n)
                invalid.extend([f.invalid if f.invalid is not None else _NO_INVALID] * n)
                slices[f.name] = slice(first, first + n)
                self.fields.append((f, slices[f.name]))
                pos += n * f.width
        offs_a = np.array(offs, dtype=np.int64)
        w = np.array(widths, dtype=np.int64)
        sg = np.array(signed, dtype=bool)
        last_byte = max(pos - 1, 0) >> 3
        # the 4-byte big-endian word holding each field; the last fields' words are moved back to end at
        # the last byte of the message (the field then sits 8 bits lower per byte moved)
        byte_off = offs_a >> 3
        idx = np.minimum(byte_off, max(last_byte - 3, 0))
        self.invalid = np.array(invalid, dtype=np.int64)
        # rough range = whole ms + fraction (MSM4-7): each fraction field gets the value of the whole-ms
        # field ``pair`` places before it added (MSM1-3 send the fraction alone, the range modulo 1 ms)
        pair = np.zeros(len(offs), dtype=np.int64)
        if "rough_int" in slices:
            pair[slices["rough_mod"]] = slices["rough_int"].start - slices["rough_mod"].start
        rows = (idx, (offs_a & 7) + 8 * (byte_off - idx), 32 - w, np.where(sg, -1, (1 << w) - 1),
                np.where(self.invalid == _NO_INVALID, _NEVER32, self.invalid), pair)
        self.ints = _readonly(np.array(rows, dtype=np.int32).reshape(len(rows), len(offs)))
        self.scale = _readonly(np.array(scale, dtype=np.float64))
        self.width = w
        self.lo = np.where(sg, -(np.int64(1) << (w - 1)), 0)
        self.hi = np.where(sg, (np.int64(1) << (w - 1)) - 1, (np.int64(1) << w) - 1)
        self.slices = slices
        self.end = pos
        self.n = len(offs)
        fills, parts = [], []
        for name, src, kind, per_sat in _PARTS:
            if name == "rough_mod" and "rough_int" in slices:  # whole ms + fraction, source 3
                parts.append((3, slice(0, nsat)))
            elif name in slices:
                parts.append((src, slices[name]))
            else:
                parts.append((4 + len(fills), slice(None)))
                fills.append(_const(kind, nsat if per_sat else ncell))
        self.parts, self.fills = tuple(parts), tuple(fills)
        self.nrough = nsat if "rough_int" in slices else 0
        self.layout = _Layout((self,), (0,))


def _plan(level: int, nsat: int, ncell: int, start: int) -> _Plan:
    key = (level, nsat, ncell, start)
    plan = _PLAN_CACHE.get(key)
    if plan is None:
        if len(_PLAN_CACHE) > _CACHE_MAX:
            _PLAN_CACHE.clear()
        plan = _PLAN_CACHE[key] = _Plan(level, nsat, ncell, start)
    return plan


class _Layout:
    """Where and how to read every field of a run of MSM payloads laid end to end (one plan each).

    Attributes
    ----------
    idx : intp[n]
        Byte offset of each field's 32-bit word in the joined payloads.
    lshift, rshift, mask, invalid : int32[n]
        Rows 1-4 of the plans' ``ints`` (see :class:`_Plan`), contiguous.
    scale : float64[n]
    pair : intp[2, m]
        Rough ranges (MSM4-7): the fraction fields, and the whole-ms fields added to them.
    parts : tuple
        Per message, where each array of its :class:`Msm` comes from (see :meth:`convert`).
    """

    __slots__ = ("idx", "lshift", "rshift", "mask", "invalid", "scale", "pair", "rough", "parts", "fills")

    def __init__(self, plans, starts):
        if len(plans) == 1:
            ints, scale = plans[0].ints, plans[0].scale
        else:
            ints = np.concatenate([p.ints for p in plans], axis=1)
            scale = np.concatenate([p.scale for p in plans])
        self.idx = _readonly(ints[0] + np.repeat(np.array(starts, dtype=np.intp), [p.n for p in plans]))
        self.lshift, self.rshift, self.mask, self.invalid = (_readonly(ints[i].copy()) for i in range(1, 5))
        self.scale = scale
        to = np.flatnonzero(ints[5])
        self.pair = _readonly(np.array([to, to + ints[5, to]], dtype=np.intp))
        # one message: the fraction and whole-ms blocks as slices (cheaper than the index arrays)
        p = plans[0]
        self.rough = ((p.slices["rough_mod"], p.slices["rough_int"]) if len(plans) == 1 and "rough_int" in p.slices
                      else None)
        fills, parts, o, r = [], [], 0, 0
        for p in plans:
            # source 0-2: field offsets move by the fields before; 3: rough ranges by the rough ranges before
            parts.append(tuple((k, slice(o + sl.start, o + sl.stop)) if k < 3 else
                               (k, slice(r + sl.start, r + sl.stop)) if k == 3 else (k + len(fills), sl)
                               for k, sl in p.parts))
            fills.extend(p.fills)
            o += p.n
            r += p.nrough
        self.parts, self.fills = tuple(parts), tuple(fills)

    def convert(self, data: bytes) -> tuple:
        """Every field of the run of payloads ``data``, in one pass.

        Returns the sources of :attr:`parts`: scaled values (NaN where invalid), raw values as uint16
        and uint8, the rough ranges of MSM4-7 (whole ms + fraction; MSM1-3 send the fraction alone, it
        is taken from the scaled values), then the shared fills. The payloads must hold their plans'
        bits (checked by ``_shape``).
        """
        # the big-endian 32-bit word at every byte, in native order (half the instructions of a byte-wise
        # gather), then each field's word
        raw = np.ndarray((len(data) - 3,), _I4BE, data, 0, (1,)).astype(_I32).take(self.idx)
        raw <<= self.lshift
        raw >>= self.rshift
        raw &= self.mask
        vals = raw * self.scale
        vals[raw == self.invalid] = np.nan
        if self.rough is not None:
            frac, whole = self.rough
            rough = vals[frac] + vals[whole]
        else:
            frac, whole = vals.take(self.pair)
            rough = frac + whole
        return (vals, raw.astype(_U16), raw.astype(_U8), rough, *self.fills)


_RUN = 32  # messages per run: longer batches (a whole file) are decoded as runs of this many
_LAYOUT_FIELDS = [0]  # fields held by the cached layouts (about 50 bytes each)
_LAYOUT_TOTAL_MAX = 1 << 19  # fields held at the most (about 25 MB); then the cache starts afresh


def _layout(plans: tuple, starts: tuple) -> _Layout:
    # The layout of a run of messages. A station sends the same messages with the same masks epoch after
    # epoch, so the runs that socket reads cut from its stream repeat: they are cached, within a memory bound.
    key = (plans, starts)
    layout = _LAYOUT_CACHE.get(key)
    if layout is None:
        layout = _Layout(plans, starts)
        n = len(layout.scale)
        if _LAYOUT_FIELDS[0] + n > _LAYOUT_TOTAL_MAX or len(_LAYOUT_CACHE) >= _CACHE_MAX:
            _LAYOUT_CACHE.clear()
            _LAYOUT_FIELDS[0] = 0
        _LAYOUT_CACHE[key] = layout
        _LAYOUT_FIELDS[0] += n
    return layout


class _Shape:
    """Everything a mask triple of one message type fixes: IDs, cell mask, field plan.

    Streams repeat the same masks epoch after epoch, so this is built once and found by dict lookups.
    """

    __slots__ = ("prn", "sig", "cell_mask", "ncell", "plan", "end")

    def __init__(self, msg_type: int, sat_mask: int, sig_mask: int, cells: int, n: int):
        prn = [i + 1 for i in range(64) if sat_mask >> (63 - i) & 1]
        sig = [i + 1 for i in range(32) if sig_mask >> (31 - i) & 1]
        bits = [bool(cells >> (n - 1 - i) & 1) for i in range(n)]
        self.prn = _readonly(np.array(prn, dtype=np.uint8))
        self.sig = _readonly(np.array(sig, dtype=np.uint8))
        self.cell_mask = _readonly(np.array(bits, dtype=bool).reshape(len(prn), len(sig)))
        self.ncell = ncell = sum(bits)
        self.plan = _plan(msg_type % 10, len(prn), ncell, HEADER_BITS + n)
        self.end = self.plan.end


class _Masks:
    # The shapes of one message type and satellite + signal masks, by cell mask.
    __slots__ = ("msg_type", "masks", "n", "shapes")

    def __init__(self, msg_type: int, masks: int):
        self.msg_type, self.masks = msg_type, masks
        self.n = (masks >> 32).bit_count() * (masks & 0xFFFFFFFF).bit_count()
        if not is_msm(msg_type):
            raise MessageContentError(f"{msg_type} is not an MSM message number")
        if self.n > MAX_CELLS:
            raise MessageContentError(f"MSM {msg_type}: {(masks >> 32).bit_count()} satellites x "
                                      f"{(masks & 0xFFFFFFFF).bit_count()} signals is over 64 cells")
        self.shapes: dict[int, _Shape] = {}

    def shape(self, cells: int) -> _Shape:
        if len(self.shapes) > _CACHE_MAX:
            self.shapes.clear()
        masks = self.masks
        shape = self.shapes[cells] = _Shape(self.msg_type, masks >> 32, masks & 0xFFFFFFFF, cells, self.n)
        return shape


def _flags(bits: int) -> tuple:
    # DF393 multiple-message bit, DF409 IODS, DF411 clock steering, DF412 external clock, DF417 smoothing,
    # DF418 smoothing interval (the 7 reserved bits between IODS and DF411 are ignored); cached.
    flags = _FLAGS_CACHE.get(bits)
    if flags is None:
        if len(_FLAGS_CACHE) > _CACHE_MAX:
            _FLAGS_CACHE.clear()
        flags = _FLAGS_CACHE[bits] = (bits >> 18, (bits >> 15) & 7, (bits >> 6) & 3, (bits >> 4) & 3,
                                      (bits >> 3) & 1, bits & 7)
    return flags


def _shape(payload: bytes):
    # Header fields (RTCM 10403.3 Table 3.5-78) and the cached shape of one MSM payload.
    nbytes = len(payload)
    if nbytes < 22:
        raise MessageLengthError(int.from_bytes(payload[:2].ljust(2, b"\0"), "big") >> 4, HEADER_BITS, nbytes * 8)
    top = 240 if nbytes >= 30 else nbytes * 8
    v = int.from_bytes(payload[:30], "big")
    h = v >> (top - HEADER_BITS)  # the 169 header bits
    key = h & _TYPE_AND_MASKS
    entry = _MASKS_CACHE.get(key)
    if entry is None:
        if len(_MASKS_CACHE) > _CACHE_MAX:
            _MASKS_CACHE.clear()
        entry = _MASKS_CACHE[key] = _Masks(h >> 157, key & ((1 << 96) - 1))
    n = entry.n
    msg_type = entry.msg_type
    if HEADER_BITS + n > top:
        raise MessageLengthError(msg_type, HEADER_BITS + n, nbytes * 8)
    cells = (v >> (top - HEADER_BITS - n)) & ((1 << n) - 1)
    shape = entry.shapes.get(cells)
    if shape is None:
        shape = entry.shape(cells)
    if shape.end > nbytes * 8:
        raise MessageLengthError(msg_type, shape.end, nbytes * 8)
    epoch = (h >> 115) & 0x3FFFFFFF
    if msg_type // 10 == 108:  # GLONASS: day of week (DF416) + time of day (DF034)
        head = (msg_type, (h >> 145) & 0xFFF, epoch & 0x7FFFFFF, epoch >> 27)
    else:
        head = (msg_type, (h >> 145) & 0xFFF, epoch, 0)
    return head + _flags((h >> 96) & 0x7FFFF), shape


def decode_msm(payload: bytes) -> Msm:
    """Decode an MSM1-7 payload into arrays (RTCM 10403.3 §3.5.12, Tables 3.5-78 to 3.5-87).

    The same code as :func:`decode_msm_many`, with a run of one message.

    Parameters
    ----------
    payload : bytes
        Message bytes (frame payload).

    Returns
    -------
    Msm
        Mask arrays (``prn``, ``sig``, ``cell_mask``) are shared, read-only, between messages with
        the same masks.

    Raises
    ------
    MessageLengthError
        If the payload is shorter than its masks say.
    MessageContentError
        If the cell mask has more than 64 cells.
    """
    head, shape = _shape(payload)
    layout = shape.plan.layout
    src = layout.convert(payload)
    return Msm(*head, shape.prn, shape.sig, shape.cell_mask, *[src[k][sl] for k, sl in layout.parts[0]])


def decode_msm_many(payloads: list[bytes]) -> list:
    """Decode many MSM payloads of any types and masks in one vectorised pass.

    Each message's header is read in Python (masks -> cached field plan); then the fields of all
    messages are converted together, one array operation per step whatever the mix of systems, levels
    and masks (a socket read holding an epoch of several systems is one batch), and each :class:`Msm`
    gets views of its part. All fields are decoded, exactly as by :func:`decode_msm`
    (RTCM 10403.3 §3.5.12).

    Parameters
    ----------
    payloads : list of bytes
        MSM payloads.

    Returns
    -------
    list
        In input order: an :class:`Msm` or, for a malformed payload, the :class:`RtcmError` it raised
        (a bad message never stops the batch).
    """
    out: list = [None] * len(payloads)
    decode_msm_into(payloads, range(len(payloads)), out)
    return out


def decode_msm_into(payloads: list[bytes], at, out: list) -> None:
    """:func:`decode_msm_many`, writing the result for ``payloads[k]`` to ``out[at[k]]``."""
    good, heads, shapes, chunks = [], [], [], []
    for i, payload in zip(at, payloads):  # noqa: B905 - equal lengths (see codec._FAST_ZIP)
        try:
            head, shape = _shape(payload)
        except RtcmError as exc:
            out[i] = exc
            continue
        good.append(i)
        heads.append(head)
        shapes.append(shape)
        chunks.append(payload)
    for b in range(0, len(chunks), _RUN):  # bounded runs: small arrays, and a file's runs repeat too
        _decode_run(good[b:b + _RUN], heads[b:b + _RUN], shapes[b:b + _RUN], chunks[b:b + _RUN], out)


def _decode_run(at: list[int], heads: list, shapes: list, chunks: list[bytes], out: list) -> None:
    # One run of well-formed MSMs: all fields converted in one pass, then each Msm gets views of its part.
    if len(chunks) > 1:
        starts, pos = [], 0
        for c in chunks:
            starts.append(pos)
            pos += len(c)
        data, layout = b"".join(chunks), _layout(tuple([s.plan for s in shapes]), tuple(starts))
    else:
        data, layout = chunks[0], shapes[0].plan.layout
    src = layout.convert(data)
    for i, head, shape, parts in zip(at, heads, shapes, layout.parts):  # noqa: B905 - one per message
        out[i] = Msm(*head, shape.prn, shape.sig, shape.cell_mask, *[src[k][sl] for k, sl in parts])


def _pack_fields(values: np.ndarray, plan: _Plan, msg_type: int) -> int:
    # Physical values of every data field of a plan -> checked raw values -> one integer of all their bits.
    nan = np.isnan(values)
    with np.errstate(invalid="ignore"):
        raw = np.rint(np.where(nan, 0.0, values) / plan.scale)
    bad = ~np.isfinite(raw) | (raw < plan.lo) | (raw > plan.hi) | ((raw == plan.invalid) & ~nan)
    bad |= nan & (plan.invalid == _NO_INVALID)
    if bad.any():
        i = int(np.argmax(bad))
        for f, sl in plan.fields:
            if sl.start <= i < sl.stop:
                scale = f.scale or 1.0
                detail = ("is NaN but the field has no invalid marker" if nan[i] else
                          f"is outside {plan.lo[i] * scale}..{plan.hi[i] * scale} ({f.width} bits)")
                raise FieldRangeError(f"{f.df} {f.name}", float(values[i]), f"in MSM {msg_type} {detail}")
    raw = np.where(nan, plan.invalid, raw.astype(np.int64)) & ((np.int64(1) << plan.width) - 1)
    width = plan.width
    total = int(width.sum())
    if total == 0:
        return 0
    # every field's bits, MSB first: repeat each value over its width and pick bit (width - 1 - k)
    first = np.cumsum(width) - width
    k = np.arange(total) - np.repeat(first, width)
    bits = (np.repeat(raw, width) >> (np.repeat(width, width) - 1 - k)) & 1
    packed = np.packbits(bits.astype(np.uint8)).tobytes()
    return int.from_bytes(packed, "big") >> (len(packed) * 8 - total)


def encode_msm(m: Msm) -> bytes:
    """Encode an :class:`Msm` (the inverse of :func:`decode_msm`).

    Raises
    ------
    FieldRangeError
        Naming the data field when a value does not fit (e.g. a fine pseudorange over its span).
    MessageContentError
        If the masks and arrays disagree or there are more than 64 cells.
    """
    level = m.level
    if not is_msm(m.msg_type):
        raise MessageContentError(f"{m.msg_type} is not an MSM message number")
    prn = np.asarray(m.prn, dtype=np.int64)
    sig = np.asarray(m.sig, dtype=np.int64)
    nsat, nsig = len(prn), len(sig)
    if m.cell_mask.shape != (nsat, nsig) or nsat * nsig > MAX_CELLS:
        raise MessageContentError(f"MSM {m.msg_type}: cell mask {m.cell_mask.shape} for {nsat}x{nsig}, max 64 cells")
    if np.any((prn < 1) | (prn > 64)) or np.any((sig < 1) | (sig > 32)) or np.any(np.diff(prn) <= 0) or \
            np.any(np.diff(sig) <= 0):
        raise FieldRangeError("DF394/DF395", (list(prn), list(sig)), "must be increasing IDs 1..64 / 1..32")
    ncell = int(m.cell_mask.sum())
    w = BitWriter()
    head = [(m.msg_type, 12), (m.station_id, 12)]
    if m.msg_type // 10 == 108:
        head += [(m.glo_dow, 3), (m.epoch_ms, 27)]
    else:
        head.append((m.epoch_ms, 30))
    head += [(m.multiple, 1), (m.iods, 3), (0, 7), (m.clock_steering, 2), (m.external_clock, 2), (m.smoothing, 1),
             (m.smoothing_interval, 3)]
    names = ("DF002", "DF003", "epoch", "epoch", "DF393", "DF409", "DF001", "DF411", "DF412", "DF417", "DF418")
    for (value, width), name in zip(head, names[: 2] + names[2 + (m.msg_type // 10 != 108):], strict=False):
        if not 0 <= int(value) < (1 << width):
            raise FieldRangeError(name, value, f"is outside 0..{(1 << width) - 1}")
        w.put(int(value), width)
    w.put(sum(1 << (64 - p) for p in prn.tolist()), 64)
    w.put(sum(1 << (32 - s) for s in sig.tolist()), 32)
    if nsat * nsig:
        w.put(int("".join("1" if c else "0" for c in m.cell_mask.ravel()), 2), nsat * nsig)
    rough = np.asarray(m.rough_range_ms, dtype=np.float64)
    if rough.shape != (nsat,):
        raise MessageContentError(f"MSM {m.msg_type}: rough_range_ms has shape {rough.shape}, expected ({nsat},)")
    rough_nan = np.isnan(rough)
    filled = np.where(rough_nan, 0.0, rough)
    if level >= 4:
        if np.any(~rough_nan & ((filled < 0) | (filled >= 255.0))):
            raise FieldRangeError("DF397 rough_range_ms", rough.tolist(), "must be within 0..254.999 ms")
        whole = np.floor(filled)
        mod = np.rint((filled - whole) * 1024.0)
        carry = mod >= 1024.0
        whole, mod = np.where(rough_nan, np.nan, whole + carry), np.where(carry, 0.0, mod)
    else:
        whole, mod = None, np.rint(filled * 1024.0) % 1024
    values = {"rough_int": whole, "rough_mod": mod / 1024.0, "ext_info": m.ext_info,
              "rough_rate_mps": m.rough_rate_mps, "fine_pr_ms": m.fine_pr_ms, "fine_cp_ms": m.fine_cp_ms,
              "lock": m.lock, "half_cycle": m.half_cycle, "cn0_dbhz": m.cn0_dbhz, "fine_rate_mps": m.fine_rate_mps}
    plan = _plan(level, nsat, ncell, 169 + nsat * nsig)
    blocks = []
    for f, sl in plan.fields:
        v = np.asarray(values[f.name], dtype=np.float64)
        n = sl.stop - sl.start
        if v.shape != (n,):
            raise MessageContentError(f"MSM {m.msg_type}: {f.name} has shape {v.shape}, expected ({n},)")
        blocks.append(v)
    w.put(_pack_fields(np.concatenate(blocks) if blocks else np.zeros(0), plan, m.msg_type), int(plan.width.sum()))
    return w.to_bytes()
