"""The sans-IO NTRIP protocol: request parsing, replies, chunked coding and GGA (bad input included)."""

from __future__ import annotations

import base64

import pytest

from gnssaug.server.ntrip.protocol import (
    LAST_CHUNK,
    MAX_HEAD_BYTES,
    ChunkedDecoder,
    GgaError,
    NmeaScanner,
    ProtocolError,
    find_head_end,
    parse_gga,
    parse_request,
    render_chunk,
    render_error,
    render_sourcetable,
    render_stream_ok,
)

GGA = "$GPGGA,082000.00,3508.1234567,N,13656.7654321,E,1,12,0.8,50.0,M,38.0,M,,*"


def _with_checksum(body: str) -> str:
    cs = 0
    for ch in body[1:-1]:
        cs ^= ord(ch)
    return f"{body}{cs:02X}"


def _basic(user, pw):
    return base64.b64encode(f"{user}:{pw}".encode()).decode()


def test_ntrip1_get_with_credentials():
    head = ("GET /NAGOYA0 HTTP/1.0\r\nUser-Agent: NTRIP RTKLIB/2.4.3\r\n"
            f"Authorization: Basic {_basic('al', 'pw:x')}\r\n\r\n")
    req = parse_request(head.encode())
    assert (req.method, req.mount, req.version, req.user, req.password) == ("GET", "NAGOYA0", 1, "al", "pw:x")
    assert req.agent == "NTRIP RTKLIB/2.4.3" and not req.is_source


def test_ntrip2_get_with_gga_header():
    gga = _with_checksum(GGA)
    head = f"GET /NEAR HTTP/1.1\r\nHost: x\r\nNtrip-Version: Ntrip/2.0\r\nNtrip-GGA: {gga}\r\n\r\n"
    req = parse_request(head.encode())
    assert req.version == 2 and req.mount == "NEAR" and req.gga == gga


def test_source_and_post():
    req = parse_request(b"SOURCE secret /BASE1\r\nSource-Agent: NTRIP RTKLIB\r\nSTR: \r\n\r\n")
    assert (req.method, req.password, req.mount, req.is_source) == ("SOURCE", "secret", "BASE1", True)
    req = parse_request(b"SOURCE secret BASE1\r\n\r\n")  # some servers omit the slash
    assert req.mount == "BASE1"
    head = f"POST /BASE1 HTTP/1.1\r\nNtrip-Version: Ntrip/2.0\r\nAuthorization: Basic {_basic('BASE1', 'p')}\r\n"
    req = parse_request((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
    assert req.is_source and req.chunked and req.version == 2 and req.password == "p"


def test_sourcetable_request():
    assert parse_request(b"GET / HTTP/1.0\r\n\r\n").mount == ""


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"\r\n\r\n", 400),
        (b"GET\r\n\r\n", 400),
        (b"GET /A\r\n\r\n", 400),
        (b"GET /A FTP/1.0\r\n\r\n", 400),
        (b"GET /A HTTP/2.0\r\n\r\n", 400),
        (b"DELETE /A HTTP/1.1\r\n\r\n", 501),
        (b"GET /A HTTP/1.1\r\nNoColonHere\r\n\r\n", 400),
        (b"GET /A HTTP/1.1\r\nBad Name: v\r\n\r\n", 400),
        (b"GET /A HTTP/1.1\r\nAuthorization: Digest abc\r\n\r\n", 400),
        (b"GET /A HTTP/1.1\r\nAuthorization: Basic !!!\r\n\r\n", 400),
        (b"GET /A HTTP/1.1\r\nAuthorization: Basic " + base64.b64encode(b"nocolon") + b"\r\n\r\n", 400),
        (b"GET /a/b HTTP/1.1\r\n\r\n", 400),
        (b"GET /A HTTP/1.1\r\nX: a\x00b\r\n\r\n", 400),
        (b"SOURCE a b c\r\n\r\n", 400),
        (b"SOURCE pw /\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\n\r\n", 400),
        (b"GET /A HTTP/1.1\r\n" + b"X-H: v\r\n" * 70 + b"\r\n", 431),
    ],
)
def test_malformed_requests_raise_with_status(head, status):
    with pytest.raises(ProtocolError) as info:
        parse_request(head)
    assert info.value.status == status and info.value.message


