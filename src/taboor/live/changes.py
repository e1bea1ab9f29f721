"""Ticket changes as the live streams send them: rows of ``ticket_events`` joined with
their ticket (branch, service, number, counter).

The event log is the truth and the source of resumption: a stream's ``id`` is the
event's id, so ``Last-Event-ID`` says exactly where a client stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.api.external_v1.representations import utc_timestamp
from taboor.db import tables as t
from taboor.tickets.views import format_ticket_number

_ev, _tk, _sv = t.ticket_events.c, t.tickets.c, t.services.c

# A tail reads at most this many events per round; a burst bigger than that is read
# over the next rounds (no wait in between).
TAIL_BATCH = 1000
# A resuming branch stream replays at most this many of today's events.
BACKLOG_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class TicketChange:
    id: int
    company_id: str
    branch_id: str
    ticket_id: str
    number: str
    status: str
    from_status: str | None
    service_id: str
    # The ticket's counter when the event was read (the log does not keep it).
    counter_id: str | None
    at: datetime

    def json(self) -> dict[str, Any]:
        return {
            "eventId": self.id,
            "ticketId": self.ticket_id,
            "number": self.number,
            "status": self.status,
            "fromStatus": self.from_status,
            "serviceId": self.service_id,
            "counterId": self.counter_id,
            "at": utc_timestamp(self.at),
        }


def _changes() -> Select[Any]:
    return select(
        _ev.id,
        _ev.company_id,
        _tk.branch_id,
        _ev.ticket_id,
        _tk.prefix,
        _tk.number,
        _ev.to_status,
        _ev.from_status,
        _tk.service_id,
        _tk.counter_id,
        _ev.at,
    ).join(t.tickets, _tk.id == _ev.ticket_id)


def _change(row: Any) -> TicketChange:
    return TicketChange(
        id=int(row.id),
        company_id=row.company_id,
        branch_id=row.branch_id,
        ticket_id=row.ticket_id,
        number=format_ticket_number(row.prefix, row.number),
        status=row.to_status,
        from_status=row.from_status,
        service_id=row.service_id,
        counter_id=row.counter_id,
        at=row.at,
    )


# Built once (see taboor.tickets.views on why); values go in as bind parameters.
_AFTER = bindparam("after", type_=_ev.id.type)
_TAIL = _changes().where(_ev.id > _AFTER).order_by(_ev.id).limit(TAIL_BATCH)
_LAST_ID = select(func.max(_ev.id))
_SINCE = bindparam("since", type_=_ev.at.type)
# A ticket with an event today changed status today (every event sets ``status_at``), so
# the branch's tickets are found by the index on (service_id, status, status_at) and
# their events by the one on (ticket_id, id): never a scan of the whole log, however
# far back ``after`` is.
_BACKLOG = (
    _changes()
    .where(
        _tk.service_id.in_(select(_sv.id).where(_sv.branch_id == bindparam("branch_id"))),
        _tk.status.in_(t.TICKET_STATUSES),
        _tk.status_at >= _SINCE,
        _ev.id > _AFTER,
        _ev.id <= bindparam("upto", type_=_ev.id.type),
        _ev.at >= _SINCE,
    )
    .order_by(_ev.id.desc())
    .limit(BACKLOG_LIMIT)
)
_OWN = (
    _changes()
    .where(
        _ev.ticket_id == bindparam("ticket_id"),
        _ev.id > _AFTER,
        _ev.id <= bindparam("upto", type_=_ev.id.type),
    )
    .order_by(_ev.id)
    .limit(BACKLOG_LIMIT)
)


async def last_event_id(connection: AsyncConnection) -> int:
    return int(await connection.scalar(_LAST_ID) or 0)


async def changes_after(connection: AsyncConnection, after: int) -> list[TicketChange]:
    """The next events of every company in id order (the hub's tail)."""
    return [_change(row) for row in await connection.execute(_TAIL, {"after": after})]


async def branch_backlog(
    connection: AsyncConnection, branch_id: str, after: int, upto: int, since: datetime
) -> list[TicketChange]:
    """A branch's events in ``(after, upto]`` at or after ``since``, in id order: the
    newest ``BACKLOG_LIMIT`` of them when there are more."""
    parameters = {"branch_id": branch_id, "after": after, "upto": upto, "since": since}
    rows = (await connection.execute(_BACKLOG, parameters)).all()
    return [_change(row) for row in reversed(rows)]


async def ticket_backlog(
    connection: AsyncConnection, ticket_id: str, after: int, upto: int
) -> list[TicketChange]:
    """One ticket's events in ``(after, upto]``, in id order."""
    parameters = {"ticket_id": ticket_id, "after": after, "upto": upto}
    return [_change(row) for row in await connection.execute(_OWN, parameters)]
