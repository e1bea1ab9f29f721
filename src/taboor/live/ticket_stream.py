"""One ticket's stream: its status, place in the queue, estimate and counter as they
change, until it reaches a final status.

Events of the ticket's branch may move it (a ticket ahead called, cancelled or
transferred away; one transferred in): each batch with such an event
(``TicketState.moved_by``) makes the stream read the ticket again, as
``GET /tickets/{id}`` does, and send it only if something changed. A heartbeat reads
it too: counters opening or closing change the estimate without any ticket event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.api.external_v1.representations import utc_timestamp
from taboor.clock import Clock
from taboor.db import tables as t
from taboor.db.uow import read_connection
from taboor.live.changes import TicketChange, ticket_backlog
from taboor.live.hub import LiveHub
from taboor.live.resume import opened_stream
from taboor.live.sse import PING, RETRY, message
from taboor.tickets.eta import ServiceTimes
from taboor.tickets.views import ticket_view

FINAL_STATUSES = frozenset({"served", "cancelled", "no_show"})
_tk = t.tickets.c
_COUNTER = select(_tk.counter_id).where(_tk.id == bindparam("ticket_id"))


@dataclass(frozen=True, slots=True)
class TicketState:
    ticket_id: str
    ticket_number: str
    status: str
    status_at: datetime
    queue_size: int | None
    waiting_time: int | None
    counter_id: str | None
    # Not sent: which queue the ticket is in, to tell which events can move it.
    service_id: str | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def json(self) -> dict[str, Any]:
        return {
            "ticketId": self.ticket_id,
            "ticketNumber": self.ticket_number,
            "status": self.status,
            "statusAt": utc_timestamp(self.status_at),
            "queueSize": self.queue_size,
            "waitingTime": self.waiting_time,
            "counterId": self.counter_id,
        }

    @classmethod
    def replayed(cls, change: TicketChange) -> TicketState:
        """A past transition from the log: its status and when; the queue and counter
        of that moment are not kept, so they are null (the current state follows)."""
        return cls(change.ticket_id, change.number, change.status, change.at, None, None, None)

    def moved_by(self, change: TicketChange) -> bool:
        """Could ``change`` move this ticket's status, place or estimate? Its own
        events; any event of its queue (a ticket ahead called, cancelled, booked, a
        service time learnt); a ticket put back to waiting (a transfer may have taken it
        out of this queue: the event names the queue it went to). Other queues' calls and
        bookings cannot."""
        if change.ticket_id == self.ticket_id or change.service_id == self.service_id:
            return True
        return change.status == "waiting" and change.from_status is not None


@dataclass(frozen=True, slots=True)
class WatchedTicket:
    id: str
    company_id: str
    branch_id: str


async def ticket_state(
    connection: AsyncConnection,
    ticket: WatchedTicket,
    now: datetime,
    service_times: ServiceTimes,
) -> TicketState | None:
    view = await ticket_view(connection, ticket.company_id, ticket.id, now, service_times)
    if view is None:
        return None
    counter_id = await connection.scalar(_COUNTER, {"ticket_id": ticket.id})
    return TicketState(
        view.id,
        view.ticket_number,
        view.status,
        view.status_at,
        view.queue_size,
        view.waiting_time,
        counter_id,
        view.service[0],
    )


async def ticket_events(
    hub: LiveHub,
    ticket: WatchedTicket,
    resume_from: int | None,
    clock: Clock,
    service_times: ServiceTimes,
    heartbeat_seconds: float,
) -> AsyncIterator[bytes]:
    """The ticket's own transitions after ``resume_from`` (when given), then its
    current state, then each change; ends after a final status (or if the ticket is
    deleted)."""

    async def current() -> TicketState | None:
        async with read_connection(hub.engine) as connection:
            return await ticket_state(connection, ticket, clock(), service_times)

    def backlog(
        connection: AsyncConnection, after: int, upto: int
    ) -> Awaitable[list[TicketChange]]:
        return ticket_backlog(connection, ticket.id, after, upto)

    async with opened_stream(hub, ticket.branch_id, resume_from, backlog) as opened:
        yield RETRY
        for change in opened.backlog:
            yield message(change.id, "ticket", TicketState.replayed(change).json())
        subscription, sent_up_to = opened.subscription, opened.sent_up_to
        state = await current()
        if state is None:
            return
        yield message(sent_up_to, "ticket", state.json())
        while not state.final:
            event_id: int | None = None
            try:
                batch = await subscription.next(heartbeat_seconds)
            except TimeoutError:
                yield PING
            else:
                if batch is None:
                    return
                fresh = [change for change in batch if change.id > sent_up_to]
                if not fresh:
                    continue
                event_id = sent_up_to = fresh[-1].id
                if not any(state.moved_by(change) for change in fresh):
                    continue
            latest = await current()
            if latest is None:
                return
            if latest != state:
                state = latest
                yield message(event_id, "ticket", state.json())
