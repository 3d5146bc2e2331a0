"""The caster on loopback with raw sockets: exact NTRIP 1/2 replies, relay, auth, sessions, bad input."""

from __future__ import annotations

import socket
import time

import pytest
from srv_service import RunningService, basic, connect_client, connect_source, raw_request, recv_for, rtcm_stream

from gnssaug.rtcm.framing import iter_frames
from gnssaug.server.ntrip.protocol import ChunkedDecoder
from gnssaug.server.settings import Settings


@pytest.fixture()
def service(tmp_path):
    settings = Settings(data_dir=tmp_path, head_timeout_s=1.0, source_timeout_s=2.0, outage_after_s=1.0,
                        stall_timeout_s=2.0, login_slow_after=100, login_ban_after=100)
    with RunningService(settings) as svc:
        svc.registry.add_station("BASE1", "uppw", llh_deg_m=(35.15, 136.96, 60.0), country="JPN")
        svc.registry.add_user("al", "pw", max_sessions=2)
        yield svc


def _connect_source(port, mount="BASE1", password="uppw"):
    return connect_source(port, mount, password)


def _connect_client(port, mount="BASE1", version=1, user="al", password="pw", extra=""):
    return connect_client(port, mount, version, user, password, extra)


def test_sourcetable_ntrip1_and_2_exact(service, data_dir):
    src = _connect_source(service.ntrip_port)
    src.sendall(rtcm_stream(data_dir))
    service.wait_for(lambda: service.ingests.find("BASE1") and service.ingests.find("BASE1").health.frames >= 35)
    r1 = raw_request(service.ntrip_port, b"GET / HTTP/1.0\r\nUser-Agent: NTRIP test\r\n\r\n")
    head, _, body = r1.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"SOURCETABLE 200 OK"
    assert b"Content-Type: text/plain" in head
    length = int([h for h in head.split(b"\r\n") if h.startswith(b"Content-Length")][0].split(b":")[1])
    assert length == len(body) and body.endswith(b"ENDSOURCETABLE\r\n")
    lines = body.decode().split("\r\n")
    assert lines[0].startswith("CAS;localhost;") and lines[1].startswith("NET;GNSSAUG;")
    (st,) = [ln for ln in lines if ln.startswith("STR;BASE1;")]
    f = st.split(";")
    assert len(f) == 19 and f[3] == "RTCM 3.3" and "1077" in f[4] and "1127" in f[4]
    assert f[5] == "2" and "GPS" in f[6] and "BDS" in f[6] and f[8] == "JPN"
    assert (f[9], f[10], f[11], f[12], f[15]) == ("35.15", "136.96", "0", "0", "B")
    (near,) = [ln for ln in lines if ln.startswith("STR;NEAR;")]
    assert near.split(";")[11] == "1"
    r2 = raw_request(service.ntrip_port, b"GET / HTTP/1.1\r\nHost: x\r\nNtrip-Version: Ntrip/2.0\r\n\r\n")
    head2, _, body2 = r2.partition(b"\r\n\r\n")
    assert head2.startswith(b"HTTP/1.1 200 OK\r\nNtrip-Version: Ntrip/2.0\r\n")
    assert b"Content-Type: gnss/sourcetable" in head2 and body2.endswith(b"ENDSOURCETABLE\r\n")
    src.close()


def test_relay_ntrip1_and_ntrip2_chunked(service, data_dir):
    c1 = _connect_client(service.ntrip_port, version=1)
    assert recv_for(c1, 5.0, 12) == b"ICY 200 OK\r\n"
    c2 = _connect_client(service.ntrip_port, version=2)
    head = b""
    while b"\r\n\r\n" not in head:
        head += c2.recv(1)
    assert head.startswith(b"HTTP/1.1 200 OK\r\nNtrip-Version: Ntrip/2.0\r\n")
    assert b"Content-Type: gnss/data\r\n" in head and b"Transfer-Encoding: chunked\r\n" in head
    service.wait_for(lambda: service.hub.subscribers("BASE1") == 2)
    stream = rtcm_stream(data_dir, repeat=3)
    src = _connect_source(service.ntrip_port)
    # garbage between frames is dropped; clients get only whole checked frames
    cut = sum(len(f.raw) for f in iter_frames(stream)[:10])  # a frame boundary
    src.sendall(b"\x00garbage" + stream[:cut] + b"\xd3\x00\x05junk!" + stream[cut:])
    got1 = recv_for(c1, 5.0, len(stream))
    assert got1 == stream
    snap = service.sync(lambda: service.ingests.get("BASE1").health.snapshot())
    assert snap.frames == 105 and snap.dropped_bytes >= 8 and snap.state == "up"
    dec = ChunkedDecoder()
    got2 = b""
    end = time.monotonic() + 5
    while len(got2) < len(stream) and time.monotonic() < end:
        got2 += dec.feed(c2.recv(65536))
    assert got2 == stream
    for s in (c1, c2, src):
        s.close()
    service.wait_for(lambda: not service.caster.clients, what="sessions closed")
    recs = service.registry.sessions()
    clients = [r for r in recs if r.kind == "client"]
    assert len(clients) == 2 and all(r.ended_s is not None for r in clients)
    assert sorted(r.bytes_out for r in clients)[0] == len(stream)  # NTRIP 1 client got exactly the stream


