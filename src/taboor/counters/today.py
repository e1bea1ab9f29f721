"""A counter's day so far, for the person working it: tickets served and no-shows at
the counter since the branch's local midnight, their mean real service time, the
tickets at the counter now, and today's appointments of its services still to be
checked in (the console checks them in by id; the live queue lists only tickets that
are already queued).

A ticket counts for the counter it ended at: ``counter_id`` stays on a served or
no-show ticket (a transfer clears it, so a transferred ticket counts where it ends).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.catalog.branches import zone
from taboor.counters.queue import (
    QUEUED_TICKET_COLUMNS,
    TICKETS_WITH_CUSTOMERS,
    QueuedTicket,
    queued_ticket,
)
from taboor.db import tables as t
from taboor.scheduling.slots import local_today

_b, _c, _cs, _tk = t.branches.c, t.counters.c, t.counter_services.c, t.tickets.c


@dataclass(frozen=True, slots=True)
class CounterDay:
    day: date
    served: int
    no_shows: int
    average_service_minutes: float | None
    current: list[QueuedTicket]
    appointments: list[QueuedTicket]


def _local_day_bounds(day: date, zone_name: str) -> tuple[datetime, datetime]:
    """The UTC instants of the local day's start and the next day's start."""
    tz = zone(zone_name)
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


# Today's rows also need when serving began (the mean service time).
_TICKET_COLUMNS = (*QUEUED_TICKET_COLUMNS, _tk.serving_at)


async def counter_day(
    connection: AsyncConnection, company_id: str, counter_id: str, now: datetime
) -> CounterDay:
    """The counter's day (the counter must be the company's; the caller checked)."""
    branch_zone = await connection.scalar(
        select(_b.timezone)
        .join(t.counters, _c.branch_id == _b.id)
        .where(_c.id == counter_id, _c.company_id == company_id)
    )
    assert branch_zone is not None, "the caller checks the counter first"
    today = local_today(now, zone(branch_zone))
    start, end = _local_day_bounds(today, branch_zone)
    rows = (
        await connection.execute(
            select(*_TICKET_COLUMNS)
            .select_from(TICKETS_WITH_CUSTOMERS)
            .where(
                _tk.company_id == company_id,
                _tk.counter_id == counter_id,
                _tk.status.in_(("called", "serving", "served", "no_show")),
            )
            # Ended today, or at the counter now whenever it was called.
            .where((_tk.status_at >= start) | _tk.status.in_(("called", "serving")))
            .order_by(_tk.status_at, _tk.id)
        )
    ).all()
    served = [row for row in rows if row.status == "served" and row.status_at < end]
    no_shows = sum(1 for row in rows if row.status == "no_show" and row.status_at < end)
    durations = [
        (row.status_at - row.serving_at).total_seconds() / 60
        for row in served
        if row.serving_at is not None and row.status_at >= row.serving_at
    ]
    services = select(_cs.service_id).where(_cs.counter_id == counter_id).scalar_subquery()
    appointments = (
        await connection.execute(
            select(*_TICKET_COLUMNS)
            .select_from(TICKETS_WITH_CUSTOMERS)
            .where(
                _tk.company_id == company_id,
                _tk.service_id.in_(services),
                _tk.status == "upcoming",
                _tk.service_day == today,
            )
            .order_by(_tk.time, _tk.number, _tk.id)
        )
    ).all()
    return CounterDay(
        day=today,
        served=len(served),
        no_shows=no_shows,
        average_service_minutes=round(sum(durations) / len(durations), 1) if durations else None,
        current=[queued_ticket(row) for row in rows if row.status in ("called", "serving")],
        appointments=[queued_ticket(row) for row in appointments],
    )
