"""Telling the hubs that ``ticket_events`` has news, once the change has committed.

The domain notes a change where it writes an event (``taboor.live.marks``: a flag on
the current request, no I/O); when the request is over, and so its transaction
committed, ``WakeAfterWrites`` wakes this process's hub and, with Redis, publishes one
wake-up for the others. A writer therefore pays no query and no wait for live updates.
Writes outside requests (the no-show sweep) call ``WakeUps.changed`` themselves.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from taboor.live.hub import LiveHub
from taboor.live.marks import ChangeMark, current_mark
from taboor.live.redis_wakeups import RedisPublisher


class WakeUps:
    def __init__(self, hub: LiveHub, publisher: RedisPublisher | None) -> None:
        self.hub = hub
        self.publisher = publisher

    def changed(self) -> None:
        self.hub.wake()
        if self.publisher is not None:
            self.publisher.publish()


_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class WakeAfterWrites:
    """ASGI middleware: after a request that wrote ticket events, ``WakeUps.changed``."""

    __slots__ = ("app", "wakeups")

    def __init__(self, app: ASGIApp, wakeups: WakeUps) -> None:
        self.app = app
        self.wakeups = wakeups

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] in _READS:
            await self.app(scope, receive, send)
            return
        mark = ChangeMark()
        token = current_mark.set(mark)
        try:
            await self.app(scope, receive, send)
        finally:
            current_mark.reset(token)
            if mark.changed:
                self.wakeups.changed()
