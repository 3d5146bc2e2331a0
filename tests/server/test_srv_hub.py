"""Hub fan-out: fast clients get everything, a client that never reads loses its oldest data, is
counted, then disconnected, and nobody else notices. Each scenario runs twice: with connections the hub
batches (accepted by ``start_watched_server``, written by the compiled loop) and with plain asyncio
connections (served one by one)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from gnssaug.server.hub import Hub, Subscriber, start_watched_server

BOTH = pytest.mark.parametrize("watched", [True, False], ids=["batched", "one-by-one"])


async def _pair(watched: bool = True):
    """A server-side StreamWriter and the raw client socket at the other end."""
    accepted = asyncio.get_running_loop().create_future()

    async def on_conn(reader, writer):
        accepted.set_result(writer)

    server = await (start_watched_server if watched else asyncio.start_server)(on_conn, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a tiny window makes "never reads" bite fast
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return server, await accepted, sock


@BOTH
def test_slow_subscriber_drops_oldest_then_is_disconnected(watched):
    async def scenario():
        hub = Hub(backlog_items=4, high_water_bytes=8192, stall_timeout_s=0.5, socket_buffer_bytes=8192)
        srv1, w_fast, s_fast = await _pair(watched)
        srv2, w_slow, s_slow = await _pair(watched)
        closed = []
        fast = Subscriber(w_fast, chunked=False, name="fast")
        slow = Subscriber(w_slow, chunked=True, name="slow", on_close=lambda: closed.append("slow"))
        hub.subscribe("M", fast)
        hub.subscribe("M", slow)
        loop = asyncio.get_running_loop()
        received = bytearray()
        payload = bytes(range(256)) * 16  # 4 kB per publish
        for k in range(1, 201):
            hub.publish("M", payload)
            # the fast client reads everything as it comes: until it has all published so far (on a busy machine
            # loopback delivery can lag the send, and a client that merely polls once would fall behind)
            for _ in range(500):
                try:
                    received += s_fast.recv(1 << 20)
                except BlockingIOError:
                    pass
                if len(received) == k * len(payload):
                    break
                await asyncio.sleep(0.001)
            await asyncio.sleep(0.002)
        assert slow.dropped > 0 and hub.dropped_total == slow.dropped and len(slow.backlog) <= 4
        assert hub.batched_subscribers("M") == int(watched and hub.batched)  # the fast one, batched when it can be
        await asyncio.sleep(1.0)  # past stall_timeout_s: the slow client is cut off
        while True:
            try:
                data = s_fast.recv(1 << 20)
            except BlockingIOError:
                break
            received += data
        assert bytes(received) == payload * 200  # the fast client lost nothing
        assert fast.dropped == 0 and fast.bytes_out == len(payload) * 200
        assert hub.stalled_total == 1 and closed == ["slow"] and hub.subscribers("M") == 1
        for s in (s_fast, s_slow):
            s.close()
        for srv in (srv1, srv2):
            srv.close()
        await loop.shutdown_asyncgens()

    asyncio.run(scenario())


@BOTH
def test_move_between_mounts_and_listeners(watched):
    async def scenario():
        hub = Hub()
        srv, w, s = await _pair(watched)
        sub = Subscriber(w, chunked=True)
        seen = []
        hub.add_listener("A", seen.append)
        hub.subscribe("A", sub)
        hub.publish("A", b"abc")
        hub.subscribe("B", sub)  # NEAR switching moves a subscriber
        hub.publish("A", b"zzz")
        hub.publish("B", b"de")
        hub.publish("B", b"")  # nothing to send: not even an empty chunk (it would end the stream)
        await asyncio.sleep(0.05)
        assert s.recv(100) == b"3\r\nabc\r\n2\r\nde\r\n"
        assert seen == [b"abc", b"zzz"] and hub.mounts() == {"B": 1}
        hub.remove_listener("A", seen.append)
        hub.close(sub)
        assert hub.mounts() == {}
        s.close()
        srv.close()

    asyncio.run(scenario())


@BOTH
def test_short_writes_never_tear_a_publish(watched):
    """A client that reads slowly gets partial socket writes: the rest follows through the transport, in order,
    and whatever is dropped is dropped as whole publishes (a rover never sees half a frame)."""

    async def scenario():
        hub = Hub(backlog_items=8, high_water_bytes=16 * 1024, stall_timeout_s=30.0, socket_buffer_bytes=8192)
        srv, w, s = await _pair(watched)
        sub = Subscriber(w, chunked=False, name="slow reader")
        assert sub.fd >= 0  # a plain TCP client takes the direct path
        hub.subscribe("M", sub)
        sizes = [1000 + 37 * k for k in range(120)]  # sizes that do not divide the socket buffers
        published = [bytes([k]) * n for k, n in enumerate(sizes)]
        received = bytearray()
        for k, item in enumerate(published):
            hub.publish("M", item)
            if k == 0:
                assert hub.batched_subscribers("M") == int(watched and hub.batched)  # the compiled loop wrote it
            if k % 10 == 0:  # read a little now and then: the kernel buffer is mostly full
                try:
                    received += s.recv(3000)
                except BlockingIOError:
                    pass
            await asyncio.sleep(0)
        for _ in range(400):  # now drain everything
            await asyncio.sleep(0.005)
            try:
                while True:
                    data = s.recv(1 << 20)
                    if not data:
                        break
                    received += data
            except BlockingIOError:
                pass
        got, pos = [], 0
        while pos < len(received):  # every run of one byte value must be one whole publish
            k = received[pos]
            assert received[pos:pos + sizes[k]] == published[k], f"publish {k} torn at byte {pos}"
            got.append(k)
            pos += sizes[k]
        assert got == sorted(got) and len(got) + sub.dropped == len(published)
        assert sub.dropped > 0  # the scenario did exercise the slow path
        hub.close(sub)
        s.close()
        srv.close()

    asyncio.run(scenario())


@BOTH
def test_client_reset_mid_stream_costs_nothing_else(watched):
    """A rover that vanishes (TCP reset) between epochs: the direct write fails, its transport is aborted, the
    publish carries on to the others and the hub forgets it."""
    import struct

    async def scenario():
        hub = Hub()
        srv1, w_gone, s_gone = await _pair(watched)
        srv2, w_ok, s_ok = await _pair(watched)
        closed = []
        gone = Subscriber(w_gone, chunked=False, name="gone", on_close=lambda: closed.append("gone"))
        ok = Subscriber(w_ok, chunked=True, name="ok")
        hub.subscribe("M", gone)
        hub.subscribe("M", ok)
        hub.publish("M", b"first")
        s_gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s_gone.close()  # linger 0: the caster's side gets a reset
        await asyncio.sleep(0.05)
        for _ in range(3):
            hub.publish("M", b"next")  # must not raise
            await asyncio.sleep(0.02)
        assert w_gone.transport.is_closing() and hub.subscribers("M") == 1 and closed == ["gone"]
        got = b""
        for _ in range(50):
            try:
                got += s_ok.recv(1000)
            except BlockingIOError:
                await asyncio.sleep(0.01)
            if got.count(b"next") == 3:
                break
        assert got == b"5\r\nfirst\r\n" + b"4\r\nnext\r\n" * 3
        s_ok.close()
        for srv in (srv1, srv2):
            srv.close()

    asyncio.run(scenario())
