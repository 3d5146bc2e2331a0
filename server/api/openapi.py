"""The OpenAPI 3.1 document of the HTTP API (kept beside the routes it describes)."""

from __future__ import annotations

from gnssaug import __version__

_JSON = "application/json"


def _get(summary: str, schema_ref: str | None = None, params: list | None = None, content: str = _JSON,
         not_found: bool = False) -> dict:
    op: dict = {"summary": summary, "responses": {"200": {"description": "OK", "content": {
        content: {"schema": {"$ref": f"#/components/schemas/{schema_ref}"} if schema_ref else {"type": "object"}}}}}}
    if params:
        op["parameters"] = params
    if not_found:
        op["responses"]["404"] = {"description": "unknown station",
                                  "content": {_JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {"get": op}


_MOUNT = {"name": "mount", "in": "path", "required": True, "schema": {"type": "string"}}
_NUM = {"type": ["number", "null"]}


def openapi_document() -> dict:
    """The API description served at ``/api/v1/openapi.json``."""
    health = {"type": "object", "properties": {
        "mount": {"type": "string"}, "state": {"enum": ["never", "up", "outage"]}, "connected": {"type": "boolean"},
        "outage_since_s": _NUM, "outages": {"type": "integer"}, "last_data_age_s": _NUM, "last_epoch_age_s": _NUM,
        "latency_s": _NUM, "epochs_per_s": {"type": "number"}, "interval_s": _NUM, "completeness": _NUM,
        "epochs": {"type": "integer"}, "missing_epochs": {"type": "integer"}, "gaps": {"type": "integer"},
        "satellites": {"type": "object", "additionalProperties": {"type": "integer"}},
        "frames": {"type": "integer"}, "bytes_in": {"type": "integer"}, "crc_errors": {"type": "integer"},
        "dropped_bytes": {"type": "integer"},
        "message_types": {"type": "object", "additionalProperties": {"type": "integer"}}}}
    station = {"type": "object", "properties": {
        "mount": {"type": "string"}, "identifier": {"type": "string"}, "country": {"type": "string"},
        "online": {"type": "boolean"}, "source": {"enum": ["push", "pull"]},
        **{k: _NUM for k in ("x_ecef_m", "y_ecef_m", "z_ecef_m", "lat_deg", "lon_deg", "h_m")},
        "health": {"oneOf": [{"$ref": "#/components/schemas/Health"}, {"type": "null"}]}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "gnssaug correction service", "version": __version__,
                 "description": "Stations, health, mountpoints and sessions of the NTRIP caster."},
        "paths": {
            "/api/v1/stations": _get("List registered stations (?format=geojson for GeoJSON)", "StationList",
                                     [{"name": "format", "in": "query", "schema": {"enum": ["json", "geojson"]}}]),
            "/api/v1/stations.geojson": _get("Stations as a GeoJSON FeatureCollection", None,
                                             content="application/geo+json"),
            "/api/v1/stations/{mount}": _get("One station", "Station", [_MOUNT], not_found=True),
            "/api/v1/stations/{mount}/health": _get("One station's health", "Health", [_MOUNT], not_found=True),
            "/api/v1/network/health": _get("Health summary of all stations"),
            "/api/v1/mountpoints": _get("Mountpoints on offer"),
            "/api/v1/sessions": _get("Active and recent sessions", None,
                                     [{"name": "limit", "in": "query", "schema": {"type": "integer"}}]),
            "/api/v1/openapi.json": _get("This document"),
            "/metrics": _get("Prometheus metrics", None, content="text/plain"),
        },
        "components": {"schemas": {
            "Health": health, "Station": station,
            "StationList": {"type": "object", "properties": {
                "stations": {"type": "array", "items": {"$ref": "#/components/schemas/Station"}}}},
            "Error": {"type": "object", "properties": {"status": {"type": "integer"}, "error": {"type": "string"}}},
        }},
    }
