"""Call-next under real concurrency: four counters, each its own OS process with its own
connection pool, drain one queue of 200 tickets over two services at the same time, on
both databases (design.md §2: "Two counters calling at once never get the same ticket").

What must hold, whatever the interleaving:

- every ticket is called exactly once (200 called rows, 200 waiting → called events,
  no ticket twice) and nothing outside the counters' services or statuses is touched;
- none is skipped: no ticket is called while an earlier-queued one stays waiting, and
  a counter hears "queue empty" only when every ticket still waiting is being called
  by another counter at that moment (at most one per other counter);
- each counter's own calls follow queue order strictly;
- in commit order (event ids) the queue order holds up to the calls in flight at once:
  a ticket can be logged before at most ``COUNTERS - 1`` tickets queued ahead of it
  (those being called by the other counters), and on SQLite, whose writers run one at
  a time, not before any.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.db.engine import create_engine
from taboor.db.uow import write_transaction
from taboor.tickets.events import Actor
from taboor.tickets.transitions import call_next
from tests.support import apply_fixture, ticket_row

COMPANY = "cmp_ctrs01"
SERVICES = {"hallsvc001": "Q", "hallsvc002": "K"}  # what every counter serves
COUNTERS = ["hallctr001", "hallctr002", "hallctr003", "hallctr004"]
TICKETS = 200
START = datetime(2026, 6, 7, 5, 0, tzinfo=UTC)
HALL = {"company_id": COMPANY, "branch_id": "hallbr0001", "group_id": "hallgrp001"}


# --- one counter, in its own process ------------------------------------------------------


@dataclass(frozen=True)
class CounterRun:
    counter_id: str
    calls: list[str]
    # Waiting tickets of the counter's services right after it was told "empty".
    waiting_after_empty: int
    error: str | None = None


def run_counter(url: str, counter_id: str, barrier: Barrier, results: Any) -> None:
    """Process entry point: call next until the queue is empty, report the calls."""
    try:
        results.put(asyncio.run(_counter_loop(url, counter_id, barrier)))
    except BaseException:  # reported, so the test can show it rather than hang
        results.put(CounterRun(counter_id, [], -1, traceback.format_exc()))


async def _counter_loop(url: str, counter_id: str, barrier: Barrier) -> CounterRun:
    engine = create_engine(url, pool_size=1)
    actor = Actor(kind="staff", id=counter_id, source="staff")
    try:
        # Connect before the start line, so the race is the calls, not the connects.
        async with engine.connect() as connection:
            await connection.execute(select(1))
        barrier.wait(timeout=60)
        calls = []
        while True:
            ticket_id = await call_next(
                engine, COMPANY, counter_id, list(SERVICES), actor, datetime.now(UTC)
            )
            if ticket_id is None:
                break
            calls.append(ticket_id)
        return CounterRun(counter_id, calls, await _waiting(engine))
    finally:
        await engine.dispose()


async def _waiting(engine: AsyncEngine) -> int:
    tk = t.tickets.c
    async with engine.connect() as connection:
        return int(
            await connection.scalar(
                select(func.count()).where(
                    tk.company_id == COMPANY,
                    tk.service_id.in_(list(SERVICES)),
                    tk.status == "waiting",
                )
            )
        )


# --- the race -----------------------------------------------------------------------------


def queue_rows(rng: random.Random) -> list[dict[str, object]]:
    """200 waiting walk-ins spread over the two services, with many equal queue times
    (so the number decides) and equal (time, number) pairs across services (so the id
    does): all three keys of the order are exercised."""
    numbers = Counter[str]()
    rows = []
    for _ in range(TICKETS):
        service_id = rng.choice(list(SERVICES))
        prefix = SERVICES[service_id]
        numbers[prefix] += 1
        rows.append(
            ticket_row(
                **HALL,
                service_id=service_id,
                prefix=prefix,
                number=numbers[prefix],
                at=START + timedelta(seconds=rng.randrange(60)),
            )
        )
    return rows


def bystander_rows() -> list[dict[str, object]]:
    """Tickets no counter may call: waiting in a service nobody serves, and upcoming
    appointments in the served ones (queued ahead of everything)."""
    early = START - timedelta(hours=1)
    rows = [
        ticket_row(**HALL, service_id="hallsvc003", prefix="E", number=n, at=early)
        for n in range(1, 6)
    ]
    rows += [
        ticket_row(
            **HALL,
            service_id="hallsvc001",
            prefix="QA",
            number=n,
            at=early,
            status="upcoming",
            type="appointment",
            time=early,
        )
        for n in range(1, 6)
    ]
    return rows


async def insert_rows(engine: AsyncEngine, rows: list[dict[str, object]]) -> None:
    async with write_transaction(engine) as connection:
        await connection.execute(t.tickets.insert(), rows)


def race(url: str) -> list[CounterRun]:
    """Start one process per counter, release them together, collect what they did."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(COUNTERS))
    results = context.Queue()
    processes = [
        context.Process(target=run_counter, args=(url, counter_id, barrier, results))
        for counter_id in COUNTERS
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


async def test_four_counters_drain_one_queue_each_ticket_once_in_order(
    engine: AsyncEngine, database_url: str
) -> None:
    await apply_fixture(engine, "counters")
    rows = queue_rows(random.Random(20260607))
    bystanders = bystander_rows()
    await insert_rows(engine, rows + bystanders)
    # The queue order: (queue_at, number, id), as call-next reads it.
    order = sorted(
        rows, key=lambda row: (str(row["queue_at"]), int(str(row["number"])), str(row["id"]))
    )
    rank = {str(row["id"]): position for position, row in enumerate(order)}

    began = time.monotonic()
    runs = await asyncio.to_thread(race, database_url)
    elapsed = time.monotonic() - began
    assert [run.error for run in runs] == [None] * len(COUNTERS), [r.error for r in runs]

    # Each ticket called exactly once, at the counter that called it.
    called = [ticket_id for run in runs for ticket_id in run.calls]
    assert len(called) == len(set(called)) == TICKETS
    assert set(called) == set(rank)
    tk, ev = t.tickets.c, t.ticket_events.c
    async with engine.connect() as connection:
        statuses = dict(
            (
                await connection.execute(select(tk.id, tk.status).where(tk.company_id == COMPANY))
            ).all()
        )
        counter_of = dict(
            (
                await connection.execute(select(tk.id, tk.counter_id).where(tk.status == "called"))
            ).all()
        )
        logged = (
            await connection.execute(
                select(ev.ticket_id, ev.from_status, ev.to_status, ev.actor_id).order_by(ev.id)
            )
        ).all()
    assert Counter(statuses[ticket_id] for ticket_id in rank) == {"called": TICKETS}
    assert all(statuses[str(row["id"])] == row["status"] for row in bystanders)
    assert len(logged) == TICKETS
    assert {(e.from_status, e.to_status) for e in logged} == {("waiting", "called")}
    assert len({e.ticket_id for e in logged}) == TICKETS
    for run in runs:
        assert all(counter_of[ticket_id] == run.counter_id for ticket_id in run.calls)
        assert [e.ticket_id for e in logged if e.actor_id == run.counter_id] == run.calls

    # None skipped: nothing called while an earlier-queued ticket stayed waiting.
    still_waiting = [rank[i] for i in rank if statuses[i] == "waiting"]
    assert not [i for i in called if any(r < rank[i] for r in still_waiting)]
    # In flight at once: at most one call per other counter (none on SQLite).
    overlap = 0 if engine.dialect.name == "sqlite" else len(COUNTERS) - 1
    # "Empty" only when whatever still waited was being called elsewhere.
    assert all(run.waiting_after_empty <= overlap for run in runs), runs

    # Each counter's calls in strictly increasing queue order.
    for run in runs:
        ranks = [rank[ticket_id] for ticket_id in run.calls]
        assert ranks == sorted(set(ranks)), (run.counter_id, ranks)

    # Commit order follows queue order up to the calls in flight at the same time.
    ranks_logged = [rank[e.ticket_id] for e in logged]
    overtaken = [
        sum(1 for earlier in ranks_logged[position + 1 :] if earlier < own)
        for position, own in enumerate(ranks_logged)
    ]
    assert max(overtaken) <= overlap, (max(overtaken), ranks_logged)

    # It was a race: several counters got work (SQLite's lock is not fair, so one of
    # the four may be starved for the whole run), and it did not crawl.
    assert sum(1 for run in runs if run.calls) >= 2, [len(run.calls) for run in runs]
    assert elapsed < 30, elapsed
    print(  # shown with -s: how the work was shared
        f"{engine.dialect.name}: {elapsed:.1f}s, calls per counter "
        f"{[len(run.calls) for run in runs]}, most overtaken {max(overtaken)}"
    )
