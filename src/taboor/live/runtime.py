"""The live machinery of one server process: its hub, its wake-ups, and the end of
every stream when the process is asked to stop."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.live.hub import LiveHub
from taboor.live.redis_wakeups import RedisPublisher
from taboor.live.wakeups import WakeUps
from taboor.settings import Settings

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class LiveRuntime:
    def __init__(self, engine: AsyncEngine, settings: Settings, *, watch_signals: bool) -> None:
        self.hub = LiveHub(
            engine,
            poll_seconds=settings.live_poll_seconds,
            safety_poll_seconds=settings.live_safety_poll_seconds,
            redis_url=settings.redis_url,
        )
        self.heartbeat_seconds = settings.live_heartbeat_seconds
        self.publisher = RedisPublisher(settings.redis_url) if settings.redis_url else None
        self.wakeups = WakeUps(self.hub, self.publisher)
        self._watch_signals = watch_signals
        self._restore: Callable[[], None] | None = None

    async def start(self) -> None:
        if self._watch_signals:
            self._restore = _end_streams_on_stop_signals(self.hub)

    async def stop(self) -> None:
        if self._restore is not None:
            self._restore()
            self._restore = None
        await self.hub.close()
        if self.publisher is not None:
            await self.publisher.close()


def _end_streams_on_stop_signals(hub: LiveHub) -> Callable[[], None]:
    """End every stream as soon as SIGTERM or SIGINT arrives.

    The server (granian, uvicorn) stops accepting and then waits for the requests in
    flight before it runs the app's shutdown; an open stream is such a request and
    would hold the process until the kill timeout. So we chain a handler in front of
    the server's own: it ends the streams and passes the signal on. (granian's handler
    is an event-loop handler, which the loop learns of through its wake-up fd whatever
    Python-level handler is installed; the one found here is a no-op, called anyway.)
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    installed: dict[int, Any] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(hub.end_streams)
        previous = installed.get(signum)
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            # Nobody else handles it: do what would have happened without us.
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    for stop in _STOP_SIGNALS:
        installed[stop] = signal.getsignal(stop)
        signal.signal(stop, handler)

    def restore() -> None:
        for stop, previous in installed.items():
            if signal.getsignal(stop) is handler and previous is not None:
                signal.signal(stop, previous)

    return restore
