"""The hub: fans each mountpoint's frames out to its subscribers without letting one stall another.

Every subscriber owns a bounded backlog (DESIGN.md "Server"). Publishing is a plain function call on
the event loop: for a subscriber whose socket keeps up, the bytes go straight to its socket with one
``write(2)`` on its descriptor (no task switch, no copy per client: the NTRIP 1 and the chunked NTRIP 2 form
of a publish are built once). That direct write is used only while the asyncio transport holds nothing
(so byte order is kept) and is not closing (so the descriptor is still this client's); with TLS, or when
the kernel takes only part of the data, the transport writes and buffers as usual. At 10,000 clients
the fan-out is the caster's whole cost. Serving each subscriber in Python (state checks, ``os.write``,
counters) cost about 7.3 us of CPU per client on the development machine with the loopback receive path
steered away, 5.5 us batched (below), a bare ``os.write`` loop 6.1 us: the rest is the system call
(``benchmarks/caster_fanout.py``).
A subscriber whose transport buffer is above ``high_water_bytes`` gets the data queued in its
backlog instead; when the backlog is full the *oldest* entry is dropped and counted, and one flush
task per backlogged subscriber waits for the socket to drain. A subscriber that does not drain for
``stall_timeout_s`` is disconnected. Ingest never waits for a client.

Batched fan-out. Per mountpoint the hub keeps the descriptors of its subscribers on the direct path
(plain socket, nothing pending in the transport, no backlog, not closing; one array per wire form,
NTRIP 1 and chunked NTRIP 2) and writes a publish to all of them with one call of the compiled loop
:func:`gnssaug.kernels.fanout.write_all` (no Python per client). A subscriber whose write comes back
short or failed is handed to its transport for the rest (which buffers, or closes on a reset peer) and
leaves the batch; the others are served one by one as above and rejoin the batch once their transport
holds nothing. The arrays are rebuilt lazily, at the next publish after membership or eligibility
changed. Safety: a descriptor number is reused by the kernel for the next connection once it is
closed, so a stale array could send one mountpoint's data to another user. Only connections accepted
through :func:`start_watched_server` (whose protocol reports the loss of the connection *before* the
transport closes the socket) enter a batch, and the hub takes a subscriber out on that report, on
:meth:`Hub.close` and when it aborts one itself; subscribers without that report are served one by one.
Byte accounting of a batch is per group (one running total per array), settled into each subscriber
when it leaves the group, so ``bytes_out`` costs nothing per publish.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable

import numpy as np

from gnssaug.kernels import fanout
from gnssaug.server.ntrip.protocol import render_chunk

log = logging.getLogger(__name__)


class WatchedStreamProtocol(asyncio.StreamReaderProtocol):
    """asyncio's stream protocol, telling its watchers when the connection is lost.

    The transport calls ``connection_lost`` *before* it closes the socket (CPython
    ``selector_events._SelectorTransport._call_connection_lost``), so a watcher that stops writing to
    the descriptor there can never write to a reused descriptor number.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lost = False
        self._watchers: list[Callable[[], None]] = []

    def watch(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once when the connection is lost (at once if it already is)."""
        if self.lost:
            callback()
        else:
            self._watchers.append(callback)

    def connection_lost(self, exc):
        self.lost = True
        watchers, self._watchers = self._watchers, []  # also breaks the sub -> transport -> here cycle
        for callback in watchers:
            try:
                callback()
            except Exception:  # a watcher's bug must not keep the socket open
                log.exception("connection-lost watcher failed")
        super().connection_lost(exc)


async def start_watched_server(client_connected_cb, host=None, port=None, *, limit: int = 2 ** 16, **kwargs):
    """:func:`asyncio.start_server` with :class:`WatchedStreamProtocol` connections (the hub's batches
    take only those); ``kwargs`` go to ``loop.create_server``."""
    loop = asyncio.get_running_loop()

    def factory():
        return WatchedStreamProtocol(asyncio.StreamReader(limit=limit, loop=loop), client_connected_cb, loop=loop)

    return await loop.create_server(factory, host, port, **kwargs)


class _Batch:
    """The subscribers of one mountpoint on the direct path in one wire form: their descriptors and
    the running byte total of what was published to the group (settled into each member as it leaves)."""

    __slots__ = ("subs", "fds", "sent", "t_done_ns", "bytes_total")

    def __init__(self, subs: list[Subscriber]):
        self.subs = subs
        self.fds = np.fromiter((s.fd for s in subs), np.int32, len(subs))
        self.sent = np.zeros(len(subs), np.int64)
        self.t_done_ns = np.zeros(0, np.int64)
        self.bytes_total = 0
        for s in subs:
            s.batch, s.batch_mark = self, 0


class Subscriber:
    """One reader of a mountpoint: a transport plus its backlog and counters.

    Parameters
    ----------
    writer : asyncio.StreamWriter
        The client's stream writer; its transport gets the bytes, its ``drain()`` paces the backlog.
    chunked : bool
        True for NTRIP 2 clients (each publish is sent as one HTTP chunk).
    name : str
        For logs: user and address.
    """

    __slots__ = ("writer", "transport", "fd", "chunked", "name", "backlog", "settled_bytes", "dropped", "flusher",
                 "closed", "on_close", "mount", "watched", "lost", "batch", "batch_mark")

    def __init__(self, writer: asyncio.StreamWriter, chunked: bool, name: str = "",
                 on_close: Callable[[], None] | None = None):
        self.writer = writer
        self.transport = writer.transport
        self.fd = _direct_fd(writer.transport)
        self.chunked = chunked
        self.name = name
        self.backlog: collections.deque[bytes] = collections.deque()
        self.settled_bytes = 0
        self.dropped = 0
        self.flusher: asyncio.Task | None = None
        self.closed = False
        self.on_close = on_close
        self.mount: str | None = None
        self.watched = False  # the hub hears of the connection's loss before its socket closes
        self.lost = False
        self.batch: _Batch | None = None
        self.batch_mark = 0

    @property
    def bytes_out(self) -> int:
        """Bytes given to this client's socket or transport so far (whole publishes)."""
        batch = self.batch
        return self.settled_bytes + (batch.bytes_total - self.batch_mark if batch is not None else 0)

    def leave_batch(self) -> None:
        """Settle the batch's byte total into this subscriber and leave it."""
        batch = self.batch
        if batch is not None:
            self.settled_bytes += batch.bytes_total - self.batch_mark
            self.batch = None

    async def drain(self) -> None:
        """Wait until the transport's buffer is below its low-water mark."""
        await self.writer.drain()


def _direct_fd(transport: asyncio.BaseTransport) -> int:
    """The descriptor the fan-out may write to directly, or -1 (TLS, or no socket)."""
    if transport.get_extra_info("ssl_object") is not None:
        return -1  # the bytes must go through the TLS layer
    sock = transport.get_extra_info("socket")
    return sock.fileno() if sock is not None else -1


class Hub:
    """Mountpoint -> subscribers fan-out with per-subscriber bounded backlogs.

    Parameters
    ----------
    backlog_items : int
        Publishes kept per slow subscriber (at 1 Hz with one publish per epoch: seconds of data).
    high_water_bytes : int
        Transport buffer size above which a subscriber counts as slow.
    stall_timeout_s : float
        A slow subscriber whose socket has not drained for this long is disconnected.
    socket_buffer_bytes : int
        Kernel send buffer (``SO_SNDBUF``) of subscriber sockets; 0 keeps the system default.
    batched : bool
        Write to the subscribers on the direct path with the compiled loop (False: one by one in
        Python, as before; for comparison runs).
    """

    def __init__(self, backlog_items: int = 32, high_water_bytes: int = 64 * 1024, stall_timeout_s: float = 60.0,
                 socket_buffer_bytes: int = 64 * 1024, batched: bool = True):
        self.backlog_items = backlog_items
        self.socket_buffer_bytes = socket_buffer_bytes
        self.high_water_bytes = high_water_bytes
        self.stall_timeout_s = stall_timeout_s
        self.batched = batched
        self._subs: dict[str, set[Subscriber]] = collections.defaultdict(set)
        #: mount -> (batches, subscribers served one by one); absent when it must be rebuilt
        self._plan: dict[str, tuple[tuple[_Batch, ...], tuple[Subscriber, ...]]] = {}
        self.published: collections.Counter[str] = collections.Counter()
        self.bytes_published: collections.Counter[str] = collections.Counter()
        self.last_publish_s: dict[str, float] = {}
        self.dropped_total = 0
        self.stalled_total = 0
        self.rebuilds = 0
        self._listeners: dict[str, list[Callable[[bytes], None]]] = collections.defaultdict(list)
        #: Optional ``tracer(mount, data, t_start_ns, t_end_ns, write_ns)`` called after every publish with
        #: wall-clock (``time.time_ns``) times: the start and end of the fan-out and, per subscriber in
        #: send order, the end of its write. For latency decomposition (benchmarks/caster_load.py);
        #: None (the default) costs nothing per subscriber.
        self.tracer: Callable[[str, bytes, int, int, list[int]], None] | None = None
        if batched:
            try:
                fanout.warm_up()  # compile or load the kernel now, not on the first publish
            except Exception:  # e.g. NUMBA_DISABLE_JIT=1: the kernel cannot call C; serve one by one
                log.warning("batched fan-out unavailable; writing each subscriber in Python", exc_info=True)
                self.batched = False

    # ---- membership --------------------------------------------------------------------------
    def subscribe(self, mount: str, sub: Subscriber) -> None:
        """Start sending ``mount``'s publishes to ``sub`` (moving it from its previous mount)."""
        if sub.mount is not None:
            self.unsubscribe(sub)
        # drain() of a slow subscriber wakes once its buffer is below a quarter of the high-water mark
        sub.transport.set_write_buffer_limits(high=self.high_water_bytes, low=self.high_water_bytes // 4)
        sock = sub.transport.get_extra_info("socket")
        if sock is not None and self.socket_buffer_bytes:
            # bound what the kernel holds for a client that does not read (loopback autotuning
            # would otherwise let each one pin megabytes)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.socket_buffer_bytes)
        if not sub.watched and sub.fd >= 0:
            protocol = sub.transport.get_protocol()
            if isinstance(protocol, WatchedStreamProtocol):
                sub.watched = True
                protocol.watch(lambda: self._lost(sub))
        self._subs[mount].add(sub)
        sub.mount = mount
        self._plan.pop(mount, None)

    def _lost(self, sub: Subscriber) -> None:
        """The connection of ``sub`` is gone and its socket is about to close: out of every batch now."""
        sub.lost = True
        sub.leave_batch()
        if sub.mount is not None:
            self._plan.pop(sub.mount, None)

    def unsubscribe(self, sub: Subscriber) -> None:
        """Stop sending to ``sub`` (its pending backlog is kept until it is closed)."""
        sub.leave_batch()
        if sub.mount is not None:
            self._plan.pop(sub.mount, None)
            subs = self._subs.get(sub.mount)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.mount]
            sub.mount = None

    def close(self, sub: Subscriber) -> None:
        """Unsubscribe and forget ``sub`` for good (its connection is ending)."""
        self.unsubscribe(sub)
        sub.closed = True
        sub.backlog.clear()
        if sub.flusher is not None and sub.flusher is not asyncio.current_task():
            sub.flusher.cancel()

    def subscribers(self, mount: str) -> int:
        """How many subscribers ``mount`` has now."""
        return len(self._subs.get(mount, ()))

    def mounts(self) -> dict[str, int]:
        """Subscriber count of every mountpoint with subscribers."""
        return {m: len(s) for m, s in self._subs.items()}

    def batched_subscribers(self, mount: str) -> int:
        """How many of ``mount``'s subscribers the last publish wrote in a batch."""
        plan = self._plan.get(mount)
        return sum(len(b.subs) for b in plan[0]) if plan is not None else 0

    def add_listener(self, mount: str, callback: Callable[[bytes], None]) -> None:
        """Call ``callback(data)`` on every publish to ``mount`` (in-process consumers, re-encoders)."""
        self._listeners[mount].append(callback)

    def remove_listener(self, mount: str, callback: Callable[[bytes], None]) -> None:
        """Undo :meth:`add_listener`."""
        if callback in self._listeners.get(mount, ()):
            self._listeners[mount].remove(callback)

    # ---- data path ---------------------------------------------------------------------------
    def _direct_ok(self, sub: Subscriber) -> bool:
        """Whether ``sub`` may join a batch: its loss is reported, nothing pending, not closing."""
        transport = sub.transport
        return (sub.watched and not sub.lost and not sub.closed and not sub.backlog
                and not transport.is_closing() and not transport.get_write_buffer_size())

    def _build_plan(self, mount: str) -> tuple[tuple[_Batch, ...], tuple[Subscriber, ...]]:
        """Split ``mount``'s subscribers into batches (one per wire form) and the rest."""
        self.rebuilds += 1
        forms: tuple[list[Subscriber], list[Subscriber]] = ([], [])
        rest = []
        for sub in self._subs.get(mount, ()):
            sub.leave_batch()
            if self.batched and self._direct_ok(sub):
                forms[sub.chunked].append(sub)
            else:
                rest.append(sub)
        plan = (tuple(_Batch(subs) for subs in forms if subs), tuple(rest))
        self._plan[mount] = plan
        return plan

    def publish(self, mount: str, data: bytes) -> None:
        """Send ``data`` (whole RTCM frames) to every subscriber of ``mount``; never blocks."""
        if not data:
            return
        tracer = self.tracer
        t_start_ns = time.time_ns() if tracer is not None else 0
        write_ns: list[int] | None = [] if tracer is not None else None
        self.published[mount] += 1
        self.bytes_published[mount] += len(data)
        self.last_publish_s[mount] = time.monotonic()
        for cb in self._listeners.get(mount, ()):
            try:
                cb(data)
            except Exception:  # a faulty consumer must not stop the stream
                log.exception("hub listener of %s failed", mount)
        if self.batched:
            plan = self._plan.get(mount)
            batches, rest = plan if plan is not None else self._build_plan(mount)
        else:
            batches, rest = (), tuple(self._subs.get(mount, ()))
        chunk = None
        if batches:
            fanout.write_all_ready()
        for batch in batches:
            if batch.subs[0].chunked:
                if chunk is None:
                    chunk = render_chunk(data)
                item = chunk
            else:
                item = data
            self._write_batch(mount, batch, item, write_ns)
        for sub in rest:
            if sub.chunked:
                if chunk is None:
                    chunk = render_chunk(data)
                item = chunk
            else:
                item = data
            self._write_one(sub, item)
            if write_ns is not None:
                write_ns.append(time.time_ns())
        if tracer is not None:
            tracer(mount, data, t_start_ns, time.time_ns(), write_ns)

    def _write_batch(self, mount: str, batch: _Batch, item: bytes, write_ns: list[int] | None) -> None:
        """One compiled ``write(2)`` per member; members not written in full go to their transports and
        leave the batch (from the next publish on)."""
        n = len(item)
        if write_ns is not None and batch.t_done_ns.size != batch.fds.size:
            batch.t_done_ns = np.zeros(batch.fds.size, np.int64)
        elif write_ns is None and batch.t_done_ns.size:
            batch.t_done_ns = np.zeros(0, np.int64)
        fanout.write_all(batch.fds, np.frombuffer(item, np.uint8), batch.sent, batch.t_done_ns)
        batch.bytes_total += n
        if write_ns is not None:
            write_ns.extend(batch.t_done_ns.tolist())
        short = np.flatnonzero(batch.sent != n)
        if short.size:
            self._plan.pop(mount, None)  # rebuilt at the next publish without them
            for i in short.tolist():
                self._finish_short(batch.subs[i], item, int(batch.sent[i]))

    def _finish_short(self, sub: Subscriber, item: bytes, sent: int) -> None:
        """The kernel took ``sent`` bytes of ``item`` (-1: none, an error): the transport gets the rest,
        buffering it for a full socket or closing on a reset peer (Python ignores SIGPIPE: EPIPE)."""
        transport = sub.transport
        try:
            transport.write(memoryview(item)[max(sent, 0):])
        except (RuntimeError, OSError):  # a transport closed under us: nothing more for this client
            transport.abort()
        if sent <= 0 and transport.is_closing():
            sub.settled_bytes -= len(item)  # nothing of it reached the client (counted by the batch)

    def _write_one(self, sub: Subscriber, item: bytes) -> None:
        """One subscriber served in Python: not batched (closing, backlogged, TLS, bytes pending, no loss
        report, or ``batched`` off)."""
        transport = sub.transport
        # the common case of an unbatched hub: nothing pending, a plain socket
        if sub.fd >= 0 and not sub.backlog and not transport.get_write_buffer_size() and not transport.is_closing():
            if self.batched and sub.watched and not sub.lost and sub.mount is not None:
                self._plan.pop(sub.mount, None)  # it has caught up: back into the batch from the next publish
            try:
                sent = os.write(sub.fd, item)
            except BlockingIOError:
                sent = 0
            except OSError:  # reset or broken pipe: the reader task sees the end and cleans up
                transport.abort()
                return
            if sent < len(item):  # the transport buffers the rest and waits for the socket
                transport.write(memoryview(item)[sent:])
            sub.settled_bytes += len(item)
        else:
            self._send(sub, item)

    def _send(self, sub: Subscriber, item: bytes) -> None:
        """Give ``item`` to a subscriber off the direct path: closing, backlogged, TLS or with bytes pending."""
        transport = sub.transport
        if transport.is_closing():
            self.close(sub)
            if sub.on_close:
                sub.on_close()
            return
        if sub.backlog or transport.get_write_buffer_size() >= self.high_water_bytes:
            self._enqueue(sub, item)
            return
        transport.write(item)  # TLS, or behind what the transport already holds: it keeps the order
        sub.settled_bytes += len(item)

    def _enqueue(self, sub: Subscriber, item: bytes) -> None:
        if len(sub.backlog) >= self.backlog_items:
            sub.backlog.popleft()  # the oldest data is the least useful to a rover
            sub.dropped += 1
            self.dropped_total += 1
        sub.backlog.append(item)
        if sub.flusher is None:
            sub.flusher = asyncio.get_running_loop().create_task(self._flush(sub))

    async def _flush(self, sub: Subscriber) -> None:
        """Wait for ``sub``'s socket to drain below the high-water mark, then send its backlog."""
        transport = sub.transport
        high = self.high_water_bytes
        try:
            while sub.backlog and not sub.closed and not transport.is_closing():
                if transport.get_write_buffer_size() >= high:
                    # drain() returns when the transport calls resume_writing (buffer below low-water);
                    # no polling, so thousands of stalled clients cost no CPU.
                    try:
                        await asyncio.wait_for(sub.drain(), self.stall_timeout_s)
                    except asyncio.TimeoutError:
                        self.stalled_total += 1
                        log.info("closing stalled subscriber %s of %s", sub.name, sub.mount)
                        transport.abort()
                        break
                    continue
                while sub.backlog and transport.get_write_buffer_size() < high:
                    item = sub.backlog.popleft()
                    transport.write(item)
                    sub.settled_bytes += len(item)
        except (ConnectionError, OSError):
            transport.abort()
        finally:
            sub.flusher = None
            if transport.is_closing() and not sub.closed:
                self.close(sub)
                if sub.on_close:
                    sub.on_close()
