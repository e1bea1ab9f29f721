"""Opening a stream: join the hub, then read what the client missed from the log.

Both streams open the same way. The hub sends only events after the subscription's
cursor, so the log is read up to that cursor and no further: every event reaches the
client exactly once, from one side or the other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.db.uow import read_connection
from taboor.live.changes import TicketChange
from taboor.live.hub import LiveHub, Subscription

# (connection, after, up to) → the events in (after, up to], in id order.
BacklogReader = Callable[[AsyncConnection, int, int], Awaitable[list[TicketChange]]]


@dataclass(frozen=True, slots=True)
class OpenedStream:
    subscription: Subscription
    backlog: list[TicketChange]
    # What the client has had: live events up to here are not sent again. Above the
    # cursor when the client resumed from a process that had read further.
    sent_up_to: int


@asynccontextmanager
async def opened_stream(
    hub: LiveHub, branch_id: str, resume_from: int | None, read_backlog: BacklogReader
) -> AsyncIterator[OpenedStream]:
    async with hub.subscribe(branch_id) as subscription:
        cursor = subscription.cursor
        resume = await hub.resume_point(subscription, resume_from)
        backlog: list[TicketChange] = []
        if resume is not None:
            async with read_connection(hub.engine) as connection:
                backlog = await read_backlog(connection, resume, cursor)
        yield OpenedStream(subscription, backlog, max(cursor, resume or 0))
