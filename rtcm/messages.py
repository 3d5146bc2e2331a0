"""Decoded message types: table-driven :class:`Message`, :class:`Unknown` (relayed as is).

MSM messages decode to :class:`gnssaug.rtcm.msm.Msm`. Every other supported type decodes to a
:class:`Message` whose ``values`` dict holds the layout's fields under their table names (see
:mod:`gnssaug.rtcm.fields`), lists of dicts for repeated groups.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@dataclass(eq=False)
class Message:
    """A table-driven message (station, legacy observations, ephemerides, ...).

    Attributes
    ----------
    msg_type : int
        RTCM message number.
    values : dict
        Field name -> value, as laid out in :data:`gnssaug.rtcm.layouts.LAYOUTS`. NaN marks invalid values.
    """

    msg_type: int
    values: dict = field(default_factory=dict)

    @property
    def station_id(self) -> int | None:
        """Reference station ID (DF003) when the message has one."""
        return self.values.get("station_id")

    def __getitem__(self, name: str):
        return self.values[name]

    def __eq__(self, other) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self.msg_type == other.msg_type and _same(self.values, other.values)


@dataclass(frozen=True)
class Unknown:
    """A message the codec does not decode; ``payload`` is kept so a caster can relay it."""

    msg_type: int
    payload: bytes

    @property
    def station_id(self) -> None:
        """Unknown messages have no known station ID."""
        return None
