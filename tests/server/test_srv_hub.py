"""Hub fan-out: fast clients get everything, a client that never reads loses its oldest data, is
counted, then disconnected, and nobody else notices."""

from __future__ import annotations

import asyncio
import socket

from gnssaug.server.hub import Hub, Subscriber


async def _pair():
    """A server-side StreamWriter and the raw client socket at the other end."""
    accepted = asyncio.get_running_loop().create_future()

    async def on_conn(reader, writer):
        accepted.set_result(writer)

    server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a tiny window makes "never reads" bite fast
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return server, await accepted, sock


def test_slow_subscriber_drops_oldest_then_is_disconnected():
    async def scenario():
        hub = Hub(backlog_items=4, high_water_bytes=8192, stall_timeout_s=0.5, socket_buffer_bytes=8192)
        srv1, w_fast, s_fast = await _pair()
        srv2, w_slow, s_slow = await _pair()
        closed = []
        fast = Subscriber(w_fast, chunked=False, name="fast")
        slow = Subscriber(w_slow, chunked=True, name="slow", on_close=lambda: closed.append("slow"))
        hub.subscribe("M", fast)
        hub.subscribe("M", slow)
        loop = asyncio.get_running_loop()
        received = bytearray()
        payload = bytes(range(256)) * 16  # 4 kB per publish
        for _ in range(200):
            hub.publish("M", payload)
            while True:  # the fast client reads everything as it comes
                try:
                    data = s_fast.recv(1 << 20)
                except BlockingIOError:
                    break
                received += data
            await asyncio.sleep(0.002)
        assert slow.dropped > 0 and hub.dropped_total == slow.dropped and len(slow.backlog) <= 4
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


def test_move_between_mounts_and_listeners():
    async def scenario():
        hub = Hub()
        srv, w, s = await _pair()
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
