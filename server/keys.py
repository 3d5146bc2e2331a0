"""Typed application keys (``aiohttp.web.AppKey``) of the service state, shared by app and routes."""

from __future__ import annotations

from aiohttp import web

from gnssaug.server.hub import Hub
from gnssaug.server.ntrip.caster import Caster
from gnssaug.server.settings import Settings
from gnssaug.stations.ingest import StationIngests
from gnssaug.stations.registry import Registry

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", Registry)
HUB = web.AppKey("hub", Hub)
INGESTS = web.AppKey("ingests", StationIngests)
CASTER = web.AppKey("caster", Caster)
