"""The no-show sweep (design.md §2: upcoming → no_show when not checked in by
time + grace) on both databases, and the background loop that runs it.

The clinic's appointment services have grace periods of 15 (the default), 45 and 0
minutes; its Reception takes walk-ins only."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.app import create_app
from taboor.db import tables as t
from taboor.db.uow import write_transaction
from taboor.settings import Settings
from taboor.tickets import no_show
from taboor.tickets import transitions as tr
from taboor.tickets.events import Actor
from taboor.tickets.no_show import BATCH_SIZE, NoShowSweeper, sweep_no_shows
from taboor.tickets.transitions import TransitionRefusedError
from tests.support import MutableClock, apply_fixture, ticket_row

CLINIC = "cmp_clinic01"
NOW = datetime(2026, 6, 7, 9, 0, tzinfo=UTC)
BOOKED = NOW - timedelta(days=1)
MINUTE = timedelta(minutes=1)
STAFF = Actor(kind="staff", id="usr_nurse", source="staff")

_PLACE = {"company_id": CLINIC, "branch_id": "clinicbr01"}
GP = {**_PLACE, "group_id": "clinicgrp1", "service_id": "clinicgp01", "prefix": "A"}
DENTIST = {**_PLACE, "group_id": "clinicgrp1", "service_id": "clinicdent", "prefix": "B"}
LAB = {**_PLACE, "group_id": "clinicgrp1", "service_id": "cliniclab1", "prefix": "C"}
RECEPTION = {**_PLACE, "group_id": "clinicgrp2", "service_id": "clinicwalk", "prefix": "Q"}
GRACE = [(GP, 15), (DENTIST, 45), (LAB, 0)]


@pytest.fixture
async def clinic(engine: AsyncEngine) -> AsyncEngine:
    await apply_fixture(engine, "clinic")
    return engine


_numbers: dict[str, int] = {}


def appointment(service: dict[str, str], time: datetime, **fields: Any) -> dict[str, object]:
    """An appointment row booked the day before (status ``upcoming`` unless given)."""
    prefix = service["prefix"]
    _numbers[prefix] = _numbers.get(prefix, 0) + 1
    row: dict[str, Any] = {
        **service,
        "type": "appointment",
        "status": "upcoming",
        "time": time,
        "queue_at": time,
        "number": _numbers[prefix],
        "at": BOOKED,
    }
    row.update(fields)
    return ticket_row(**row)


def walk_in(**fields: Any) -> dict[str, object]:
    _numbers["Q"] = _numbers.get("Q", 0) + 1
    return ticket_row(**{**RECEPTION, "number": _numbers["Q"], "at": NOW - 90 * MINUTE, **fields})


async def insert(engine: AsyncEngine, *rows: dict[str, object]) -> list[str]:
    async with write_transaction(engine) as connection:
        await connection.execute(t.tickets.insert(), list(rows))
    return [str(row["id"]) for row in rows]


async def statuses(engine: AsyncEngine) -> dict[str, tuple[str, datetime]]:
    tk = t.tickets.c
    async with engine.connect() as connection:
        rows = await connection.execute(select(tk.id, tk.status, tk.status_at))
        return {row.id: (row.status, row.status_at) for row in rows}


async def events(engine: AsyncEngine) -> list[dict[str, Any]]:
    ev = t.ticket_events.c
    async with engine.connect() as connection:
        rows = await connection.execute(select(t.ticket_events).order_by(ev.id))
        return [dict(row._mapping) for row in rows]


def no_show_event(ticket_id: str, company_id: str = CLINIC, at: datetime = NOW) -> dict[str, Any]:
    """The one event a swept ticket gets: the system moved it, from upcoming, at ``at``."""
    return {
        "company_id": company_id,
        "ticket_id": ticket_id,
        "from_status": "upcoming",
        "to_status": "no_show",
        "at": at,
        "actor_kind": "system",
        "actor_id": None,
        "source": "system",
    }


def without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


# --- the sweep ----------------------------------------------------------------------------


async def test_due_appointments_become_no_show_with_one_system_event(
    clinic: AsyncEngine,
) -> None:
    """Due = time + grace strictly before now. Each swept ticket gets status_at = now and
    exactly one event; sweeping again changes nothing."""
    due, exactly_at_grace, within, later = await insert(
        clinic,
        appointment(GP, NOW - 16 * MINUTE),
        appointment(GP, NOW - 15 * MINUTE),  # time + grace == now: not yet
        appointment(GP, NOW - 14 * MINUTE),
        appointment(GP, NOW + 60 * MINUTE),
    )
    assert await sweep_no_shows(clinic, NOW) == 1
    after = await statuses(clinic)
    assert after[due] == ("no_show", NOW)
    assert {after[i][0] for i in (exactly_at_grace, within, later)} == {"upcoming"}
    assert {after[i][1] for i in (exactly_at_grace, within, later)} == {BOOKED}
    assert without_ids(await events(clinic)) == [no_show_event(due)]

    assert await sweep_no_shows(clinic, NOW) == 0
    assert await statuses(clinic) == after
    assert len(await events(clinic)) == 1
    # A minute on, the one at its grace is due too (and only it).
    assert await sweep_no_shows(clinic, NOW + MINUTE) == 1
    assert (await statuses(clinic))[exactly_at_grace] == ("no_show", NOW + MINUTE)


@pytest.mark.parametrize(("service", "grace"), GRACE, ids=["grace15", "grace45", "grace0"])
async def test_each_service_has_its_own_grace(
    clinic: AsyncEngine, service: dict[str, str], grace: int
) -> None:
    """The boundary is the service's own ``no_show_grace_minutes``, to the microsecond:
    one microsecond past time + grace is due, time + grace itself is not."""
    cutoff = NOW - grace * MINUTE
    micro = timedelta(microseconds=1)
    offsets = {"long past": -MINUTE, "just past": -micro, "at": timedelta(0), "after": micro}
    ids = dict(
        zip(
            offsets,
            await insert(clinic, *(appointment(service, cutoff + o) for o in offsets.values())),
            strict=True,
        )
    )
    assert await sweep_no_shows(clinic, NOW) == 2
    after = await statuses(clinic)
    assert {name: after[i][0] for name, i in ids.items()} == {
        "long past": "no_show",
        "just past": "no_show",
        "at": "upcoming",
        "after": "upcoming",
    }


async def test_now_with_a_fraction_of_a_millisecond_never_sweeps_early(
    clinic: AsyncEngine,
) -> None:
    """SQLite's date arithmetic works in milliseconds: ``now`` is cut to the millisecond
    there, which may sweep a ticket up to a millisecond late but never early."""
    now = NOW + timedelta(microseconds=1500)
    [not_due] = await insert(clinic, appointment(GP, now - 15 * MINUTE + timedelta(microseconds=1)))
    [due] = await insert(clinic, appointment(GP, NOW - 15 * MINUTE))
    assert await sweep_no_shows(clinic, now) == 1
    after = await statuses(clinic)
    assert (after[due], after[not_due][0]) == (("no_show", now), "upcoming")


async def test_only_upcoming_appointments_are_touched(clinic: AsyncEngine) -> None:
    """Checked in (waiting), at the counter, finished, cancelled, already no-show, and
    walk-ins in any status: long past their time, none is swept or logged."""
    long_ago = NOW - 5 * 60 * MINUTE
    others = [
        appointment(GP, long_ago, status=status, status_at=long_ago)
        for status in t.TICKET_STATUSES
        if status != "upcoming"
    ]
    others += [walk_in(status=status) for status in t.TICKET_STATUSES if status != "upcoming"]
    await insert(clinic, *others)
    before = await statuses(clinic)
    assert await sweep_no_shows(clinic, NOW) == 0
    assert await statuses(clinic) == before
    assert await events(clinic) == []


async def test_every_company_is_swept_each_event_in_its_own(clinic: AsyncEngine) -> None:
    """The sweep is the system's, across tenants; each event belongs to its ticket's
    company."""
    await apply_fixture(clinic, "bank")
    bank_time = NOW - 20 * MINUTE
    [bank] = await insert(
        clinic,
        ticket_row(
            company_id="cmp_bank01",
            branch_id="zallaq0001",
            group_id="zaccounts1",
            service_id="zopening01",
            prefix="A",
            number=1,
            type="appointment",
            status="upcoming",
            time=bank_time,
            queue_at=bank_time,
            at=BOOKED,
        ),
    )
    [ours] = await insert(clinic, appointment(LAB, NOW - MINUTE))
    assert await sweep_no_shows(clinic, NOW) == 2
    assert sorted(map(str, without_ids(await events(clinic)))) == sorted(
        map(str, [no_show_event(bank, "cmp_bank01"), no_show_event(ours)])
    )


async def test_the_appointments_place_is_not_given_back(clinic: AsyncEngine) -> None:
    """Only cancels free places; a no-show's slot time has passed anyway."""
    slot = NOW - 30 * MINUTE
    async with write_transaction(clinic) as connection:
        await connection.execute(
            t.slot_places.insert().values(
                service_id="clinicgp01", starts_at=slot, capacity=2, taken=2
            )
        )
    await insert(clinic, appointment(GP, slot), appointment(GP, slot))
    assert await sweep_no_shows(clinic, NOW) == 2
    async with clinic.connect() as connection:
        assert await connection.scalar(select(t.slot_places.c.taken)) == 2


