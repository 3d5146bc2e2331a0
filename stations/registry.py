"""The registry: stations, users, mountpoint grants and session accounting, in SQLite.

This module is the one small repository layer of the service (DESIGN.md "Persistence"): every
other module calls :class:`Registry` methods and never writes SQL, so another database can replace
SQLite by reimplementing this class. Passwords are stored as salted ``scrypt`` hashes (RFC 7914,
``hashlib.scrypt``); verifying one costs tens of milliseconds on purpose, so the caster calls
:meth:`Registry.verify_user` from a worker thread and caches successful checks
(:class:`CredentialCache`).

Access rule: a user may read a mountpoint when the account exists, the password matches, the
account has not expired, and either some grant of that user names the mountpoint (or ``*``), or
no user holds an explicit grant naming that mountpoint (an ungranted mountpoint is open to every
account holder).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REGISTRY_FILE = "registry.sqlite3"
_MOUNT_RE = re.compile(r"^[A-Za-z0-9_\-.]{1,100}$")
_USER_RE = re.compile(r"^[A-Za-z0-9_\-.@]{1,64}$")
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stations (
    mount TEXT PRIMARY KEY,
    identifier TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    x_m REAL, y_m REAL, z_m REAL,
    country TEXT NOT NULL DEFAULT '',
    upstream TEXT,
    created_s REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    expires_s REAL,
    max_sessions INTEGER NOT NULL DEFAULT 1,
    created_s REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS grants (
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    mount TEXT NOT NULL,
    PRIMARY KEY (user, mount)
);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    mount TEXT NOT NULL,
    address TEXT NOT NULL,
    kind TEXT NOT NULL,
    started_s REAL NOT NULL,
    ended_s REAL,
    bytes_out INTEGER NOT NULL DEFAULT 0,
    bytes_in INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_started ON sessions(started_s);
"""


class RegistryError(Exception):
    """Base class of the errors the registry raises on purpose (bad names, missing records)."""


class InvalidNameError(RegistryError, ValueError):
    """Raised for a mountpoint or user name with characters or length the caster cannot serve."""


class NotFoundError(RegistryError, KeyError):
    """Raised when a named station or user does not exist."""


class ExistsError(RegistryError):
    """Raised when adding a station or user whose name is already taken."""


@dataclass(frozen=True)
class Station:
    """A registered reference station (one upload mountpoint).

    ``xyz_ecef_m`` is the antenna reference point in WGS 84/ITRF ECEF metres (None if unknown);
    ``upstream`` an ``ntrip://user:pass@host:port/MOUNT`` URL when the caster pulls this station.
    """

    mount: str
    identifier: str
    xyz_ecef_m: tuple[float, float, float] | None
    country: str
    upstream: str | None
    created_s: float

    @property
    def llh_deg_m(self) -> tuple[float, float, float] | None:
        """Geodetic latitude, longitude (degrees) and ellipsoidal height (m), WGS 84."""
        return None if self.xyz_ecef_m is None else ecef_to_llh(self.xyz_ecef_m)


@dataclass(frozen=True)
class User:
    """A user account; ``expires_s`` is a Unix time or None, ``grants`` the granted mountpoints."""

    name: str
    expires_s: float | None
    max_sessions: int
    grants: tuple[str, ...]
    created_s: float


@dataclass(frozen=True)
class SessionRecord:
    """One accounted session (client read or station upload)."""

    id: int
    user: str
    mount: str
    address: str
    kind: str
    started_s: float
    ended_s: float | None
    bytes_out: int
    bytes_in: int


# ----------------------------------------------------------------------------------------------
# WGS 84 conversions for station positions (NIMA TR8350.2 §3; Bowring's closed form for the inverse)
# ----------------------------------------------------------------------------------------------
_A_M = 6378137.0
_F = 1.0 / 298.257223563
_E2 = _F * (2.0 - _F)


def llh_to_ecef(llh: tuple[float, float, float]) -> tuple[float, float, float]:
    """WGS 84 latitude/longitude (deg) and ellipsoidal height (m) to ECEF (m)."""
    lat, lon = math.radians(llh[0]), math.radians(llh[1])
    n = _A_M / math.sqrt(1.0 - _E2 * math.sin(lat) ** 2)
    return ((n + llh[2]) * math.cos(lat) * math.cos(lon),
            (n + llh[2]) * math.cos(lat) * math.sin(lon),
            (n * (1.0 - _E2) + llh[2]) * math.sin(lat))


