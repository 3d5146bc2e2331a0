"""NTRIP 1.0 and 2.0 wire protocol, sans-IO: parse requests, render replies, chunked framing, GGA.

Nothing here touches a socket; :mod:`gnssaug.server.ntrip.caster` feeds bytes in and writes the
rendered bytes out. The exchanges follow RTCM 10410.0 (NTRIP 1.0) and RTCM 10410.1 (NTRIP 2.0) as
implemented by the BKG reference client/server and RTKLIB ``stream.c`` (see
``reference/ntrip-and-mountpoints.md`` §7):

- NTRIP 1 client: ``GET /MOUNT HTTP/1.0`` -> ``ICY 200 OK\\r\\n`` then raw bytes. RTKLIB treats every
  byte after that line as data, so the reply is exactly that one line.
- NTRIP 1 source: ``SOURCE <password> /MOUNT`` -> ``ICY 200 OK\\r\\n``, or ``ERROR - Bad Password``.
- NTRIP 2: ``Ntrip-Version: Ntrip/2.0`` header; replies are HTTP/1.1 with ``gnss/data`` (chunked) or
  ``gnss/sourcetable`` content; ``POST /MOUNT`` uploads; 401 with ``WWW-Authenticate``; 404 for
  unknown mountpoints (NTRIP 1 clients get the sourcetable instead).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
from dataclasses import dataclass, field

#: Largest request head (request line + headers) accepted; larger ones get 431.
MAX_HEAD_BYTES = 8192
#: Largest number of header lines accepted.
MAX_HEADER_LINES = 64
#: Largest NMEA sentence kept from a client's in-band bytes.
MAX_NMEA_BYTES = 256
SERVER_NAME = "gnssaug-caster"
NTRIP2 = "Ntrip/2.0"

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    411: "Length Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    503: "Service Unavailable",
}


class ProtocolError(Exception):
    """Raised when a request or an upload body breaks the NTRIP/HTTP grammar.

    Parameters
    ----------
    status : int
        The HTTP status to answer with (400, 411, 431, 501 ...).
    message : str
        What was wrong, sent to the client as the reply body.
    """

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class GgaError(ValueError):
    """Raised when an NMEA GGA sentence is malformed (bad fields or checksum)."""


@dataclass(frozen=True)
class NtripRequest:
    """One parsed NTRIP request head.

    Attributes
    ----------
    method : str
        ``GET``, ``POST`` or ``SOURCE``.
    mount : str
        Mountpoint name without the leading ``/``; ``""`` for the sourcetable.
    version : int
        1 or 2 (2 when the ``Ntrip-Version: Ntrip/2.0`` header is present).
    http_version : str
        ``HTTP/1.0`` or ``HTTP/1.1`` (``""`` for a ``SOURCE`` request).
    headers : dict
        Header names lower-cased; the last value wins.
    user, password : str or None
        From ``Authorization: Basic`` or, for ``SOURCE``, the password field.
    """

    method: str
    mount: str
    version: int
    http_version: str
    headers: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    password: str | None = None

    @property
    def is_source(self) -> bool:
        """True for a station upload (NTRIP 1 ``SOURCE`` or NTRIP 2 ``POST``)."""
        return self.method in ("SOURCE", "POST")

    @property
    def gga(self) -> str | None:
        """The ``Ntrip-GGA`` header (NTRIP 2 clients put their first position there)."""
        return self.headers.get("ntrip-gga")

    @property
    def chunked(self) -> bool:
        """True when the request body uses chunked transfer coding."""
        return "chunked" in self.headers.get("transfer-encoding", "").lower()

    @property
    def agent(self) -> str:
        """The client's ``User-Agent`` or ``Source-Agent``."""
        return self.headers.get("user-agent") or self.headers.get("source-agent") or ""


def find_head_end(buf: bytes | bytearray) -> int:
    """Length of the request head in ``buf`` including the blank line, or -1 if incomplete.

    Accepts ``\\r\\n\\r\\n`` and, leniently, ``\\n\\n`` (some embedded sources send bare LF).
    Raises :class:`ProtocolError` (431) once ``buf`` exceeds :data:`MAX_HEAD_BYTES` without an end.
    """
    ends = [i + n for i, n in ((buf.find(b"\r\n\r\n"), 4), (buf.find(b"\n\n"), 2)) if i >= 0]
    if ends:
        end = min(ends)
        if end > MAX_HEAD_BYTES:
            raise ProtocolError(431, f"request head longer than {MAX_HEAD_BYTES} bytes")
        return end
    if len(buf) > MAX_HEAD_BYTES:
        raise ProtocolError(431, f"request head longer than {MAX_HEAD_BYTES} bytes")
    return -1


