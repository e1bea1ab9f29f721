"""A simulated morning at one branch, to measure how good waitingTime is.

The clinic's Reception (walk-ins only, ``avgServiceMinutes: 5``) is served by three open
counters from 08:00 to noon, local time. Customers arrive at random (a Poisson process
whose rate rises for a mid-morning rush, so the queue builds up and drains again), and
each service really takes a random time around 6 minutes (log-normal), so the
configured 5 is wrong, as a first guess usually is. Everything goes through the real
domain functions on the real database, with a pinned clock the simulation moves:
``book_ticket`` at each arrival, then ``ticket_view`` for the waitingTime the new
ticket is shown; a counter that falls free calls ``call_next``, ``start_serving`` and,
when the drawn service time has passed, ``finish``.

For each ticket, the estimate it was shown is compared with the wait it really had (from
booking to being called). The figure printed (run with ``-s``) is the mean absolute
error in minutes. It is compared with a naive estimate, the same formula with the
configured ``avgServiceMinutes`` instead of the learned mean: learning from real
service times must do better than never learning. That comparison is the assertion
that can fail; everything else asserted is structure (every ticket booked, called once,
served; the two estimates agree until anything has been served).

Seeded: the same run every time, on both databases.
"""

from __future__ import annotations

import heapq
import math
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.tickets.booking import BookingRequest, book_ticket
from taboor.tickets.eta import ServiceTimes, estimate_minutes
from taboor.tickets.events import Actor
from taboor.tickets.transitions import call_next, finish, start_serving
from taboor.tickets.views import ticket_view
from tests.support import apply_fixture

SEED = 20260607
COMPANY = "cmp_clinic01"
SERVICE, GROUP = "clinicwalk", "clinicgrp2"
CONFIGURED_MINUTES = 5  # the service's avgServiceMinutes in clinic.yaml
COUNTERS = ["clinicct01", "clinicct02", "clinicct03"]
OPENS = datetime(2026, 6, 7, 5, 0, tzinfo=UTC)  # Sunday 08:00 in Bahrain
# Arrivals per hour, by hour after opening: quiet, a rush, then quiet again. Three
# counters at ~6 minutes serve ~30 an hour, so the rush builds a queue that drains
# in the last hour.
ARRIVALS_PER_HOUR = [20, 40, 36, 16]
# Real service times: log-normal with a mean of 6 minutes (sigma 0.5 on the log).
SERVICE_SIGMA = 0.5
SERVICE_MEAN_MINUTES = 6.0
KIOSK = Actor(kind="api_key", id="key_kiosk", source="kiosk")


@dataclass
class Ticket:
    arrived: datetime
    shown: int  # the waitingTime the ticket was given when booked
    naive: int  # the same formula with avgServiceMinutes
    queue_size: int
    called: datetime | None = None


@dataclass
class Day:
    tickets: dict[str, Ticket] = field(default_factory=dict)
    service_minutes: list[float] = field(default_factory=list)
    first_finish: datetime | None = None


def arrivals(rng: random.Random) -> list[datetime]:
    """Poisson arrivals: exponential gaps at the hour's rate."""
    moments, minute = [], 0.0
    for hour, rate in enumerate(ARRIVALS_PER_HOUR):
        minute = max(minute, hour * 60.0)
        while True:
            minute += rng.expovariate(rate / 60.0)
            if minute >= (hour + 1) * 60.0:
                minute = (hour + 1) * 60.0
                break
            moments.append(OPENS + timedelta(minutes=minute))
    return moments


def service_minutes(rng: random.Random) -> float:
    mu = math.log(SERVICE_MEAN_MINUTES) - SERVICE_SIGMA**2 / 2  # so the mean is 6
    return rng.lognormvariate(mu, SERVICE_SIGMA)


async def open_counters(engine: AsyncEngine) -> None:
    """One agent (a staff user) holds each counter from opening time."""
    async with engine.begin() as connection:
        for n, counter_id in enumerate(COUNTERS, start=1):
            agent = f"usr_sim_agent{n}"
            await connection.execute(
                t.staff_users.insert().values(
                    id=agent,
                    company_id=COMPANY,
                    username=agent,
                    name=f"Agent {n}",
                    role="agent",
                    password_hash="-",
                    active=True,
                    created_at=OPENS,
                )
            )
            await connection.execute(
                t.counters.update()
                .where(t.counters.c.id == counter_id)
                .values(held_by=agent, opened_at=OPENS)
            )


