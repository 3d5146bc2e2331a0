"""The RTCM codec's exception hierarchy.

Every error raised on purpose by :mod:`gnssaug.rtcm` derives from :class:`RtcmError`, so a caster
or an ingest loop catches the codec's errors in one place (count the bad frame, go on). The base
class also derives from :class:`gnssaug.errors.GnssError`, so the command line prints it as one line.
"""

from __future__ import annotations

from gnssaug.errors import GnssError


class RtcmError(GnssError, ValueError):
    """Base class of every error raised on purpose by the RTCM codec."""


class FramingError(RtcmError):
    """Raised when bytes handed to the frame writer cannot be framed (payload over 1023 bytes)."""


class MessageLengthError(RtcmError):
    """Raised when a payload is shorter than its message layout needs (a truncated or corrupt message).

    Parameters
    ----------
    msg_type : int
        The RTCM message number.
    need_bits, have_bits : int
        Bits the layout needs and bits the payload holds.
    """

    def __init__(self, msg_type: int, need_bits: int, have_bits: int):
        self.msg_type = msg_type
        self.need_bits = need_bits
        self.have_bits = have_bits
        super().__init__(f"message {msg_type}: payload holds {have_bits} bits, layout needs {need_bits}")


class MessageContentError(RtcmError):
    """Raised when a decoded message is self-contradictory (e.g. an MSM with more than 64 cells)."""


class FieldRangeError(RtcmError):
    """Raised at encode time when a value does not fit its data field; the message names the field.

    Parameters
    ----------
    field : str
        Data field name (``"DF025"``, or the message attribute it comes from).
    value : object
        The offending value.
    detail : str
        The allowed range or why the value is rejected.
    """

    def __init__(self, field: str, value, detail: str):
        self.field = field
        self.value = value
        super().__init__(f"field {field}: value {value!r} {detail}")


class UnsupportedMessageError(RtcmError):
    """Raised when asked to encode a message type the codec does not write."""
