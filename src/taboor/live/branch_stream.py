"""A branch's stream: each ticket event of the branch, resumable from any event id."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, time

from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.live.auth import WatchedBranch
from taboor.live.changes import TicketChange, branch_backlog
from taboor.live.hub import LiveHub
from taboor.live.resume import opened_stream
from taboor.live.sse import PING, RETRY, message


def start_of_day(now: datetime, branch: WatchedBranch) -> datetime:
    """The start of the branch's local day, in UTC."""
    local_day = now.astimezone(branch.zone).date()
    return datetime.combine(local_day, time(0), tzinfo=branch.zone).astimezone(UTC)


async def branch_events(
    hub: LiveHub,
    branch: WatchedBranch,
    resume_from: int | None,
    now: datetime,
    heartbeat_seconds: float,
) -> AsyncIterator[bytes]:
    """Without ``resume_from``: live from now. With it: first the branch's events after
    it (today's, the newest ``BACKLOG_LIMIT``), then live; never twice, never a gap:
    the hub sends what comes after the subscription's cursor, the backlog what is up
    to it."""
    since = start_of_day(now, branch)

    def backlog(
        connection: AsyncConnection, after: int, upto: int
    ) -> Awaitable[list[TicketChange]]:
        return branch_backlog(connection, branch.id, after, upto, since)

    async with opened_stream(hub, branch.id, resume_from, backlog) as opened:
        yield RETRY
        for change in opened.backlog:
            yield message(change.id, "ticket", change.json())
        subscription, sent_up_to = opened.subscription, opened.sent_up_to
        while True:
            try:
                batch = await subscription.next(heartbeat_seconds)
            except TimeoutError:
                yield PING
                continue
            if batch is None:
                return
            for change in batch:
                if change.id > sent_up_to:
                    yield message(change.id, "ticket", change.json())
