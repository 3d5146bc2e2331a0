"""Sourcetable records (CAS, NET, STR) built from the registry and the live stream statistics.

Record layouts follow RTCM 10410.1 Annex as used by BKG/BNC (reference/ntrip-and-mountpoints.md §7):
``STR;mountpoint;identifier;format;format-details;carrier;nav-system;network;country;latitude;``
``longitude;nmea;solution;generator;compr-encryp;authentication;fee;bitrate;misc``,
``CAS;host;port;identifier;operator;nmea;country;latitude;longitude;fallback-host;fallback-port;misc``,
``NET;identifier;operator;authentication;fee;web-net;web-str;web-reg;misc``.
"""

from __future__ import annotations

from dataclasses import dataclass

_OBS_SYSTEMS = {107: "GPS", 108: "GLO", 109: "GAL", 110: "SBAS", 111: "QZS", 112: "BDS", 113: "IRN"}
_LEGACY = {1001: "GPS", 1002: "GPS", 1003: "GPS", 1004: "GPS", 1009: "GLO", 1010: "GLO", 1011: "GLO", 1012: "GLO"}


@dataclass(frozen=True)
class MountInfo:
    """What the sourcetable says about one mountpoint.

    ``message_counts`` maps message type -> count over ``elapsed_s`` of streaming, from which the
    ``type(interval s)`` format details and the bitrate are derived.
    """

    mount: str
    identifier: str
    lat_deg: float
    lon_deg: float
    country: str = ""
    message_counts: dict[int, int] | None = None
    elapsed_s: float = 0.0
    bytes_total: int = 0
    nmea: bool = False
    network: bool = False
    misc: str = ""


def format_details(counts: dict[int, int], elapsed_s: float) -> str:
    """``1005(10),1077(1),...``: message types with their mean interval in whole seconds."""
    parts = []
    for msg_type in sorted(counts):
        n = counts[msg_type]
        if elapsed_s > 0 and n > 1:
            parts.append(f"{msg_type}({max(1, round(elapsed_s / n))})")
        else:
            parts.append(str(msg_type))
    return ",".join(parts)


def nav_systems(counts: dict[int, int]) -> str:
    """``GPS+GLO+GAL+BDS`` from the observation message types seen."""
    systems = []
    for msg_type in sorted(counts):
        name = _LEGACY.get(msg_type) or (_OBS_SYSTEMS.get(msg_type // 10) if 1 <= msg_type % 10 <= 7 else None)
        if name and name not in systems:
            systems.append(name)
    return "+".join(systems)


def _carrier(counts: dict[int, int]) -> int:
    types = set(counts)
    if any(t in (1003, 1004, 1011, 1012) or (1070 < t < 1140 and t % 10 in (2, 3, 4, 5, 6, 7)) for t in types):
        return 2  # dual-frequency phase (legacy L1/L2 or MSM with phase)
    if any(t in (1001, 1002, 1009, 1010) for t in types):
        return 1
    return 0


def _clean(text: str) -> str:
    return str(text).replace(";", ",").replace("\r", " ").replace("\n", " ")


def str_record(m: MountInfo, network: str) -> str:
    """One ``STR`` line (no line ending)."""
    counts = m.message_counts or {}
    bitrate = round(m.bytes_total * 8 / m.elapsed_s) if m.elapsed_s > 0 else 0
    fields = ["STR", m.mount, _clean(m.identifier), "RTCM 3.3", format_details(counts, m.elapsed_s),
              str(_carrier(counts)), nav_systems(counts), _clean(network), _clean(m.country),
              f"{m.lat_deg:.2f}", f"{m.lon_deg:.2f}", "1" if m.nmea else "0", "1" if m.network else "0",
              "gnssaug", "none", "B", "N", str(bitrate), _clean(m.misc)]
    return ";".join(fields)


def build_sourcetable(mounts: list[MountInfo], *, host: str, port: int, identifier: str, operator: str,
                      network: str, country: str = "", lat_deg: float = 0.0, lon_deg: float = 0.0) -> str:
    """The sourcetable body: one CAS, one NET and one STR per mountpoint, CRLF line ends.

    ``ENDSOURCETABLE`` is added by :func:`gnssaug.server.ntrip.protocol.render_sourcetable`.
    """
    lines = [";".join(["CAS", _clean(host), str(port), _clean(identifier), _clean(operator), "0", _clean(country),
                       f"{lat_deg:.2f}", f"{lon_deg:.2f}", "0.0.0.0", "0", ""]),
             ";".join(["NET", _clean(network), _clean(operator), "B", "N", "", "", "", ""])]
    lines += [str_record(m, network) for m in sorted(mounts, key=lambda m: m.mount)]
    return "".join(line + "\r\n" for line in lines)
