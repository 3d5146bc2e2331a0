"""The NTRIP caster: one asyncio listener for NTRIP 1 and 2 clients, station uploads and pulls.

Wire formats live in :mod:`gnssaug.server.ntrip.protocol` (sans-IO); this module does the I/O and
the policy: authentication (scrypt hashes checked in a worker thread, cached, one check in flight
per credential), per-mountpoint grants, session limits and accounting, failed-login throttling,
station uploads (``SOURCE`` / ``POST``) into :mod:`gnssaug.stations.ingest`, fan-out through
:class:`gnssaug.server.hub.Hub`, NEAR mountpoints and pulling stations from upstream casters.

Latency at thousands of clients: an epoch is relayed before it is decoded, and stations are decoded
one at a time, each only once every epoch already received from other stations is relayed too; the
collector's full passes are kept out of the fan-out (:mod:`gnssaug.server.ntrip.collector`); a reset
client's exception is stripped of its traceback so the connection is freed by reference counting,
not left to the collector.

Every bad input ends only its own connection, with a clear reply where the protocol has one.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import logging
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field

from gnssaug.server.guard import LoginGuard
from gnssaug.server.hub import Hub, Subscriber, start_watched_server
from gnssaug.server.near import choose_station
from gnssaug.server.ntrip import protocol as P
from gnssaug.server.ntrip.collector import CollectorPolicy
from gnssaug.server.ntrip.sourcetable import MountInfo, build_sourcetable
from gnssaug.server.profiles import ProfileEncoder, profile_message_counts, split_profile
from gnssaug.server.settings import Settings
from gnssaug.stations.ingest import StationIngest, StationIngests
from gnssaug.stations.registry import CredentialCache, NotFoundError, Registry, User, check_password, ecef_to_llh

#: How long :meth:`Caster.stop` waits for its connection handlers and pulls to end.
_STOP_TIMEOUT_S = 10.0
log = logging.getLogger(__name__)
_READ_BYTES = 4096
#: Loop iterations from the selector seeing a station's data to its relay, plus one: the transport's
#: read callback wakes the read inside ``asyncio.wait_for`` (a task of its own on Python < 3.12), whose
#: end wakes wait_for's waiter, which wakes the station's task, which relays (4 on 3.10 and 3.11).
_RELAY_HOPS = 5


@dataclass
class ClientSession:
    """A connected reader (kept for the sessions API and the NEAR router)."""

    id: int
    user: str
    mount: str
    address: str
    version: int
    started_s: float
    sub: Subscriber
    station: str | None = None
    bytes_in: int = 0
    gga_llh: tuple[float, float, float] | None = None
    gga_count: int = 0
    gga_errors: int = 0


@dataclass
class SourceSession:
    """A connected station upload or upstream pull."""

    id: int
    mount: str
    address: str
    version: int
    started_s: float
    writer: asyncio.StreamWriter | None = None
    bytes_in: int = 0
    kind: str = "source"
    stats: dict = field(default_factory=dict)


class Caster:
    """The NTRIP caster of one service instance.

    Parameters
    ----------
    settings : Settings
    registry : Registry
    hub : Hub
    ingests : StationIngests
    """

    def __init__(self, settings: Settings, registry: Registry, hub: Hub, ingests: StationIngests):
        self.settings = settings
        self.registry = registry
        self.hub = hub
        self.ingests = ingests
        self.guard = LoginGuard(settings.login_slow_after, settings.login_ban_after, settings.login_window_s,
                                settings.login_ban_s)
        self.creds = CredentialCache()
        self._verifying: dict[tuple, asyncio.Future] = {}
        self.clients: dict[int, ClientSession] = {}
        self.near_clients: dict[int, ClientSession] = {}  # the NEAR subset, walked every second
        self.sources: dict[str, SourceSession] = {}
        self.user_sessions: collections.Counter[str] = collections.Counter()
        self.counters: collections.Counter[str] = collections.Counter()
        self.replies: collections.Counter[int] = collections.Counter()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task] = set()
        self._next_id = 0
        self.profiles: dict[str, ProfileEncoder] = {}
        self._positions: dict[bool, tuple[float, dict]] = {}
        self._pulls: dict[str, tuple[str, asyncio.Task]] = {}
        self._stopping = False
        self._relays = 0  # station publishes so far (decoding waits for a quiet moment, see _after_arrived_relays)
        self._to_decode: dict[str, StationIngest] = {}  # relayed, not yet decoded, in relay order
        self._decoder: asyncio.Task | None = None
        #: Decode relayed epochs one at a time, each once every epoch already received is relayed
        #: (False: right after each relay, as before; for comparison runs).
        self.decode_after_relays = True
        self.collector = CollectorPolicy()
        self.port: int | None = None
        self.started_s = time.time()

    # ---- life cycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen on ``settings.ntrip_host:ntrip_port`` (TLS when configured) and start pulls."""
        ctx = None
        if self.settings.tls_cert:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(self.settings.tls_cert, self.settings.tls_key)
        # watched connections: the hub hears of a lost connection before its descriptor is closed (and
        # reusable), which its batched fan-out needs (see gnssaug.server.hub)
        self._server = await start_watched_server(self._handle, self.settings.ntrip_host, self.settings.ntrip_port,
                                                  ssl=ctx, backlog=4096, limit=P.MAX_HEAD_BYTES * 2)
        self.port = self._server.sockets[0].getsockname()[1]
        self.registry.close_dangling_sessions()
        self._spawn(self._housekeeping())
        self._sync_pulls()
        log.info("NTRIP caster listening on %s:%d%s", self.settings.ntrip_host, self.port, " (TLS)" if ctx else "")

    async def stop(self) -> None:
        """Stop listening, close every connection and wait for the handlers to finish."""
        if self._server is not None:
            self._server.close()
        for sess in list(self.clients.values()):
            self.hub.close(sess.sub)  # no write to a descriptor once its transport is closing
        for w in list(self._writers):
            w.transport.abort()
        self._stopping = True
        # Cancel until every task has ended: asyncio.wait_for can swallow one cancellation (Python < 3.12),
        # which would leave an upstream pull reconnecting and this stop waiting for ever.
        deadline = time.monotonic() + _STOP_TIMEOUT_S
        while self._tasks and time.monotonic() < deadline:
            for t in list(self._tasks):
                t.cancel()
            await asyncio.wait(list(self._tasks), timeout=0.5)
        if self._tasks:
            log.warning("caster stop: %d tasks did not end within %.0f s", len(self._tasks), _STOP_TIMEOUT_S)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _sync_pulls(self) -> None:
        """Start pulling stations registered with an upstream URL (also those added while running);
        stop pulling removed ones."""
        if self._stopping:
            return
        wanted = {st.mount: st.upstream for st in self.registry.stations() if st.upstream}
        for mount, (url, task) in list(self._pulls.items()):
            if wanted.get(mount) != url:
                task.cancel()
                del self._pulls[mount]
        for mount, url in wanted.items():
            if mount not in self._pulls:
                self._pulls[mount] = (url, self._spawn(self.pull_upstream(mount, url)))

    async def _housekeeping(self) -> None:
        """Once a second: outage states, and NEAR clients whose station went down move on;
        every five seconds: registry changes to upstream pulls."""
        tick = 0
        while True:
            await asyncio.sleep(1.0)
            tick += 1
            if tick % 5 == 0:
                self._sync_pulls()
            self.collector.tick(len(self.clients))
            for ing in self.ingests.all().values():
                ing.health.tick()
            healthy = self.station_positions()
            for sess in list(self.near_clients.values()):
                # moves toward a closer station happen on GGA; here only clients left without one
                if sess.gga_llh is not None and sess.station not in healthy:
                    self._route_near(sess)

    # ---- connection entry ----------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        peer = writer.get_extra_info("peername") or ("?", 0)
        address = str(peer[0])
        self.counters["connections"] += 1
        try:
            await self._serve_connection(reader, writer, address)
        except (ConnectionError, asyncio.IncompleteReadError, OSError) as exc:
            self.counters["connection_errors"] += 1
            # The traceback holds this connection's frames, which hold the reader, which holds the
            # exception: a reference cycle per reset client, left to the cyclic collector (whose full
            # passes over thousands of connections stall every client). Without it, reference counting
            # frees the connection at once.
            exc.__traceback__ = None
        except asyncio.CancelledError:
            pass
        except Exception:  # a bug in one connection must not take the caster down
            log.exception("NTRIP connection from %s failed", address)
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._tasks.discard(task)
            if writer.transport.is_closing():
                writer.transport.abort()
            else:
                writer.close()

    def _reply(self, writer: asyncio.StreamWriter, data: bytes, status: int) -> None:
        self.replies[status] += 1
        writer.write(data)

    async def _finish(self, writer: asyncio.StreamWriter, data: bytes, status: int) -> None:
        """Send a final reply and close; never wait long for a client that does not read."""
        self._reply(writer, data, status)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.drain(), 5.0)

    async def _read_head(self, reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
        buf = bytearray()
        while True:
            data = await reader.read(_READ_BYTES)
            if not data:
                raise ConnectionResetError("closed before the request head was complete")
            buf += data
            end = P.find_head_end(buf)
            if end >= 0:
                return bytes(buf[:end]), bytes(buf[end:])

    async def _serve_connection(self, reader, writer, address: str) -> None:
        banned = self.guard.banned_for_s(address)
        if banned:
            self.counters["refused_banned"] += 1
            await self._finish(writer, P.render_error(429, "too many failed logins; try later", 1,
                                                      retry_after_s=int(banned) + 1), 429)
            return
        if len(self._writers) > self.settings.max_clients:
            await self._finish(writer, P.render_error(503, "caster is full", 1), 503)
            return
        try:
            head, rest = await asyncio.wait_for(self._read_head(reader), self.settings.head_timeout_s)
        except asyncio.TimeoutError:
            self.counters["head_timeouts"] += 1
            return
        except P.ProtocolError as exc:
            self.counters["bad_requests"] += 1
            await self._finish(writer, P.render_error(exc.status, exc.message, 1), exc.status)
            return
        try:
            req = P.parse_request(head)
        except P.ProtocolError as exc:
            self.counters["bad_requests"] += 1
            version = 2 if b"ntrip/2.0" in head.lower() else 1
            await self._finish(writer, P.render_error(exc.status, exc.message, version), exc.status)
            return
        if req.is_source:
            await self._serve_source(req, rest, reader, writer, address)
        elif not req.mount:
            self.counters["sourcetable_requests"] += 1
            await self._finish(writer, P.render_sourcetable(self.sourcetable(), req.version), 200)
        else:
            await self._serve_client(req, rest, reader, writer, address)

    # ---- authentication ------------------------------------------------------------------------
    async def _verify(self, kind: str, name: str, password: str) -> bool:
        """Check a password against the registry: cached per stored hash, otherwise one scrypt per
        distinct credential in flight, in a worker thread so the loop keeps serving."""
        stored = self.registry.stored_hash(kind, name)
        if stored is None:
            return False
        token = self.creds.token(kind, name, password, stored)
        if self.creds.hit(token):
            return True
        pending = self._verifying.get(token)
        if pending is None:
            pending = asyncio.get_running_loop().run_in_executor(None, check_password, password, stored)
            self._verifying[token] = pending
            pending.add_done_callback(lambda _f: self._verifying.pop(token, None))
        ok = bool(await asyncio.shield(pending))
        if ok:
            self.creds.remember(token)
        return ok

    async def _auth_failed(self, writer, address: str, reply: bytes, status: int) -> None:
        self.counters["auth_failures"] += 1
        delay = self.guard.failure(address)
        if delay:
            await asyncio.sleep(delay)
        await self._finish(writer, reply, status)

    # ---- clients -------------------------------------------------------------------------------
    def is_mount(self, mount: str) -> bool:
        """True for a mountpoint a client may ask for: a registered station, one of its re-encoded
        profiles (``_MSM4``, ``_LEGACY``), or the NEAR mount."""
        if mount == self.settings.near_mount:
            return True
        prof = split_profile(mount)
        if prof is not None and self.is_mount(prof[0]):
            return True
        try:
            self.registry.station(mount)
        except NotFoundError:
            return False
        return True

    async def _serve_client(self, req: P.NtripRequest, rest: bytes, reader, writer, address: str) -> None:
        v = req.version
        if not self.is_mount(req.mount):
            self.counters["unknown_mount"] += 1
            if v == 1:  # NTRIP 1 convention: answer an unknown mountpoint with the sourcetable
                await self._finish(writer, P.render_sourcetable(self.sourcetable(), 1), 200)
            else:
                await self._finish(writer, P.render_error(404, f"no mountpoint {req.mount}", 2), 404)
            return
        realm = f"/{req.mount}"
        if req.user is None:
            await self._finish(writer, P.render_error(401, "credentials required", v, realm=realm), 401)
            return
        if not await self._verify("user", req.user, req.password or ""):
            await self._auth_failed(writer, address, P.render_error(401, "wrong user name or password", v,
                                                                    realm=realm), 401)
            return
        self.guard.success(address)
        try:
            user = self.registry.user(req.user)
        except NotFoundError:  # removed between the password check and now
            await self._finish(writer, P.render_error(401, "wrong user name or password", v, realm=realm), 401)
            return
        reason = self.registry.may_read(user, req.mount)
        if reason is not None:
            await self._finish(writer, P.render_error(403, reason, v), 403)
            return
        if self.user_sessions[user.name] >= user.max_sessions:
            self.counters["session_limit"] += 1
            await self._finish(writer, P.render_error(
                403, f"user {user.name} already has {user.max_sessions} session(s), the maximum", v), 403)
            return
        await self._stream_to_client(req, rest, reader, writer, address, user)

    async def _stream_to_client(self, req, rest, reader, writer, address: str, user: User) -> None:
        sid = self.registry.open_session(user.name, req.mount, address, "client")
        sub = Subscriber(writer, chunked=req.version == 2, name=f"{user.name}@{address}")
        sess = ClientSession(sid, user.name, req.mount, address, req.version, time.time(), sub)
        self.user_sessions[user.name] += 1
        self.clients[sid] = sess
        self._reply(writer, P.render_stream_ok(req.version), 200)
        near = req.mount == self.settings.near_mount
        if near:
            self.near_clients[sid] = sess
        scanner = P.NmeaScanner()
        try:
            if near:
                if req.gga:
                    self._on_gga(sess, req.gga)
                if rest:
                    self._on_client_bytes(sess, scanner, rest)
            else:
                sess.station = req.mount
                self._ensure_profile(req.mount)
                self.hub.subscribe(req.mount, sub)
            gga_deadline = time.monotonic() + self.settings.gga_timeout_s
            while not sub.closed:
                timeout = None
                if near and sess.gga_llh is None:
                    timeout = gga_deadline - time.monotonic()
                    if timeout <= 0:
                        self.counters["gga_timeouts"] += 1
                        break
                try:
                    data = await asyncio.wait_for(reader.read(_READ_BYTES), timeout)
                except asyncio.TimeoutError:
                    continue
                if not data:
                    break
                self._on_client_bytes(sess, scanner, data)
        finally:
            self.hub.close(sub)
            self.collector.client_gone()
            self.clients.pop(sid, None)
            self.near_clients.pop(sid, None)
            self.user_sessions[user.name] -= 1
            if self.user_sessions[user.name] <= 0:
                del self.user_sessions[user.name]
            self.registry.close_session(sid, sub.bytes_out, sess.bytes_in)

    def _ensure_profile(self, mount: str) -> None:
        """Start the re-encoder of a profile mountpoint on its first subscriber."""
        prof = split_profile(mount)
        if prof is None or mount in self.profiles:
            return
        try:
            self.registry.station(mount)
            return  # a station really named like a profile
        except NotFoundError:
            pass
        enc = ProfileEncoder(self.hub.publish, *prof)
        self.profiles[mount] = enc
        self.hub.add_listener(prof[0], enc)
        log.info("re-encoding %s as %s", prof[0], mount)

    def _on_client_bytes(self, sess: ClientSession, scanner: P.NmeaScanner, data: bytes) -> None:
        sess.bytes_in += len(data)
        for sentence in scanner.feed(data):
            if sentence[3:6] == "GGA":
                self._on_gga(sess, sentence)

    def _on_gga(self, sess: ClientSession, sentence: str) -> None:
        try:
            fix = P.parse_gga(sentence)
        except P.GgaError as exc:
            sess.gga_errors += 1
            self.counters["gga_errors"] += 1
            log.debug("bad GGA from %s: %s", sess.address, exc)
            return
        if fix is None:  # no fix yet: keep the last position
            return
        sess.gga_count += 1
        sess.gga_llh = (fix.lat_deg, fix.lon_deg, fix.h_m)
        if sess.mount == self.settings.near_mount:
            self._route_near(sess)

    def station_positions(self, healthy_only: bool = True) -> dict[str, tuple[float, float, float]]:
        """ECEF ARP of every (healthy) station: registry position, else the one from 1005/1006.

        Cached for one second: NEAR routing asks for it on every GGA of every NEAR client.
        """
        now = time.monotonic()
        cached = self._positions.get(healthy_only)
        if cached is not None and now - cached[0] < 1.0:
            return cached[1]
        out = {}
        for st in self.registry.stations():
            ing = self.ingests.find(st.mount)
            if healthy_only and (ing is None or not ing.health.healthy):
                continue
            xyz = st.xyz_ecef_m or (ing.arp_ecef_m if ing is not None else None)
            if xyz is not None:
                out[st.mount] = xyz
        self._positions[healthy_only] = (now, out)
        return out

    def _route_near(self, sess: ClientSession) -> None:
        choice = choose_station(sess.gga_llh, self.station_positions(), sess.station,
                                self.settings.near_hysteresis_m)
        if choice is not None and choice != sess.station:
            log.info("NEAR client %s: %s -> %s", sess.sub.name, sess.station, choice)
            self.counters["near_switches"] += 1
            sess.station = choice
            self.hub.subscribe(choice, sess.sub)

    # ---- station uploads -----------------------------------------------------------------------
    async def _serve_source(self, req: P.NtripRequest, rest: bytes, reader, writer, address: str) -> None:
        v = req.version
        try:
            self.registry.station(req.mount)
        except NotFoundError:
            self.counters["unknown_source_mount"] += 1
            reply = (P.render_source_error("Bad Mountpoint") if req.method == "SOURCE"
                     else P.render_error(404, f"no station {req.mount}", v))
            await self._finish(writer, reply, 404)
            return
        if req.method == "POST" and req.password is None:
            await self._finish(writer, P.render_error(401, "credentials required", v, realm=f"/{req.mount}"), 401)
            return
        if not await self._verify("station", req.mount, req.password or ""):
            reply = (P.render_source_error("Bad Password") if req.method == "SOURCE"
                     else P.render_error(401, "wrong station password", v, realm=f"/{req.mount}"))
            await self._auth_failed(writer, address, reply, 401)
            return
        self.guard.success(address)
        old = self.sources.get(req.mount)
        if old is not None and old.writer is not None:
            # The station came back while its old connection still looks open (e.g. a dead NAT
            # mapping): the authenticated newcomer wins.
            log.info("station %s reconnected from %s; closing its previous upload", req.mount, address)
            old.writer.transport.abort()
        self._reply(writer, P.render_source_ok(1 if req.method == "SOURCE" else v), 200)
        decoder = P.ChunkedDecoder() if req.chunked else None
        await self._ingest_stream(req.mount, reader, writer, address, v, rest, decoder, "source")

    async def _ingest_stream(self, mount: str, reader, writer, address: str, version: int, rest: bytes,
                             decoder: P.ChunkedDecoder | None, kind: str) -> None:
        """Read a station's bytes until EOF, silence or a framing error; relay whole frames."""
        sid = self.registry.open_session(mount, mount, address, kind)
        sess = SourceSession(sid, mount, address, version, time.time(), writer, kind=kind)
        self.sources[mount] = sess
        ingest = self.ingests.get(mount)
        ingest.connected()
        log.info("station %s connected from %s (%s)", mount, address, kind)
        try:
            data = rest
            while True:
                if data:
                    sess.bytes_in += len(data)
                    payload = decoder.feed(data) if decoder is not None else data
                    out = ingest.feed(payload, dispatch=False)
                    if out:
                        self.hub.publish(mount, out)  # relay first, decode after
                        self._relays += 1
                        self._decode_later(mount, ingest)
                    if decoder is not None and decoder.finished:
                        break
                try:
                    data = await asyncio.wait_for(reader.read(65536), self.settings.source_timeout_s)
                except asyncio.TimeoutError:
                    self.counters["source_timeouts"] += 1
                    log.info("station %s silent for %.0f s; closing", mount, self.settings.source_timeout_s)
                    break
                if not data:
                    break
        except P.ProtocolError as exc:
            self.counters["bad_uploads"] += 1
            log.info("station %s: bad upload framing (%s); closing", mount, exc.message)
        finally:
            if self.sources.get(mount) is sess:
                del self.sources[mount]
                ingest.disconnected()
            self.registry.close_session(sid, 0, sess.bytes_in)

    def _decode_later(self, mount: str, ingest: StationIngest) -> None:
        """Queue a relayed station for decoding (see :meth:`_decode_queued`)."""
        if not self.decode_after_relays:
            ingest.dispatch()
            self.collector.after_burst(len(self.clients))
            return
        self._to_decode[mount] = ingest
        if self._decoder is None:
            self._decoder = self._spawn(self._decode_queued())

    async def _decode_queued(self) -> None:
        """Decode the queued stations in relay order, one at a time, each only once every epoch already
        received is relayed: a station whose epoch arrives while others are decoded waits for one
        decoding at most. When the queue is empty the burst is over (the collector's moment)."""
        try:
            while self._to_decode:
                await self._after_arrived_relays()
                mount = next(iter(self._to_decode))
                self._to_decode.pop(mount).dispatch()
            self.collector.after_burst(len(self.clients))
        finally:
            self._decoder = None

    async def _after_arrived_relays(self) -> None:
        """Return once no station data that has reached the caster's sockets is waiting to be relayed.

        Stations' epochs tend to arrive together (on the second) and decoding one takes milliseconds,
        so decoding waits until every epoch already received is fanned out: no station's relay waits
        behind another's decoding. A read the selector has seen is relayed within ``_RELAY_HOPS - 1``
        loop iterations, so ``_RELAY_HOPS`` iterations in a row without a relay mean none is waiting.
        At most one round per connected station, so stations streaming without pause cannot put
        decoding off for long.
        """
        for _ in range(max(1, len(self.sources))):
            seen = self._relays
            for _ in range(_RELAY_HOPS):
                await asyncio.sleep(0)
            if self._relays == seen:
                return

    # ---- upstream pulls ------------------------------------------------------------------------
    async def pull_upstream(self, mount: str, url: str, retry_s: float = 5.0) -> None:
        """Keep receiving ``mount`` from an upstream caster (``ntrip://user:pass@host:port/MOUNT``;
        ``ntrip2://`` for NTRIP 2), reconnecting after ``retry_s`` when the stream ends."""
        parts = urllib.parse.urlsplit(url)
        version = 2 if parts.scheme == "ntrip2" else 1
        while not self._stopping:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(parts.hostname, parts.port or 2101), self.settings.head_timeout_s)
            except (OSError, asyncio.TimeoutError) as exc:
                log.info("upstream %s for %s unreachable: %s", parts.hostname, mount, exc)
                await asyncio.sleep(retry_s)
                continue
            self._writers.add(writer)
            try:
                await self._pull_once(mount, parts, version, reader, writer)
            except (OSError, P.ProtocolError, asyncio.TimeoutError, ConnectionError) as exc:
                log.info("upstream pull of %s ended: %s", mount, exc)
            finally:
                self._writers.discard(writer)
                writer.transport.abort()
            await asyncio.sleep(retry_s)

    async def _pull_once(self, mount, parts, version, reader, writer) -> None:
        path = parts.path or f"/{mount}"
        lines = [f"GET {path} HTTP/1.{1 if version == 2 else 0}", f"Host: {parts.hostname}",
                 "User-Agent: NTRIP gnssaug"]
        if version == 2:
            lines.append(f"Ntrip-Version: {P.NTRIP2}")
        if parts.username:
            token = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            lines.append("Authorization: Basic " + base64.b64encode(token.encode()).decode())
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        if version == 1:
            buf = bytearray()
            while b"\r\n" not in buf:
                chunk = await asyncio.wait_for(reader.read(_READ_BYTES), self.settings.head_timeout_s)
                if not chunk or len(buf) > P.MAX_HEAD_BYTES:
                    raise ConnectionError("upstream closed before replying")
                buf += chunk
            line, _, rest = bytes(buf).partition(b"\r\n")
            if not line.startswith(b"ICY 200"):
                raise ConnectionError(f"upstream refused: {line[:60]!r}")
            decoder = None
        else:
            head, rest = await asyncio.wait_for(self._read_head(reader), self.settings.head_timeout_s)
            status = head.split(b"\r\n", 1)[0]
            if b" 200 " not in status + b" ":
                raise ConnectionError(f"upstream refused: {status[:60]!r}")
            decoder = P.ChunkedDecoder() if b"chunked" in head.lower() else None
        await self._ingest_stream(mount, reader, writer, str(parts.hostname), version, rest, decoder, "pull")

    # ---- sourcetable ---------------------------------------------------------------------------
    def mount_infos(self) -> list[MountInfo]:
        """The mountpoints now on offer: stations with live data, and NEAR while any is healthy."""
        infos = []
        now = time.time()
        for st in self.registry.stations():
            ing = self.ingests.find(st.mount)
            if ing is None or not ing.health.healthy:
                continue
            xyz = st.xyz_ecef_m or ing.arp_ecef_m
            lat, lon = ecef_to_llh(xyz)[:2] if xyz else (0.0, 0.0)
            src = self.sources.get(st.mount)
            elapsed = now - src.started_s if src else 0.0
            counts = dict(ing.health.message_types)
            infos.append(MountInfo(st.mount, st.identifier, lat, lon, st.country, counts,
                                   elapsed, self.hub.bytes_published[st.mount]))
            # the misc text names the GPS L2 mode each profile prefers (server/profiles.py notes)
            for suffix, label, l2 in (("_MSM4", "msm4", "L2C first"), ("_LEGACY", "legacy", "L2 P(Y)")):
                infos.append(MountInfo(st.mount + suffix, st.identifier, lat, lon, st.country,
                                       profile_message_counts(counts, label), elapsed,
                                       self.hub.bytes_published[st.mount + suffix],
                                       misc=f"{label.upper()} re-encoded from {st.mount} GPS {l2}"))
        if infos:
            lat = sum(m.lat_deg for m in infos) / len(infos)
            lon = sum(m.lon_deg for m in infos) / len(infos)
            infos.append(MountInfo(self.settings.near_mount, "nearest station", lat, lon, self.settings.country,
                                   nmea=True, misc="nearest healthy station by GGA"))
        return infos

    def sourcetable(self) -> str:
        """The sourcetable body now."""
        s = self.settings
        return build_sourcetable(self.mount_infos(), host=s.caster_host, port=self.port or s.ntrip_port,
                                 identifier=s.caster_identifier, operator=s.operator, network=s.network,
                                 country=s.country)
