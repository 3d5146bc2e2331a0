"""Station ingest: a station's bytes -> checked RTCM frames -> health, position, consumers.

One :class:`StationIngest` per station mountpoint lives as long as the service, across uploads: a
station that disconnects and comes back continues the same health record (its outage ends), so no
restart is needed. The ingest is sans-IO; the caster (NTRIP ``SOURCE``/``POST``), the upstream
puller and the replay harness all hand it bytes through :meth:`StationIngest.feed`.

Frames whose decoded content other parts of the service need (observations, ephemerides) go to
the registered frame consumers (``add_consumer``), e.g. the epoch assembler once the codec is in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gnssaug.rtcm.framing import Deframer, Frame
from gnssaug.stations.health import StationHealth

log = logging.getLogger(__name__)

#: Station ARP messages (RTCM 10403.3 §3.5.3: 1005, and 1006 which adds the antenna height).
ARP_TYPES = (1005, 1006)


def arp_ecef_m(payload: bytes) -> tuple[float, float, float] | None:
    """Antenna reference point (ECEF m) of a 1005/1006 payload (DF025-DF027, 0.1 mm, 38-bit signed).

    Bit layout (RTCM 10403.3 Table 3.5-6): type 12, station 12, ITRF year 6, 4 indicator bits,
    X 38 at bit 34, 2 bits, Y 38 at bit 74, 2 bits, Z 38 at bit 114.
    """
    if len(payload) < 19:
        return None
    bits = int.from_bytes(payload[:19], "big")  # 152 bits
    total = 152

    def signed38(start: int) -> int:
        v = (bits >> (total - start - 38)) & ((1 << 38) - 1)
        return v - (1 << 38) if v >> 37 else v

    return signed38(34) * 1e-4, signed38(74) * 1e-4, signed38(114) * 1e-4


class StationIngest:
    """The ingest state of one station mountpoint.

    Parameters
    ----------
    mount : str
        The station's mountpoint.
    outage_after_s : float
        Silence after which the station's health turns to outage.
    """

    def __init__(self, mount: str, outage_after_s: float = 10.0):
        self.mount = mount
        self.health = StationHealth(mount, outage_after_s)
        self.deframer = Deframer()
        self.arp_ecef_m: tuple[float, float, float] | None = None
        self._consumers: list[Callable[[list[Frame]], None]] = []

    def add_consumer(self, callback: Callable[[list[Frame]], None]) -> None:
        """Call ``callback(frames)`` with every non-empty batch of frames (decoders, assemblers)."""
        self._consumers.append(callback)

    def connected(self) -> None:
        """A new upload of this station started: begin at a frame boundary with a fresh deframer."""
        counters = (self.deframer.crc_errors, self.deframer.dropped_bytes)
        self.deframer = Deframer()
        self._carry = counters
        self.health.on_connect()

    def disconnected(self) -> None:
        """The upload ended (the station is in outage until it returns)."""
        self.deframer.flush()
        self.health.on_disconnect()

    _carry = (0, 0)

    def feed(self, data: bytes) -> bytes:
        """Take received bytes; return the whole frames they complete, concatenated, to relay.

        Garbage and frames with a bad CRC are dropped (counted in the health record), so every
        subscriber gets only whole, checked frames and can join at any time.
        """
        frames = self.deframer.feed(data)
        self.health.on_data(len(data), frames, self._carry[0] + self.deframer.crc_errors,
                            self._carry[1] + self.deframer.dropped_bytes)
        if not frames:
            return b""
        for fr in frames:
            if fr.msg_type in ARP_TYPES:
                self.arp_ecef_m = arp_ecef_m(fr.payload) or self.arp_ecef_m
        for cb in self._consumers:
            try:
                cb(frames)
            except Exception:  # one failing consumer must not stop the relay
                log.exception("frame consumer of %s failed", self.mount)
        return frames[0].raw if len(frames) == 1 else b"".join(fr.raw for fr in frames)


class StationIngests:
    """All stations' ingest states, created on first use and kept for the life of the service."""

    def __init__(self, outage_after_s: float = 10.0):
        self.outage_after_s = outage_after_s
        self._by_mount: dict[str, StationIngest] = {}

    def get(self, mount: str) -> StationIngest:
        """The ingest of ``mount`` (created if new)."""
        ing = self._by_mount.get(mount)
        if ing is None:
            ing = self._by_mount[mount] = StationIngest(mount, self.outage_after_s)
        return ing

    def find(self, mount: str) -> StationIngest | None:
        """The ingest of ``mount`` if it ever received data, else None."""
        return self._by_mount.get(mount)

    def all(self) -> dict[str, StationIngest]:
        """Every ingest by mountpoint."""
        return dict(self._by_mount)

    def forget(self, mount: str) -> None:
        """Drop the state of a removed station."""
        self._by_mount.pop(mount, None)
