"""Pruning the rows that only matter for a while, so their tables stay the size of the
present: stored idempotent answers past their 24 hours, rate-limit windows and login
throttle windows that have ended.

Every row removed here is one the code would already treat as absent: an expired
idempotency key is free again (``taboor.api.idempotency``), and a counter whose window
ended starts a new window on its next hit (``taboor.limits.counting``,
``taboor.staff.throttle``). So pruning changes no answer, and several server processes
may prune at the same moment (a DELETE of rows already gone deletes nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.api.idempotency import KEPT_FOR
from taboor.clock import Clock
from taboor.db import tables as t
from taboor.db.uow import run_in_transaction
from taboor.limits.counting import WINDOW as RATE_LIMIT_WINDOW
from taboor.ops.periodic import Periodic
from taboor.staff.throttle import WINDOW as LOGIN_THROTTLE_WINDOW

logger = logging.getLogger("taboor.housekeeping")

_EXPIRED_IDEMPOTENCY = delete(t.idempotency_keys)
_ENDED_RATE_WINDOWS = delete(t.rate_limit_counters)
_ENDED_THROTTLE_WINDOWS = delete(t.login_throttle)


@dataclass(frozen=True, slots=True)
class Pruned:
    idempotency_keys: int
    rate_limit_counters: int
    login_throttle: int

    @property
    def total(self) -> int:
        return self.idempotency_keys + self.rate_limit_counters + self.login_throttle


async def prune_expired(engine: AsyncEngine, now: datetime) -> Pruned:
    """Delete what has expired at ``now``; how many rows of each table."""

    async def work(connection: AsyncConnection) -> Pruned:
        keys = await connection.execute(
            _EXPIRED_IDEMPOTENCY.where(t.idempotency_keys.c.created_at <= now - KEPT_FOR)
        )
        windows = await connection.execute(
            _ENDED_RATE_WINDOWS.where(
                t.rate_limit_counters.c.window_started_at <= now - RATE_LIMIT_WINDOW
            )
        )
        throttles = await connection.execute(
            _ENDED_THROTTLE_WINDOWS.where(
                t.login_throttle.c.window_started_at <= now - LOGIN_THROTTLE_WINDOW
            )
        )
        return Pruned(keys.rowcount, windows.rowcount, throttles.rowcount)

    return await run_in_transaction(engine, work)


class Housekeeper:
    """Runs ``prune_expired`` every ``interval_seconds`` in the background of a server
    process; a failure is logged and the next run tries again."""

    def __init__(self, engine: AsyncEngine, clock: Clock, interval_seconds: float) -> None:
        self.engine = engine
        self.clock = clock
        self._loop = Periodic("taboor-housekeeping", interval_seconds, self.prune_once)

    async def prune_once(self) -> Pruned | None:
        try:
            pruned = await prune_expired(self.engine, self.clock())
        except Exception:
            logger.exception("housekeeping failed; trying again later")
            return None
        if pruned.total:
            logger.info(
                "pruned %d idempotency key(s), %d rate-limit window(s), %d login window(s)",
                pruned.idempotency_keys,
                pruned.rate_limit_counters,
                pruned.login_throttle,
            )
        return pruned

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