def test_client_errors_exact(service):
    port = service.ntrip_port
    r = raw_request(port, b"GET /NOPE HTTP/1.0\r\nAuthorization: Basic " + basic("al", "pw").encode() + b"\r\n\r\n")
    assert r.startswith(b"SOURCETABLE 200 OK\r\n")  # NTRIP 1: unknown mount -> sourcetable
    r = raw_request(port, b"GET /NOPE HTTP/1.1\r\nNtrip-Version: Ntrip/2.0\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 404 Not Found\r\nNtrip-Version: Ntrip/2.0\r\n")
    r = raw_request(port, b"GET /BASE1 HTTP/1.1\r\nNtrip-Version: Ntrip/2.0\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 401 Unauthorized\r\n") and b'WWW-Authenticate: Basic realm="/BASE1"' in r
    r = raw_request(port, f"GET /BASE1 HTTP/1.0\r\nAuthorization: Basic {basic('al', 'bad')}\r\n\r\n".encode())
    assert r.startswith(b"HTTP/1.0 401 Unauthorized\r\n") and b"WWW-Authenticate: Basic" in r
    r = raw_request(port, f"GET /BASE1 HTTP/1.0\r\nAuthorization: Basic {basic('zed', 'pw')}\r\n\r\n".encode())
    assert r.startswith(b"HTTP/1.0 401 Unauthorized\r\n")
    r = raw_request(port, b"BREW /pot HTCPCP/1.0\r\n\r\n")
    assert r.startswith(b"HTTP/1.0 400 Bad Request\r\n") and r.endswith(b"\r\n")
    r = raw_request(port, b"PUT /BASE1 HTTP/1.1\r\n\r\n")
    assert r.startswith(b"HTTP/1.0 501 Not Implemented\r\n")
    r = raw_request(port, b"GET /BASE1 HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n")
    assert r.startswith(b"HTTP/1.0 431 ")
    r = raw_request(port, b"GET /BASE1 HTTP/1.1\r\nbroken header\r\n\r\n")
    assert r.startswith(b"HTTP/1.0 400 Bad Request\r\n") and b"malformed header on line 2" in r


def test_source_errors_exact(service):
    port = service.ntrip_port
    assert raw_request(port, b"SOURCE wrong /BASE1\r\n\r\n") == b"ERROR - Bad Password\r\n"
    assert raw_request(port, b"SOURCE uppw /NOSUCH\r\n\r\n") == b"ERROR - Bad Mountpoint\r\n"
    r = raw_request(port, f"POST /BASE1 HTTP/1.1\r\nNtrip-Version: Ntrip/2.0\r\nAuthorization: Basic "
                          f"{basic('BASE1', 'no')}\r\n\r\n".encode())
    assert r.startswith(b"HTTP/1.1 401 Unauthorized\r\nNtrip-Version: Ntrip/2.0\r\n")
    r = raw_request(port, b"POST /NOSUCH HTTP/1.1\r\nNtrip-Version: Ntrip/2.0\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 404 Not Found\r\n")


