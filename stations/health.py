"""Per-station stream health: latency, epoch rate, completeness, satellites, CRC errors, gaps, outages.

Fed by :mod:`gnssaug.stations.ingest` with the frames of each socket read. Only the MSM header is
read here (RTCM 10403.3 §3.5.12.3, Table 3.5-78: DF002 type, DF003 station, 30-bit epoch time,
DF393 multiple-message bit at bit 54, DF394 satellite mask at bits 73-136), enough to know where an
epoch ends, its time and how many satellites each system reports, at a few microseconds per frame.

Definitions
-----------
- *epoch*: the MSM frames up to one whose multiple-message bit is 0.
- *latency_s*: arrival wall time (as GPST) minus the epoch time, for epochs of a live receiver
  (None while the epoch times are more than a minute away from now, as in a replay of old data).
- *interval_s*: the smallest epoch-time step seen (the nominal rate); a step longer than 1.5
  intervals is a *gap* whose missing epochs lower *completeness* = epochs / (epochs + missing).
- *state*: ``up`` while data arrived within ``outage_after_s``; ``outage`` (with ``outage_since_s``,
  Unix time) after that or after the upload disconnected; ``never`` before the first byte.
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass, field

from gnssaug.time import leap_seconds_at_gpst_ns

MS_PER_WEEK = 604_800_000
_MSM_SYSTEM = {107: "GPS", 108: "GLONASS", 109: "Galileo", 110: "SBAS", 111: "QZSS", 112: "BeiDou", 113: "NavIC"}
_GPS_EPOCH_UNIX_S = 315_964_800


def msm_header(payload: bytes) -> tuple[str, int, bool, int] | None:
    """(system, epoch time as GPST ms of week, multiple-message bit, satellite count) of an MSM payload.

    Returns None for a payload that is not MSM1-7 or too short. GLONASS epoch time (day of week and
    Moscow time of day, DF416/DF034) and BDS time (DF427, BDT = GPST - 14 s) are brought to GPST.
    """
    if len(payload) < 18:
        return None
    msg_type = (payload[0] << 4) | (payload[1] >> 4)
    system = _MSM_SYSTEM.get(msg_type // 10)
    if system is None or not 1 <= msg_type % 10 <= 7:
        return None
    head = int.from_bytes(payload[:18], "big")  # 144 bits: type .. satellite mask
    epoch = (head >> (144 - 54)) & 0x3FFFFFFF
    mmb = bool((head >> (144 - 55)) & 1)
    nsat = ((head >> (144 - 137)) & 0xFFFFFFFFFFFFFFFF).bit_count()
    if system == "BeiDou":
        t_ms = epoch + 14_000
    elif system == "GLONASS":
        day, tod_ms = epoch >> 27, epoch & 0x7FFFFFF
        # Moscow time = UTC + 3 h; GPST = UTC + leap seconds (18 s since 2017)
        t_ms = (day % 7) * 86_400_000 + tod_ms - 10_800_000 + 18_000
    else:
        t_ms = epoch
    return system, t_ms % MS_PER_WEEK, mmb, nsat


def _now_gpst_ms_of_week(t_unix_s: float) -> int:
    t_gpst_ns = int((t_unix_s - _GPS_EPOCH_UNIX_S) * 1e9)
    t_gpst_ns += leap_seconds_at_gpst_ns(t_gpst_ns) * 1_000_000_000
    return (t_gpst_ns // 1_000_000) % MS_PER_WEEK


@dataclass
class HealthSnapshot:
    """A copy of a station's health figures (see the module docstring for definitions)."""

    mount: str
    state: str
    connected: bool
    outage_since_s: float | None
    outages: int
    last_data_age_s: float | None
    last_epoch_age_s: float | None
    latency_s: float | None
    epochs_per_s: float
    interval_s: float | None
    completeness: float | None
    epochs: int
    missing_epochs: int
    gaps: int
    satellites: dict[str, int] = field(default_factory=dict)
    frames: int = 0
    bytes_in: int = 0
    crc_errors: int = 0
    dropped_bytes: int = 0
    message_types: dict[int, int] = field(default_factory=dict)


