"""CRC-24Q, the checksum of the RTCM 3 transport frame (RTCM 10403.3 §4, Table 4-1).

Generator polynomial x^24 + x^23 + x^18 + x^17 + x^14 + x^11 + x^10 + x^7 + x^6 + x^5 + x^4 + x^3 + x + 1
(0x1864CFB), initial value 0, no reflection, no final XOR. The checksum covers the three header bytes
and the payload.

Pure Python walks one byte per loop turn (about 10 MB/s). Because this CRC is linear over GF(2) with a
zero initial value, the CRC of a message is the XOR over its bytes of ``byte * x^(24 + 8 d) mod P``, where
``d`` is the byte's distance from the end; with a precomputed ``[distance, byte]`` table numpy does that
for a whole frame in a few vectorised steps, which is what makes long MSM frames cheap.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

POLY = 0x1864CFB
#: Longest span checked: a whole frame, 3 header bytes + 1023 payload bytes + 3 CRC bytes.
MAX_SPAN = 3 + 1023 + 3


def _byte_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= POLY
        table.append(crc & 0xFFFFFF)
    return table


_TABLE = _byte_table()


def _position_table() -> np.ndarray:
    # row d: CRC contribution of each byte value when d bytes follow it.
    out = np.empty((MAX_SPAN, 256), dtype=np.uint32)
    out[0] = _TABLE
    row = list(_TABLE)
    for d in range(1, MAX_SPAN):
        # shifting a remainder by one more byte: run it through the byte table once.
        row = [((r << 8) & 0xFFFFFF) ^ _TABLE[r >> 16] for r in row]
        out[d] = row
    return out


_POS_TABLE: np.ndarray | None = None
_POS_FLAT: np.ndarray | None = None
_NUMPY_FROM = 96  # below this length the Python loop is faster than numpy's call overhead


def _crc_loop(data) -> int:
    crc = 0
    table = _TABLE
    for b in data:
        crc = ((crc << 8) & 0xFFFFFF) ^ table[(crc >> 16) ^ b]
    return crc


def crc24q(data: bytes | bytearray | memoryview) -> int:
    """CRC-24Q of ``data`` (RTCM 10403.3 §4).

    Parameters
    ----------
    data : bytes-like
        The bytes to check (header and payload of a frame).

    Returns
    -------
    int
        The 24-bit checksum.
    """
    n = len(data)
    if n < _NUMPY_FROM or n > MAX_SPAN:
        return _crc_loop(data)
    table = _flat_table()
    values = np.frombuffer(data, dtype=np.uint8)
    terms = table[(np.arange(n - 1, -1, -1) << 8) | values]
    return int(np.bitwise_xor.reduce(terms))


def _flat_table() -> np.ndarray:
    global _POS_TABLE, _POS_FLAT
    if _POS_FLAT is None:
        _POS_TABLE = _position_table()
        _POS_FLAT = _POS_TABLE.ravel()
    return _POS_FLAT


# ---- many frames at once --------------------------------------------------------------------------------
#
# Frame k (bytes b_j, j = s_k .. e_k - 1, its CRC included) is valid when F_k(x) = sum_j b_j(x) x^(8 (e_k-1-j))
# is 0 mod P. x is invertible mod P (P(0) = 1), so that holds exactly when sum_j b_j(x) x^(-8 j) is 0 mod P,
# with j counted from any origin: one table of b(x) x^(-8 r) mod P over the positions r of a window of
# _WINDOW bytes checks every frame of a read with no per-frame index arithmetic. A frame (<= 1029 bytes) that
# crosses from window a into a + 1 has its second part moved back by x^(-8 _WINDOW) (a 24-bit linear map:
# three byte lookups) before the parts are added.

_WINDOW = 2048
_XINV = (POLY ^ 1) >> 1  # x^-1 mod P: x * (P - 1) / x = P - 1 = 1 (mod P)


def _mulmod(a: int, b: int) -> int:
    # a(x) * b(x) mod P(x) over GF(2), for a, b of degree < 24.
    out = 0
    while b:
        if b & 1:
            out ^= a
        b >>= 1
        a <<= 1
        if a & 0x1000000:
            a ^= POLY
    return out


def _powmod(a: int, n: int) -> int:
    out = 1
    while n:
        if n & 1:
            out = _mulmod(out, a)
        a = _mulmod(a, a)
        n >>= 1
    return out


def _window_table() -> np.ndarray:
    # flat [r * 256 + byte] -> byte(x) * x^(-8 r) mod P, r < _WINDOW
    step = _powmod(_XINV, 8)
    rows = [1]
    for _ in range(_WINDOW - 1):
        rows.append(_mulmod(rows[-1], step))
    t = np.array(rows, dtype=np.uint32)
    byte = np.arange(256, dtype=np.uint32)
    out = np.zeros((_WINDOW, 256), dtype=np.uint32)
    for k in range(8):  # bit k of the byte contributes x^k * row
        out ^= t[:, None] * ((byte >> k) & 1)
        t <<= 1
        t ^= np.where(t & 0x1000000, POLY, 0).astype(np.uint32)
    return out.ravel()


def _window_shift() -> tuple[list[int], list[int], list[int]]:
    # v -> v(x) x^(-8 _WINDOW) mod P as three lookups, one per byte of v
    f = _powmod(_XINV, 8 * _WINDOW)
    basis = []
    for _ in range(24):  # x^k * f mod P
        basis.append(f)
        f <<= 1
        if f & 0x1000000:
            f ^= POLY
    lanes = []
    for i in range(3):
        lane = [0] * 256
        for byte in range(1, 256):
            low = (byte & -byte).bit_length() - 1
            lane[byte] = lane[byte & (byte - 1)] ^ basis[8 * i + low]
        lanes.append(lane)
    return lanes[0], lanes[1], lanes[2]


_BLOCK = 1 << 16  # bytes checked per vectorised pass (at most, plus one frame)
_WTABLE: np.ndarray | None = None
_WSHIFT: tuple | None = None
_WPOS = np.zeros(0, dtype=np.intp)  # 256 * (j mod _WINDOW), grown on demand


def frames_valid(data: np.ndarray, starts, end: int) -> list[bool]:
    """Check the CRC-24Q of back-to-back frames in one vectorised pass (RTCM 10403.3 §4).

    Parameters
    ----------
    data : uint8[n]
        The buffer.
    starts : sequence of int [m]
        Frame starts, increasing; frame ``k`` is ``data[starts[k]:starts[k + 1]]``, the last one ends at ``end``.
    end : int
        End of the last frame.

    Returns
    -------
    list of bool [m]
        True where the frame's CRC is right.
    """
    if end - starts[0] <= _BLOCK:
        return _check_run(data, starts, end)
    out, i, m = [], 0, len(starts)  # a long run (a whole file) in blocks of frames: index arrays stay small
    while i < m:
        j = bisect_right(starts, starts[i] + _BLOCK, i + 1)
        out += _check_run(data, starts[i:j], starts[j] if j < m else end)
        i = j
    return out


def _check_run(data: np.ndarray, starts, end: int) -> list[bool]:
    global _WTABLE, _WSHIFT, _WPOS
    if _WTABLE is None:
        _WTABLE, _WSHIFT = _window_table(), _window_shift()
    lo = starts[0]
    n = end - lo
    if len(_WPOS) < n:
        _WPOS = (np.arange(max(n, 2 * len(_WPOS), 1 << 16), dtype=np.intp) % _WINDOW) << 8
    idx = data[lo:end].astype(np.intp)
    idx |= _WPOS[:n]
    terms = _WTABLE.take(idx)
    rel = [s - lo for s in starts]
    if n <= _WINDOW:  # one window: each frame's sum is its check
        return [v == 0 for v in np.bitwise_xor.reduceat(terms, rel).tolist()]
    cuts, split = [], []  # split: where a frame's part in the next window is in cuts
    nxt = _WINDOW  # the next window start
    for s, e in zip(rel, [*rel[1:], n]):  # noqa: B905 - equal lengths; strict= is a keyword parse per call
        cuts.append(s)
        if nxt <= s:
            nxt += _WINDOW
        if nxt < e:
            split.append(len(cuts))
            cuts.append(nxt)
    sums = np.bitwise_xor.reduceat(terms, cuts).tolist()
    if not split:
        return [v == 0 for v in sums]
    t0, t1, t2 = _WSHIFT
    for j in reversed(split):
        u = sums.pop(j)
        sums[j - 1] ^= t0[u & 0xFF] ^ t1[(u >> 8) & 0xFF] ^ t2[u >> 16]
    return [v == 0 for v in sums]
