"""The app factory: wires settings, Redis, the check service and the pages into one aiohttp app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import jinja2
from aiohttp import web

from signlink.config import Settings
from signlink.deadline import bounded, stop_task
from signlink.queue.store import QueueStore
from signlink.queue.sweeper import Sweeper
from signlink.redisio import connect, is_cluster, keyspace_for, parse_url
from signlink.web import auth, cases_api, check_api, hours_api, keys, qa_api, routes, video_mail_api, ws
from signlink.web.health import Health
from signlink.web.middleware import add_security_headers, error_middleware, metrics_guard

log = logging.getLogger(__name__)

HEALTH_PROBE_INTERVAL_S = 2.0
REDIS_MAX_CONNECTIONS = 200  # per process


def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("signlink.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )


async def _redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    # Short timeouts: with Redis away, requests fail fast and /healthz says degraded. Any URL form
    # (one Redis, Sentinel, Cluster: signlink/redisio/client.py); a dead connection is retried once.
    target = parse_url(settings.redis_url)
    space = keyspace_for(settings, cluster=target.hash_tag)
    redis = connect(target, max_connections=REDIS_MAX_CONNECTIONS, slot_key=space.root)
    app[keys.REDIS] = redis
    health = app[keys.HEALTH]

    async def watch() -> None:
        while True:
            await health.probe(redis)
            await asyncio.sleep(HEALTH_PROBE_INTERVAL_S)

    watcher = asyncio.create_task(watch(), name="redis-health")
    yield
    await stop_task(watcher, "the Redis health probe")
    await bounded("close the Redis connections", redis.aclose())


async def _queue_ctx(app: web.Application) -> AsyncIterator[None]:
    # The queue store on the app's Redis, and this process's sweeper (expires what any process made).
    settings = app[keys.SETTINGS]
    redis = app[keys.REDIS]
    store = QueueStore(redis, settings, keys=keyspace_for(settings, cluster=is_cluster(redis)))
    app[keys.QUEUE] = store
    sweeper = Sweeper(store, settings.sweep_interval_s)
    sweeper.start()
    yield
    await sweeper.stop()


def create_app(settings: Settings) -> web.Application:
    """Build the application. `settings.redis_url` must already point at a Redis."""
    app = web.Application(middlewares=[error_middleware, metrics_guard], client_max_size=1024**2)
    app.on_response_prepare.append(add_security_headers)
    app[keys.SETTINGS] = settings
    app[keys.TEMPLATES] = _templates()
    app[keys.HEALTH] = Health()
    app.cleanup_ctx.append(_redis_ctx)
    app.cleanup_ctx.append(_queue_ctx)
    app.cleanup_ctx.append(check_api.check_service_ctx)
    app.on_shutdown.append(check_api.end_checks_on_shutdown)
    auth.setup(app)
    app.cleanup_ctx.append(ws.calls_ctx)  # after auth.setup: the call service needs the account store
    app.cleanup_ctx.append(qa_api.records_ctx)  # the QA records and this process's recorder
    app.cleanup_ctx.append(hours_api.hours_ctx)  # after records_ctx: it uses the database
    app.cleanup_ctx.append(video_mail_api.video_mail_ctx)
    app.cleanup_ctx.append(cases_api.slots_ctx)  # after records_ctx: it uses the database
    app.on_shutdown.append(ws.close_calls_on_shutdown)
    routes.setup(app)
    return app
