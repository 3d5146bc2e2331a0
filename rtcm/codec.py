"""Message-level codec: ``decode(payload) -> Msm | Message | Unknown`` and ``encode(message) -> payload``.

Dispatch is by message number: MSM1-7 of GPS, GLONASS, Galileo, SBAS, QZSS, BeiDou and NavIC go to
the vectorised MSM codec (:mod:`gnssaug.rtcm.msm`), the types of
:data:`gnssaug.rtcm.layouts.LAYOUTS` through the table walker; anything else comes back as
:class:`Unknown` with its payload, so the caster can relay it.
"""

from __future__ import annotations

from gnssaug.rtcm.errors import UnsupportedMessageError
from gnssaug.rtcm.framing import Frame, frame, message_type
from gnssaug.rtcm.layouts import LAYOUTS, decode_layout, encode_layout
from gnssaug.rtcm.messages import Message, Unknown
from gnssaug.rtcm.msm import Msm, decode_msm, encode_msm, is_msm

AnyMessage = Msm | Message | Unknown


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
    msg_type = message_type(payload)
    if is_msm(msg_type):
        return decode_msm(payload)
    layout = LAYOUTS.get(msg_type)
    if layout is None:
        return Unknown(msg_type, payload)
    return Message(msg_type, decode_layout(payload, msg_type, layout))


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
