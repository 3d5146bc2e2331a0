"""Re-encoded mountpoints: a station's stream as MSM4, or as legacy 1004/1012 for older rovers.

``STATION_MSM4`` and ``STATION_LEGACY`` exist for every station. The first subscriber starts a
:class:`ProfileEncoder` that listens to the station's relayed frames (a hub listener), joins each
epoch's MSMs (:class:`gnssaug.rtcm.epochs.EpochAssembler`), re-encodes the epoch
(:class:`gnssaug.rtcm.epochs.MsmEncoder` level 4, or :func:`gnssaug.rtcm.epochs.obs_to_legacy`) and
publishes it on the profile mountpoint, with the station's other messages (ARP, antenna,
ephemerides, biases) relayed unchanged. Message layouts: RTCM 10403.3 §3.5.12 (MSM) and §3.5.2
(1004, 1012).

Tracking modes. An ``ObsEpoch`` holds one mode per satellite and band, and a geodetic station sends
several (GPS L2 as semi-codeless P(Y) ``2W`` and L2C ``2L``). The two profiles serve different rovers:

- ``_MSM4`` is for low-cost dual-frequency rovers (u-blox ZED-F9P class: farm machines, 5G modules),
  which track L2C only and cannot use P(Y) corrections. Its epochs are joined with
  :func:`gnssaug.gnss.civil_rank` (:data:`gnssaug.gnss.CIVIL_FIRST`): L2C (L, X, S) before P(Y) per
  satellite, P(Y) ``2W`` kept for satellites without L2C (GPS IIR). Where the mode in a slot changes
  from one epoch to the next (a satellite that loses 2L for an epoch), the output lock time restarts,
  so the rover sees a slip (the other mode's phase is another tracking loop's arc).
- ``_LEGACY`` (1004/1012) keeps the default ranking (:func:`gnssaug.gnss.attribute_rank`, P(Y) first):
  its users are older geodetic rovers that track P(Y) semi-codeless on every satellite, and 1004's
  L2 code indicator (DF016) then says P(Y) for the whole constellation, not P(Y) for some satellites
  and L2C for others. Where a satellite's 2W is missing for an epoch, its L2C fills the slot (DF016
  then says L2C) and the L1/L2 lock times (:class:`gnssaug.rtcm.epochs.SlotLockClock`) restart
  at such mode changes, slips and gaps, as on the MSM4 profile.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from gnssaug.gnss import attribute_rank, civil_rank
from gnssaug.rtcm.codec import decode_many, encode_frame
from gnssaug.rtcm.epochs import EpochAssembler, MsmEncoder, SlotLockClock, obs_to_legacy
from gnssaug.rtcm.framing import iter_frames
from gnssaug.rtcm.msm import is_msm

log = logging.getLogger(__name__)

#: Mountpoint suffix -> profile name.
PROFILES = {"_MSM4": "msm4", "_LEGACY": "legacy"}
#: Profile name -> tracking-mode ranking of its epoch assembly (see the module notes).
PROFILE_RANK = {"msm4": civil_rank, "legacy": attribute_rank}
_LEGACY_OBS = (1001, 1002, 1003, 1004, 1009, 1010, 1011, 1012)
_GPS_EPOCH_UNIX_S = 315_964_800


def split_profile(mount: str) -> tuple[str, str] | None:
    """``("BASE1", "msm4")`` for ``BASE1_MSM4``; None for a mountpoint that is not a profile."""
    for suffix, name in PROFILES.items():
        if mount.endswith(suffix) and len(mount) > len(suffix):
            return mount[: -len(suffix)], name
    return None


def profile_message_counts(counts: dict[int, int], profile: str) -> dict[int, int]:
    """What a profile mountpoint carries, from the station's message counts (for the sourcetable)."""
    out: dict[int, int] = {}
    msm_epochs = 0
    for t, n in counts.items():
        if is_msm(t):
            if profile == "msm4":
                out[t - t % 10 + 4] = out.get(t - t % 10 + 4, 0) + n
            msm_epochs = max(msm_epochs, n)
        elif t not in _LEGACY_OBS:
            out[t] = n
    if profile == "legacy" and msm_epochs:
        out[1004] = out[1012] = msm_epochs
    return out


class ProfileEncoder:
    """Hub listener that re-encodes one station's stream into one profile and publishes it.

    Parameters
    ----------
    publish : callable
        ``publish(mount, data)``, normally :meth:`gnssaug.server.hub.Hub.publish`.
    station : str
        The source station's mountpoint.
    profile : str
        ``"msm4"`` or ``"legacy"``.
    """

    def __init__(self, publish, station: str, profile: str):
        self.publish = publish
        self.station = station
        self.profile = profile
        self.mount = station + {v: k for k, v in PROFILES.items()}[profile]
        # the reference time only has to be within half a week of the data for the epoch to be
        # joined; re-encoding writes back the same time of week
        self.assembler = EpochAssembler(int((time.time() - _GPS_EPOCH_UNIX_S + 18) * 1e9), PROFILE_RANK[profile])
        self.encoder: MsmEncoder | None = None
        self.legacy_lock = SlotLockClock()
        self.station_id = 0
        self.errors = 0
        self.epochs = 0

    def __call__(self, data: bytes) -> None:
        frames = iter_frames(data)
        out: list[bytes] = []
        for fr, msg in zip(frames, decode_many(frames), strict=True):
            if isinstance(msg, Exception):
                self.errors += 1
                continue
            if is_msm(fr.msg_type) or fr.msg_type in _LEGACY_OBS:
                self.station_id = fr.station_id or self.station_id
                try:
                    epochs = self.assembler.feed(msg)
                    for epoch in epochs:
                        out.extend(self._encode(epoch))
                except Exception as exc:  # a bad epoch is counted and skipped, the stream goes on
                    self.errors += 1
                    log.debug("%s: epoch re-encoding failed: %s", self.mount, exc)
            else:
                out.append(fr.raw)
        if out:
            self.publish(self.mount, b"".join(out))

    def _encode(self, epoch) -> list[bytes]:
        self.epochs += 1
        if self.profile == "legacy":
            return [encode_frame(m) for m in obs_to_legacy(epoch, self.station_id, self.assembler.glo_fcn,
                                                           self._legacy_lock_s(epoch))]
        if self.encoder is None:
            self.encoder = MsmEncoder(4, self.station_id, self.assembler.glo_fcn)
        return [encode_frame(m) for m in self.encoder.encode(epoch)]

    def _legacy_lock_s(self, epoch) -> dict[tuple[int, int], float]:
        # L1/L2 lock times [s] of the output: restarted at slips, gaps and tracking-mode changes
        rows, slots = np.nonzero(np.isfinite(epoch.pr_m[:, :2]) | np.isfinite(epoch.cp_cyc[:, :2]))
        lock_ms = self.legacy_lock.lock_ms(epoch, epoch.sat[rows], slots)
        self.legacy_lock.end_epoch(epoch.t_gpst_ns)
        return {(int(epoch.sat[r]), int(k)): ms / 1000.0 for r, k, ms in zip(rows.tolist(), slots.tolist(),
                                                                              lock_ms.tolist(), strict=True)}