def test_head_end_and_oversize():
    assert find_head_end(b"GET / HTTP/1.0\r\n") == -1
    assert find_head_end(b"GET / HTTP/1.0\r\n\r\nDATA") == 18
    assert find_head_end(b"SOURCE p /M\n\nDATA") == 13
    with pytest.raises(ProtocolError) as info:
        find_head_end(b"GET / HTTP/1.0\r\nX: " + b"a" * MAX_HEAD_BYTES)
    assert info.value.status == 431


def test_replies_exact_bytes():
    assert render_stream_ok(1) == b"ICY 200 OK\r\n"
    v2 = render_stream_ok(2).decode()
    assert v2.startswith("HTTP/1.1 200 OK\r\nNtrip-Version: Ntrip/2.0\r\n") and v2.endswith("\r\n\r\n")
    assert "Content-Type: gnss/data\r\n" in v2 and "Transfer-Encoding: chunked\r\n" in v2
    st1 = render_sourcetable("STR;A;\r\n", 1)
    assert st1.startswith(b"SOURCETABLE 200 OK\r\n") and st1.endswith(b"STR;A;\r\nENDSOURCETABLE\r\n")
    assert b"Content-Length: 24\r\n" in st1
    st2 = render_sourcetable("", 2)
    assert b"Content-Type: gnss/sourcetable\r\n" in st2 and st2.endswith(b"\r\n\r\nENDSOURCETABLE\r\n")
    e401 = render_error(401, "bad credentials", 2, realm="/A").decode()
    assert e401.startswith("HTTP/1.1 401 Unauthorized\r\n") and 'WWW-Authenticate: Basic realm="/A"\r\n' in e401
    assert render_error(404, "no", 1).startswith(b"HTTP/1.0 404 Not Found\r\n")


def test_chunked_roundtrip_in_pieces():
    payload = bytes(range(256)) * 3
    wire = render_chunk(payload[:700]) + render_chunk(payload[700:]) + LAST_CHUNK
    dec = ChunkedDecoder()
    got = b"".join(dec.feed(wire[i:i + 7]) for i in range(0, len(wire), 7))
    assert got == payload and dec.finished
    assert render_chunk(b"abc") == b"3\r\nabc\r\n"


@pytest.mark.parametrize("wire", [b"zz\r\nab\r\n", b"2\r\nabXY", b"-5\r\n", b"1" * 100, b"FFFFFFFF\r\n"])
def test_chunked_malformed(wire):
    with pytest.raises(ProtocolError):
        ChunkedDecoder().feed(wire)


def test_gga_parse_and_errors():
    fix = parse_gga(_with_checksum(GGA))
    assert fix.lat_deg == pytest.approx(35 + 8.1234567 / 60, abs=1e-9)
    assert fix.lon_deg == pytest.approx(136 + 56.7654321 / 60, abs=1e-9)
    assert fix.h_m == pytest.approx(88.0)
    assert parse_gga(_with_checksum("$GPGGA,,,,,,0,,,,,,,,*")) is None  # no fix yet: not an error
    bad_fields = ["$GPGGA,1,xx,N,1,E,1,,,1,M,,M,,*", "$GPGGA,1,9999.0,N,1,E,1,,,1,M,,M,,*",
                  "$GPGGA,1,1,Q,1,E,1,,,1,M,,M,,*"]
    for bad in ["", "$GPRMC,1,2,3*00", GGA + "00", "$GPGGA,1,2", *map(_with_checksum, bad_fields)]:
        with pytest.raises(GgaError):
            parse_gga(bad)


def test_nmea_scanner_bounded_and_split():
    sc = NmeaScanner()
    assert sc.feed(b"junk$GPGGA,1") == []
    assert sc.feed(b",2*00\r\n$GNGGA,3\n") == ["$GPGGA,1,2*00", "$GNGGA,3"]
    sc.feed(b"x" * 100_000)
    assert len(sc._buf) <= 256
