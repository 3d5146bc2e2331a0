"""The hub: fans each mountpoint's frames out to its subscribers without letting one stall another.

Every subscriber owns a bounded backlog (DESIGN.md "Server"). Publishing is a plain function call on
the event loop: for a subscriber whose socket keeps up, the bytes go straight to its socket with one
``write(2)`` on its descriptor (no task switch, no copy per client: the NTRIP 1 and the chunked NTRIP 2 form
of a publish are built once). That direct write is used only while the asyncio transport holds nothing
(so byte order is kept) and is not closing (so the descriptor is still this client's); with TLS, or when
the kernel takes only part of the data, the transport writes and buffers as usual. At 10,000 clients
the fan-out is the caster's whole cost; the direct write saves the transport's ``write()`` bookkeeping
(about 1 us of roughly 10 us per client on the development machine, the rest is the system call).
A subscriber whose transport buffer is above ``high_water_bytes`` gets the data queued in its
backlog instead; when the backlog is full the *oldest* entry is dropped and counted, and one flush
task per backlogged subscriber waits for the socket to drain. A subscriber that does not drain for
``stall_timeout_s`` is disconnected. Ingest never waits for a client.
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

from gnssaug.server.ntrip.protocol import render_chunk

log = logging.getLogger(__name__)


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

    __slots__ = ("writer", "transport", "fd", "chunked", "name", "backlog", "bytes_out", "dropped", "flusher",
                 "closed", "on_close", "mount")

    def __init__(self, writer: asyncio.StreamWriter, chunked: bool, name: str = "",
                 on_close: Callable[[], None] | None = None):
        self.writer = writer
        self.transport = writer.transport
        self.fd = _direct_fd(writer.transport)
        self.chunked = chunked
        self.name = name
        self.backlog: collections.deque[bytes] = collections.deque()
        self.bytes_out = 0
        self.dropped = 0
        self.flusher: asyncio.Task | None = None
        self.closed = False
        self.on_close = on_close
        self.mount: str | None = None

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
    """

    def __init__(self, backlog_items: int = 32, high_water_bytes: int = 64 * 1024, stall_timeout_s: float = 60.0,
                 socket_buffer_bytes: int = 64 * 1024):
        self.backlog_items = backlog_items
        self.socket_buffer_bytes = socket_buffer_bytes
        self.high_water_bytes = high_water_bytes
        self.stall_timeout_s = stall_timeout_s
        self._subs: dict[str, set[Subscriber]] = collections.defaultdict(set)
        self.published: collections.Counter[str] = collections.Counter()
        self.bytes_published: collections.Counter[str] = collections.Counter()
        self.last_publish_s: dict[str, float] = {}
        self.dropped_total = 0
        self.stalled_total = 0
        self._listeners: dict[str, list[Callable[[bytes], None]]] = collections.defaultdict(list)
        #: Optional ``tracer(mount, data, t_start_ns, t_end_ns, write_ns)`` called after every publish with
        #: wall-clock (``time.time_ns``) times: the start and end of the fan-out and, per subscriber in
        #: send order, the end of its write. For latency decomposition (benchmarks/caster_load.py);
        #: None (the default) costs one test per subscriber.
        self.tracer: Callable[[str, bytes, int, int, list[int]], None] | None = None

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
        self._subs[mount].add(sub)
        sub.mount = mount

    def unsubscribe(self, sub: Subscriber) -> None:
        """Stop sending to ``sub`` (its pending backlog is kept until it is closed)."""
        if sub.mount is not None:
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

    def add_listener(self, mount: str, callback: Callable[[bytes], None]) -> None:
        """Call ``callback(data)`` on every publish to ``mount`` (in-process consumers, re-encoders)."""
        self._listeners[mount].append(callback)

    def remove_listener(self, mount: str, callback: Callable[[bytes], None]) -> None:
        """Undo :meth:`add_listener`."""
        if callback in self._listeners.get(mount, ()):
            self._listeners[mount].remove(callback)

    # ---- data path ---------------------------------------------------------------------------
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
        subs = self._subs.get(mount, ())
        chunk = None
        write = os.write
        for sub in tuple(subs):
            if sub.chunked:
                if chunk is None:
                    chunk = render_chunk(data)
                item = chunk
            else:
                item = data
            # the common case inline (it runs 10,000 times per epoch): nothing pending, a plain socket
            transport = sub.transport
            if sub.fd >= 0 and not sub.backlog and not transport.get_write_buffer_size() \
                    and not transport.is_closing():
                try:
                    sent = write(sub.fd, item)
                except BlockingIOError:
                    sent = 0
                except OSError:  # reset or broken pipe: the reader task sees the end and cleans up
                    transport.abort()
                    continue
                if sent < len(item):  # the transport buffers the rest and waits for the socket
                    transport.write(memoryview(item)[sent:])
                sub.bytes_out += len(item)
            else:
                self._send(sub, item)
            if write_ns is not None:
                write_ns.append(time.time_ns())
        if tracer is not None:
            tracer(mount, data, t_start_ns, time.time_ns(), write_ns)

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
        sub.bytes_out += len(item)

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
                    sub.bytes_out += len(item)
        except (ConnectionError, OSError):
            transport.abort()
        finally:
            sub.flusher = None
            if transport.is_closing() and not sub.closed:
                self.close(sub)
                if sub.on_close:
                    sub.on_close()
