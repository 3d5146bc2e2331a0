"""HTTP API handlers: stations, health, mountpoints, sessions, Prometheus metrics, OpenAPI.

Handlers read the service state through the typed app keys of :mod:`gnssaug.server.app` and shape
replies only through :mod:`gnssaug.server.api.schemas`.
"""

from __future__ import annotations

import hmac
import time

from aiohttp import web

from gnssaug.server.api import schemas
from gnssaug.server.api.openapi import openapi_document
from gnssaug.server.keys import CASTER, HUB, INGESTS, REGISTRY
from gnssaug.stations.registry import NotFoundError

routes = web.RouteTableDef()


def _not_found(message: str) -> web.Response:
    return web.json_response(schemas.error(404, message), status=404)


def _station_dicts(app: web.Application) -> list[dict]:
    caster, ingests = app[CASTER], app[INGESTS]
    out = []
    for st in app[REGISTRY].stations():
        ing = ingests.find(st.mount)
        snap = ing.health.snapshot() if ing is not None else None
        out.append(schemas.station(st, snap, st.mount in caster.sources, ing.arp_ecef_m if ing else None,
                                   ing.decoder.summary() if ing else None))
    return out


@routes.get("/api/v1/stations")
async def list_stations(request: web.Request) -> web.Response:
    """All registered stations; ``?format=geojson`` for a GeoJSON FeatureCollection."""
    items = _station_dicts(request.app)
    if request.query.get("format") == "geojson":
        return web.json_response(schemas.stations_geojson(items), content_type="application/geo+json")
    return web.json_response({"stations": items})


@routes.get("/api/v1/stations.geojson")
async def stations_geojson(request: web.Request) -> web.Response:
    """The stations as GeoJSON."""
    return web.json_response(schemas.stations_geojson(_station_dicts(request.app)),
                             content_type="application/geo+json")


@routes.get("/api/v1/stations/{mount}")
async def station_detail(request: web.Request) -> web.Response:
    """One station with its health."""
    mount = request.match_info["mount"]
    try:
        st = request.app[REGISTRY].station(mount)
    except NotFoundError:
        return _not_found(f"no station {mount}")
    ing = request.app[INGESTS].find(mount)
    snap = ing.health.snapshot() if ing is not None else None
    return web.json_response(schemas.station(st, snap, mount in request.app[CASTER].sources,
                                             ing.arp_ecef_m if ing else None,
                                             ing.decoder.summary() if ing else None))


@routes.get("/api/v1/stations/{mount}/health")
async def station_health(request: web.Request) -> web.Response:
    """One station's health figures (404 for an unknown station, ``state: never`` before data)."""
    mount = request.match_info["mount"]
    try:
        request.app[REGISTRY].station(mount)
    except NotFoundError:
        return _not_found(f"no station {mount}")
    return web.json_response(schemas.health(request.app[INGESTS].get(mount).health.snapshot()))


@routes.get("/api/v1/network/health")
async def network_health(request: web.Request) -> web.Response:
    """Summary of all stations' health."""
    snaps = [ing.health.snapshot() for ing in request.app[INGESTS].all().values()]
    return web.json_response(schemas.network_health(snaps, len(request.app[REGISTRY].stations())))


@routes.get("/api/v1/mountpoints")
async def mountpoints(request: web.Request) -> web.Response:
    """The mountpoints on offer now (as in the sourcetable) with subscriber counts."""
    hub = request.app[HUB]
    caster = request.app[CASTER]
    items = []
    for info in caster.mount_infos():
        if info.mount == caster.settings.near_mount:
            subs = sum(1 for s in caster.clients.values() if s.mount == info.mount)
        else:
            subs = hub.subscribers(info.mount)
        items.append(schemas.mountpoint(info, subs))
    return web.json_response({"mountpoints": items})


@routes.get("/api/v1/sessions")
async def sessions(request: web.Request) -> web.Response:
    """Active client and station sessions, and the most recent accounted ones (``?limit=N``)."""
    caster = request.app[CASTER]
    token = caster.settings.api_token
    if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return web.json_response(schemas.error(401, "sessions need Authorization: Bearer <api_token>"), status=401,
                                 headers={"WWW-Authenticate": "Bearer"})
    now = time.time()
    try:
        limit = max(1, min(int(request.query.get("limit", "100")), 10_000))
    except ValueError:
        return web.json_response(schemas.error(400, "limit must be an integer"), status=400)
    return web.json_response({
        "active": [schemas.client_session(s, now) for s in list(caster.clients.values())]
        + [schemas.source_session(s, now) for s in list(caster.sources.values())],
        "recent": [schemas.session_record(r) for r in request.app[REGISTRY].sessions(limit)],
    })


