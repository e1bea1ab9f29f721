"""The hub's delivery, below the HTTP layer: in id order and without gaps even when
PostgreSQL commits ids out of order, a rolled-back id not waited for long, and Redis
wake-ups that survive Redis going away (both databases; Redis against the local one)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as redis
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.db import tables as t
from taboor.live.hub import LiveHub, Subscription
from taboor.live.order import HoleWatch, settled_prefix
from taboor.live.redis_wakeups import CHANNEL
from tests.live.conftest import BRANCH, GROUP, HALL, Q1, Hall
from tests.live.helpers import free_port, until
from tests.live.test_workers import redis_url
from tests.support import insert_ticket


class Row:
    def __init__(self, id: int) -> None:
        self.id = id


def test_the_cursor_stops_at_a_hole_until_it_is_settled() -> None:
    rows = [Row(i) for i in (4, 5, 7, 8)]
    assert [r.id for r in settled_prefix(rows, 3, lambda _: False)[0]] == [4, 5]
    assert settled_prefix(rows, 3, lambda _: False)[1:] == (5, True)
    settled = settled_prefix(rows, 3, lambda next_id: next_id == 7)
    assert ([r.id for r in settled[0]], settled[1], settled[2]) == ([4, 5, 7, 8], 8, False)
    assert settled_prefix(rows, 1, lambda _: False) == ([], 1, True)  # 2, 3 missing


def test_a_hole_is_settled_once_its_writers_are_gone_or_too_old() -> None:
    watch = HoleWatch(covers=10, in_flight=frozenset({100, 101}), since=50.0)
    assert not watch.settled_by(None, 51.0)
    assert not watch.settled_by(frozenset({101, 205}), 51.0)
    assert watch.settled_by(frozenset({205}), 51.0)
    assert watch.settled_by(frozenset({100}), 60.0)  # the safety net


def _event(ticket_id: str, status: str = "waiting") -> dict[str, object]:
    from datetime import UTC, datetime

    return {
        "company_id": HALL,
        "ticket_id": ticket_id,
        "from_status": None,
        "to_status": status,
        "at": datetime(2026, 6, 7, 7, 0, tzinfo=UTC),
        "actor_kind": "system",
        "actor_id": None,
        "source": "system",
    }


async def _insert_event(connection: AsyncConnection, ticket_id: str) -> int:
    result = await connection.execute(
        t.ticket_events.insert().values(**_event(ticket_id)).returning(t.ticket_events.c.id)
    )
    return int(result.scalar_one())


async def _committed_event(engine: AsyncEngine, ticket_id: str) -> int:
    async with engine.begin() as connection:
        return await _insert_event(connection, ticket_id)


@contextlib.asynccontextmanager
async def _hub(engine: AsyncEngine, **options: object) -> AsyncIterator[LiveHub]:
    settings: dict[str, object] = {"poll_seconds": 0.02, "safety_poll_seconds": 0.02}
    settings.update(options)
    hub = LiveHub(engine, **settings)  # type: ignore[arg-type]
    try:
        yield hub
    finally:
        await hub.close()


async def _ids(subscription: Subscription, count: int, within: float = 2.0) -> list[int]:
    ids: list[int] = []
    while len(ids) < count:
        batch = await subscription.next(within)
        assert batch is not None
        ids += [change.id for change in batch]
    return ids


async def _ticket(engine: AsyncEngine) -> str:
    return await insert_ticket(
        engine, company_id=HALL, branch_id=BRANCH, group_id=GROUP, service_id=Q1, prefix="Q"
    )


async def test_an_id_committed_late_is_delivered_first(engine: AsyncEngine, hall: Hall) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: its ids are visible in order")
    ticket = await _ticket(engine)
    async with _hub(engine) as hub, hub.subscribe(BRANCH) as subscription:
        async with engine.connect() as slow:
            transaction = await slow.begin()
            early = await _insert_event(slow, ticket)  # drawn first, committed last
            late = await _committed_event(engine, ticket)
            assert late > early
            with pytest.raises(TimeoutError):  # held back: sending it would skip `early`
                await subscription.next(0.5)
            await transaction.commit()
        assert await _ids(subscription, 2) == [early, late]


async def test_a_rolled_back_id_is_not_waited_for(engine: AsyncEngine, hall: Hall) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite reuses a rolled-back id: no hole")
    ticket = await _ticket(engine)
    async with _hub(engine) as hub, hub.subscribe(BRANCH) as subscription:
        async with engine.connect() as slow:
            transaction = await slow.begin()
            await _insert_event(slow, ticket)
            after = await _committed_event(engine, ticket)
            await asyncio.sleep(0.2)
            await transaction.rollback()
        # Well before the hole timeout: the writer is gone, so the hole is settled.
        assert await _ids(subscription, 1, within=1.0) == [after]


async def test_the_hub_tails_only_while_watched(engine: AsyncEngine, hall: Hall) -> None:
    from taboor.live import hub as hub_module

    ticket = await _ticket(engine)
    async with _hub(engine) as hub:
        assert not hub.tailing
        async with hub.subscribe(BRANCH) as first, hub.subscribe(BRANCH) as second:
            assert hub.tailing and hub.subscriber_count == 2
            event = await _committed_event(engine, ticket)
            assert await _ids(first, 1) == [event] == await _ids(second, 1)
        assert hub.subscriber_count == 0
        linger, hub_module.LINGER_SECONDS = hub_module.LINGER_SECONDS, 0.05
        try:
            await until(lambda: not hub.tailing, within=3)
        finally:
            hub_module.LINGER_SECONDS = linger
        # A new watcher starts it again, from the newest event.
        event = await _committed_event(engine, ticket)
        async with hub.subscribe(BRANCH) as again:
            assert again.cursor == event
            newer = await _committed_event(engine, ticket)
            assert await _ids(again, 1) == [newer]


@contextlib.asynccontextmanager
async def _proxy(target_port: int) -> AsyncIterator[tuple[int, Callable[[], None]]]:
    """A TCP proxy to Redis that can be cut: (its port, cut)."""
    links: list[asyncio.StreamWriter] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target_port)
        links.extend((writer, upstream_writer))
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    port = free_port()
    server = await asyncio.start_server(handle, "127.0.0.1", port)

    def cut() -> None:
        server.close()
        for link in links:
            link.close()

    try:
        yield port, cut
    finally:
        cut()


async def test_redis_wakes_the_hub_and_its_loss_falls_back_to_polling(
    engine: AsyncEngine, hall: Hall
) -> None:
    url = redis_url()
    target = redis.Redis.from_url(url)
    ticket = await _ticket(engine)
    redis_port = target.connection_pool.connection_kwargs.get("port", 6379)
    async with _proxy(int(redis_port)) as (port, cut):
        proxied = url.replace(f":{redis_port}", f":{port}")
        # Slow safety poll while Redis is there, fast poll without it.
        async with (
            _hub(engine, poll_seconds=0.05, safety_poll_seconds=30, redis_url=proxied) as hub,
            hub.subscribe(BRANCH) as subscription,
        ):
            await until(lambda: hub.redis_connected)
            event = await _committed_event(engine, ticket)
            with pytest.raises(TimeoutError):  # no wake-up, and the poll is 30 s away
                await subscription.next(0.5)
            await target.publish(CHANNEL, b"1")  # a writer elsewhere says it committed
            assert await _ids(subscription, 1, within=1.0) == [event]

            cut()  # Redis goes away: the hub notices and polls fast again
            await until(lambda: not hub.redis_connected, within=15)
            event = await _committed_event(engine, ticket)
            assert await _ids(subscription, 1, within=1.0) == [event]
    await target.aclose()