async def test_a_swept_ticket_can_no_longer_be_checked_in(clinic: AsyncEngine) -> None:
    [ticket_id] = await insert(clinic, appointment(GP, NOW - 20 * MINUTE))
    await sweep_no_shows(clinic, NOW)
    with pytest.raises(TransitionRefusedError) as refusal:
        await tr.check_in(clinic, CLINIC, ticket_id, STAFF, NOW + MINUTE)
    assert refusal.value.current_status == "no_show"
    assert len(await events(clinic)) == 1


@pytest.mark.parametrize("due", [0, 1, 2, 3, 4, 6, 7])
async def test_batches_of_three_sweep_everything_due(clinic: AsyncEngine, due: int) -> None:
    """Around the batch boundary (exact multiples, one over, one under): every due
    ticket swept once, none of the others."""
    rows = [appointment(LAB, NOW - (n + 1) * MINUTE) for n in range(due)]
    rows += [appointment(LAB, NOW + (n + 1) * MINUTE) for n in range(2)]
    await insert(clinic, *rows)
    assert await sweep_no_shows(clinic, NOW, batch_size=3) == due
    after = await statuses(clinic)
    assert [after[str(row["id"])][0] for row in rows] == ["no_show"] * due + ["upcoming"] * 2
    logged = await events(clinic)
    assert sorted(e["ticket_id"] for e in logged) == sorted(str(r["id"]) for r in rows[:due])


