"""Bit-level reading and writing of RTCM payloads (RTCM 10403.3 §3.3: big-endian, MSB first).

:class:`BitReader` reads the payload as one big integer and extracts fields by shifting, so a field
costs a few integer operations regardless of its alignment. :class:`BitWriter`
accumulates fields into a big integer; array blocks of equal-width fields are packed by numpy.
The vectorised MSM field extraction lives with its tables in :mod:`gnssaug.rtcm.msm`.
"""

from __future__ import annotations

import numpy as np

from gnssaug.rtcm.errors import MessageLengthError


class BitReader:
    """Sequential reader of unsigned, two's-complement and sign-magnitude fields.

    Parameters
    ----------
    payload : bytes
        The message bytes.
    msg_type : int
        Message number, for error messages.
    """

    __slots__ = ("_value", "nbits", "pos", "msg_type")

    def __init__(self, payload: bytes, msg_type: int = 0):
        self._value = int.from_bytes(payload, "big")
        self.nbits = len(payload) * 8
        self.pos = 0
        self.msg_type = msg_type

    def need(self, width: int) -> None:
        """Raise :class:`MessageLengthError` unless ``width`` more bits remain."""
        if self.pos + width > self.nbits:
            raise MessageLengthError(self.msg_type, self.pos + width, self.nbits)

    def u(self, width: int) -> int:
        """Next ``width`` bits as an unsigned integer."""
        end = self.pos + width
        if end > self.nbits:
            raise MessageLengthError(self.msg_type, end, self.nbits)
        self.pos = end
        return (self._value >> (self.nbits - end)) & ((1 << width) - 1)

    def s(self, width: int) -> int:
        """Next ``width`` bits as a two's-complement signed integer."""
        v = self.u(width)
        return v - (1 << width) if v >> (width - 1) else v

    def m(self, width: int) -> int:
        """Next ``width`` bits as sign-magnitude (GLONASS ``intS``, RTCM 10403.3 §3.3.1)."""
        v = self.u(width)
        mag = v & ((1 << (width - 1)) - 1)
        return -mag if v >> (width - 1) else mag

    def raw(self, nbytes: int) -> bytes:
        """Next ``nbytes`` bytes (at any bit alignment)."""
        return self.u(8 * nbytes).to_bytes(nbytes, "big") if nbytes else b""


def to_unsigned(raw: int, width: int, kind: str) -> int:
    """The ``width``-bit pattern of a signed (``"s"``) or sign-magnitude (``"m"``) integer."""
    if kind == "s":
        return raw & ((1 << width) - 1)
    if kind == "m":
        return ((1 << (width - 1)) | -raw) if raw < 0 else raw
    return raw


class BitWriter:
    """Accumulate fields MSB first; :meth:`to_bytes` pads the last byte with zeros."""

    __slots__ = ("_value", "nbits")

    def __init__(self):
        self._value = 0
        self.nbits = 0

    def put(self, bits: int, width: int) -> None:
        """Append the ``width``-bit pattern ``bits`` (already unsigned, in range)."""
        self._value = (self._value << width) | bits
        self.nbits += width

    def put_array(self, values: np.ndarray, width: int) -> None:
        """Append equal-width unsigned bit patterns (int64 or uint64 array) in order."""
        n = values.shape[0]
        if n == 0 or width == 0:
            return
        shifts = np.arange(width - 1, -1, -1, dtype=np.uint64)
        bits = ((values.astype(np.uint64)[:, None] >> shifts) & np.uint64(1)).astype(np.uint8).ravel()
        total = n * width
        packed = np.packbits(bits).tobytes()
        self.put(int.from_bytes(packed, "big") >> (len(packed) * 8 - total), total)

    def put_bytes(self, data: bytes) -> None:
        """Append whole bytes (at any bit alignment)."""
        if data:
            self.put(int.from_bytes(data, "big"), 8 * len(data))

    def to_bytes(self) -> bytes:
        """The written bits, zero-padded to whole bytes."""
        pad = -self.nbits % 8
        return (self._value << pad).to_bytes((self.nbits + pad) // 8, "big")