async def simulate(engine: AsyncEngine, rng: random.Random) -> Day:
    """Run the morning as a discrete-event simulation over the real domain functions.

    Events are (moment, order, kind, counter, ticket); at equal moments finishes come
    before arrivals, so a counter freed at the moment someone arrives is free for them.
    """
    day = Day()
    agents = {
        counter_id: Actor(kind="staff", id=f"usr_sim_agent{n}", source="staff")
        for n, counter_id in enumerate(COUNTERS, start=1)
    }
    times = ServiceTimes(ttl_seconds=0)  # the memo's TTL runs on the real clock: off
    events: list[tuple[datetime, int, int, str, str]] = []
    order = 0
    for moment in arrivals(rng):
        order += 1
        heapq.heappush(events, (moment, 1, order, "", ""))
    idle = list(COUNTERS)

    async def call(counter_id: str, now: datetime) -> None:
        nonlocal order
        ticket_id = await call_next(engine, COMPANY, counter_id, [SERVICE], agents[counter_id], now)
        if ticket_id is None:
            idle.append(counter_id)
            return
        day.tickets[ticket_id].called = now
        await start_serving(engine, COMPANY, ticket_id, agents[counter_id], now)
        taken = service_minutes(rng)
        day.service_minutes.append(taken)
        order += 1
        heapq.heappush(events, (now + timedelta(minutes=taken), 0, order, counter_id, ticket_id))

    while events:
        now, kind, _order, counter_id, ticket_id = heapq.heappop(events)
        if kind == 0:  # a service ends; the counter calls the next
            await finish(engine, COMPANY, ticket_id, agents[counter_id], now)
            day.first_finish = day.first_finish or now
            await call(counter_id, now)
            continue
        booked = await book_ticket(
            engine, COMPANY, BookingRequest(SERVICE, GROUP), KIOSK, now, times
        )
        assert booked.queue_size is not None and booked.waiting_time is not None
        async with engine.connect() as connection:  # the answer is what a fetch says
            fetched = await ticket_view(connection, COMPANY, booked.id, now, times)
        assert fetched is not None and fetched.waiting_time == booked.waiting_time
        new_id = booked.id
        naive = estimate_minutes(booked.queue_size, CONFIGURED_MINUTES, len(COUNTERS))
        day.tickets[new_id] = Ticket(now, booked.waiting_time, naive, booked.queue_size)
        while idle:
            waiting_before = len(idle)
            await call(idle.pop(0), now)
            if len(idle) == waiting_before:  # nothing to call: the counter went back
                break
    return day


def minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


async def test_a_simulated_morning_learned_estimates_beat_the_configured_guess(
    engine: AsyncEngine,
) -> None:
    await apply_fixture(engine, "clinic")
    await open_counters(engine)
    began = time.monotonic()
    day = await simulate(engine, random.Random(SEED))
    elapsed = time.monotonic() - began

    # Structure: every arrival booked, called and served once.
    tickets = day.tickets
    assert len(tickets) == len(day.service_minutes) > 100
    assert all(ticket.called is not None for ticket in tickets.values())
    tk = t.tickets.c
    async with engine.connect() as connection:
        served = await connection.scalar(
            select(func.count()).where(tk.company_id == COMPANY, tk.status == "served")
        )
    assert served == len(tickets)
    # Until the first service ends, there is nothing to learn from: both estimates agree
    # (which also shows the three open counters are the c of both).
    assert day.first_finish is not None
    early = [ticket for ticket in tickets.values() if ticket.arrived < day.first_finish]
    assert early and all(ticket.shown == ticket.naive for ticket in early)

    real = {
        i: minutes(ticket.called - ticket.arrived) for i, ticket in tickets.items() if ticket.called
    }
    errors = [tickets[i].shown - real[i] for i in tickets]
    naive_errors = [tickets[i].naive - real[i] for i in tickets]
    mae = sum(map(abs, errors)) / len(errors)
    naive_mae = sum(map(abs, naive_errors)) / len(naive_errors)
    assert math.isfinite(mae) and math.isfinite(naive_mae)
    assert mae < naive_mae, (mae, naive_mae)

    queued = [i for i, ticket in enumerate(tickets.values()) if ticket.queue_size > 0]
    queued_mae = sum(abs(errors[i]) for i in queued) / len(queued)
    queued_naive = sum(abs(naive_errors[i]) for i in queued) / len(queued)
    print(  # shown with -s
        f"\n{engine.dialect.name}: {len(tickets)} walk-ins, {len(COUNTERS)} open counters, "
        f"real service {sum(day.service_minutes) / len(day.service_minutes):.2f} min on "
        f"average (configured {CONFIGURED_MINUTES}); real wait "
        f"{sum(real.values()) / len(real):.1f} min on average, longest "
        f"{max(real.values()):.1f}; longest queue "
        f"{max(ticket.queue_size for ticket in tickets.values())}\n"
        f"  waitingTime MAE {mae:.2f} min (bias {sum(errors) / len(errors):+.2f}); "
        f"with avgServiceMinutes only {naive_mae:.2f} min "
        f"(bias {sum(naive_errors) / len(naive_errors):+.2f})\n"
        f"  the {len(queued)} with someone ahead: {queued_mae:.2f} vs {queued_naive:.2f}; "
        f"simulated in {elapsed:.1f} s"
    )