def test_ntrip2_post_chunked_upload(service, data_dir):
    c1 = _connect_client(service.ntrip_port)
    assert recv_for(c1, 5.0, 12) == b"ICY 200 OK\r\n"
    service.wait_for(lambda: service.hub.subscribers("BASE1") == 1)
    stream = rtcm_stream(data_dir)
    s = socket.create_connection(("127.0.0.1", service.ntrip_port), timeout=5)
    s.sendall(f"POST /BASE1 HTTP/1.1\r\nHost: x\r\nNtrip-Version: Ntrip/2.0\r\nAuthorization: Basic "
              f"{basic('BASE1', 'uppw')}\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
    reply = s.recv(1000)
    assert reply.startswith(b"HTTP/1.1 200 OK\r\nNtrip-Version: Ntrip/2.0\r\n")
    s.sendall(b"".join(b"%X\r\n%b\r\n" % (len(stream[i:i + 777]), stream[i:i + 777])
                       for i in range(0, len(stream), 777)))
    assert recv_for(c1, 5.0, len(stream)) == stream
    s.sendall(b"zz\r\n")  # broken chunk framing ends only this upload
    service.wait_for(lambda: "BASE1" not in service.caster.sources, what="upload closed")
    assert service.caster.counters["bad_uploads"] == 1
    c1.close()
    s.close()


def test_station_outage_and_return_without_restart(service, data_dir):
    c1 = _connect_client(service.ntrip_port)
    assert recv_for(c1, 5.0, 12) == b"ICY 200 OK\r\n"
    stream = rtcm_stream(data_dir)
    src = _connect_source(service.ntrip_port)
    src.sendall(stream)
    assert recv_for(c1, 5.0, len(stream)) == stream
    src.close()
    service.wait_for(lambda: service.ingests.get("BASE1").health.state == "outage", what="outage")
    snap = service.sync(lambda: service.ingests.get("BASE1").health.snapshot())
    assert snap.outages == 1 and snap.outage_since_s is not None and not snap.connected
    src = _connect_source(service.ntrip_port)  # the station comes back; the client is still subscribed
    src.sendall(stream)
    assert recv_for(c1, 5.0, len(stream)) == stream
    assert service.sync(lambda: service.ingests.get("BASE1").health.state) == "up"
    # a silent source is closed after source_timeout_s and the station goes to outage
    service.wait_for(lambda: "BASE1" not in service.caster.sources, timeout=5, what="silent source closed")
    assert service.caster.counters["source_timeouts"] == 1
    src.close()
    c1.close()


def test_new_upload_takes_over(service, data_dir):
    a = _connect_source(service.ntrip_port)
    service.wait_for(lambda: "BASE1" in service.caster.sources)
    b = _connect_source(service.ntrip_port)
    a.settimeout(3)
    assert a.recv(10) == b""  # the old upload was closed
    service.wait_for(lambda: "BASE1" in service.caster.sources)
    b.close()


def test_session_limit_grants_and_expiry(service):
    service.registry.add_user("bo", "pw2")
    service.registry.add_station("BASE2", "x")
    service.registry.grant("bo", "BASE2")  # BASE2 is now restricted to bo
    port = service.ntrip_port
    r = raw_request(port, f"GET /BASE2 HTTP/1.0\r\nAuthorization: Basic {basic('al', 'pw')}\r\n\r\n".encode())
    assert r.startswith(b"HTTP/1.0 403 Forbidden\r\n") and b"no grant for BASE2" in r
    c = _connect_client(port, "BASE2", user="bo", password="pw2")
    assert recv_for(c, 5.0, 12) == b"ICY 200 OK\r\n"
    service.wait_for(lambda: len(service.caster.clients) == 1)
    r = raw_request(port, f"GET /BASE1 HTTP/1.0\r\nAuthorization: Basic {basic('bo', 'pw2')}\r\n\r\n".encode())
    assert r.startswith(b"HTTP/1.0 403 Forbidden\r\n") and b"maximum" in r
    c.close()
    service.registry.add_user("old", "pw", expires_s=time.time() - 10)
    r = raw_request(port, f"GET /BASE1 HTTP/1.0\r\nAuthorization: Basic {basic('old', 'pw')}\r\n\r\n".encode())
    assert r.startswith(b"HTTP/1.0 403 Forbidden\r\n") and b"expired" in r


def test_silent_and_slow_connections_cost_nothing_else(service, data_dir):
    port = service.ntrip_port
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]  # never send a request
    half = socket.create_connection(("127.0.0.1", port))
    half.sendall(b"GET /BASE1 HTTP/1.0\r\n")  # never finishes its head
    c1 = _connect_client(port)
    assert recv_for(c1, 5.0, 12) == b"ICY 200 OK\r\n"
    service.wait_for(lambda: service.hub.subscribers("BASE1") == 1)
    stream = rtcm_stream(data_dir)
    src = _connect_source(port)
    src.sendall(stream)
    assert recv_for(c1, 5.0, len(stream)) == stream
    service.wait_for(lambda: service.caster.counters["head_timeouts"] >= 21, timeout=5, what="head timeouts")
    for s in idle:
        s.settimeout(2)
        assert s.recv(10) == b""
    for s in (half, c1, src):
        s.close()


