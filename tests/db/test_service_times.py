"""What waitingTime is made of (design.md §2): the mean of recent real service times
(falling back to avgServiceMinutes), its per-process memo, and the open counters
serving the service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.tickets.eta import ServiceTimes, mean_service_minutes
from taboor.tickets.views import ticket_view
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


async def test_the_sample_is_the_last_twenty_served_in_seven_days(engine: AsyncEngine) -> None:
    """Only ``served`` tickets of this service with a start count; the 20 that finished
    last, within 7 days of now (the window's first instant included); a clock that ran
    backwards is ignored rather than believed."""
    await apply_fixture(engine, "bank")
    # 25 served, finishing one minute apart: the oldest five (60 minutes each) fall out
    # of the sample of 20 (the others took 2 minutes each).
    for n in range(25):
        finished = NOW - timedelta(minutes=100 - n)
        minutes = 60 if n < 5 else 2
        await insert_ticket(
            engine,
            number=10 + n,
            status="served",
            at=finished,
            serving_at=finished - timedelta(minutes=minutes),
        )
    async with engine.connect() as connection:
        assert await mean_service_minutes(connection, "zwithdraw1", 5, NOW) == 2.0


async def test_what_the_mean_leaves_out(engine: AsyncEngine) -> None:
    await apply_fixture(engine, "bank")
    finished = NOW - timedelta(minutes=5)
    started = finished - timedelta(minutes=30)
    ignored = [
        # not served, whatever their start says
        {"status": "cancelled", "serving_at": started},
        {"status": "no_show", "serving_at": started},
        {"status": "serving", "serving_at": started},
        # served without a start (finished by someone who never pressed start)
        {"status": "served", "serving_at": None},
        # another service
        {"status": "served", "serving_at": started, "service_id": "zdeposit01", "prefix": "D"},
        # just outside the window
        {
            "status": "served",
            "at": NOW - timedelta(days=7, microseconds=1),
            "serving_at": NOW - timedelta(days=7, minutes=30),
        },
    ]
    for n, fields in enumerate(ignored):
        await insert_ticket(engine, number=40 + n, **{"at": finished, **fields})
    async with engine.connect() as connection:
        assert await mean_service_minutes(connection, "zwithdraw1", 5, NOW) == 5.0
    # The window's first instant is in; so is a served ticket of zero minutes.
    await insert_ticket(
        engine,
        number=60,
        status="served",
        at=NOW - timedelta(days=7),
        serving_at=NOW - timedelta(days=7, minutes=9),
    )
    await insert_ticket(engine, number=61, status="served", at=finished, serving_at=finished)
    # A finish before its start (a clock set back) is left out, not counted negative.
    await insert_ticket(
        engine, number=62, status="served", at=finished, serving_at=finished + timedelta(hours=1)
    )
    async with engine.connect() as connection:
        assert await mean_service_minutes(connection, "zwithdraw1", 5, NOW) == 4.5


# --- c: the open counters serving the service ---------------------------------------------

CLINIC_WALK_IN = {
    "company_id": "cmp_clinic01",
    "branch_id": "clinicbr01",
    "group_id": "clinicgrp2",
    "service_id": "clinicwalk",
    "prefix": "Q",
}


async def test_counters_in_the_estimate_are_the_open_ones_serving_it(engine: AsyncEngine) -> None:
    """The clinic's Reception is configured at three counters. c counts those held by
    an agent with Reception enabled; a closed counter, or an open one that switched
    Reception off, does not count; none counts as one."""
    await apply_fixture(engine, "clinic")
    for number in range(1, 7):
        last = await insert_ticket(
            engine, **CLINIC_WALK_IN, number=number, at=NOW + timedelta(seconds=number)
        )

    async def waiting_time() -> int | None:
        async with engine.connect() as connection:
            view = await ticket_view(connection, "cmp_clinic01", last, NOW)
        assert view is not None and view.queue_size == 5
        return view.waiting_time

    async def set_counter(counter_id: str, holder: str | None, enabled: bool = True) -> None:
        c, cs = t.counters.c, t.counter_services.c
        async with engine.begin() as connection:
            if holder is not None:
                await connection.execute(
                    t.staff_users.insert().values(
                        id=holder,
                        company_id="cmp_clinic01",
                        username=holder,
                        name=holder,
                        role="agent",
                        password_hash="-",
                        active=True,
                        created_at=NOW,
                    )
                )
            await connection.execute(
                t.counters.update()
                .where(c.id == counter_id)
                .values(held_by=holder, opened_at=NOW if holder else None)
            )
            await connection.execute(
                t.counter_services.update()
                .where(cs.counter_id == counter_id)
                .values(enabled=enabled)
            )

    assert await waiting_time() == 25  # 5 ahead × 5 minutes / max(1, 0)
    await set_counter("clinicct01", "usr_agent1")
    assert await waiting_time() == 25
    await set_counter("clinicct02", "usr_agent2")
    assert await waiting_time() == 12  # 12.5 → 12
    await set_counter("clinicct03", "usr_agent3")
    assert await waiting_time() == 8  # 8.33
    await set_counter("clinicct03", "usr_agent3x", enabled=False)  # open, Reception off
    assert await waiting_time() == 12
    await set_counter("clinicct02", None)  # closed (its service still enabled)
    assert await waiting_time() == 25
