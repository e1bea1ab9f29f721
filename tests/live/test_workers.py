"""Several server processes: a change made through one connection reaches the streams
held by every worker within a second, by polling the table (no Redis) and by Redis
wake-ups (then the poll is slowed to 30 s, so only a wake-up can be that fast); a
SIGTERM ends open streams at once instead of holding the shutdown (both databases)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

import httpx
import pytest
import redis.asyncio as redis
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.live.redis_wakeups import CHANNEL
from tests.live.conftest import BRANCH, COUNTER1, GROUP, HALL, Q1, Hall
from tests.live.helpers import Server, SseReader, taboor_serve
from tests.staff_api.helpers import add_staff

REDIS_ENV = "TABOOR_TEST_REDIS_URL"
EVENTS = f"/live/v1/branches/{BRANCH}/events"
STREAMS = 8


def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{REDIS_ENV} must be set in CI: the Redis path is mandatory")
        pytest.skip(f"{REDIS_ENV} not set: the Redis path is not tested")
    return url


@asynccontextmanager
async def streams_on_every_worker(
    server: Server, headers: dict[str, str]
) -> AsyncIterator[list[SseReader]]:
    """``STREAMS`` open branch streams, each on its own connection, and at least one of
    them held by each worker (more are opened until that is so)."""
    async with AsyncExitStack() as stack:
        readers: list[SseReader] = []
        holders: dict[int, int] = {}
        for _ in range(STREAMS * 4):
            client = await stack.enter_async_context(
                httpx.AsyncClient(base_url=server.base_url, timeout=30)
            )
            response = await stack.enter_async_context(
                client.stream("GET", EVENTS, headers=headers)
            )
            assert response.status_code == 200
            reader = SseReader(response)
            stack.push_async_callback(reader.close)
            readers.append(reader)
            port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
            worker = server.worker_of(port)
            assert worker is not None
            holders[worker] = holders.get(worker, 0) + 1
            if len(readers) >= STREAMS and len(holders) == len(server.worker_pids()):
                break
        assert len(holders) == 2, f"streams held by {holders}"
        print(f"streams per worker: {sorted(holders.values())}")
        yield readers


async def _everyone_sees(readers: list[SseReader], ticket_id: str, status: str) -> float:
    """Every stream gets the change within a second; the slowest's delay."""
    started = time.monotonic()

    async def seen(reader: SseReader) -> float:
        while True:
            message = await reader.next(within=1.0)
            assert message is not None and message.data is not None
            if (message.data["ticketId"], message.data["status"]) == (ticket_id, status):
                return time.monotonic() - started

    return max(await asyncio.gather(*(seen(reader) for reader in readers)))


async def _changes_reach_every_stream(server: Server, hall: Hall, engine: AsyncEngine) -> None:
    agent = await add_staff(engine, HALL, "agent", (BRANCH,), datetime.now(UTC))
    async with (
        streams_on_every_worker(server, hall.key()) as readers,
        httpx.AsyncClient(base_url=server.base_url, timeout=30) as writer,
    ):
        delays = []
        for _ in range(3):
            booked = await writer.post(
                "/external/v1/tickets/book",
                headers=hall.key(),
                json={"serviceId": Q1, "groupOfServiceId": GROUP},
            )
            assert booked.status_code == 201
            delays.append(await _everyone_sees(readers, booked.json()["data"]["id"], "waiting"))
        opened = await writer.post(f"/staff/v1/counters/{COUNTER1}/open", headers=agent.headers())
        assert opened.status_code == 200
        called = await writer.post(
            f"/staff/v1/counters/{COUNTER1}/call-next", headers=agent.headers()
        )
        assert called.status_code == 200
        delays.append(await _everyone_sees(readers, called.json()["data"]["id"], "called"))
        print(f"slowest stream per change: {[round(d * 1000) for d in delays]} ms")


async def test_every_worker_streams_every_change_by_polling(
    database_url: str, engine: AsyncEngine, hall: Hall
) -> None:
    with taboor_serve(database_url, workers=2) as server:
        await _changes_reach_every_stream(server, hall, engine)


async def test_every_worker_streams_every_change_by_redis(
    database_url: str, engine: AsyncEngine, hall: Hall
) -> None:
    url = redis_url()
    slow_polls = {"TABOOR_LIVE_POLL_SECONDS": "30", "TABOOR_LIVE_SAFETY_POLL_SECONDS": "30"}
    with taboor_serve(database_url, workers=2, TABOOR_REDIS_URL=url, **slow_polls) as server:
        listener = redis.Redis.from_url(url)
        try:
            async with listener.pubsub() as pubsub:
                await pubsub.subscribe(CHANNEL)
                await _changes_reach_every_stream(server, hall, engine)
                # The writers published: the wake-ups went through Redis.
                assert await _published(pubsub)
        finally:
            await listener.aclose()


async def _published(pubsub: redis.client.PubSub) -> bool:
    """A wake-up came on the channel (the first reads may be the subscription's own
    confirmation, which the client swallows)."""
    for _ in range(5):
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
        if message is not None:
            return message["channel"] == CHANNEL.encode()
    return False


async def test_shutdown_ends_open_streams_at_once(
    database_url: str, engine: AsyncEngine, hall: Hall
) -> None:
    # A kill timeout far longer than the test waits: a stream holding the shutdown
    # would keep the server up well past the bound below.
    with taboor_serve(database_url, workers=2, TABOOR_SHUTDOWN_TIMEOUT_SECONDS="120") as server:
        async with streams_on_every_worker(server, hall.key()) as readers:
            # To the main process only, as an orchestrator does: granian passes it on.
            os.kill(server.process.pid, signal.SIGTERM)
            for reader in readers:
                assert await reader.ended(within=10)
            started = time.monotonic()
            while server.process.poll() is None:
                assert time.monotonic() - started < 15, "the server is still up"
                await asyncio.sleep(0.05)
        assert server.process.returncode == 0
