"""The no-show sweep under real concurrency: four server processes sweep the same 300
appointments at the same time (each its own OS process with its own connection pool),
while a fifth process, the reception desk, checks half of those customers in, on both
databases.

The appointments fall due one after another over five minutes, and each sweeper walks
its clock through those minutes in small steps, as the periodic task would, in small
batches; so the sweepers' transactions interleave with each other's and with the
desk's all along, not just once. The desk checks its customers in from the last one
due backwards, so it wins the early part of its list and meets the sweepers somewhere
in the middle.

What must hold, whatever the interleaving:

- every overdue appointment ends checked in (``waiting``) or ``no_show``, none is left
  ``upcoming`` and none is anything else;
- the tickets ``waiting`` are exactly the check-ins that succeeded; every check-in that
  was refused was refused because the ticket had become ``no_show``;
- each ``no_show`` ticket has exactly one ``upcoming → no_show`` event (by the system)
  and no other; each checked-in ticket exactly one ``upcoming → waiting`` event (by the
  desk) and no no-show event;
- the sweepers' counts add up to the ``no_show`` tickets: no ticket was swapped twice;
- nothing else (appointments not yet due, walk-ins) was touched.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.db.engine import create_engine
from taboor.db.uow import write_transaction
from taboor.tickets.events import Actor
from taboor.tickets.no_show import sweep_no_shows
from taboor.tickets.transitions import TransitionRefusedError, check_in
from tests.support import apply_fixture, ticket_row

COMPANY = "cmp_clinic01"
NOW = datetime(2026, 6, 7, 9, 0, tzinfo=UTC)
BOOKED = NOW - timedelta(days=1)
SWEEPERS = 4
BATCH = 4
DUE = 300
STEP = timedelta(seconds=5)
STEPS = 61  # the last sweep is past every due moment
DESK = Actor(kind="staff", id="usr_desk", source="staff")
# The clinic's appointment services: (service, ticket prefix, no-show grace minutes).
SERVICES = [("clinicgp01", "A", 15), ("clinicdent", "B", 45), ("cliniclab1", "C", 0)]
CLINIC = {"company_id": COMPANY, "branch_id": "clinicbr01", "group_id": "clinicgrp1"}


# --- the processes ------------------------------------------------------------------------


@dataclass
class Run:
    role: str
    swept: int = 0
    # ticket id → "waiting" when the check-in succeeded, else the refusal's status
    check_ins: dict[str, str] = field(default_factory=dict)
    error: str | None = None


def run_process(url: str, role: str, ticket_ids: list[str], barrier: Barrier, results: Any) -> None:
    """Process entry point: sweep once (a sweeper) or check ``ticket_ids`` in (the desk)."""
    try:
        results.put(asyncio.run(_work(url, role, ticket_ids, barrier)))
    except BaseException:  # reported, so the test can show it rather than hang
        results.put(Run(role, error=traceback.format_exc()))


async def _work(url: str, role: str, ticket_ids: list[str], barrier: Barrier) -> Run:
    engine = create_engine(url, pool_size=1)
    run = Run(role)
    try:
        # Connect before the start line, so the race is the work, not the connects.
        async with engine.connect() as connection:
            await connection.execute(select(1))
        barrier.wait(timeout=60)
        if role == "desk":
            for ticket_id in ticket_ids:
                try:
                    await check_in(engine, COMPANY, ticket_id, DESK, NOW)
                    run.check_ins[ticket_id] = "waiting"
                except TransitionRefusedError as refusal:
                    run.check_ins[ticket_id] = refusal.current_status
        else:
            for step in range(STEPS):
                run.swept += await sweep_no_shows(engine, NOW + step * STEP, batch_size=BATCH)
        return run
    finally:
        await engine.dispose()


def race(url: str, desk_ids: list[str]) -> list[Run]:
    """Start the sweepers and the desk, release them together, collect what they did."""
    context = multiprocessing.get_context("spawn")
    roles = [f"sweeper{n}" for n in range(1, SWEEPERS + 1)] + ["desk"]
    barrier = context.Barrier(len(roles))
    results = context.Queue()
    processes = [
        context.Process(
            target=run_process,
            args=(url, role, desk_ids if role == "desk" else [], barrier, results),
        )
        for role in roles
    ]
    for process in processes:
        process.start()
    try:
        runs = [results.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return runs


# --- the race -----------------------------------------------------------------------------


def due_rows() -> list[dict[str, object]]:
    """300 upcoming appointments, the three services taking turns, falling due (time +
    the service's grace) one per second from ``NOW``; in due order."""
    rows = []
    for index in range(DUE):
        service_id, prefix, grace = SERVICES[index % len(SERVICES)]
        number = index // len(SERVICES) + 1
        time_ = NOW - timedelta(minutes=grace) + timedelta(seconds=index)
        rows.append(
            ticket_row(
                **CLINIC,
                service_id=service_id,
                prefix=prefix,
                number=number,
                type="appointment",
                status="upcoming",
                time=time_,
                queue_at=time_,
                at=BOOKED,
            )
        )
    return rows


def bystander_rows() -> list[dict[str, object]]:
    """Appointments not due even at the last sweep (their grace ends at it exactly, or
    later) and walk-ins."""
    last = NOW + (STEPS - 1) * STEP
    rows = []
    for service_id, prefix, grace in SERVICES:
        for offset in range(3):
            time_ = last - timedelta(minutes=grace - offset)
            rows.append(
                ticket_row(
                    **CLINIC,
                    service_id=service_id,
                    prefix=prefix,
                    number=500 + offset,
                    type="appointment",
                    status="upcoming",
                    time=time_,
                    queue_at=time_,
                    at=BOOKED,
                )
            )
    walk_in = {**CLINIC, "group_id": "clinicgrp2", "service_id": "clinicwalk", "prefix": "Q"}
    rows += [
        ticket_row(**walk_in, number=n, status=status, at=NOW - timedelta(hours=2))
        for n, status in enumerate(("waiting", "called", "serving", "served"), start=1)
    ]
    return rows


async def insert_rows(engine: AsyncEngine, rows: list[dict[str, object]]) -> None:
    async with write_transaction(engine) as connection:
        await connection.execute(t.tickets.insert(), rows)


async def test_sweepers_and_a_check_in_desk_race_each_ticket_ends_once(
    engine: AsyncEngine, database_url: str
) -> None:
    await apply_fixture(engine, "clinic")
    due, bystanders = due_rows(), bystander_rows()
    await insert_rows(engine, due + bystanders)
    ids = [str(row["id"]) for row in due]
    # Every other customer, the last due first.
    desk_ids = ids[::-2]

    began = time.monotonic()
    runs = await asyncio.to_thread(race, database_url, desk_ids)
    elapsed = time.monotonic() - began
    assert [run.error for run in runs] == [None] * len(runs), [r.error for r in runs]
    [desk] = [run for run in runs if run.role == "desk"]
    sweepers = [run for run in runs if run.role != "desk"]

    tk, ev = t.tickets.c, t.ticket_events.c
    async with engine.connect() as connection:
        status = dict((await connection.execute(select(tk.id, tk.status))).all())
        logged = (
            await connection.execute(
                select(ev.ticket_id, ev.from_status, ev.to_status, ev.actor_kind, ev.actor_id)
            )
        ).all()

    # Every overdue appointment ended checked in or no-show.
    assert Counter(status[i] for i in ids).keys() <= {"waiting", "no_show"}, Counter(
        status[i] for i in ids
    )
    waiting = {i for i in ids if status[i] == "waiting"}
    no_shows = {i for i in ids if status[i] == "no_show"}
    # Waiting are exactly the successful check-ins; every refusal was "already no-show".
    assert desk.check_ins.keys() == set(desk_ids)
    assert waiting == {i for i, outcome in desk.check_ins.items() if outcome == "waiting"}
    assert {o for o in desk.check_ins.values() if o != "waiting"} <= {"no_show"}
    assert no_shows >= set(ids) - set(desk_ids)
    # One event per ticket, the right one.
    per_ticket: dict[str, list[tuple[Any, ...]]] = {}
    for ticket_id, *rest in logged:
        per_ticket.setdefault(ticket_id, []).append(tuple(rest))
    assert per_ticket.keys() == set(ids)
    for ticket_id in no_shows:
        assert per_ticket[ticket_id] == [("upcoming", "no_show", "system", None)], ticket_id
    for ticket_id in waiting:
        assert per_ticket[ticket_id] == [("upcoming", "waiting", "staff", "usr_desk")], ticket_id
    # No ticket swapped twice: the sweepers' counts add up.
    assert sum(run.swept for run in sweepers) == len(no_shows)
    # Nothing else touched.
    assert all(status[str(row["id"])] == row["status"] for row in bystanders)

    # It was a race. On PostgreSQL the sweepers share the work (SKIP LOCKED) and the desk
    # both wins and loses; SQLite's write lock is not fair, so one process may starve
    # there for the whole run (the invariants above are what matters on both).
    if engine.dialect.name == "postgresql":
        assert sum(1 for run in sweepers if run.swept) >= 2, [run.swept for run in sweepers]
        assert 0 < len(waiting) < len(desk_ids), len(waiting)
    assert elapsed < 60, elapsed
    print(  # shown with -s: how the work was shared
        f"{engine.dialect.name}: {elapsed:.1f}s, swept per sweeper "
        f"{[run.swept for run in sweepers]}, checked in {len(waiting)} of {len(desk_ids)}"
    )