def _decode_basic(value: str) -> tuple[str, str]:
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "basic" or not token:
        raise ProtocolError(400, "Authorization: only the Basic scheme is supported")
    try:
        text = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ProtocolError(400, "Authorization: Basic credentials are not valid base64 UTF-8") from None
    user, sep, password = text.partition(":")
    if not sep:
        raise ProtocolError(400, "Authorization: Basic credentials lack the ':' separator")
    return user, password


def _mount_of(target: str) -> str:
    if target.startswith(("http://", "https://")):  # absolute form (proxies)
        target = "/" + target.split("://", 1)[1].partition("/")[2]
    mount = target.partition("?")[0].lstrip("/")
    if any(c in mount for c in " /\\;") or len(mount) > 100:
        raise ProtocolError(400, f"invalid mountpoint {mount[:40]!r}")
    return mount


def parse_request(head: bytes) -> NtripRequest:
    """Parse a request head (request line and headers, as delimited by :func:`find_head_end`).

    Parameters
    ----------
    head : bytes
        The raw head, ending with the blank line.

    Returns
    -------
    NtripRequest

    Raises
    ------
    ProtocolError
        400 for a malformed request line, header or credentials; 431 when too long or too many
        headers; 501 for a method other than GET, POST or SOURCE.
    """
    if len(head) > MAX_HEAD_BYTES:
        raise ProtocolError(431, f"request head longer than {MAX_HEAD_BYTES} bytes")
    try:
        text = head.decode("iso-8859-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        raise ProtocolError(400, "request head is not text") from None
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise ProtocolError(400, "empty request")
    if len(lines) - 1 > MAX_HEADER_LINES:
        raise ProtocolError(431, f"more than {MAX_HEADER_LINES} header lines")
    if any(ord(c) < 32 and c != "\t" for c in text.replace("\r", "").replace("\n", "")):
        raise ProtocolError(400, "control characters in the request head")
    headers: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or " " in name:
            raise ProtocolError(400, f"malformed header on line {number}: {line[:60]!r}")
        headers[name.lower()] = value.strip()
    parts = lines[0].split()
    if not parts:
        raise ProtocolError(400, "empty request line")
    method = parts[0].upper()
    version = 2 if headers.get("ntrip-version", "").strip().lower() == NTRIP2.lower() else 1
    if method == "SOURCE":
        # NTRIP 1: "SOURCE <password> /MOUNT"; some sources omit the password or the '/'.
        if len(parts) == 3:
            password, target = parts[1], parts[2]
        elif len(parts) == 2:
            password, target = "", parts[1]
        else:
            raise ProtocolError(400, f"malformed SOURCE line: {lines[0][:80]!r}")
        mount = _mount_of(target)
        if not mount:
            raise ProtocolError(400, "SOURCE request without a mountpoint")
        return NtripRequest("SOURCE", mount, 1, "", headers, None, password)
    if len(parts) != 3 or not parts[2].upper().startswith("HTTP/"):
        raise ProtocolError(400, f"malformed request line: {lines[0][:80]!r}")
    if method not in ("GET", "POST"):
        raise ProtocolError(501, f"method {method[:16]} is not supported")
    http_version = parts[2].upper()
    if http_version not in ("HTTP/1.0", "HTTP/1.1"):
        raise ProtocolError(400, f"unsupported protocol {parts[2][:16]!r}")
    mount = _mount_of(parts[1])
    user = password = None
    if "authorization" in headers:
        user, password = _decode_basic(headers["authorization"])
    if method == "POST" and not mount:
        raise ProtocolError(400, "POST without a mountpoint")
    return NtripRequest(method, mount, version, http_version, headers, user, password)


# ----------------------------------------------------------------------------------------------
# Replies
# ----------------------------------------------------------------------------------------------
def _http_head(status: int, headers: list[tuple[str, str]], version: int) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}" if version == 2
             else f"HTTP/1.0 {status} {_REASONS.get(status, 'Error')}"]
    if version == 2:
        lines.append(f"Ntrip-Version: {NTRIP2}")
    lines.append(f"Server: {SERVER_NAME}")
    lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
    lines.extend(f"{k}: {v}" for k, v in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def render_stream_ok(version: int) -> bytes:
    """Reply that starts a correction stream to a client.

    NTRIP 1: exactly ``ICY 200 OK\\r\\n`` (RTKLIB takes every following byte as data).
    NTRIP 2: ``HTTP/1.1 200 OK`` with ``Content-Type: gnss/data`` and chunked transfer coding.
    """
    if version == 1:
        return b"ICY 200 OK\r\n"
    return _http_head(200, [("Content-Type", "gnss/data"),
                            ("Cache-Control", "no-store, no-cache, max-age=0"),
                            ("Pragma", "no-cache"), ("Connection", "close"),
                            ("Transfer-Encoding", "chunked")], 2)


def render_source_ok(version: int) -> bytes:
    """Reply that accepts a station upload (``SOURCE`` -> ``ICY 200 OK``, ``POST`` -> 200)."""
    if version == 1:
        return b"ICY 200 OK\r\n"
    return _http_head(200, [("Connection", "close")], 2)


def render_sourcetable(body: str, version: int) -> bytes:
    """Sourcetable reply; ``body`` holds the records, ``ENDSOURCETABLE`` is appended here.

    NTRIP 1: ``SOURCETABLE 200 OK`` with ``Content-Type: text/plain``; NTRIP 2: ``HTTP/1.1 200 OK``
    with ``Content-Type: gnss/sourcetable``. Both carry ``Content-Length``.
    """
    payload = (body + "ENDSOURCETABLE\r\n").encode("utf-8")
    if version == 1:
        head = (f"SOURCETABLE 200 OK\r\nServer: {SERVER_NAME}\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n").encode()
        return head + payload
    return _http_head(200, [("Content-Type", "gnss/sourcetable"), ("Content-Length", str(len(payload))),
                            ("Connection", "close")], 2) + payload


def render_error(status: int, message: str, version: int, realm: str | None = None,
                 retry_after_s: int | None = None) -> bytes:
    """An error reply with a one-line plain-text body saying what was wrong.

    Parameters
    ----------
    status : int
        HTTP status (400, 401, 403, 404, 409, 429, 431, 501 ...).
    message : str
        The reason, sent as the body.
    version : int
        1 or 2: the status line is ``HTTP/1.0`` for NTRIP 1 and ``HTTP/1.1`` plus
        ``Ntrip-Version`` for NTRIP 2.
    realm : str, optional
        For 401: the ``WWW-Authenticate: Basic realm`` value.
    retry_after_s : int, optional
        For 429/503: the ``Retry-After`` header.
    """
    body = (message.replace("\r", " ").replace("\n", " ") + "\r\n").encode("utf-8", "replace")
    headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body))), ("Connection", "close")]
    if status == 401:
        headers.insert(0, ("WWW-Authenticate", f'Basic realm="{realm or "/"}"'))
    if retry_after_s is not None:
        headers.insert(0, ("Retry-After", str(int(retry_after_s))))
    return _http_head(status, headers, version) + body


