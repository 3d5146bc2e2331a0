"""``gnssaug serve`` (the correction service) and ``gnssaug replay`` (stations from files).

``serve`` needs no configuration on first start: the registry is created in the data directory.
``serve --demo`` registers the Nagoya base and rover receivers (real RINEX, shared data folder) as
two stations in a throw-away data directory, replays them into its own caster over NTRIP at real
time, and prints where to connect; ``--duration S`` stops it after S seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import tempfile
from pathlib import Path

from gnssaug.errors import UsageError

log = logging.getLogger(__name__)

DEMO_USER = ("demo", "demo")
#: The Nagoya recording's date (GPST), so the demo's decoded epochs carry it.
DEMO_DATA_TIME = "2024-06-24T08:20:00"


def register(subparsers) -> None:
    """Add ``serve`` and ``replay`` to the ``gnssaug`` parser."""
    p = subparsers.add_parser("serve", help="run the NTRIP caster and the HTTP API")
    p.add_argument("--config", metavar="FILE", help="TOML settings file")
    p.add_argument("--data-dir", metavar="DIR", help="registry/state directory (default: $GNSSAUG_HOME or "
                   "~/.local/share/gnssaug; --demo: a temporary one)")
    p.add_argument("--ntrip-port", type=int, help="NTRIP port (default 2101)")
    p.add_argument("--http-port", type=int, help="HTTP API port (default 8080)")
    p.add_argument("--host", help="listen address for both ports (default 0.0.0.0; --demo: 127.0.0.1)")
    p.add_argument("--demo", action="store_true", help="replay the Nagoya base and rover as live stations")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.set_defaults(func=run_serve)

    r = subparsers.add_parser("replay", help="stream station files into a running caster as NTRIP sources")
    r.add_argument("streams", nargs="+", metavar="MOUNT=FILE|DIR",
                   help="station mountpoint and its RTCM 3 or RINEX observation file, or a folder of RINEX "
                   "observation files (gnssaug sim output: each NAME.obs is station NAME, nav.rnx its ephemerides)")
    r.add_argument("--caster", default="127.0.0.1:2101", metavar="HOST:PORT", help="caster address")
    r.add_argument("--password", required=True, help="upload password of the stations")
    r.add_argument("--nav", metavar="FILE", help="RINEX navigation file (ephemerides for RINEX inputs)")
    r.add_argument("--speed", type=float, default=1.0, help="1 = real time, 10 = 10x, 0 = as fast as possible")
    r.add_argument("--ntrip-version", type=int, choices=(1, 2), default=1, help="1: SOURCE, 2: chunked POST")
    r.add_argument("--loop", action="store_true", help="start over at the end of the files")
    r.add_argument("--register", metavar="DATA_DIR",
                   help="first add missing stations (with --password, position from the RINEX header) to the "
                   "registry of the caster running on DATA_DIR")
    r.set_defaults(func=run_replay)


def _parse_streams(items: list[str]) -> list[tuple[str, Path]]:
    out = []
    for item in items:
        if Path(item).is_dir():
            files = sorted(Path(item).glob("*.obs")) + sorted(Path(item).glob("*.rnx"))
            out.extend((f.stem.upper(), f) for f in files if f.name != "nav.rnx")
            continue
        mount, sep, path = item.partition("=")
        if not sep or not mount or not path:
            raise UsageError(f"expected MOUNT=FILE, got {item!r}")
        out.append((mount, Path(path)))
    return out


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise UsageError(f"--caster: expected HOST:PORT, got {text!r}")
    return host or "127.0.0.1", int(port)


def run_replay(args) -> int:
    """Carry out ``gnssaug replay``."""
    from gnssaug.server.replay import load_stream, upload

    if args.speed < 0:
        raise UsageError("--speed must be 0 or more")
    host, port = _host_port(args.caster)
    files = _parse_streams(args.streams)
    if not files:
        raise UsageError("no station files found")
    if args.register:
        _register(args.register, files, args.password)
    streams = []
    for m, p in files:
        nav = args.nav or (p.parent / "nav.rnx" if (p.parent / "nav.rnx").is_file() else None)
        streams.append((m, load_stream(p, nav)))

    async def _all():
        return await asyncio.gather(*(upload(host, port, m, args.password, data, speed=args.speed,
                                             version=args.ntrip_version, loop=args.loop) for m, data in streams))

    try:
        sent = asyncio.run(_all())
    except (ConnectionError, OSError) as exc:
        raise UsageError(f"replay to {host}:{port} failed: {exc}") from None
    for (mount, _), n in zip(streams, sent, strict=True):
        print(f"{mount}: {n} bytes uploaded")
    return 0


def _register(data_dir: str, files: list[tuple[str, Path]], password: str) -> None:
    from gnssaug.server.replay import is_rinex_obs
    from gnssaug.stations.registry import NotFoundError, Registry, RegistryError

    reg = Registry.in_dir(data_dir)
    try:
        for mount, path in files:
            try:
                reg.station(mount)
                continue
            except NotFoundError:
                pass
            xyz = None
            if is_rinex_obs(path):
                from gnssaug.datasets.rinex.obs import read_obs_header

                pos = read_obs_header(path).approx_pos_ecef_m
                xyz = tuple(float(v) for v in pos) if pos is not None and any(pos) else None
            reg.add_station(mount, password, xyz_ecef_m=xyz)
            print(f"station {mount} registered")
    except RegistryError as exc:
        raise UsageError(str(exc)) from None
    finally:
        reg.close()


def run_serve(args) -> int:
    """Carry out ``gnssaug serve``."""
    from gnssaug.server.settings import load_settings

    data_dir = args.data_dir
    tmp = None
    if args.demo and data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="gnssaug-demo-")
        data_dir = tmp.name
    # the demo's user and password are printed for all to read: it listens on this machine only unless told
    host = args.host or ("127.0.0.1" if args.demo and args.config is None else None)
    settings = load_settings(args.config, data_dir=data_dir, ntrip_port=args.ntrip_port,
                             http_port=args.http_port, ntrip_host=host, http_host=host,
                             data_time=DEMO_DATA_TIME if args.demo else None)
    _ = settings.data_time_gpst_ns  # a bad data_time is reported before anything starts
    try:
        asyncio.run(_serve(settings, args.demo, args.duration))
    except OSError as exc:
        raise UsageError(f"cannot start the service: {exc}") from None
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


async def _serve(settings, demo: bool, duration_s: float | None) -> None:
    from aiohttp import web

    from gnssaug.server.app import create_app
    from gnssaug.server.keys import CASTER, REGISTRY

    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    tasks = []
    try:
        site = web.TCPSite(runner, settings.http_host, settings.http_port)
        await site.start()
        http_port = site._server.sockets[0].getsockname()[1] if site._server else settings.http_port
        ntrip_port = app[CASTER].port
        here = "localhost" if settings.http_host in ("0.0.0.0", "::", "") else settings.http_host
        print(f"gnssaug: NTRIP caster on port {ntrip_port} of {settings.ntrip_host}, HTTP API on "
              f"http://{here}:{http_port}/api/v1/stations (data in {settings.data_dir})", flush=True)
        if demo:
            tasks = await _start_demo(app[REGISTRY], settings, ntrip_port)
            print("gnssaug demo: sourcetable: curl -s -H 'Ntrip-Version: Ntrip/2.0' "
                  f"http://{here}:{ntrip_port}/ ; stream: "
                  f"str2str -in ntrip://{DEMO_USER[0]}:{DEMO_USER[1]}@{here}:{ntrip_port}/NAGOYA_B "
                  f"(or /NEAR with GGA); health: http://{here}:{http_port}/api/v1/network/health ; "
                  "Ctrl-C stops", flush=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), duration_s)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runner.cleanup()
        print("gnssaug: stopped", flush=True)


async def _start_demo(registry, settings, ntrip_port: int) -> list[asyncio.Task]:
    """Register the demo stations and user, and replay the Nagoya pair into the caster."""
    from gnssaug.datasets.paths import shared_data_dir
    from gnssaug.server.replay import load_stream, upload
    from gnssaug.stations.registry import ExistsError, NotFoundError

    folder = shared_data_dir() / "jp_nagoya_static_20240624"
    if not (folder / "base.obs").is_file():
        raise UsageError(f"demo data not found in {folder}; set GNSSAUG_DATA_DIR to the shared data folder")
    with contextlib.suppress(ExistsError):
        registry.add_user(*DEMO_USER, max_sessions=10)
    password = secrets.token_urlsafe(12)
    stations = []
    for mount, name in (("NAGOYA_B", "base"), ("NAGOYA_R", "rover")):
        llh = tuple(float(v) for v in (folder / f"{name}_position.txt").read_text().split()[:3])
        with contextlib.suppress(NotFoundError):
            registry.remove_station(mount)
        registry.add_station(mount, password, llh_deg_m=llh, identifier=f"Nagoya {name}", country="JPN")
        stations.append((mount, folder / f"{name}.obs"))
    # the encoded streams outlive the throw-away data directory: later demos start at once
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gnssaug" / "demo"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        cache = Path(settings.data_dir) / "demo-cache"
        cache.mkdir(parents=True, exist_ok=True)
    print("gnssaug demo: encoding the Nagoya RINEX to RTCM 3 MSM7 (first run only) ...", flush=True)
    loop = asyncio.get_running_loop()
    nav = folder / "base.nav"
    datas = await asyncio.gather(*(loop.run_in_executor(None, load_stream, path, nav, cache) for _, path in stations))

    async def _run(mount, data):
        while True:
            try:
                await upload("127.0.0.1", ntrip_port, mount, password, data, speed=1.0, loop=True)
            except (ConnectionError, OSError) as exc:
                log.warning("demo replay of %s: %s; retrying", mount, exc)
                await asyncio.sleep(1.0)

    return [asyncio.get_running_loop().create_task(_run(m, d)) for (m, _), d in zip(stations, datas, strict=True)]