@routes.get("/api/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of this API."""
    return web.json_response(openapi_document())


def _metric(lines: list[str], name: str, kind: str, help_text: str, samples) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")
    for labels, value in samples:
        lab = ",".join(f'{k}="{v}"' for k, v in labels.items())
        lines.append(f"{name}{{{lab}}} {value}" if lab else f"{name} {value}")


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition format 0.0.4."""
    caster, hub = request.app[CASTER], request.app[HUB]
    lines: list[str] = []
    _metric(lines, "gnssaug_ntrip_clients", "gauge", "Connected NTRIP readers.", [({}, len(caster.clients))])
    _metric(lines, "gnssaug_ntrip_sources", "gauge", "Connected station uploads and pulls.",
            [({}, len(caster.sources))])
    _metric(lines, "gnssaug_ntrip_connections_total", "counter", "Accepted TCP connections.",
            [({}, caster.counters["connections"])])
    _metric(lines, "gnssaug_ntrip_replies_total", "counter", "Replies by status.",
            [({"status": str(k)}, v) for k, v in sorted(caster.replies.items())])
    _metric(lines, "gnssaug_ntrip_events_total", "counter", "Caster events (bad requests, timeouts, ...).",
            [({"event": k}, v) for k, v in sorted(caster.counters.items()) if k != "connections"])
    _metric(lines, "gnssaug_ntrip_banned_addresses", "gauge", "Addresses banned for failed logins.",
            [({}, len(caster.guard.banned()))])
    _metric(lines, "gnssaug_hub_publishes_total", "counter", "Frame batches published per mountpoint.",
            [({"mount": m}, v) for m, v in sorted(hub.published.items())])
    _metric(lines, "gnssaug_hub_bytes_total", "counter", "Bytes published per mountpoint.",
            [({"mount": m}, v) for m, v in sorted(hub.bytes_published.items())])
    _metric(lines, "gnssaug_hub_dropped_total", "counter", "Publishes dropped for slow clients.",
            [({}, hub.dropped_total)])
    _metric(lines, "gnssaug_hub_stalled_total", "counter", "Clients disconnected for not reading.",
            [({}, hub.stalled_total)])
    _metric(lines, "gnssaug_hub_subscribers", "gauge", "Subscribers per mountpoint.",
            [({"mount": m}, n) for m, n in sorted(hub.mounts().items())])
    snaps = [ing.health.snapshot() for ing in request.app[INGESTS].all().values()]
    _metric(lines, "gnssaug_station_up", "gauge", "1 while the station streams.",
            [({"mount": s.mount}, int(s.state == "up")) for s in snaps])
    _metric(lines, "gnssaug_station_epochs_total", "counter", "Epochs received.",
            [({"mount": s.mount}, s.epochs) for s in snaps])
    _metric(lines, "gnssaug_station_missing_epochs_total", "counter", "Epochs missing in gaps.",
            [({"mount": s.mount}, s.missing_epochs) for s in snaps])
    _metric(lines, "gnssaug_station_crc_errors_total", "counter", "Frames with a bad CRC.",
            [({"mount": s.mount}, s.crc_errors) for s in snaps])
    _metric(lines, "gnssaug_station_bytes_total", "counter", "Bytes received.",
            [({"mount": s.mount}, s.bytes_in) for s in snaps])
    _metric(lines, "gnssaug_station_last_epoch_age_seconds", "gauge", "Seconds since the last epoch.",
            [({"mount": s.mount}, round(s.last_epoch_age_s, 3)) for s in snaps if s.last_epoch_age_s is not None])
    _metric(lines, "gnssaug_station_satellites", "gauge", "Satellites in the last epoch per system.",
            [({"mount": s.mount, "system": k}, v) for s in snaps for k, v in sorted(s.satellites.items())])
    return web.Response(body=("\n".join(lines) + "\n").encode(),
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
