"""Queue position and waiting-time estimate (design.md §2).

``waitingTime = round(queueSize × m / c)`` where ``m`` is the mean real service time
(serving → served) of the last 20 tickets served for the service at the branch in the
past 7 days, falling back to the service's ``avgServiceMinutes``, and ``c`` the
counters serving it (at least 1). Until counters can be opened and closed by staff,
every counter configured for the service counts as open.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.db import tables as t

SAMPLE_SIZE = 20
SAMPLE_WINDOW = timedelta(days=7)

tk = t.tickets.c


def estimate_minutes(queue_size: int, mean_minutes: float, counters: int) -> int:
    return round(queue_size * mean_minutes / max(1, counters))


async def queue_size(
    connection: AsyncConnection, service_id: str, queue_at: datetime, number: int, ticket_id: str
) -> int:
    """Waiting tickets ahead in the same service queue (one index range count). Queue
    order is ``(queue_at, number, id)``: tickets booked in the same instant keep the
    order of their numbers."""
    same_instant_ahead = or_(tk.number < number, and_(tk.number == number, tk.id < ticket_id))
    ahead = await connection.scalar(
        select(func.count())
        .select_from(t.tickets)
        .where(
            tk.service_id == service_id,
            tk.status == "waiting",
            or_(tk.queue_at < queue_at, and_(tk.queue_at == queue_at, same_instant_ahead)),
        )
    )
    return int(ahead or 0)


async def mean_service_minutes(
    connection: AsyncConnection, service_id: str, fallback: int, now: datetime
) -> float:
    """Mean minutes from start of serving to served, over the recent sample."""
    ev = t.ticket_events.c
    recent = (
        select(tk.id, tk.status_at)
        .where(
            tk.service_id == service_id,
            tk.status == "served",
            tk.status_at >= now - SAMPLE_WINDOW,
        )
        .order_by(tk.status_at.desc())
        .limit(SAMPLE_SIZE)
        .subquery()
    )
    rows = (
        await connection.execute(
            select(recent.c.status_at, func.max(ev.at))
            .join(t.ticket_events, ev.ticket_id == recent.c.id)
            .where(ev.to_status == "serving")
            .group_by(recent.c.id, recent.c.status_at)
        )
    ).all()
    durations = [
        (finished - started).total_seconds() / 60
        for finished, started in rows
        if started is not None and finished >= started
    ]
    return sum(durations) / len(durations) if durations else float(fallback)


async def serving_counters(connection: AsyncConnection, service_id: str) -> int:
    count = await connection.scalar(
        select(func.count())
        .select_from(t.counter_services)
        .where(t.counter_services.c.service_id == service_id)
    )
    return int(count or 0)
