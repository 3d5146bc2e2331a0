"""Batched fan-out safety and accounting (gnssaug.server.hub with the compiled write loop).

The danger of writing to cached descriptor numbers: once a connection's socket is closed, the kernel
gives its number to the next connection accepted, and a stale batch would send one mountpoint's data
to another user. These tests close a batched client's connection without telling the hub, accept a new
one that really gets the same descriptor number, publish, and check the newcomer receives nothing of
the old mountpoint. Byte accounting of batched, short and failed writes is checked against what the
clients received.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct

import pytest

from gnssaug.server.hub import Hub, Subscriber, start_watched_server

#: The compiled loop calls C; run as Python (coverage runs) it cannot.
pytestmark = pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="needs compiled kernels")


class _Server:
    """A watched listener handing out (server-side writer, client socket) pairs."""

    async def start(self):
        self.accepted: asyncio.Queue = asyncio.Queue()

        async def on_conn(reader, writer):
            await self.accepted.put(writer)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(3600)  # keep the handler alive, as the caster's is while streaming

        self.server = await start_watched_server(on_conn, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def connect(self, sock: socket.socket | None = None):
        sock = sock or socket.socket()
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", self.port))
        return await asyncio.wait_for(self.accepted.get(), 5), sock


async def _recv_all(sock: socket.socket, wait_s: float = 0.1) -> bytes:
    await asyncio.sleep(wait_s)
    got = b""
    while True:
        try:
            data = sock.recv(1 << 20)
        except BlockingIOError:
            return got
        if not data:
            return got
        got += data


async def _reused_fd_scenario(end_old) -> None:
    """``end_old(hub, old, s_old)`` ends the old client's connection (returning sockets to close at the
    end); then a new connection gets the old one's descriptor number and must see nothing of OLD."""
    srv = await _Server().start()
    hub = Hub()
    w_old, s_old = await srv.connect()
    old = Subscriber(w_old, chunked=False, name="old")
    hub.subscribe("OLD", old)
    hub.publish("OLD", b"old-1")
    assert hub.batched_subscribers("OLD") == 1 and await _recv_all(s_old) == b"old-1"
    old_fd = old.fd
    s_new = socket.socket()  # the client's socket exists first: the accept must be what reuses the number
    spare = await end_old(hub, old, s_old)
    for _ in range(20):  # connection_lost runs in a later loop iteration; then the descriptor is free
        await asyncio.sleep(0.01)
        if old.lost:
            break
    assert old.lost  # reported (before the transport closed the socket)
    w_new, s_new = await srv.connect(s_new)
    new = Subscriber(w_new, chunked=False, name="new")
    assert new.fd == old_fd  # the kernel really handed the old number to the newcomer
    hub.subscribe("NEW", new)
    for k in range(3):
        hub.publish("OLD", b"OLD-DATA-%d" % k)  # the old client's transport is gone; its fd is the new one's
        hub.publish("NEW", b"new-%d" % k)
    got = await _recv_all(s_new)
    assert got == b"new-0new-1new-2"  # nothing of the old mountpoint
    assert hub.subscribers("OLD") == 0 and hub.subscribers("NEW") == 1  # the old one is dropped on the way
    assert new.bytes_out == len(got) and old.bytes_out == len(b"old-1")
    for s in (s_old, s_new, *spare):
        s.close()
    w_new.transport.abort()
    srv.server.close()


def test_a_descriptor_reused_after_an_abort_gets_nothing_of_the_old_mount():
    """The caster aborts a connection (e.g. at stop) without calling the hub first."""

    async def end_old(hub, old, s_old):
        old.transport.abort()
        return ()

    asyncio.run(_reused_fd_scenario(end_old))


def test_a_descriptor_reused_after_a_reset_found_by_the_batch_gets_nothing_of_the_old_mount():
    """The client resets; the batched write fails, the transport takes over and closes; its number is reused."""

    async def end_old(hub, old, s_old):
        s_old.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s_old.close()  # the caster's side gets a reset
        spare = socket.socket()  # takes the client's freed number, so the accept can take the server's
        await asyncio.sleep(0.05)
        hub.publish("OLD", b"lost")  # the compiled write fails: the transport takes over and closes
        assert old.transport.is_closing() and old.bytes_out == len(b"old-1")  # nothing counted for it
        return (spare,)

    asyncio.run(_reused_fd_scenario(end_old))


def test_bytes_out_counts_what_each_client_got_through_batches_short_writes_and_rejoins():
    async def scenario():
        srv = await _Server().start()
        hub = Hub(backlog_items=1000, high_water_bytes=1 << 24, socket_buffer_bytes=8192)
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: short writes come soon
        pairs = [await srv.connect(slow if i == 0 else None) for i in range(4)]
        subs = [Subscriber(w, chunked=bool(i % 2), name=str(i)) for i, (w, _) in enumerate(pairs)]
        for sub in subs:
            hub.subscribe("M", sub)
        received = [bytearray() for _ in pairs]
        payload = bytes(range(200)) * 10
        for k in range(60):
            hub.publish("M", payload)
            for i, (_, s) in enumerate(pairs):
                if i == 0 and k < 40:
                    continue  # the slow one reads only from publish 40 on: short writes, then it catches up
                received[i] += await _recv_all(s, 0)
            await asyncio.sleep(0.005)
        for _ in range(500):
            await asyncio.sleep(0.01)
            for i, (_, s) in enumerate(pairs):
                received[i] += await _recv_all(s, 0)
            if all(len(received[i]) == subs[i].bytes_out for i in range(4)) and not subs[0].transport.\
                    get_write_buffer_size():
                break
        chunk = b"%X\r\n" % len(payload) + payload + b"\r\n"
        for i, sub in enumerate(subs):
            assert bytes(received[i]) == (chunk if sub.chunked else payload) * 60, i
            assert sub.bytes_out == len(received[i]) and sub.dropped == 0
        assert hub.rebuilds >= 3  # the slow one left the batch and came back
        hub.publish("M", payload)
        assert hub.batched_subscribers("M") == 4
        for w, s in pairs:
            s.close()
            w.transport.abort()
        srv.server.close()

    asyncio.run(scenario())
