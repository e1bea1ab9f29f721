"""Queue position and waiting-time estimate (design.md §2).

``waitingTime = round(queueSize × m / c)`` where ``m`` is the mean real service time
(``serving_at`` → served) of the last 20 tickets served for the service at the branch
in the past 7 days, falling back to the service's ``avgServiceMinutes``, and ``c`` the
open counters serving it, at least 1. A counter is open while a staff user holds it
(``counters.held_by``), and serves the service while its ``counter_services`` row for
it is ``enabled`` (the agent's choice among the services the company file lets it
take). Closed counters, and open ones that have switched the service off, do not
shorten anyone's wait; with none serving, the estimate is as for one counter.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.db import tables as t

SAMPLE_SIZE = 20
SAMPLE_WINDOW = timedelta(days=7)


def estimate_minutes(queue_size: int, mean_minutes: float, counters: int) -> int:
    """``round(queue_size × mean_minutes / max(1, counters))`` (Python's round: halves
    go to the even neighbour)."""
    return round(queue_size * mean_minutes / max(1, counters))


def queue_size_column(ticket: Any) -> ColumnElement[int]:
    """Correlated count of the waiting tickets ahead of ``ticket`` (a tickets alias) in
    its service queue. Queue order is ``(queue_at, number, id)`` (tickets booked in the
    same instant keep the order of their numbers); the row comparison is one range of
    the index on ``(service_id, status, queue_at, number, id)``, read from the index
    alone."""
    ahead = t.tickets.alias("ahead")
    return (
        select(func.count())
        .where(
            ahead.c.service_id == ticket.c.service_id,
            ahead.c.status == t.WAITING,
            tuple_(ahead.c.queue_at, ahead.c.number, ahead.c.id)
            < tuple_(ticket.c.queue_at, ticket.c.number, ticket.c.id),
        )
        .scalar_subquery()
    )


def open_counters_of(service_id: ColumnElement[str]) -> ColumnElement[int]:
    """Correlated count of the open counters serving the service ``service_id`` names
    now: held by someone, with the service enabled. One index range on
    ``counter_services`` by service, then each counter by its key."""
    cs, counter = t.counter_services.c, t.counters.c
    return (
        select(func.count())
        .select_from(t.counter_services.join(t.counters, counter.id == cs.counter_id))
        .where(
            cs.service_id == service_id,
            cs.enabled.is_(True),
            counter.held_by.is_not(None),
        )
        .scalar_subquery()
    )


def serving_counters_column(ticket: Any) -> ColumnElement[int]:
    """``open_counters_of`` the service of ``ticket`` (a tickets alias)."""
    return open_counters_of(ticket.c.service_id)


_tk = t.tickets.c
_RECENT_SERVICE_TIMES = (
    select(_tk.serving_at, _tk.status_at)
    .where(
        _tk.service_id == bindparam("service_id"),
        _tk.status == "served",
        _tk.status_at >= bindparam("since", type_=_tk.status_at.type),
        _tk.serving_at.is_not(None),
    )
    .order_by(_tk.status_at.desc())
    .limit(SAMPLE_SIZE)
)


async def mean_service_minutes(
    connection: AsyncConnection, service_id: str, fallback: int, now: datetime
) -> float:
    """Mean real minutes of the recent sample; one index range on
    ``(service_id, status, status_at)`` reading at most 20 rows."""
    rows = await connection.execute(
        _RECENT_SERVICE_TIMES, {"service_id": service_id, "since": now - SAMPLE_WINDOW}
    )
    durations = [
        (finished - started).total_seconds() / 60
        for started, finished in rows
        if finished >= started
    ]
    return sum(durations) / len(durations) if durations else float(fallback)


class ServiceTimes:
    """Each service's recent mean service time, remembered for a few seconds per
    process. It changes only when a ticket is served and it feeds an estimate, while
    waiting tickets are polled constantly: this saves a query on every such poll."""

    def __init__(self, ttl_seconds: float = 10.0) -> None:
        self.ttl_seconds = ttl_seconds
        self._entries: dict[str, tuple[float, float]] = {}

    async def mean(
        self, connection: AsyncConnection, service_id: str, fallback: int, now: datetime
    ) -> float:
        remembered = self._entries.get(service_id)
        moment = time.monotonic()
        if remembered is not None and remembered[0] > moment:
            return remembered[1]
        mean = await mean_service_minutes(connection, service_id, fallback, now)
        self._entries[service_id] = (moment + self.ttl_seconds, mean)
        return mean
