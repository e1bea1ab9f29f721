"""A branch's stream: each ticket event of the branch, resumable from any event id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time

from taboor.db.uow import read_connection
from taboor.live.auth import WatchedBranch
from taboor.live.changes import branch_backlog
from taboor.live.hub import LiveHub
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
    async with hub.subscribe(branch.id) as subscription:
        yield RETRY
        sent_up_to = subscription.cursor
        resume_from = await hub.resume_point(subscription, resume_from)
        if resume_from is not None:
            async with read_connection(hub.engine) as connection:
                backlog = await branch_backlog(
                    connection,
                    branch.id,
                    resume_from,
                    subscription.cursor,
                    start_of_day(now, branch),
                )
            for change in backlog:
                yield message(change.id, "ticket", change.json())
            # A client may be ahead of this process's hub (it resumed from another
            # worker's stream): what it has already had is not sent again.
            sent_up_to = max(sent_up_to, resume_from)
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