def render_source_error(message: str) -> bytes:
    """NTRIP 1 ``SOURCE`` refusal, e.g. ``ERROR - Bad Password`` (the form RTKLIB and BKG expect)."""
    return f"ERROR - {message}\r\n".encode()


# ----------------------------------------------------------------------------------------------
# Chunked transfer coding (RFC 9112 §7.1), used by NTRIP 2 streams and uploads
# ----------------------------------------------------------------------------------------------
def render_chunk(data: bytes) -> bytes:
    """One chunk of a chunked body: hex length, CRLF, data, CRLF."""
    return b"%X\r\n%b\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"


class ChunkedDecoder:
    """Incremental decoder of a chunked body (sans-IO).

    ``feed(bytes) -> bytes`` returns the payload decoded so far; ``finished`` turns true after the
    last (zero-length) chunk. Malformed framing raises :class:`ProtocolError` (400).
    """

    _MAX_SIZE_LINE = 64
    _MAX_CHUNK = 1 << 20

    def __init__(self) -> None:
        self._buf = bytearray()
        self._remaining = 0  # payload bytes left in the current chunk
        self._need_crlf = False
        self.finished = False

    def feed(self, data: bytes) -> bytes:
        """Add received bytes; return the payload bytes they complete."""
        self._buf += data
        out = bytearray()
        while not self.finished:
            if self._remaining:
                take = min(self._remaining, len(self._buf))
                if not take:
                    break
                out += self._buf[:take]
                del self._buf[:take]
                self._remaining -= take
                self._need_crlf = self._remaining == 0
                continue
            if self._need_crlf:
                if len(self._buf) < 2:
                    break
                if self._buf[:2] != b"\r\n":
                    raise ProtocolError(400, "chunk data not followed by CRLF")
                del self._buf[:2]
                self._need_crlf = False
                continue
            end = self._buf.find(b"\r\n")
            if end < 0:
                if len(self._buf) > self._MAX_SIZE_LINE:
                    raise ProtocolError(400, "chunk size line too long")
                break
            line = bytes(self._buf[:end]).split(b";", 1)[0].strip()
            del self._buf[: end + 2]
            try:
                size = int(line, 16)
            except ValueError:
                raise ProtocolError(400, f"bad chunk size {line[:16]!r}") from None
            if size < 0 or size > self._MAX_CHUNK:
                raise ProtocolError(400, f"chunk size {size} out of range")
            if size == 0:
                self.finished = True
            self._remaining = size
        return bytes(out)


