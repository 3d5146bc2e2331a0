"""Wire shapes of the HTTP API (JSON); the only module that knows them.

Each function turns an internal object into a plain dict ready for ``json.dumps``; field names
carry their units. Times are Unix seconds (``*_s``) unless named otherwise.
"""

from __future__ import annotations

import dataclasses

from gnssaug.server.ntrip.sourcetable import format_details, nav_systems
from gnssaug.stations.registry import ecef_to_llh


def _round(v, nd=3):
    return None if v is None else round(float(v), nd)


def health(snapshot) -> dict:
    """A station's health (:class:`gnssaug.stations.health.HealthSnapshot`)."""
    d = dataclasses.asdict(snapshot)
    for key in ("last_data_age_s", "last_epoch_age_s", "latency_s", "epochs_per_s", "interval_s", "completeness"):
        d[key] = _round(d[key])
    d["message_types"] = {str(k): v for k, v in sorted(d["message_types"].items())}
    return d


def station(st, snapshot, online: bool, arp_ecef_m=None, decoded: dict | None = None) -> dict:
    """A registered station with its position and, when it ever streamed, its health and what was
    decoded from it (epochs, last epoch time, ephemerides)."""
    xyz = st.xyz_ecef_m or arp_ecef_m
    llh = None
    if xyz is not None:
        llh = ecef_to_llh(xyz)
    return {
        "mount": st.mount,
        "identifier": st.identifier,
        "country": st.country,
        "online": online,
        "source": "pull" if st.upstream else "push",
        "x_ecef_m": _round(xyz[0], 4) if xyz else None,
        "y_ecef_m": _round(xyz[1], 4) if xyz else None,
        "z_ecef_m": _round(xyz[2], 4) if xyz else None,
        "lat_deg": _round(llh[0], 9) if llh else None,
        "lon_deg": _round(llh[1], 9) if llh else None,
        "h_m": _round(llh[2], 4) if llh else None,
        "health": health(snapshot) if snapshot is not None else None,
        "decoded": decoded,
    }


def stations_geojson(stations: list[dict]) -> dict:
    """RFC 7946 FeatureCollection of the stations that have a position."""
    feats = []
    for s in stations:
        if s["lat_deg"] is None:
            continue
        props = {k: v for k, v in s.items() if k not in ("lat_deg", "lon_deg", "health", "decoded")}
        props["state"] = s["health"]["state"] if s["health"] else "never"
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [s["lon_deg"], s["lat_deg"],
                                                                                      s["h_m"]]},
                      "properties": props})
    return {"type": "FeatureCollection", "features": feats}


def mountpoint(info, subscribers: int) -> dict:
    """A mountpoint on offer (:class:`gnssaug.server.ntrip.sourcetable.MountInfo`)."""
    counts = info.message_counts or {}
    return {"mount": info.mount, "identifier": info.identifier, "lat_deg": _round(info.lat_deg, 6),
            "lon_deg": _round(info.lon_deg, 6), "nmea": info.nmea, "network": info.network,
            "format_details": format_details(counts, info.elapsed_s), "nav_systems": nav_systems(counts),
            "bitrate_bps": round(info.bytes_total * 8 / info.elapsed_s) if info.elapsed_s > 0 else 0,
            "subscribers": subscribers, "misc": info.misc}


def client_session(sess, now_s: float) -> dict:
    """An active reader session."""
    return {"id": sess.id, "kind": "client", "user": sess.user, "mount": sess.mount, "station": sess.station,
            "address": sess.address, "ntrip_version": sess.version, "started_s": _round(sess.started_s),
            "duration_s": _round(now_s - sess.started_s), "bytes_out": sess.sub.bytes_out,
            "bytes_in": sess.bytes_in, "dropped": sess.sub.dropped, "gga_count": sess.gga_count}


def source_session(sess, now_s: float) -> dict:
    """An active station upload or pull."""
    return {"id": sess.id, "kind": sess.kind, "mount": sess.mount, "address": sess.address,
            "ntrip_version": sess.version, "started_s": _round(sess.started_s),
            "duration_s": _round(now_s - sess.started_s), "bytes_in": sess.bytes_in}


def session_record(rec) -> dict:
    """An accounted session from the registry (finished or not)."""
    return {"id": rec.id, "kind": rec.kind, "user": rec.user, "mount": rec.mount, "address": rec.address,
            "started_s": _round(rec.started_s), "ended_s": _round(rec.ended_s),
            "duration_s": _round(rec.ended_s - rec.started_s) if rec.ended_s else None,
            "bytes_out": rec.bytes_out, "bytes_in": rec.bytes_in}


def network_health(snapshots: list, registered: int) -> dict:
    """Summary over all stations."""
    up = [s for s in snapshots if s.state == "up"]
    comp = [s.completeness for s in up if s.completeness is not None]
    lat = [s.latency_s for s in up if s.latency_s is not None]
    return {"stations_registered": registered, "stations_up": len(up),
            "stations_outage": sum(s.state == "outage" for s in snapshots),
            "stations_never": registered - len(snapshots),
            "completeness_mean": _round(sum(comp) / len(comp)) if comp else None,
            "latency_max_s": _round(max(lat)) if lat else None,
            "crc_errors": sum(s.crc_errors for s in snapshots)}


def error(status: int, message: str) -> dict:
    """An error body."""
    return {"status": status, "error": message}
