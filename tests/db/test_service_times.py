"""The per-process memo of recent service times behind waitingTime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.tickets.eta import ServiceTimes, mean_service_minutes
from tests.support import apply_fixture, insert_ticket

NOW = datetime(2026, 6, 7, 7, 0, tzinfo=UTC)


async def served(engine: AsyncEngine, number: int, minutes: int) -> None:
    finished = NOW - timedelta(minutes=5)
    await insert_ticket(
        engine,
        number=number,
        status="served",
        at=finished,
        serving_at=finished - timedelta(minutes=minutes),
    )


async def test_mean_falls_back_then_learns(engine: AsyncEngine) -> None:
    """No served ticket: avgServiceMinutes. Then the mean of the real durations."""
    await apply_fixture(engine, "bank")
    async with engine.connect() as connection:
        assert await mean_service_minutes(connection, "zwithdraw1", 7, NOW) == 7.0
    await served(engine, 1, 4)
    await served(engine, 2, 8)
    async with engine.connect() as connection:
        assert await mean_service_minutes(connection, "zwithdraw1", 7, NOW) == 6.0


async def test_the_memo_keeps_a_value_for_its_lifetime_only(engine: AsyncEngine) -> None:
    """Within the TTL the remembered mean is served; a zero TTL always reads afresh."""
    await apply_fixture(engine, "bank")
    remembering, fresh = ServiceTimes(ttl_seconds=60), ServiceTimes(ttl_seconds=0)
    async with engine.connect() as connection:
        assert await remembering.mean(connection, "zwithdraw1", 5, NOW) == 5.0
        assert await fresh.mean(connection, "zwithdraw1", 5, NOW) == 5.0
    await served(engine, 1, 11)
    async with engine.connect() as connection:
        assert await remembering.mean(connection, "zwithdraw1", 5, NOW) == 5.0
        assert await fresh.mean(connection, "zwithdraw1", 5, NOW) == 11.0
        # Each service is remembered on its own.
        assert await remembering.mean(connection, "zdeposit01", 9, NOW) == 9.0