class StationHealth:
    """Running health figures of one station stream.

    Parameters
    ----------
    mount : str
        The station's mountpoint.
    outage_after_s : float
        Silence after which the station is in outage.
    clock : callable
        Wall clock in Unix seconds (injectable for tests).
    """

    def __init__(self, mount: str, outage_after_s: float = 10.0, clock=time.time):
        self.mount = mount
        self.outage_after_s = outage_after_s
        self._clock = clock
        self.connected = False
        self.state = "never"
        self.outage_since_s: float | None = None
        self.outages = 0
        self.last_data_s: float | None = None
        self.last_epoch_s: float | None = None
        self.latency_s: float | None = None
        self._last_epoch_ms: int | None = None
        self.interval_ms: int | None = None
        self.epochs = 0
        self.missing = 0
        self.gaps = 0
        self.satellites: dict[str, int] = {}
        self._epoch_sats: dict[str, int] = {}
        self._epoch_arrivals: collections.deque[float] = collections.deque(maxlen=256)
        self.frames = 0
        self.bytes_in = 0
        self.crc_errors = 0
        self.dropped_bytes = 0
        self.message_types: collections.Counter[int] = collections.Counter()

    # ---- events --------------------------------------------------------------------------------
    def on_connect(self) -> None:
        """The station's upload (or upstream pull) connected."""
        self.connected = True

    def on_disconnect(self) -> None:
        """The upload ended: the station is in outage from now."""
        self.connected = False
        self._enter_outage(self._clock())

    def _enter_outage(self, now_s: float) -> None:
        if self.state != "outage":
            self.state = "outage"
            self.outage_since_s = now_s
            self.outages += 1

    def on_data(self, nbytes: int, frames, crc_errors: int, dropped_bytes: int) -> None:
        """Account one read: its byte count, its frames, and the deframer's running counters."""
        now = self._clock()
        self.bytes_in += nbytes
        self.crc_errors = crc_errors
        self.dropped_bytes = dropped_bytes
        if frames:
            self.last_data_s = now
            if self.state != "up":
                self.state = "up"
                self.outage_since_s = None
        for fr in frames:
            self.frames += 1
            self.message_types[fr.msg_type] += 1
            head = msm_header(fr.payload)
            if head is not None:
                self._on_msm(head, now)

    def _on_msm(self, head: tuple[str, int, bool, int], now_s: float) -> None:
        system, t_ms, mmb, nsat = head
        # a system with more than 64 cells is split over messages holding different satellites
        self._epoch_sats[system] = self._epoch_sats.get(system, 0) + nsat
        if mmb:
            return
        # end of an epoch
        self.epochs += 1
        self.last_epoch_s = now_s
        self._epoch_arrivals.append(now_s)
        self.satellites = dict(self._epoch_sats)
        self._epoch_sats.clear()
        if self._last_epoch_ms is not None:
            step = (t_ms - self._last_epoch_ms) % MS_PER_WEEK
            if 0 < step < MS_PER_WEEK // 2:
                if self.interval_ms is None or step < self.interval_ms:
                    self.interval_ms = step
                if step > 1.5 * self.interval_ms:
                    self.gaps += 1
                    self.missing += round(step / self.interval_ms) - 1
        self._last_epoch_ms = t_ms
        lat_ms = (_now_gpst_ms_of_week(now_s) - t_ms) % MS_PER_WEEK
        if lat_ms > MS_PER_WEEK // 2:
            lat_ms -= MS_PER_WEEK
        self.latency_s = lat_ms / 1000.0 if abs(lat_ms) < 60_000 else None

    def tick(self) -> None:
        """Re-evaluate the outage state (call periodically)."""
        now = self._clock()
        if self.state == "up" and (self.last_data_s is None or now - self.last_data_s > self.outage_after_s):
            self._enter_outage(self.last_data_s + self.outage_after_s if self.last_data_s else now)

    @property
    def healthy(self) -> bool:
        """True when the station is up (data within ``outage_after_s``)."""
        self.tick()
        return self.state == "up"

    def snapshot(self) -> HealthSnapshot:
        """A copy of the current figures."""
        self.tick()
        now = self._clock()
        recent = [t for t in self._epoch_arrivals if now - t <= 10.0]
        rate = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 and recent[-1] > recent[0] else 0.0
        total = self.epochs + self.missing
        return HealthSnapshot(
            mount=self.mount, state=self.state, connected=self.connected, outage_since_s=self.outage_since_s,
            outages=self.outages,
            last_data_age_s=None if self.last_data_s is None else now - self.last_data_s,
            last_epoch_age_s=None if self.last_epoch_s is None else now - self.last_epoch_s,
            latency_s=self.latency_s, epochs_per_s=rate,
            interval_s=None if self.interval_ms is None else self.interval_ms / 1000.0,
            completeness=None if total == 0 else self.epochs / total,
            epochs=self.epochs, missing_epochs=self.missing, gaps=self.gaps, satellites=dict(self.satellites),
            frames=self.frames, bytes_in=self.bytes_in, crc_errors=self.crc_errors,
            dropped_bytes=self.dropped_bytes, message_types=dict(self.message_types),
        )
