"""Admission: at most as many requests of a process at work at once as its database pool
keeps connections; the others wait for their turn, in arrival order.

Why: each request holds a pool connection while it works. Past the pool's kept size
SQLAlchemy opens an overflow connection and closes it again when the request ends, so
a process under more concurrent requests than its pool spent most of its time opening
PostgreSQL connections (a new backend, authentication, every statement prepared again):
measured with the bench company, ``GET /tickets/{id}`` went from 1 000 to 2 700
requests/s at 32 clients once that stopped (bench/README.md). Waiting here instead, in
arrival order, also keeps the latencies of a busy process close together: nobody's
request is overtaken by dozens of later ones.

Long-lived answers (the live streams) hold no connection while they wait for events:
their handlers are marked with ``opt={LONG_LIVED: True}`` and pass freely, else a few
open displays would take every turn. The pool keeps its overflow for the rare request
that needs a second connection (a rate-limit count beside an idempotent request's
transaction), so admission can never deadlock on the pool.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

LONG_LIVED = "long_lived"


class Admission:
    """ASGI middleware (after routing): HTTP requests take a turn of ``limit``."""

    def __init__(self, app: ASGIApp, turns: asyncio.Semaphore) -> None:
        self.app, self.turns = app, turns

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if scope["type"] != ScopeType.HTTP or (handler is not None and handler.opt.get(LONG_LIVED)):
            await self.app(scope, receive, send)
            return
        async with self.turns:
            await self.app(scope, receive, send)


def admission_middleware(limit: int) -> Any:
    """The middleware factory Litestar takes (``middleware=[...]``). Litestar builds a
    middleware stack per route: the turns are one semaphore for all of them."""
    turns = asyncio.Semaphore(limit)

    def factory(app: ASGIApp) -> ASGIApp:
        return Admission(app, turns)

    return factory
