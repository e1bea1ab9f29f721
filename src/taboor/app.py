"""The ASGI application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.types import Empty
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.api.cors import answer_preflights
from taboor.api.errors import EXCEPTION_HANDLERS
from taboor.api.external_v1.auth import add_call_headers
from taboor.api.external_v1.router import external_router
from taboor.api.idempotency import idempotency_middleware
from taboor.api.request_ids import add_request_id_header
from taboor.api.staff_v1.router import staff_router
from taboor.clock import Clock, system_clock
from taboor.db.engine import create_engine, libpq_url
from taboor.keys.cache import KeyCache
from taboor.live.routes import live_handlers
from taboor.live.runtime import LiveRuntime
from taboor.live.wakeups import WakeAfterWrites
from taboor.ops.admission import admission_middleware
from taboor.ops.heap import freeze_startup_heap
from taboor.ops.housekeeping import Housekeeper
from taboor.ops.logs import configure_logging
from taboor.ops.observe import ObservedApp
from taboor.ops.routes import ops_handlers
from taboor.settings import Settings
from taboor.tickets.eta import ServiceTimes
from taboor.tickets.no_show import NoShowSweeper
from taboor.web.routes import web_handlers


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    clock: Clock = system_clock,
    key_cache: bool | None = None,
) -> Litestar:
    """Build the app. Tests pass their own engine and a pinned clock; the server passes
    neither and gets an engine from the settings, disposed of at shutdown."""
    settings = settings or Settings.from_env()
    owns_engine = engine is None
    app_engine = engine or create_engine(settings.database_url, pool_size=settings.db_pool_size)

    # The no-show sweep runs in the background of a server: an app that built its own
    # engine from the settings. An app handed an engine belongs to a test (or an
    # embedding) that moves time itself with a pinned clock; a loop writing to its
    # database behind its back would make it nondeterministic, so it gets none. A test
    # that wants the loop builds the app from settings (it then owns its engine).
    # Live streams: a hub per process tailing ticket_events while someone watches
    # (taboor.live, docs/live.md). Only a server's ends its streams on SIGTERM: a test
    # app must not take over the test runner's signal handlers.
    live = LiveRuntime(app_engine, settings, watch_signals=owns_engine)
    sweeper = (
        NoShowSweeper(app_engine, clock, settings.no_show_interval_seconds, live.wakeups.changed)
        if owns_engine and settings.no_show_interval_seconds > 0
        else None
    )
    # Pruning what has expired runs like the sweep: in a server, not behind a test's back.
    housekeeper = (
        Housekeeper(app_engine, clock, settings.housekeeping_interval_seconds)
        if owns_engine and settings.housekeeping_interval_seconds > 0
        else None
    )

    # API keys are remembered per process on PostgreSQL, exact thanks to notifications
    # (taboor.keys.cache); by default a server's, not a test's, like the sweep.
    keys = KeyCache(settings.key_cache_seconds)
    cache_keys = (
        (owns_engine if key_cache is None else key_cache)
        and app_engine.dialect.name == "postgresql"
        and settings.key_cache_seconds > 0
    )

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        if sweeper is not None:
            sweeper.start()
        if housekeeper is not None:
            housekeeper.start()
        listener = asyncio.create_task(keys.listen(libpq_url(app_engine))) if cache_keys else None
        await live.start()
        try:
            yield
        finally:
            await live.stop()
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
            if sweeper is not None:
                await sweeper.stop()
            if housekeeper is not None:
                await housekeeper.stop()
            if owns_engine:
                await app_engine.dispose()

    # A server's settings name a log format (`taboor serve` sets one): every logger then
    # writes through ours. Without one (tests) Litestar's defaults stay.
    if settings.log_format is not None:
        configure_logging(settings.log_format, settings.log_level)

    app = Litestar(
        route_handlers=[
            external_router(),
            staff_router(),
            *ops_handlers,
            *live_handlers,
            *web_handlers,
        ],
        state=State(
            {
                "engine": app_engine,
                "clock": clock,
                "service_times": ServiceTimes(),
                "no_show_sweeper": sweeper,
                "housekeeper": housekeeper,
                "key_cache": keys,
                "live": live,
            }
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[add_request_id_header, add_call_headers],
        # Admission first: a request waits for its turn before it takes a connection.
        middleware=[
            admission_middleware(settings.db_pool_size),
            idempotency_middleware(app_engine, clock),
            answer_preflights,
        ],
        lifespan=[lifespan],
        openapi_config=None,
        logging_config=None if settings.log_format is not None else Empty,
        debug=False,
    )
    # Outermost, around routing and error handling, so every answer (404s and 500s too)
    # is counted, timed and logged, and log lines carry the request id.
    # Inside it, the wake-up of the live streams once a request that wrote ticket
    # events is over (its transaction committed).
    app.asgi_handler = ObservedApp(WakeAfterWrites(app.asgi_handler, live.wakeups))
    return app


def create_server_app() -> Litestar:
    """Factory for the ASGI server (granian / uvicorn ``--factory``)."""
    app = create_app()
    # Only a server's process: a test run building many apps would keep them all.
    app.on_startup.append(freeze_startup_heap)
    return app