# ----------------------------------------------------------------------------------------------
# NMEA GGA from rovers (NEAR mountpoints)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GgaFix:
    """A rover position from a GGA sentence (NMEA 0183 v4.11 §GGA)."""

    lat_deg: float
    lon_deg: float
    h_m: float
    quality: int


def _nmea_checksum_ok(sentence: str) -> bool:
    body, star, given = sentence[1:].partition("*")
    if not star:
        return True  # checksum is optional in NMEA; RTKLIB always sends one
    calc = 0
    for ch in body:
        calc ^= ord(ch)
    try:
        return int(given[:2], 16) == calc
    except ValueError:
        return False


def parse_gga(sentence: str) -> GgaFix | None:
    """Parse ``$xxGGA,...``; returns None for a well-formed GGA without a fix (quality 0, empty).

    Raises
    ------
    GgaError
        When the sentence is not a GGA, its checksum is wrong, or a field is malformed.
    """
    s = sentence.strip()
    if not s.startswith("$") or len(s) < 7 or s[3:6] != "GGA":
        raise GgaError(f"not a GGA sentence: {s[:20]!r}")
    if not _nmea_checksum_ok(s):
        raise GgaError("GGA checksum mismatch")
    f = s[1:].partition("*")[0].split(",")
    if len(f) < 10:
        raise GgaError(f"GGA has {len(f)} fields, expected at least 10")
    if not f[2] or not f[4] or not f[6] or f[6] == "0":
        return None
    try:
        lat = int(float(f[2]) / 100.0) + (float(f[2]) % 100.0) / 60.0
        lon = int(float(f[4]) / 100.0) + (float(f[4]) % 100.0) / 60.0
        quality = int(f[6])
        alt = float(f[9]) if f[9] else 0.0
        sep = float(f[11]) if len(f) > 11 and f[11] else 0.0
    except ValueError:
        raise GgaError("GGA has a non-numeric position field") from None
    if f[3] not in ("N", "S") or f[5] not in ("E", "W"):
        raise GgaError("GGA hemisphere must be N/S and E/W")
    lat = -lat if f[3] == "S" else lat
    lon = -lon if f[5] == "W" else lon
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise GgaError("GGA position out of range")
    return GgaFix(lat, lon, alt + sep, quality)


class NmeaScanner:
    """Pulls NMEA sentences out of the bytes a client sends in-band (sans-IO, bounded memory)."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[str]:
        """Add client bytes; return the complete ``$...`` sentences they finish."""
        self._buf += data
        out = []
        while True:
            end = self._buf.find(b"\n")
            if end < 0:
                break
            line = bytes(self._buf[:end]).strip()
            del self._buf[: end + 1]
            start = line.find(b"$")
            if start >= 0:
                out.append(line[start:].decode("ascii", "replace"))
        if len(self._buf) > MAX_NMEA_BYTES:  # garbage without newlines: keep only the tail
            del self._buf[:-MAX_NMEA_BYTES]
        return out
