"""Message-level codec: ``decode(payload) -> Msm | Message | Unknown`` and ``encode(message) -> payload``.

Dispatch is by message number: MSM1-7 of GPS, GLONASS, Galileo, SBAS, QZSS, BeiDou and NavIC go to
the vectorised MSM codec (:mod:`gnssaug.rtcm.msm`), the types of
:data:`gnssaug.rtcm.layouts.LAYOUTS` through the table walker; anything else comes back as
:class:`Unknown` with its payload, so the caster can relay it.
"""

from __future__ import annotations

from gnssaug.rtcm.errors import RtcmError, UnsupportedMessageError
from gnssaug.rtcm.framing import Deframer, Frame, frame
from gnssaug.rtcm.layouts import LAYOUTS, decode_layout, encode_layout
from gnssaug.rtcm.messages import Message, Unknown
from gnssaug.rtcm.msm import Msm, decode_msm, decode_msm_into, encode_msm, is_msm

AnyMessage = Msm | Message | Unknown

# _FAST_ZIP: the per-read loops zip lists of equal length by construction without ``strict=True``: on
# CPython 3.11 a keyword makes zip() parse its arguments the slow way, several microseconds per socket read.


def decode(data: bytes | Frame) -> AnyMessage:
    """Decode one message.

    Parameters
    ----------
    data : bytes or Frame
        A frame payload (starting with the 12-bit message number), or a :class:`Frame`.

    Returns
    -------
    Msm, Message or Unknown

    Raises
    ------
    RtcmError
        :class:`MessageLengthError` for a payload shorter than its layout, :class:`MessageContentError`
        for an impossible MSM. Nothing else escapes for any input bytes.
    """
    payload = data.payload if isinstance(data, Frame) else bytes(data)
    msg_type = (payload[0] << 4) | (payload[1] >> 4) if len(payload) >= 2 else 0
    if msg_type in _MSM_TYPES:
        return decode_msm(payload)
    layout = LAYOUTS.get(msg_type)
    if layout is None:
        return Unknown(msg_type, payload)
    return Message(msg_type, decode_layout(payload, msg_type, layout))


def decode_many(items) -> list:
    """Decode many messages at once (a file, or everything one socket read produced).

    The MSM messages are decoded together in one vectorised pass (:func:`gnssaug.rtcm.msm.decode_msm_many`),
    which is several times faster per message than :func:`decode` one by one.

    Parameters
    ----------
    items : iterable of bytes or Frame

    Returns
    -------
    list
        In input order: the decoded message, or the :class:`RtcmError` a malformed message raised
        (a bad message never stops the others).
    """
    payloads = [it.payload if isinstance(it, Frame) else bytes(it) for it in items]
    return _decode_typed([(p[0] << 4) | (p[1] >> 4) if len(p) >= 2 else 0 for p in payloads], payloads)


def _decode_typed(types: list[int], payloads: list[bytes]) -> list:
    # decode_many of payloads whose message numbers are known (from the deframer).
    out: list = []
    msm_at, msm_payloads = [], []
    for msg_type, payload in zip(types, payloads):  # noqa: B905 - equal lengths (see _FAST_ZIP)
        if msg_type in _MSM_TYPES:
            msm_at.append(len(out))
            msm_payloads.append(payload)
            out.append(None)
            continue
        try:
            layout = LAYOUTS.get(msg_type)
            out.append(Unknown(msg_type, payload) if layout is None else
                       Message(msg_type, decode_layout(payload, msg_type, layout)))
        except RtcmError as exc:
            out.append(exc)
    if msm_at:
        decode_msm_into(msm_payloads, msm_at, out)
    return out


_MSM_TYPES = frozenset(t for t in range(1071, 1138) if is_msm(t))


def encode(message: AnyMessage) -> bytes:
    """Encode one message to its payload (the inverse of :func:`decode`).

    Raises
    ------
    FieldRangeError
        Naming the data field whose value does not fit.
    UnsupportedMessageError
        For a :class:`Message` of a type without a layout.
    """
    if isinstance(message, Msm):
        return encode_msm(message)
    if isinstance(message, Unknown):
        return bytes(message.payload)
    layout = LAYOUTS.get(message.msg_type)
    if layout is None:
        raise UnsupportedMessageError(f"no layout to encode message type {message.msg_type}")
    return encode_layout(message.msg_type, layout, message.values)


def encode_frame(message: AnyMessage) -> bytes:
    """Encode one message and wrap it in a transport frame."""
    return frame(encode(message))


class StreamDecoder:
    """Sans-IO byte stream -> decoded messages: a :class:`~gnssaug.rtcm.framing.Deframer` plus
    :func:`decode_many`, counting what could not be used.

    Each :meth:`feed` (one socket read, typically one epoch of a station) checks the CRCs of the frames
    it completed in one vectorised call and decodes their MSMs in one batch (the code of
    :func:`decode_many`); a partial frame waits for the next read.

    Attributes
    ----------
    deframer : Deframer
        Frame counters (``frames``, ``crc_errors``, ``dropped_bytes``, ``truncated``).
    decode_errors : int
        Frames with a valid CRC whose message could not be decoded (they are still returned, with
        the :class:`RtcmError`, so a caster can relay them).
    """

    def __init__(self):
        self.deframer = Deframer()
        self.decode_errors = 0

    def feed(self, data: bytes) -> list[tuple[Frame, AnyMessage | RtcmError]]:
        """Add bytes; returns (frame, message or error) for every frame now complete."""
        frames = self.deframer.feed(data)
        if not frames:
            return []
        # the deframer's message numbers are those of the payloads: decode_many without recomputing them
        messages = _decode_typed([f.msg_type for f in frames], [f.payload for f in frames])
        self.decode_errors += sum(isinstance(m, RtcmError) for m in messages)
        return list(zip(frames, messages))  # noqa: B905 - one message per frame (see _FAST_ZIP)
