"""A piece of work run every few seconds in the background of a server process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable


class Periodic:
    """Runs ``work`` now, then again ``interval_seconds`` after each run ends, until
    stopped. ``work`` handles (logs) its own failures: a database hiccup must never end
    the loop, the next run catches up."""

    def __init__(
        self, name: str, interval_seconds: float, work: Callable[[], Awaitable[object]]
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive")
        self.name = name
        self.interval_seconds = interval_seconds
        self._work = work
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            await self._work()
            await asyncio.sleep(self.interval_seconds)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Cancel the loop and wait for it (a run in flight is cancelled with it)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
