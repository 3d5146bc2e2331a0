"""Test helper: run the whole service (caster + HTTP API) on loopback in a background thread."""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
import time

from aiohttp import web

from gnssaug.server.app import create_app
from gnssaug.server.keys import CASTER, HUB, INGESTS, REGISTRY
from gnssaug.server.settings import Settings


class RunningService:
    """The service on 127.0.0.1 with free ports; ``ntrip_port``, ``http_port``, ``caster`` once started."""

    def __init__(self, settings: Settings):
        self.settings = settings.replace(ntrip_host="127.0.0.1", ntrip_port=0, http_host="127.0.0.1")
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> RunningService:
        self._thread.start()
        self.call(self._start())
        return self

    def __exit__(self, *exc) -> None:
        self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()

    async def _start(self) -> None:
        self.app = create_app(self.settings)
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.http_port = site._server.sockets[0].getsockname()[1]
        self.ntrip_port = self.app[CASTER].port

    def call(self, coro, timeout: float = 30.0):
        """Run a coroutine on the service loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def sync(self, fn, *args):
        """Run a plain function on the service loop (state is loop-owned)."""
        async def _run():
            return fn(*args)
        return self.call(_run())

    @property
    def caster(self):
        return self.app[CASTER]

    @property
    def hub(self):
        return self.app[HUB]

    @property
    def registry(self):
        return self.app[REGISTRY]

    @property
    def ingests(self):
        return self.app[INGESTS]

    def wait_for(self, predicate, timeout: float = 10.0, what: str = "condition") -> None:
        """Poll ``predicate()`` (evaluated on the service loop) until true."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.sync(predicate):
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def connect_source(port: int, mount: str, password: str) -> socket.socket:
    """An NTRIP 1 ``SOURCE`` upload to ``mount``, accepted (``ICY 200 OK`` read)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(f"SOURCE {password} /{mount}\r\nSource-Agent: NTRIP test\r\n\r\n".encode())
    assert s.recv(100) == b"ICY 200 OK\r\n"
    return s


def connect_client(port: int, mount: str, version: int = 1, user: str = "al", password: str = "pw",
                   extra: str = "") -> socket.socket:
    """An NTRIP 1 or 2 request for ``mount`` sent (``extra``: more header lines); the reply is not read."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if version == 1:
        head = f"GET /{mount} HTTP/1.0\r\nUser-Agent: NTRIP test\r\nAuthorization: Basic {basic(user, password)}\r\n"
    else:
        head = (f"GET /{mount} HTTP/1.1\r\nHost: x\r\nNtrip-Version: Ntrip/2.0\r\nUser-Agent: NTRIP test\r\n"
                f"Authorization: Basic {basic(user, password)}\r\n")
    s.sendall((head + extra + "\r\n").encode())
    return s


def raw_request(port: int, head: bytes, read_s: float = 2.0, body: bytes = b"") -> bytes:
    """Send ``head`` (+ ``body``) on a fresh socket and return everything read until close or ``read_s``."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_s) as s:
        s.sendall(head + body)
        out = bytearray()
        end = time.monotonic() + read_s
        while time.monotonic() < end:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            out += chunk
        return bytes(out)


def rtcm_stream(data_dir, repeat: int = 1) -> bytes:
    """Real RTCM 3 frames (pyrtcm's captures, all message kinds), garbage stripped, repeated."""
    from gnssaug.rtcm.framing import iter_frames

    raw = (data_dir / "rtcm3_samples" / "pygpsdata-NTRIP-USCL00CHL0.log").read_bytes()
    return b"".join(f.raw for f in iter_frames(raw)) * repeat


def recv_for(sock, seconds: float, n_bytes: int | None = None) -> bytes:
    """Bytes received on ``sock`` until ``n_bytes`` have come, the peer closes, or ``seconds`` pass."""
    out = bytearray()
    end = time.monotonic() + seconds
    sock.settimeout(0.2)
    while (n_bytes is None or len(out) < n_bytes) and time.monotonic() < end:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        if not chunk:
            break
        out += chunk
    return bytes(out)
