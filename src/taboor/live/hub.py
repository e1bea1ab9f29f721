"""One hub per server process: it tails ``ticket_events`` while someone watches and
hands each new event to the streams of its branch (docs/live.md).

Every process runs its own hub on the shared database, so every stream on every worker
sees every change, whoever made it. Without Redis the hub reads the table every
``poll_seconds``; with Redis it reads as soon as a writer anywhere says it committed
(``taboor.live.wakeups``) and polls slowly in case a wake-up was lost. The hub delivers
events in id order without gaps (``taboor.live.order``), so a stream's ``id`` is a
correct resumption point.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.db.uow import read_connection
from taboor.live.changes import TAIL_BATCH, TicketChange, changes_after, last_event_id
from taboor.live.order import HOLE_TIMEOUT_SECONDS, HoleWatch, settled_prefix
from taboor.live.redis_wakeups import listen_for_wakeups

logger = logging.getLogger("taboor.live")

# A stream that cannot keep up (this many events unsent) is ended; its client resumes
# with Last-Event-ID and reads the backlog from the table instead of our memory.
SUBSCRIBER_BACKLOG = 5000
# After the last watcher leaves, the tail keeps going this long: a display that
# reconnects (or loads its board, then opens its stream) does not restart it.
LINGER_SECONDS = 5.0
RETRY_SECONDS = 1.0


class Subscription:
    """One stream's mailbox: the events of its branch after ``cursor``, in id order."""

    __slots__ = ("_pending", "_signal", "branch_id", "cursor", "ended")

    def __init__(self, branch_id: str, cursor: int) -> None:
        self.branch_id = branch_id
        # Every event with an id up to here was settled when the stream joined: the
        # hub sends only later ones; earlier ones are the stream's own backlog.
        self.cursor = cursor
        self.ended = False
        self._pending: list[TicketChange] = []
        self._signal = asyncio.Event()

    def push(self, changes: list[TicketChange]) -> None:
        if self.ended:
            return
        if len(self._pending) + len(changes) > SUBSCRIBER_BACKLOG:
            self._pending.clear()
            self.end()
            return
        self._pending.extend(changes)
        self._signal.set()

    def end(self) -> None:
        self.ended = True
        self._signal.set()

    async def next(self, heartbeat_seconds: float) -> list[TicketChange] | None:
        """The events since the last call; None once the stream must end. Raises
        ``TimeoutError`` after ``heartbeat_seconds`` without any (time for a heartbeat)."""
        if not self._pending and not self.ended:
            await asyncio.wait_for(self._signal.wait(), heartbeat_seconds)
        self._signal.clear()
        if self._pending:
            batch, self._pending = self._pending, []
            return batch
        return None


