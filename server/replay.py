"""Replay harness: recorded or simulated stations streamed into a caster as real NTRIP sources.

A station's data (an RTCM 3 file, or a RINEX observation file encoded to MSM with the project's own
encoder, :func:`gnssaug.rtcm.cli.write_stream`) is cut into epochs at the MSM multiple-message bit
and uploaded over a real socket (NTRIP 1 ``SOURCE`` or NTRIP 2 chunked ``POST``), each epoch at
its recorded time divided by ``speed``. The caster cannot tell it from a live station: the live
service and the replay share everything from the socket on.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import tempfile
import time
from pathlib import Path

from gnssaug.errors import UsageError
from gnssaug.rtcm.framing import iter_frames
from gnssaug.server.ntrip import protocol as P
from gnssaug.stations.health import MS_PER_WEEK, msm_header

log = logging.getLogger(__name__)

DEMO_MESSAGES = "1006(10),1033(10),MSM(1),1230(10),1019(60),1020(60),1042(60),1045(60),1046(60)"


def is_rinex_obs(path: Path) -> bool:
    """True when the file starts with a RINEX observation header line."""
    with open(path, "rb") as fh:
        first = fh.read(80).decode("latin-1", "replace")
    return "RINEX VERSION / TYPE" in first or (len(first) > 20 and first[20:21] == "O")


def encode_rinex(obs: Path, out: Path, nav: Path | None = None, msm_level: int = 7, station_id: int = 0,
                 messages: str = DEMO_MESSAGES) -> Path:
    """Encode a RINEX observation file (+ navigation) to an RTCM 3 file with the project encoder."""
    import numpy as np

    from gnssaug.datasets.rinex.obs import read_obs
    from gnssaug.rtcm.cli import parse_messages, write_stream

    header, series = read_obs(obs)
    nav_data = None
    glo_fcn = np.asarray(header.glo_fcn, dtype=np.int8)
    if nav is not None:
        from gnssaug.datasets.rinex.nav import read_nav

        nav_data = read_nav(nav)
        glo_fcn = np.where(nav_data.glo_fcn != -128, nav_data.glo_fcn, glo_fcn).astype(np.int8)
    write_stream(out, header, series, nav_data, parse_messages(messages), msm_level, station_id, glo_fcn)
    return out


def load_stream(path: str | Path, nav: str | Path | None = None, cache_dir: Path | None = None) -> bytes:
    """RTCM 3 bytes of a station file: read as is, or encoded from RINEX (cached in ``cache_dir``)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    if not is_rinex_obs(path):
        return path.read_bytes()
    if cache_dir is not None:
        cached = Path(cache_dir) / f"{path.stem}.{path.stat().st_size}.rtcm3"
        if not cached.exists():
            partial = cached.with_suffix(f".{os.getpid()}.part")  # never leave a truncated cache
            encode_rinex(path, partial, Path(nav) if nav else None)
            os.replace(partial, cached)
        return cached.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        return encode_rinex(path, Path(tmp) / "stream.rtcm3", Path(nav) if nav else None).read_bytes()


def epoch_groups(data: bytes) -> list[tuple[int | None, bytes]]:
    """Cut a stream into epochs: ``(GPST ms of week or None, frames)``, ending at an MSM with DF393 = 0.

    Station and ephemeris messages travel with the epoch that follows them; a stream without MSM
    is one group per frame with no time.
    """
    groups: list[tuple[int | None, bytes]] = []
    pending: list[bytes] = []
    for fr in iter_frames(data):
        pending.append(fr.raw)
        head = msm_header(fr.payload)
        if head is not None and not head[2]:
            groups.append((head[1], b"".join(pending)))
            pending = []
    if pending:
        groups.append((None, b"".join(pending)))
    return groups


def schedule_s(groups: list[tuple[int | None, bytes]], speed: float) -> list[float]:
    """Send offsets (s from start) of each group: recorded epoch spacing divided by ``speed``.

    ``speed`` 0 sends as fast as possible; groups without a time keep the previous offset; a
    jump backwards or over half a week (file concatenation) restarts the clock at that group.
    """
    out, offset, last_ms = [], 0.0, None
    for t_ms, _ in groups:
        if t_ms is not None and last_ms is not None and speed > 0:
            step = (t_ms - last_ms) % MS_PER_WEEK
            if step < MS_PER_WEEK // 2:
                offset += step / 1000.0 / speed
        if t_ms is not None:
            last_ms = t_ms
        out.append(offset)
    return out


async def _open_source(host: str, port: int, mount: str, password: str, version: int):
    reader, writer = await asyncio.open_connection(host, port)
    if version == 2:
        token = base64.b64encode(f"{mount}:{password}".encode()).decode()
        head = (f"POST /{mount} HTTP/1.1\r\nHost: {host}\r\nNtrip-Version: {P.NTRIP2}\r\n"
                f"User-Agent: NTRIP gnssaug-replay\r\nAuthorization: Basic {token}\r\n"
                "Transfer-Encoding: chunked\r\n\r\n")
    else:
        head = f"SOURCE {password} /{mount}\r\nSource-Agent: NTRIP gnssaug-replay\r\n\r\n"
    writer.write(head.encode())
    reply = await asyncio.wait_for(reader.read(1024), 10.0)
    first = reply.split(b"\r\n", 1)[0]
    if not (first.startswith(b"ICY 200") or first.startswith(b"HTTP/1.1 200")):
        writer.close()
        raise ConnectionError(f"caster refused {mount}: {first[:80].decode('latin-1')}")
    return reader, writer


async def upload(host: str, port: int, mount: str, password: str, data: bytes, *, speed: float = 1.0,
                 version: int = 1, loop: bool = False) -> int:
    """Upload a station stream epoch by epoch; returns the payload bytes sent.

    Parameters
    ----------
    host, port : str, int
        The caster.
    mount, password : str
        The station's mountpoint and upload password.
    data : bytes
        RTCM 3 frames (see :func:`load_stream`).
    speed : float
        1 = real time, 10 = ten times faster, 0 = as fast as possible.
    version : int
        1: ``SOURCE``; 2: chunked ``POST``.
    loop : bool
        Start over at the end (demo).
    """
    groups = epoch_groups(data)
    if not groups:
        raise UsageError(f"{mount}: the stream holds no RTCM 3 frames")
    offsets = schedule_s(groups, speed)
    reader, writer = await _open_source(host, port, mount, password, version)
    sent = 0
    try:
        while True:
            start = time.monotonic()
            for (_, payload), offset in zip(groups, offsets, strict=True):
                delay = start + offset - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                writer.write(P.render_chunk(payload) if version == 2 else payload)
                await writer.drain()
                sent += len(payload)
            if not loop:
                break
            # one nominal epoch between laps, so the caster sees a steady rate
            await asyncio.sleep(offsets[1] - offsets[0] if len(offsets) > 1 and offsets[1] > offsets[0] else 1.0)
        if version == 2:
            writer.write(P.LAST_CHUNK)
            await writer.drain()
    finally:
        writer.close()
    return sent
