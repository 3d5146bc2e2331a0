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


def frames_valid(data: np.ndarray, starts, ends) -> np.ndarray:
    """Check the CRC of many back-to-back frames in one vectorised pass.

    A frame followed by its own CRC-24Q has a zero CRC (the code is linear, with a zero initial value and
    no final XOR), so each frame is checked whole: the XOR over its bytes of the table entry of (distance
    from the frame's last byte, byte value).

    Parameters
    ----------
    data : uint8[n]
        The buffer.
    starts : int sequence [m]
        Frame starts, increasing; frame ``k`` is ``data[starts[k]:starts[k + 1]]``.
    ends : int or int sequence [m]
        The end of the last frame (or every frame's end, ``ends[k] == starts[k + 1]``).

    Returns
    -------
    bool[m]
        True where the frame's CRC is right.
    """
    table = _flat_table()
    lo = int(starts[0])
    hi = ends if isinstance(ends, int) else int(ends[-1])
    bounds = np.array([*starts[1:], hi], dtype=np.int32)  # frame ends
    first = np.array(starts, dtype=np.int32)
    # flat table index: 256 * (distance of the byte from its frame's last byte) + byte value
    idx = np.repeat((bounds - (lo + 1)) << 8, bounds - first)
    idx -= _byte_positions(hi - lo)[: hi - lo]
    idx |= data[lo:hi]
    first -= lo
    return np.bitwise_xor.reduceat(table[idx], first) == 0


_POSITIONS = np.zeros(0, dtype=np.int32)


def _byte_positions(n: int) -> np.ndarray:
    # 256 * (0, 1, 2, ...), grown on demand and reused between calls.
    global _POSITIONS
    if len(_POSITIONS) < n:
        _POSITIONS = np.arange(max(n, 2 * len(_POSITIONS), 1 << 16), dtype=np.int32) << 8
    return _POSITIONS
