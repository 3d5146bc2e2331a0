"""Service settings: one frozen dataclass, from defaults, an optional TOML file and command-line flags.

No globals: :func:`gnssaug.server.app.create_app` takes a :class:`Settings`. A first start needs no
file at all; the registry is created in ``data_dir``. A TOML file may set any field at top level or
in a ``[server]`` table, e.g. ``ntrip_port = 2101``, ``data_dir = "/var/lib/gnssaug"``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from gnssaug.errors import InvalidInputError, UsageError
from gnssaug.stations.registry import default_data_dir
from gnssaug.time import parse_time_arg


@dataclass(frozen=True)
class Settings:
    """Everything the service can be configured with (units in the names).

    Attributes
    ----------
    data_dir : Path
        Registry and state directory.
    ntrip_host, ntrip_port, http_host, http_port
        Listening addresses of the NTRIP caster (default 2101) and the HTTP API (default 8080);
        port 0 picks a free port (tests).
    tls_cert, tls_key : Path or None
        When both are set, the NTRIP port speaks TLS (NTRIP 2 over HTTPS).
    head_timeout_s : float
        A connection must finish its request head within this time.
    source_timeout_s : float
        An upload silent for this long is closed (the station goes to outage).
    outage_after_s : float
        Silence after which a station's health shows an outage.
    stall_timeout_s : float
        A client that does not read for this long is disconnected.
    backlog_items, high_water_bytes
        Per-client backlog bound (publishes) and socket buffer size counting a client as slow.
    near_mount : str
        Name of the NEAR (nearest station by GGA) mountpoint.
    near_hysteresis_m : float
        A NEAR client switches only to a station this much closer than its current one.
    login_slow_after, login_ban_after, login_window_s, login_ban_s
        Failed logins from one address: answers are delayed after ``slow_after`` failures within
        ``window_s`` and the address is banned for ``ban_s`` after ``ban_after``.
    max_clients : int
        Connections beyond this are refused with 503.
    data_time : str or None
        Approximate GPST of the station data (ISO 8601 or WEEK:TOW) when replaying old recordings,
        so decoded epochs get their real date; None for live stations (now).
    api_token : str or None
        When set, ``/api/v1/sessions`` (user names and addresses) needs ``Authorization: Bearer <token>``.
    """

    data_dir: Path = field(default_factory=default_data_dir)
    ntrip_host: str = "0.0.0.0"
    ntrip_port: int = 2101
    http_host: str = "0.0.0.0"
    http_port: int = 8080
    tls_cert: Path | None = None
    tls_key: Path | None = None
    caster_host: str = "localhost"
    caster_identifier: str = "gnssaug"
    operator: str = "gnssaug"
    country: str = ""
    network: str = "GNSSAUG"
    head_timeout_s: float = 10.0
    source_timeout_s: float = 30.0
    outage_after_s: float = 10.0
    stall_timeout_s: float = 60.0
    backlog_items: int = 32
    high_water_bytes: int = 64 * 1024
    near_mount: str = "NEAR"
    near_hysteresis_m: float = 5000.0
    gga_timeout_s: float = 60.0
    login_slow_after: int = 3
    login_ban_after: int = 10
    login_window_s: float = 600.0
    login_ban_s: float = 900.0
    max_clients: int = 20000
    api_token: str | None = None
    data_time: str | None = None

    @property
    def data_time_gpst_ns(self) -> int | None:
        """``data_time`` in GPST nanoseconds (None: use the current time)."""
        if self.data_time is None:
            return None
        try:
            return parse_time_arg(self.data_time)
        except InvalidInputError as exc:
            raise UsageError(f"data_time: {exc}") from None

    def replace(self, **changes) -> Settings:
        """A copy with some fields changed (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def registry_path(self) -> Path:
        """The SQLite registry file."""
        return Path(self.data_dir) / "registry.sqlite3"


_PATH_FIELDS = {"data_dir", "tls_cert", "tls_key"}


def load_settings(path: str | Path | None = None, **overrides) -> Settings:
    """Defaults, then the TOML file at ``path`` (if given), then non-None ``overrides``.

    Raises
    ------
    UsageError
        For an unreadable or malformed file, or an unknown setting (named with the file).
    """
    values: dict = {}
    if path is not None:
        import tomllib

        try:
            with open(path, "rb") as fh:
                doc = tomllib.load(fh)
        except OSError as exc:
            raise UsageError(f"{path}: cannot read configuration ({exc.strerror})") from None
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{path}: malformed TOML ({exc})") from None
        doc = {**{k: v for k, v in doc.items() if not isinstance(v, dict)}, **doc.get("server", {})}
        known = {f.name: f for f in dataclasses.fields(Settings)}
        for key, value in doc.items():
            if key not in known:
                raise UsageError(f"{path}: unknown setting {key!r}")
            values[key] = Path(value) if key in _PATH_FIELDS else value
    values.update({k: (Path(v) if k in _PATH_FIELDS else v) for k, v in overrides.items() if v is not None})
    settings = Settings(**values)
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise UsageError("TLS needs both tls_cert and tls_key")
    return settings