async def test_a_backlog_larger_than_a_batch(clinic: AsyncEngine) -> None:
    """One more than a default batch, after a long outage: two transactions, all swept,
    one event each."""
    rows = [
        appointment(service, NOW - timedelta(hours=3) - n * MINUTE)
        for n, (service, _grace) in enumerate(GRACE * (BATCH_SIZE // 3 + 1))
    ][: BATCH_SIZE + 1]
    await insert(clinic, *rows)
    assert await sweep_no_shows(clinic, NOW) == BATCH_SIZE + 1
    after = await statuses(clinic)
    assert {status for status, _at in after.values()} == {"no_show"}
    ev = t.ticket_events.c
    async with clinic.connect() as connection:
        per_ticket = (
            await connection.execute(select(func.count(), func.count(func.distinct(ev.ticket_id))))
        ).one()
    assert tuple(per_ticket) == (BATCH_SIZE + 1, BATCH_SIZE + 1)


async def test_a_bad_batch_size_is_refused(clinic: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        await sweep_no_shows(clinic, NOW, batch_size=0)


# --- the background loop ------------------------------------------------------------------


async def wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_the_sweeper_survives_a_failed_sweep(
    clinic: AsyncEngine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing sweep is logged and the loop goes on; the next one does the work. Stop
    cancels the loop and returns."""
    [ticket_id] = await insert(clinic, appointment(GP, NOW - 20 * MINUTE))
    real = no_show.sweep_no_shows
    calls: list[datetime] = []

    async def flaky(engine: AsyncEngine, now: datetime) -> int:
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return await real(engine, now)

    monkeypatch.setattr(no_show, "sweep_no_shows", flaky)
    clock = MutableClock(NOW)
    sweeper = NoShowSweeper(clinic, clock, interval_seconds=0.01)
    with caplog.at_level(logging.INFO, logger="taboor.no_show"):
        sweeper.start()
        try:

            async def swept() -> bool:
                return (await statuses(clinic))[ticket_id][0] == "no_show"

            await wait_for(swept)
        finally:
            await sweeper.stop()
    assert len(calls) >= 2 and set(calls) == {NOW}  # the sweeper's clock, every time
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 1 and "no-show sweep failed" in failures[0].getMessage()
    assert failures[0].exc_info is not None
    assert any("1 appointment(s) no-show" in r.getMessage() for r in caplog.records)
    await sweeper.stop()  # stopping twice is harmless
    assert (await statuses(clinic))[ticket_id] == ("no_show", NOW)


def test_the_sweeper_needs_a_positive_interval(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="interval"):
        NoShowSweeper(engine, MutableClock(NOW), interval_seconds=0)


async def test_an_app_given_an_engine_runs_no_sweeper(clinic: AsyncEngine) -> None:
    """Tests hand the app their engine and a pinned clock: no background writer."""
    app = create_app(engine=clinic, clock=MutableClock(NOW))
    assert app.state.no_show_sweeper is None


@pytest.mark.parametrize("interval", [0.05, 0.0])
async def test_a_server_app_sweeps_in_the_background_until_shutdown(
    clinic: AsyncEngine, database_url: str, interval: float
) -> None:
    """An app that owns its engine (as ``taboor serve`` builds it) sweeps every
    ``no_show_interval_seconds`` with its clock from startup, and stops at shutdown;
    0 turns it off."""
    [ticket_id] = await insert(clinic, appointment(GP, NOW - 20 * MINUTE))
    settings = Settings(
        database_url=database_url, db_pool_size=2, no_show_interval_seconds=interval
    )
    app = create_app(settings, clock=MutableClock(NOW))
    sweeper = app.state.no_show_sweeper
    assert (sweeper is None) == (interval == 0)

    async def swept() -> bool:
        return (await statuses(clinic))[ticket_id][0] == "no_show"

    async with app.lifespan():
        if sweeper is None:
            await asyncio.sleep(0.2)
            assert not await swept()
            return
        await wait_for(swept)
        task = sweeper._loop._task
        assert task is not None and not task.done()
    assert task.cancelled()
    assert sweeper._loop._task is None