def ecef_to_llh(xyz: tuple[float, float, float]) -> tuple[float, float, float]:
    """ECEF (m) to WGS 84 latitude/longitude (deg) and ellipsoidal height (m), mm-accurate."""
    x, y, z = xyz
    p = math.hypot(x, y)
    lat = math.atan2(z, p * (1.0 - _E2))
    for _ in range(6):  # fixed-point iteration converges to < 1e-12 rad in a few steps
        n = _A_M / math.sqrt(1.0 - _E2 * math.sin(lat) ** 2)
        h = p / math.cos(lat) - n if abs(lat) < math.radians(89.0) else z / math.sin(lat) - n * (1 - _E2)
        lat = math.atan2(z, p * (1.0 - _E2 * n / (n + h)))
    n = _A_M / math.sqrt(1.0 - _E2 * math.sin(lat) ** 2)
    h = p / math.cos(lat) - n if abs(lat) < math.radians(89.0) else z / math.sin(lat) - n * (1 - _E2)
    return math.degrees(lat), math.degrees(math.atan2(y, x)), h


# ----------------------------------------------------------------------------------------------
# Passwords
# ----------------------------------------------------------------------------------------------
def hash_password(password: str) -> str:
    """Salted scrypt hash, ``scrypt$N$r$p$salt$hash`` (base64), RFC 7914."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    """True when ``password`` matches a hash made by :func:`hash_password` (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(want, got)


class CredentialCache:
    """Remembers successful password checks for ``ttl_s`` so reconnects skip the slow scrypt.

    Keys are HMACs of ``(kind, name, password, stored hash)`` under a per-process random key, so the
    cache never holds a password in the clear, and a changed or removed account (another stored
    hash, or none) never matches an old entry.
    """

    def __init__(self, ttl_s: float = 300.0):
        self._key = os.urandom(32)
        self._ttl_s = ttl_s
        self._until: dict[bytes, float] = {}

    def token(self, kind: str, name: str, password: str, stored: str) -> bytes:
        """The cache key of a credential checked against the stored hash ``stored``."""
        return hmac.new(self._key, f"{kind}\0{name}\0{password}\0{stored}".encode(), hashlib.sha256).digest()

    def hit(self, token: bytes) -> bool:
        """True when this exact credential was verified within the last ``ttl_s``."""
        until = self._until.get(token)
        return until is not None and until > time.monotonic()

    def remember(self, token: bytes) -> None:
        """Record a successful check."""
        if len(self._until) > 100_000:
            self._until.clear()
        self._until[token] = time.monotonic() + self._ttl_s

    def forget(self) -> None:
        """Drop every cached credential (after a password change or removal)."""
        self._until.clear()


def check_mount_name(mount: str) -> str:
    """Return ``mount`` if it is a valid mountpoint name (letters, digits, ``_-.``; 1-100 chars)."""
    if not isinstance(mount, str) or not _MOUNT_RE.match(mount):
        raise InvalidNameError(f"invalid mountpoint name {mount!r}: use 1-100 letters, digits, '_', '-', '.'")
    return mount


def _check_user_name(name: str) -> str:
    if not isinstance(name, str) or not _USER_RE.match(name):
        raise InvalidNameError(f"invalid user name {name!r}: use 1-64 letters, digits, '_', '-', '.', '@'")
    return name


# ----------------------------------------------------------------------------------------------
# The repository
# ----------------------------------------------------------------------------------------------
class Registry:
    """SQLite-backed registry of stations, users, grants and sessions.

    Parameters
    ----------
    path : str or Path
        The database file (created with its tables if missing), or ``":memory:"``.

    Notes
    -----
    Methods are thread-safe (one connection behind a lock) so the caster may verify passwords in
    worker threads. Every write commits at once: nothing is lost across a restart.
    """

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: every commit is atomic and survives a process crash; no fsync per
            # session record, which would stall the caster under thousands of logins.
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise RegistryError(f"{self.path}: not a usable registry database ({exc})") from None

    @classmethod
    def in_dir(cls, data_dir: str | Path) -> Registry:
        """The registry of a data directory (``DIR/registry.sqlite3``)."""
        return cls(Path(data_dir) / REGISTRY_FILE)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def _q(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _x(self, sql: str, args: tuple = ()) -> int:
        with self._lock:
            cur = self._db.execute(sql, args)
            return cur.lastrowid if sql.lstrip().upper().startswith("INSERT") else cur.rowcount

    # ---- stations ------------------------------------------------------------------------------
    def add_station(self, mount: str, password: str, *, xyz_ecef_m=None, llh_deg_m=None, identifier: str = "",
                    country: str = "", upstream: str | None = None) -> Station:
        """Register a station mountpoint with its upload password and (optional) position.

        Raises :class:`ExistsError` if the mountpoint exists, :class:`InvalidNameError` for a bad name.
        """
        check_mount_name(mount)
        if not password:
            raise RegistryError(f"station {mount}: an upload password is required")
        if llh_deg_m is not None:
            lat, lon, _ = llh_deg_m
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise RegistryError(f"station {mount}: latitude/longitude {lat}, {lon} out of range")
            xyz_ecef_m = llh_to_ecef(tuple(float(v) for v in llh_deg_m))
        xyz = (None, None, None) if xyz_ecef_m is None else tuple(float(v) for v in xyz_ecef_m)
        if xyz[0] is not None and not all(math.isfinite(v) for v in xyz):
            raise RegistryError(f"station {mount}: position must be finite")
        try:
            self._x("INSERT INTO stations(mount, identifier, password_hash, x_m, y_m, z_m, country, upstream,"
                    " created_s) VALUES (?,?,?,?,?,?,?,?,?)",
                    (mount, identifier or mount, hash_password(password), *xyz, country, upstream, time.time()))
        except sqlite3.IntegrityError:
            raise ExistsError(f"station {mount} already exists") from None
        return self.station(mount)

    @staticmethod
    def _station(row) -> Station:
        xyz = None if row[3] is None else (row[3], row[4], row[5])
        return Station(row[0], row[1], xyz, row[6], row[7], row[8])

    _STATION_COLS = "mount, identifier, password_hash, x_m, y_m, z_m, country, upstream, created_s"

    def station(self, mount: str) -> Station:
        """The station of a mountpoint; raises :class:`NotFoundError`."""
        rows = self._q(f"SELECT {self._STATION_COLS} FROM stations WHERE mount = ?", (mount,))
        if not rows:
            raise NotFoundError(f"no station {mount!r}")
        return self._station(rows[0])

    def stations(self) -> list[Station]:
        """All stations, by mountpoint name."""
        return [self._station(r) for r in self._q(f"SELECT {self._STATION_COLS} FROM stations ORDER BY mount")]

    def set_station_position(self, mount: str, xyz_ecef_m: tuple[float, float, float]) -> None:
        """Store a position learned from the stream (RTCM 1005/1006) for a station registered without one."""
        self._x("UPDATE stations SET x_m = ?, y_m = ?, z_m = ? WHERE mount = ?", (*map(float, xyz_ecef_m), mount))

    def remove_station(self, mount: str) -> None:
        """Delete a station; raises :class:`NotFoundError`."""
        if not self._x("DELETE FROM stations WHERE mount = ?", (mount,)):
            raise NotFoundError(f"no station {mount!r}")

    def stored_hash(self, kind: str, name: str) -> str | None:
        """The stored password hash of a ``"user"`` or a ``"station"``, None if there is none."""
        sql = ("SELECT password_hash FROM users WHERE name = ?" if kind == "user"
               else "SELECT password_hash FROM stations WHERE mount = ?")
        rows = self._q(sql, (name,))
        return rows[0][0] if rows else None

    def verify_station(self, mount: str, password: str) -> bool:
        """True when ``password`` is the upload password of ``mount`` (slow: scrypt)."""
        rows = self._q("SELECT password_hash FROM stations WHERE mount = ?", (mount,))
        return bool(rows) and check_password(password, rows[0][0])

    # ---- users ---------------------------------------------------------------------------------
    def add_user(self, name: str, password: str, *, expires_s: float | None = None, max_sessions: int = 1) -> User:
        """Create an account; raises :class:`ExistsError` if the name is taken."""
        _check_user_name(name)
        if not password:
            raise RegistryError(f"user {name}: a password is required")
        if max_sessions < 1:
            raise RegistryError(f"user {name}: max_sessions must be at least 1")
        try:
            self._x("INSERT INTO users(name, password_hash, expires_s, max_sessions, created_s) VALUES (?,?,?,?,?)",
                    (name, hash_password(password), expires_s, int(max_sessions), time.time()))
        except sqlite3.IntegrityError:
            raise ExistsError(f"user {name} already exists") from None
        return self.user(name)

    def user(self, name: str) -> User:
        """An account with its grants; raises :class:`NotFoundError`."""
        rows = self._q("SELECT name, expires_s, max_sessions, created_s FROM users WHERE name = ?", (name,))
        if not rows:
            raise NotFoundError(f"no user {name!r}")
        grants = tuple(r[0] for r in self._q("SELECT mount FROM grants WHERE user = ? ORDER BY mount", (name,)))
        n, exp, mx, created = rows[0]
        return User(n, exp, mx, grants, created)

    def users(self) -> list[User]:
        """All accounts, by name."""
        return [self.user(r[0]) for r in self._q("SELECT name FROM users ORDER BY name")]

    def remove_user(self, name: str) -> None:
        """Delete an account and its grants; raises :class:`NotFoundError`."""
        if not self._x("DELETE FROM users WHERE name = ?", (name,)):
            raise NotFoundError(f"no user {name!r}")

    def grant(self, name: str, mount: str) -> None:
        """Allow ``name`` to read ``mount`` (``*``: every mountpoint)."""
        self.user(name)
        if mount != "*":
            check_mount_name(mount)
        self._x("INSERT OR IGNORE INTO grants(user, mount) VALUES (?, ?)", (name, mount))

    def revoke(self, name: str, mount: str) -> None:
        """Remove a grant; raises :class:`NotFoundError` if there was none."""
        if not self._x("DELETE FROM grants WHERE user = ? AND mount = ?", (name, mount)):
            raise NotFoundError(f"user {name!r} has no grant for {mount!r}")

    def verify_user(self, name: str, password: str) -> User | None:
        """The account if ``password`` matches (slow: scrypt), else None."""
        rows = self._q("SELECT password_hash FROM users WHERE name = ?", (name,))
        if not rows or not check_password(password, rows[0][0]):
            return None
        return self.user(name)

    def restricted_mounts(self) -> set[str]:
        """Mountpoints named by at least one explicit grant (all others are open to every account)."""
        return {r[0] for r in self._q("SELECT DISTINCT mount FROM grants WHERE mount != '*'")}

    def may_read(self, user: User, mount: str, now_s: float | None = None) -> str | None:
        """None when ``user`` may read ``mount`` now, else the reason it may not."""
        now_s = time.time() if now_s is None else now_s
        if user.expires_s is not None and user.expires_s <= now_s:
            return f"account {user.name} expired"
        if "*" in user.grants or mount in user.grants:
            return None
        if mount in self.restricted_mounts():
            return f"user {user.name} has no grant for {mount}"
        return None

    # ---- sessions ------------------------------------------------------------------------------
    def open_session(self, user: str, mount: str, address: str, kind: str) -> int:
        """Start accounting a session; returns its id."""
        return self._x("INSERT INTO sessions(user, mount, address, kind, started_s) VALUES (?,?,?,?,?)",
                       (user, mount, address, kind, time.time()))

    def close_session(self, session_id: int, bytes_out: int, bytes_in: int) -> None:
        """Finish a session with its byte counts."""
        self._x("UPDATE sessions SET ended_s = ?, bytes_out = ?, bytes_in = ? WHERE id = ?",
                (time.time(), int(bytes_out), int(bytes_in), session_id))

    def close_dangling_sessions(self) -> int:
        """Mark sessions left open by a crash as ended now; returns how many (call at start-up)."""
        return self._x("UPDATE sessions SET ended_s = ? WHERE ended_s IS NULL", (time.time(),))

    def sessions(self, limit: int = 100, user: str | None = None) -> list[SessionRecord]:
        """The most recent sessions, newest first."""
        sql = "SELECT id, user, mount, address, kind, started_s, ended_s, bytes_out, bytes_in FROM sessions"
        args: tuple = ()
        if user is not None:
            sql += " WHERE user = ?"
            args = (user,)
        rows = self._q(sql + " ORDER BY id DESC LIMIT ?", (*args, int(limit)))
        return [SessionRecord(*r) for r in rows]


def default_data_dir() -> Path:
    """The service's data directory when none is given: ``$GNSSAUG_HOME``, else ``~/.local/share/gnssaug``."""
    env = os.environ.get("GNSSAUG_HOME")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "gnssaug"
