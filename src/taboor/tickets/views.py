"""Tickets as callers see them. One query gives the ticket with its names, its place
in the queue and the counters serving it; a waiting ticket costs one more (at most 20
rows) for the recent real service times behind its estimate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, null, select
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.db import tables as t
from taboor.tickets.eta import (
    ServiceTimes,
    estimate_minutes,
    queue_size_column,
    serving_counters_column,
)

tk = t.tickets.c
Names = dict[str, str]


@dataclass(frozen=True, slots=True)
class TicketView:
    id: str
    ticket_number: str
    status: str
    status_at: datetime
    type: str
    time: datetime | None
    booked_at: datetime
    branch: tuple[str, Names]
    service: tuple[str, Names]
    group: tuple[str, Names]
    customer: tuple[str, str | None] | None
    queue_size: int | None = None
    waiting_time: int | None = None


def format_ticket_number(prefix: str, number: int) -> str:
    return f"{prefix}{number:03d}"


# The tickets columns a view is made from: what ``joined_view`` selects of its source,
# so a statement that writes a ticket can return them (``RETURNING``) and be its own view.
VIEW_TICKET_COLUMNS = (
    "id",
    "prefix",
    "number",
    "status",
    "status_at",
    "type",
    "time",
    "booked_at",
    "queue_at",
    "service_id",
    "branch_id",
    "group_id",
    "customer_id",
)


def joined_view(ticket: Any = t.tickets, *, in_queue: bool = True) -> Select[Any]:
    """The columns ``view_of`` makes a view of, for the tickets of ``ticket`` (the
    table, or a CTE returning ``VIEW_TICKET_COLUMNS``) with their names. Without
    ``in_queue`` (for tickets known not to be waiting) the queue's two correlated
    counts are left out: a view only reads them for a waiting ticket."""
    queue_size, counters = (
        (queue_size_column(ticket), serving_counters_column(ticket))
        if in_queue
        else (null(), null())
    )
    return (
        select(
            *(ticket.c[name] for name in VIEW_TICKET_COLUMNS),
            t.branches.c.name.label("branch_name"),
            t.services.c.name.label("service_name"),
            t.services.c.avg_service_minutes,
            t.service_groups.c.name.label("group_name"),
            t.customers.c.name.label("customer_name"),
            queue_size.label("queue_size"),
            counters.label("counters"),
        )
        .select_from(ticket)
        .join(t.branches, t.branches.c.id == ticket.c.branch_id)
        .join(t.services, t.services.c.id == ticket.c.service_id)
        .join(t.service_groups, t.service_groups.c.id == ticket.c.group_id)
        .outerjoin(t.customers, t.customers.c.id == ticket.c.customer_id)
    )


async def view_of(
    connection: AsyncConnection, row: Any, now: datetime, service_times: ServiceTimes
) -> TicketView:
    """The view of a ``joined_view`` row (a waiting ticket's estimate reads the recent
    service times on ``connection``)."""
    position = waiting = None
    if row.status == "waiting":
        position = int(row.queue_size)
        mean = await service_times.mean(connection, row.service_id, row.avg_service_minutes, now)
        waiting = estimate_minutes(position, mean, int(row.counters))
    return TicketView(
        id=row.id,
        ticket_number=format_ticket_number(row.prefix, row.number),
        status=row.status,
        status_at=row.status_at,
        type=row.type,
        time=row.time,
        booked_at=row.booked_at,
        branch=(row.branch_id, row.branch_name),
        service=(row.service_id, row.service_name),
        group=(row.group_id, row.group_name),
        customer=(row.customer_id, row.customer_name) if row.customer_id else None,
        queue_size=position,
        waiting_time=waiting,
    )


# Built once: constructing these joins and correlated subqueries per request cost more
# CPU than running them (profiled: 40 % of a ticket fetch). Values go in as bind params.
_TICKET_BY_ID = joined_view().where(
    tk.id == bindparam("ticket_id"), tk.company_id == bindparam("company_id")
)
_CUSTOMER_TICKETS = (
    joined_view()
    .where(tk.company_id == bindparam("company_id"), tk.customer_id == bindparam("customer_id"))
    .order_by(tk.booked_at.desc(), tk.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


async def ticket_view(
    connection: AsyncConnection,
    company_id: str,
    ticket_id: str,
    now: datetime,
    service_times: ServiceTimes | None = None,
) -> TicketView | None:
    parameters = {"ticket_id": ticket_id, "company_id": company_id}
    row = (await connection.execute(_TICKET_BY_ID, parameters)).first()
    if row is None:
        return None
    return await view_of(connection, row, now, service_times or ServiceTimes())


async def customer_ticket_page(
    connection: AsyncConnection,
    company_id: str,
    customer_id: str,
    page: int,
    limit: int,
    now: datetime,
    service_times: ServiceTimes | None = None,
) -> tuple[list[TicketView], int]:
    """A customer's tickets, newest booking first."""
    scope = (tk.company_id == company_id) & (tk.customer_id == customer_id)
    total = await connection.scalar(select(func.count()).select_from(t.tickets).where(scope))
    rows = await connection.execute(
        _CUSTOMER_TICKETS,
        {
            "company_id": company_id,
            "customer_id": customer_id,
            "limit": limit,
            "offset": (page - 1) * limit,
        },
    )
    times = service_times or ServiceTimes()
    return [await view_of(connection, row, now, times) for row in rows.all()], int(total or 0)
