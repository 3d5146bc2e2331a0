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
import time
from collections.abc import Callable

from gnssaug.obs import ObsEpoch
from gnssaug.rtcm.codec import decode_many
from gnssaug.rtcm.epochs import EpochAssembler
from gnssaug.rtcm.framing import Deframer, Frame
from gnssaug.rtcm.messages import Message
from gnssaug.rtcm.msm import is_msm
from gnssaug.stations.health import StationHealth
from gnssaug.time import isoformat_gpst

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


#: Broadcast ephemeris messages (RTCM 10403.3 §3.5.6-3.5.10: GPS, GLONASS, BDS, QZSS, Galileo F/NAV, I/NAV).
EPHEMERIS_TYPES = (1019, 1020, 1041, 1042, 1044, 1045, 1046)
_OBS_LEGACY = (1001, 1002, 1003, 1004, 1009, 1010, 1011, 1012)
_GPS_EPOCH_UNIX_S = 315_964_800


class StationDecoder:
    """Frame consumer: decodes a station's messages into epochs and keeps its latest ephemerides.

    Observation messages (MSM, 1001-1004, 1009-1012) are joined per epoch by
    :class:`gnssaug.rtcm.epochs.EpochAssembler` into :class:`gnssaug.obs.ObsEpoch`; ephemeris
    messages are kept per (message type, satellite), the newest wins. Malformed messages are
    counted in ``errors`` and skipped.

    Parameters
    ----------
    on_epoch : callable, optional
        Called with every completed ``ObsEpoch`` (solvers, network engines).
    t_ref_gpst_ns : int, optional
        Approximate GPST of the data (default: now); needed to date replayed recordings.
    """

    def __init__(self, on_epoch: Callable[[ObsEpoch], None] | None = None, t_ref_gpst_ns: int | None = None):
        # MSM times are times of week: the reference (within half a week of the data) picks the
        # week. Live stations: now (GPST ~ UTC + 18 s); replays of old recordings pass their date.
        if t_ref_gpst_ns is None:
            t_ref_gpst_ns = int((time.time() - _GPS_EPOCH_UNIX_S + 18) * 1e9)
        self.assembler = EpochAssembler(int(t_ref_gpst_ns))
        self.on_epoch = on_epoch
        self.latest_epoch: ObsEpoch | None = None
        self.epochs = 0
        self.errors = 0
        self.ephemerides: dict[tuple[int, int], Message] = {}

    def __call__(self, frames: list[Frame]) -> None:
        for fr, msg in zip(frames, decode_many(frames), strict=True):
            if isinstance(msg, Exception):
                self.errors += 1
                continue
            if is_msm(fr.msg_type) or fr.msg_type in _OBS_LEGACY:
                try:
                    done = self.assembler.feed(msg)
                except Exception:  # an impossible epoch is counted, the stream goes on
                    self.errors += 1
                    continue
                for epoch in done:
                    self.epochs += 1
                    self.latest_epoch = epoch
                    if self.on_epoch is not None:
                        self.on_epoch(epoch)
            elif fr.msg_type in EPHEMERIS_TYPES and isinstance(msg, Message):
                v = msg.values
                sat = v.get("prn", v.get("slot", v.get("prn_minus_192", -1)))
                self.ephemerides[(fr.msg_type, int(sat))] = msg

    def summary(self) -> dict:
        """Counts for the API: decoded epochs, last epoch time and size, ephemerides, errors."""
        e = self.latest_epoch
        return {"epochs": self.epochs, "errors": self.errors, "ephemerides": len(self.ephemerides),
                "last_epoch_gpst": isoformat_gpst(int(e.t_gpst_ns)) if e is not None else None,
                "last_epoch_satellites": int(len(e.sat)) if e is not None else 0}


class StationIngest:
    """The ingest state of one station mountpoint.

    Parameters
    ----------
    mount : str
        The station's mountpoint.
    outage_after_s : float
        Silence after which the station's health turns to outage.
    t_ref_gpst_ns : int, optional
        Approximate GPST of the data for decoding (default: now).
    """

    def __init__(self, mount: str, outage_after_s: float = 10.0, t_ref_gpst_ns: int | None = None):
        self.mount = mount
        self.health = StationHealth(mount, outage_after_s)
        self.deframer = Deframer()
        self.arp_ecef_m: tuple[float, float, float] | None = None
        self._consumers: list[Callable[[list[Frame]], None]] = []
        self._pending: list[Frame] = []
        self.decoder = StationDecoder(t_ref_gpst_ns=t_ref_gpst_ns)
        self.add_consumer(self.decoder)

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

    def feed(self, data: bytes, dispatch: bool = True) -> bytes:
        """Take received bytes; return the whole frames they complete, concatenated, to relay.

        Garbage and frames with a bad CRC are dropped (counted in the health record), so every
        subscriber gets only whole, checked frames and can join at any time. With
        ``dispatch=False`` the frame consumers (decoding) run only at :meth:`dispatch`, so a caster
        can relay first and decode after.
        """
        frames = self.deframer.feed(data)
        self.health.on_data(len(data), frames, self._carry[0] + self.deframer.crc_errors,
                            self._carry[1] + self.deframer.dropped_bytes)
        if not frames:
            return b""
        for fr in frames:
            if fr.msg_type in ARP_TYPES:
                self.arp_ecef_m = arp_ecef_m(fr.payload) or self.arp_ecef_m
        self._pending.extend(frames)
        if dispatch:
            self.dispatch()
        return frames[0].raw if len(frames) == 1 else b"".join(fr.raw for fr in frames)

    def dispatch(self) -> None:
        """Hand the frames received since the last call to the consumers (decoder, assemblers)."""
        if not self._pending:
            return
        frames, self._pending = self._pending, []
        for cb in self._consumers:
            try:
                cb(frames)
            except Exception:  # one failing consumer must not stop the relay
                log.exception("frame consumer of %s failed", self.mount)


class StationIngests:
    """All stations' ingest states, created on first use and kept for the life of the service."""

    def __init__(self, outage_after_s: float = 10.0, t_ref_gpst_ns: int | None = None):
        self.outage_after_s = outage_after_s
        self.t_ref_gpst_ns = t_ref_gpst_ns
        self._by_mount: dict[str, StationIngest] = {}

    def get(self, mount: str) -> StationIngest:
        """The ingest of ``mount`` (created if new)."""
        ing = self._by_mount.get(mount)
        if ing is None:
            ing = self._by_mount[mount] = StationIngest(mount, self.outage_after_s, self.t_ref_gpst_ns)
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
