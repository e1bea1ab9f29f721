"""The live queue of a branch, as staff see it: per service the waiting tickets in
queue order with their estimates, and per counter who holds it and what it serves now.

Three queries whatever the queue's length (services, counters, the branch's active
tickets by the queue index), plus the recent service times, remembered per process.
Each waiting ticket's estimate is the formula of design.md §2 with its position in the
list as ``queueSize`` and the open counters that take the service as ``c``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.counters.service import CounterState, list_counters
from taboor.db import tables as t
from taboor.tickets.eta import ServiceTimes, estimate_minutes
from taboor.tickets.views import format_ticket_number

_s, _g, _tk, _cu = t.services.c, t.service_groups.c, t.tickets.c, t.customers.c
Names = dict[str, str]


@dataclass(frozen=True, slots=True)
class QueuedTicket:
    id: str
    ticket_number: str
    status: str
    type: str
    time: datetime | None
    queue_at: datetime
    status_at: datetime
    service_id: str
    counter_id: str | None
    customer_name: str | None
    queue_size: int | None = None
    waiting_time: int | None = None


# A ticket's columns for a QueuedTicket, with its customer's name (also read by the
# counter's day, taboor.counters.today).
QUEUED_TICKET_COLUMNS = (
    _tk.id,
    _tk.prefix,
    _tk.number,
    _tk.status,
    _tk.type,
    _tk.time,
    _tk.queue_at,
    _tk.status_at,
    _tk.service_id,
    _tk.counter_id,
    _cu.name.label("customer_name"),
)
TICKETS_WITH_CUSTOMERS = t.tickets.outerjoin(t.customers, _cu.id == _tk.customer_id)


def queued_ticket(row: Any) -> QueuedTicket:
    """A row of ``QUEUED_TICKET_COLUMNS`` as a QueuedTicket (without its estimate)."""
    return QueuedTicket(
        row.id,
        format_ticket_number(row.prefix, row.number),
        row.status,
        row.type,
        row.time,
        row.queue_at,
        row.status_at,
        row.service_id,
        row.counter_id,
        row.customer_name,
    )


@dataclass(slots=True)
class ServiceQueue:
    id: str
    name: Names
    prefix: str
    open_counters: int
    mean_minutes: float
    waiting: list[QueuedTicket] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BranchQueue:
    services: list[ServiceQueue]
    counters: list[CounterState]
    at_counters: dict[str, list[QueuedTicket]]  # counter id → its called/serving tickets


async def live_queue(
    connection: AsyncConnection,
    company_id: str,
    branch_id: str,
    now: datetime,
    service_times: ServiceTimes,
) -> BranchQueue:
    service_rows = (
        await connection.execute(
            select(_s.id, _s.name, _s.prefix, _s.avg_service_minutes)
            .join(t.service_groups, _g.id == _s.group_id)
            .where(
                _s.company_id == company_id,
                _s.branch_id == branch_id,
                _s.active.is_(True),
                _g.active.is_(True),
            )
            .order_by(_g.position, _s.position, _s.id)
        )
    ).all()
    counters = await list_counters(connection, company_id, branch_id)
    open_counts: dict[str, int] = {}
    for counter in counters:
        if counter.is_open:
            for service_id in counter.enabled_services:
                open_counts[service_id] = open_counts.get(service_id, 0) + 1
    queues: dict[str, ServiceQueue] = {}
    for service_id, name, prefix, average in service_rows:
        mean = await service_times.mean(connection, service_id, average, now)
        queues[service_id] = ServiceQueue(
            service_id, name, prefix, open_counts.get(service_id, 0), mean
        )
    at_counters: dict[str, list[QueuedTicket]] = {}
    if queues:
        tickets = await connection.execute(
            select(*QUEUED_TICKET_COLUMNS)
            .select_from(TICKETS_WITH_CUSTOMERS)
            .where(
                _tk.service_id.in_(list(queues)),
                _tk.status.in_(("waiting", "called", "serving")),
            )
            .order_by(_tk.service_id, _tk.queue_at, _tk.number, _tk.id)
        )
        for row in tickets:
            ticket = queued_ticket(row)
            if row.status != "waiting":
                if row.counter_id is not None:
                    at_counters.setdefault(row.counter_id, []).append(ticket)
                continue
            queue = queues[row.service_id]
            ahead = len(queue.waiting)
            queue.waiting.append(
                replace(
                    ticket,
                    queue_size=ahead,
                    waiting_time=estimate_minutes(ahead, queue.mean_minutes, queue.open_counters),
                )
            )
    return BranchQueue(list(queues.values()), counters, at_counters)
