"""RTCM 3 transport framing, sans-IO (RTCM 10403.3 §4).

A frame is ``0xD3``, 6 reserved bits (zero), a 10-bit payload length, the payload (at most 1023
bytes) and a CRC-24Q over header and payload. :class:`Deframer` takes bytes in any chunking (socket
reads, file blocks) and returns whole frames; it survives garbage, truncated frames and bad CRCs by
resynchronising on the next preamble, and counts what it dropped. :func:`frame` writes one frame.

No I/O happens here: the caster, the station ingest and the file tools all feed bytes themselves.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gnssaug.rtcm.crc import crc24q, frames_valid
from gnssaug.rtcm.errors import FramingError

PREAMBLE = 0xD3
HEADER_LEN = 3
CRC_LEN = 3
MAX_PAYLOAD = 1023


def _has_station_id(msg_type: int) -> bool:
    # Station and observation messages whose 12 bits after the type are the reference station ID
    # (DF003): legacy observations 1001-1004, 1009-1012, station messages 1005-1008, 1013, 1029,
    # 1032 (non-physical station ID first), 1033, 1230 and every MSM (10x1-10x7 for x = 7..13).
    if 1001 <= msg_type <= 1013 or msg_type in (1029, 1032, 1033, 1230):
        return True
    return 1071 <= msg_type <= 1137 and 1 <= msg_type % 10 <= 7


class Frame(NamedTuple):
    """One checked RTCM 3 frame (immutable; a named tuple, so a stream of them is cheap to build).

    Attributes
    ----------
    msg_type : int
        Message number (DF002, the first 12 payload bits); 0 for a payload shorter than 2 bytes.
    payload : bytes
        The message bytes between header and CRC.
    raw : bytes
        The whole frame, header and CRC included, to relay byte for byte.
    """

    msg_type: int
    payload: bytes
    raw: bytes

    @property
    def station_id(self) -> int | None:
        """Reference station ID (DF003) of station and observation messages, None for other types."""
        p = self.payload
        if len(p) < 3 or not _has_station_id(self.msg_type):
            return None
        return ((p[1] & 0x0F) << 8) | p[2]


def message_type(payload: bytes) -> int:
    """Message number (DF002) of a payload, 0 when it is shorter than 12 bits."""
    if len(payload) < 2:
        return 0
    return (payload[0] << 4) | (payload[1] >> 4)


def frame(payload: bytes) -> bytes:
    """Wrap one message payload into a transport frame (RTCM 10403.3 §4).

    Parameters
    ----------
    payload : bytes
        The message, at most 1023 bytes.

    Returns
    -------
    bytes
        Preamble, length, payload and CRC-24Q.

    Raises
    ------
    FramingError
        If the payload is longer than 1023 bytes.
    """
    n = len(payload)
    if n > MAX_PAYLOAD:
        raise FramingError(f"payload of {n} bytes is over the {MAX_PAYLOAD}-byte frame limit")
    head = bytes((PREAMBLE, n >> 8, n & 0xFF)) + bytes(payload)
    return head + crc24q(head).to_bytes(3, "big")


class Deframer:
    """Incremental frame finder: ``feed(bytes) -> list[Frame]``.

    Bytes that belong to no valid frame are skipped and counted in :attr:`dropped_bytes`; a candidate
    frame whose CRC fails counts in :attr:`crc_errors` and the search resumes one byte after its
    preamble, so a valid frame that starts inside a corrupt one is still found. At the end of a
    stream, :meth:`flush` counts an incomplete frame in :attr:`truncated` and drops its bytes.

    Attributes
    ----------
    frames : int
        Valid frames returned so far.
    crc_errors : int
        Candidate frames (preamble, zero reserved bits, full length available) whose CRC failed.
    dropped_bytes : int
        Bytes skipped because they were not part of a valid frame.
    truncated : int
        Incomplete frames left at :meth:`flush`.
    """

    __slots__ = ("_buf", "frames", "crc_errors", "dropped_bytes", "truncated")

    def __init__(self):
        self._buf = bytearray()
        self.frames = 0
        self.crc_errors = 0
        self.dropped_bytes = 0
        self.truncated = 0

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buf)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Add bytes and return every frame now complete, in stream order.

        The CRCs of each run of back-to-back frames are checked in one vectorised call
        (:func:`gnssaug.rtcm.crc.frames_valid`), however many frames one read completed.
        """
        buf = self._buf
        buf += data
        out: list[Frame] = []
        pos = 0
        n = len(buf)
        snapshot = view = None
        while pos < n:
            i = buf.find(PREAMBLE, pos)
            if i < 0:
                self.dropped_bytes += n - pos
                pos = n
                break
            self.dropped_bytes += i - pos
            pos = i
            # the chain of back-to-back candidate frames from here (a clean stream is one chain)
            starts = []
            end = i
            while n - end >= HEADER_LEN and buf[end] == PREAMBLE and not buf[end + 1] & 0xFC:
                nxt = end + HEADER_LEN + CRC_LEN + (((buf[end + 1] & 0x03) << 8) | buf[end + 2])
                if nxt > n:
                    break
                starts.append(end)
                end = nxt
            if not starts:
                if n - i < HEADER_LEN or not buf[i + 1] & 0xFC:
                    break  # wait for the rest of the frame
                self.dropped_bytes += 1  # reserved bits set: not a frame start
                pos = i + 1
                continue
            if snapshot is None:
                snapshot = bytes(buf)
                view = np.frombuffer(snapshot, dtype=np.uint8)
            ok = frames_valid(view, starts, end)
            bad = len(starts) if all(ok) else ok.index(False)
            starts.append(end)
            new = tuple.__new__  # Frame(...) without its Python-level __new__
            out.extend([new(Frame, ((r[3] << 4) | (r[4] >> 4) if len(r) > 7 else 0, r[HEADER_LEN:-CRC_LEN], r))
                        for r in [snapshot[s:e] for s, e in zip(starts[:bad], starts[1:bad + 1])]])  # noqa: B905
            pos = starts[bad]
            if bad < len(starts) - 1:
                self.crc_errors += 1
                self.dropped_bytes += 1
                pos += 1  # resynchronise on the next preamble after this one
        if pos:
            del buf[:pos]
        self.frames += len(out)
        return out

    def flush(self) -> int:
        """End of stream: drop held-back bytes; returns how many were dropped."""
        n = len(self._buf)
        if n:
            if self._buf[0] == PREAMBLE:
                self.truncated += 1
            self.dropped_bytes += n
            self._buf.clear()
        return n


def iter_frames(data: bytes) -> list[Frame]:
    """All valid frames of a complete byte string (a file), garbage skipped."""
    deframer = Deframer()
    return deframer.feed(data)
