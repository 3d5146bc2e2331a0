"""The service application: ``create_app(settings)`` wires registry, hub, ingest, caster and API.

Each background resource has its own ``cleanup_ctx`` (DESIGN.md "Server"): started in order when
the app starts, stopped in reverse order when it stops. No module globals; all state hangs off the
application under typed keys (:mod:`gnssaug.server.keys`).
"""

from __future__ import annotations

from aiohttp import web

from gnssaug.server.api.routes import routes
from gnssaug.server.hub import Hub
from gnssaug.server.keys import CASTER, HUB, INGESTS, REGISTRY, SETTINGS
from gnssaug.server.ntrip.caster import Caster
from gnssaug.server.settings import Settings
from gnssaug.stations.ingest import StationIngests
from gnssaug.stations.registry import Registry


async def _registry_ctx(app: web.Application):
    app[REGISTRY] = Registry(app[SETTINGS].registry_path)
    yield
    app[REGISTRY].close()


async def _hub_ctx(app: web.Application):
    s = app[SETTINGS]
    app[HUB] = Hub(s.backlog_items, s.high_water_bytes, s.stall_timeout_s)
    app[INGESTS] = StationIngests(s.outage_after_s, s.data_time_gpst_ns)
    yield


async def _caster_ctx(app: web.Application):
    caster = Caster(app[SETTINGS], app[REGISTRY], app[HUB], app[INGESTS])
    app[CASTER] = caster
    await caster.start()
    yield
    await caster.stop()


def create_app(settings: Settings) -> web.Application:
    """The aiohttp application of the service; the NTRIP listener starts with it.

    Parameters
    ----------
    settings : Settings
        Ports, data directory and limits.

    Returns
    -------
    aiohttp.web.Application
        Run it with ``aiohttp.web.run_app`` or an ``AppRunner``; ``app[CASTER].port`` is the NTRIP
        port actually bound once started.
    """
    app = web.Application()
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_registry_ctx)
    app.cleanup_ctx.append(_hub_ctx)
    app.cleanup_ctx.append(_caster_ctx)
    app.add_routes(routes)
    return app