def test_failed_logins_are_slowed_then_banned(tmp_path):
    settings = Settings(data_dir=tmp_path, login_slow_after=1, login_ban_after=3, login_ban_s=60)
    with RunningService(settings) as svc:
        svc.registry.add_station("BASE1", "uppw")
        svc.registry.add_user("al", "pw")
        bad = f"GET /BASE1 HTTP/1.0\r\nAuthorization: Basic {basic('al', 'nope')}\r\n\r\n".encode()
        t0 = time.monotonic()
        assert raw_request(svc.ntrip_port, bad).startswith(b"HTTP/1.0 401")
        assert time.monotonic() - t0 < 1.0
        t0 = time.monotonic()
        assert raw_request(svc.ntrip_port, bad, read_s=5).startswith(b"HTTP/1.0 401")
        assert time.monotonic() - t0 >= 0.9  # second failure: slowed by 1 s
        raw_request(svc.ntrip_port, bad, read_s=5)  # third: banned
        good = f"GET /BASE1 HTTP/1.0\r\nAuthorization: Basic {basic('al', 'pw')}\r\n\r\n".encode()
        r = raw_request(svc.ntrip_port, good)
        assert r.startswith(b"HTTP/1.0 429 Too Many Requests\r\n") and b"Retry-After:" in r


def test_removed_or_changed_account_stops_working_at_once(service):
    port = service.ntrip_port
    good = f"GET /BASE1 HTTP/1.0\r\nAuthorization: Basic {basic('al', 'pw')}\r\n\r\n".encode()
    assert raw_request(port, good, read_s=0.5).startswith(b"ICY 200 OK\r\n")  # now cached
    service.registry.remove_user("al")
    assert raw_request(port, good).startswith(b"HTTP/1.0 401 ")
    service.registry.add_user("al", "new")  # same name, new password: the old one is refused
    assert raw_request(port, good).startswith(b"HTTP/1.0 401 ")
    new = f"GET /BASE1 HTTP/1.0\r\nAuthorization: Basic {basic('al', 'new')}\r\n\r\n".encode()
    assert raw_request(port, new, read_s=0.5).startswith(b"ICY 200 OK\r\n")


def test_garbage_only_source_relays_nothing_and_harms_nobody(service, data_dir):
    c1 = _connect_client(service.ntrip_port)
    assert recv_for(c1, 5.0, 12) == b"ICY 200 OK\r\n"
    service.registry.add_station("JUNK", "jpw")
    junk = _connect_source(service.ntrip_port, "JUNK", "jpw")
    junk.sendall(bytes(range(256)).replace(b"\xd3", b"") * 200 + b"\xd3\x00\x10" + b"\x00" * 19)  # bad CRC
    src = _connect_source(service.ntrip_port)
    stream = rtcm_stream(data_dir)
    src.sendall(stream)
    assert recv_for(c1, 5.0, len(stream)) == stream
    service.wait_for(lambda: service.ingests.get("JUNK").health.dropped_bytes >= 255 * 200)
    snap = service.sync(lambda: service.ingests.get("JUNK").health.snapshot())
    assert snap.frames == 0 and snap.crc_errors == 1 and service.hub.bytes_published["JUNK"] == 0
    for s in (c1, junk, src):
        s.close()


def test_connections_beyond_max_clients_get_503(tmp_path):
    with RunningService(Settings(data_dir=tmp_path, max_clients=2, head_timeout_s=5)) as svc:
        held = [socket.create_connection(("127.0.0.1", svc.ntrip_port)) for _ in range(2)]
        svc.wait_for(lambda: len(svc.caster._writers) == 2)
        r = raw_request(svc.ntrip_port, b"GET / HTTP/1.0\r\n\r\n")
        assert r.startswith(b"HTTP/1.0 503 Service Unavailable\r\n")
        for s in held:
            s.close()