class LiveHub:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        poll_seconds: float,
        safety_poll_seconds: float,
        redis_url: str | None = None,
    ) -> None:
        self.engine = engine
        self.poll_seconds = poll_seconds
        self.safety_poll_seconds = safety_poll_seconds
        self.redis_url = redis_url
        self.cursor = 0
        self.redis_connected = False
        self._by_branch: dict[str, set[Subscription]] = {}
        self._watchers = 0
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._wake = asyncio.Event()
        self._watch: HoleWatch | None = None
        self._postgres = engine.dialect.name == "postgresql"

    @property
    def subscriber_count(self) -> int:
        return sum(len(subscriptions) for subscriptions in self._by_branch.values())

    @property
    def tailing(self) -> bool:
        return self._task is not None

    def wake(self) -> None:
        """Something committed: read the table now rather than at the next poll."""
        self._wake.set()

    @asynccontextmanager
    async def subscribe(self, branch_id: str) -> AsyncIterator[Subscription]:
        """A mailbox for ``branch_id``'s events from now on (its ``cursor`` says from
        which id), removed when the block exits. Once the server is shutting down the
        mailbox comes already ended: the stream closes and its client goes elsewhere."""
        if self._closed:
            yield _ended(branch_id, self.cursor)
            return
        self._watchers += 1  # keeps a starting tail from stopping before we join it
        try:
            if self._task is None or self._task.done():
                self._ready = asyncio.Event()
                self._task = asyncio.create_task(self._run(), name="taboor-live-hub")
            await self._ready.wait()
            # No await between reading the cursor and joining: the tail advances the
            # cursor and delivers in one step, so nothing falls between the two.
            subscription = Subscription(branch_id, self.cursor)
            if self._closed:
                subscription.end()
            members = self._by_branch.setdefault(branch_id, set())
            members.add(subscription)
            try:
                yield subscription
            finally:
                members.discard(subscription)
                if not members and self._by_branch.get(branch_id) is members:
                    del self._by_branch[branch_id]
        finally:
            self._watchers -= 1

    async def resume_point(self, subscription: Subscription, resume_from: int | None) -> int | None:
        """``resume_from`` if it is a point of the log. An id beyond the newest event
        (another database's, or made up) would hold back every event up to it: the
        stream is then live from now (None). An id a little ahead of this hub is fine
        (the client came from a process that had read further)."""
        if resume_from is None or resume_from <= subscription.cursor:
            return resume_from
        async with read_connection(self.engine) as connection:
            newest = await last_event_id(connection)
        return resume_from if resume_from <= newest else None

    def end_streams(self) -> None:
        """Shutdown has begun: end every stream now (the server waits for requests in
        flight, and a stream would otherwise hold it until the kill) and refuse new
        ones. Safe to call from a signal handler's callback, and more than once."""
        self._closed = True
        self._ready.set()
        for members in self._by_branch.values():
            for subscription in members:
                subscription.end()

    async def close(self) -> None:
        self.end_streams()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # The tail.

    async def _run(self) -> None:
        listener = (
            asyncio.create_task(listen_for_wakeups(self.redis_url, self._on_redis))
            if self.redis_url
            else None
        )
        try:
            await self._start()
            self._ready.set()
            idle_since: float | None = None
            while not self._closed:
                if self._watchers == 0:
                    idle_since = idle_since or time.monotonic()
                    if time.monotonic() - idle_since >= LINGER_SECONDS:
                        # Stop in this same step, so a new watcher starts a new tail.
                        self._task = None
                        return
                else:
                    idle_since = None
                more = await self._round()
                if not more:
                    await self._sleep()
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
            self.redis_connected = False

    def _on_redis(self, connected: bool | None) -> None:
        """The Redis listener's news: a wake-up (None) or its connection state."""
        if connected is not None:
            self.redis_connected = connected
        self._wake.set()  # on (re)connecting too: catch up with what we may have missed

    async def _sleep(self) -> None:
        interval = self.poll_seconds
        if self.redis_connected and self._watch is None:
            interval = self.safety_poll_seconds
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), interval)
        self._wake.clear()

    async def _start(self) -> None:
        """Start at the newest event, once every event up to it is settled."""
        while True:
            try:
                async with read_connection(self.engine) as connection:
                    cursor = await last_event_id(connection)
                    if self._postgres:
                        await self._settle_start(connection)
                self.cursor = cursor
                return
            except Exception:
                logger.exception("live: cannot read ticket_events; retrying")
                await asyncio.sleep(RETRY_SECONDS)

    async def _settle_start(self, connection: AsyncConnection) -> None:
        """Events below the newest id may still be in flight: wait until every
        transaction in flight after reading it has ended (bounded)."""
        started = time.monotonic()
        watch = HoleWatch(0, await _in_flight(connection), started)
        while watch.in_flight and not self._closed:
            if watch.settled_by(await _in_flight(connection), time.monotonic()):
                return
            await asyncio.sleep(min(self.poll_seconds, 0.05))

    async def _round(self) -> bool:
        """Read and deliver what is settled; whether a full batch came (read again)."""
        try:
            async with read_connection(self.engine) as connection:
                before = await _in_flight(connection) if self._watch is not None else None
                rows = await changes_after(connection, self.cursor)
                delivered, cursor, blocked = settled_prefix(
                    rows, self.cursor, lambda next_id: self._hole_settled(next_id, before)
                )
                self._deliver(delivered, cursor)
                if not blocked:
                    self._watch = None
                elif self._watch is None or rows[-1].id > self._watch.covers:
                    after = await _in_flight(connection)
                    self._watch = HoleWatch(rows[-1].id, after, time.monotonic())
        except Exception:
            logger.exception("live: tailing ticket_events failed; retrying")
            await asyncio.sleep(RETRY_SECONDS)
            return False
        return len(rows) == TAIL_BATCH and not blocked

    def _hole_settled(self, next_id: int, now: frozenset[int] | None) -> bool:
        if not self._postgres:
            return True  # one writer at a time: an id is visible once it exists
        watch = self._watch
        if watch is None or next_id > watch.covers:
            return False
        settled = watch.settled_by(now, time.monotonic())
        if settled and time.monotonic() - watch.since >= HOLE_TIMEOUT_SECONDS:
            logger.warning("live: skipped events below %d still missing after the timeout", next_id)
        return settled

    def _deliver(self, changes: list[TicketChange], cursor: int) -> None:
        """Hand out and move the cursor in one step (no await)."""
        by_branch: dict[str, list[TicketChange]] = {}
        for change in changes:
            if change.branch_id in self._by_branch:
                by_branch.setdefault(change.branch_id, []).append(change)
        for branch_id, batch in by_branch.items():
            for subscription in self._by_branch[branch_id]:
                subscription.push(batch)
        self.cursor = cursor


def _ended(branch_id: str, cursor: int) -> Subscription:
    subscription = Subscription(branch_id, cursor)
    subscription.end()
    return subscription


_IN_FLIGHT = text(
    "SELECT backend_xid::text FROM pg_stat_activity"
    " WHERE datname = current_database() AND backend_xid IS NOT NULL"
)


async def _in_flight(connection: AsyncConnection) -> frozenset[int]:
    """The write transactions in flight in our database now."""
    return frozenset(int(xid) for xid in (await connection.scalars(_IN_FLIGHT)).all())
