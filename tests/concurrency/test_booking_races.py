"""Booking under real concurrency: a 2-worker ``taboor serve``, parallel HTTP requests,
both databases. The invariants of design.md §3 hold whatever the interleaving:

- ticket numbers are distinct and gap-free per (branch, prefix, day), and a refused
  booking takes no number;
- a slot is never booked beyond its capacity, and ``slot_places.taken`` always equals
  the number of non-cancelled tickets holding the slot (which is what the slots
  endpoint reports as ``remaining``), whatever mix of bookings, cancels and moves ran.

The server reads the real system clock, so the ``race`` company is open around the
clock and appointment slots are taken from tomorrow (branch zone): nothing crosses
"now" while a test runs.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from tests.conftest import CompanyKeys, keys_for
from tests.live_server import running_server
from tests.support import apply_fixture

API = "/external/v1"
COMPANY = "cmp_race01"
ZONE = ZoneInfo("Asia/Bahrain")  # the race branch's zone
QUEUE_ONE = {"serviceId": "racewalk01", "groupOfServiceId": "racegrp001"}  # prefix Q
QUEUE_TWO = {"serviceId": "racewalk02", "groupOfServiceId": "racegrp001"}  # prefix K
CONSULTATION = {"serviceId": "raceappt01", "groupOfServiceId": "racegrp002"}  # prefix A
CAPACITY = 2
SLOT_FULL = {"message": "This time slot is fully booked.", "error": None, "code": "slot_full"}
DUPLICATE = {
    "message": "You already have an active ticket for this service.",
    "error": None,
    "code": "duplicate_active",
}


@pytest.fixture
async def race(engine: AsyncEngine) -> CompanyKeys:
    await apply_fixture(engine, "race")
    return await keys_for(engine, COMPANY)


@dataclass
class Api:
    """The External API of a live server, as the race company's client sees it."""

    client: httpx.AsyncClient
    keys: CompanyKeys

    async def book(self, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(
            f"{API}/tickets/book", headers=self.keys.headers("public"), json=body
        )

    async def new_customer(self, external_id: str) -> str:
        response = await self.client.post(
            f"{API}/customers/create",
            headers=self.keys.headers("secret"),
            json={"externalId": external_id},
        )
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["_id"])

    async def new_customers(self, prefix: str, count: int) -> list[str]:
        return list(
            await asyncio.gather(*(self.new_customer(f"{prefix}-{n}") for n in range(count)))
        )

    async def slots(self, day: str) -> dict[str, int]:
        response = await self.client.get(
            f"{API}/services/raceappt01/slots?date={day}", headers=self.keys.headers()
        )
        assert response.status_code == 200, response.text
        return {slot["time"]: slot["remaining"] for slot in response.json()["data"]}

    async def book_slot(self, time: str, customer_id: str) -> httpx.Response:
        return await self.book({**CONSULTATION, "time": time, "customerId": customer_id})

    async def cancel(self, ticket_id: str) -> httpx.Response:
        return await self.client.post(
            f"{API}/tickets/{ticket_id}/cancel", headers=self.keys.headers()
        )

    async def move(self, ticket_id: str, time: str, customer_id: str) -> httpx.Response:
        return await self.client.post(
            f"{API}/tickets/{ticket_id}/change-time",
            headers=self.keys.headers(),
            json={"time": time, "customerId": customer_id},
        )


@pytest.fixture
async def api(database_url: str, race: CompanyKeys) -> AsyncIterator[Api]:
    with running_server(database_url, workers=2) as base_url:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
            yield Api(client, race)


def tomorrow() -> str:
    return (datetime.now(ZONE).date() + timedelta(days=1)).isoformat()


def no_5xx(responses: Iterable[httpx.Response]) -> None:
    failures = [
        (r.request.url.path, r.status_code, r.text) for r in responses if r.status_code >= 500
    ]
    assert not failures, failures[:3]


def utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)


def stamp(moment: datetime) -> str:
    """As the API writes instants: ``2026-06-23T11:00:00.000Z`` (slots start on the minute)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def numbers_by_day(responses: Iterable[httpx.Response], prefix: str) -> dict[str, list[int]]:
    """The numbers handed out, per local day of booking (a run that straddles midnight
    in the branch zone starts a new day at 001)."""
    days: dict[str, list[int]] = {}
    for response in responses:
        data = response.json()["data"]
        number = data["ticketNumber"]
        assert number.startswith(prefix), number
        day = utc(data["bookedAt"]).astimezone(ZONE).date().isoformat()
        days.setdefault(day, []).append(int(number[len(prefix) :]))
    return days


def assert_gap_free(responses: list[httpx.Response], prefix: str) -> None:
    days = numbers_by_day(responses, prefix)
    for numbers in days.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), sorted(numbers)
    if len(days) == 1:
        expected = [f"{prefix}{n:03d}" for n in range(1, len(responses) + 1)]
        assert sorted(r.json()["data"]["ticketNumber"] for r in responses) == expected


# -- walk-ins ---------------------------------------------------------------------------

WALK_INS = 300


async def test_concurrent_walk_ins_get_distinct_gap_free_numbers(
    engine: AsyncEngine, api: Api
) -> None:
    responses = await asyncio.gather(*(api.book(QUEUE_ONE) for _ in range(WALK_INS)))
    no_5xx(responses)
    assert Counter(r.status_code for r in responses) == {201: WALK_INS}
    assert_gap_free(responses, "Q")

    async with engine.connect() as connection:
        tickets = await connection.scalar(
            select(func.count())
            .select_from(t.tickets)
            .where(t.tickets.c.service_id == "racewalk01")
        )
        events = (
            await connection.execute(
                select(
                    t.ticket_events.c.ticket_id,
                    t.ticket_events.c.from_status,
                    t.ticket_events.c.to_status,
                )
            )
        ).all()
    assert tickets == WALK_INS
    assert len(events) == WALK_INS
    assert {(e.from_status, e.to_status) for e in events} == {(None, "waiting")}
    assert {e.ticket_id for e in events} == {r.json()["data"]["id"] for r in responses}


async def test_refused_walk_ins_consume_no_number(engine: AsyncEngine, api: Api) -> None:
    # Ten customers already hold a waiting ticket (K001…K010); their further walk-ins are
    # refused as duplicate_active, interleaved with anonymous walk-ins and ten newcomers
    # who each send two bookings at once (one wins, one is a duplicate).
    holders = await api.new_customers("holder", 10)
    for customer_id in holders:
        assert (await api.book({**QUEUE_TWO, "customerId": customer_id})).status_code == 201
    newcomers = await api.new_customers("newcomer", 10)
    calls = [api.book({**QUEUE_TWO, "customerId": c}) for c in holders for _ in range(4)]
    calls += [api.book({**QUEUE_TWO, "customerId": c}) for c in newcomers for _ in range(2)]
    calls += [api.book(QUEUE_TWO) for _ in range(100)]
    random.Random(7).shuffle(calls)
    responses = await asyncio.gather(*calls)
    no_5xx(responses)
    assert Counter(r.status_code for r in responses) == {201: 110, 400: 50}
    for response in responses:
        if response.status_code == 400:
            assert response.json() == DUPLICATE
    booked = [r for r in responses if r.status_code == 201]
    per_customer = Counter(
        r.json()["data"]["customer"]["id"] for r in booked if r.json()["data"]["customer"]
    )
    assert per_customer == dict.fromkeys(newcomers, 1)

    async with engine.connect() as connection:
        numbers = sorted(
            await connection.scalars(
                select(t.tickets.c.number).where(t.tickets.c.service_id == "racewalk02")
            )
        )
        last = await connection.scalar(
            select(func.max(t.ticket_numbers.c.last_number)).where(t.ticket_numbers.c.prefix == "K")
        )
    if len(numbers_by_day(booked, "K")) == 1:
        assert numbers == list(range(1, 121))
        assert last == 120
    assert len(numbers) == 120


# -- appointments -----------------------------------------------------------------------


async def test_concurrent_bookings_of_one_slot_fill_it_exactly(
    engine: AsyncEngine, api: Api
) -> None:
    day = tomorrow()
    free = await api.slots(day)
    assert free and set(free.values()) == {CAPACITY}
    target = sorted(free)[3]
    customers = await api.new_customers("patient", 40)

    responses = await asyncio.gather(*(api.book_slot(target, c) for c in customers))
    no_5xx(responses)
    assert Counter(r.status_code for r in responses) == {201: 2, 400: 38}
    for response in responses:
        if response.status_code == 400:
            assert response.json() == SLOT_FULL
        else:
            assert response.json()["data"]["time"] == target
    assert_gap_free([r for r in responses if r.status_code == 201], "A")

    after = await api.slots(day)
    assert target not in after
    assert after == {slot: CAPACITY for slot in free if slot != target}
    async with engine.connect() as connection:
        held = await connection.scalar(
            select(func.count())
            .select_from(t.tickets)
            .where(t.tickets.c.service_id == "raceappt01", t.tickets.c.time == utc(target))
        )
        taken = await connection.scalar(
            select(t.slot_places.c.taken).where(
                t.slot_places.c.service_id == "raceappt01",
                t.slot_places.c.starts_at == utc(target),
            )
        )
    assert held == 2
    assert taken == 2


@dataclass
class Holding:
    ticket_id: str
    customer_id: str
    time: str


async def holdings(engine: AsyncEngine) -> list[Holding]:
    """The appointment tickets that hold a place (every status but cancelled)."""
    tk = t.tickets.c
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(tk.id, tk.customer_id, tk.time).where(
                    tk.service_id == "raceappt01", tk.status != "cancelled"
                )
            )
        ).all()
    return [Holding(row.id, row.customer_id, stamp(row.time)) for row in rows]


async def assert_places_consistent(engine: AsyncEngine, api: Api, grid: list[str]) -> None:
    """``slot_places`` agrees with the tickets, respects capacity, and the slots
    endpoint reports capacity − holders for every slot of the day."""
    held = Counter(h.time for h in await holdings(engine))
    async with engine.connect() as connection:
        taken = {
            stamp(row.starts_at): row.taken
            for row in (
                await connection.execute(
                    select(t.slot_places.c.starts_at, t.slot_places.c.taken).where(
                        t.slot_places.c.service_id == "raceappt01"
                    )
                )
            ).all()
        }
    ledger = {slot: (taken.get(slot, 0), held.get(slot, 0)) for slot in set(taken) | set(held)}
    drift = {slot: pair for slot, pair in ledger.items() if pair[0] != pair[1]}
    assert not drift, f"slot_places.taken vs holding tickets: {drift}"
    assert all(count <= CAPACITY for count in held.values()), held
    expected = {slot: CAPACITY - held[slot] for slot in grid if held[slot] < CAPACITY}
    assert await api.slots(tomorrow()) == expected


ROUNDS = 5


async def test_cancels_moves_and_bookings_keep_slot_places_exact(
    engine: AsyncEngine, api: Api
) -> None:
    day = tomorrow()
    grid = sorted(await api.slots(day))
    hot, others = grid[10], grid[11:15]
    customers = await api.new_customers("mixed", 48)
    initial = [hot, hot, others[0], others[0], others[1], others[2]]
    for time, customer_id in zip(initial, customers, strict=False):
        assert (await api.book_slot(time, customer_id)).status_code == 201
    await assert_places_consistent(engine, api, grid)

    randomness = random.Random(2026)
    statuses: Counter[int] = Counter()
    refusals: Counter[str] = Counter()
    for _ in range(ROUNDS):
        current = await holdings(engine)
        busy = {h.customer_id for h in current}
        idle = [c for c in customers if c not in busy]
        in_hot = [h for h in current if h.time == hot]
        elsewhere = [h for h in current if h.time != hot]
        calls = []
        # Each ticket gets one of: a move out of the hot slot, a move into it, or a
        # cancel (a cancel racing a move of the same ticket is the next test's subject).
        for holder in in_hot:
            if randomness.random() < 0.5:
                calls += [api.move(holder.ticket_id, randomness.choice(others), holder.customer_id)]
            else:
                calls += [api.cancel(holder.ticket_id)]
        for holder in elsewhere:
            if randomness.random() < 0.7:
                calls += [api.move(holder.ticket_id, hot, holder.customer_id)]
            else:
                calls += [api.cancel(holder.ticket_id)]
        for customer_id in randomness.sample(idle, min(6, len(idle))):
            calls += [api.book_slot(hot, customer_id)]
        for customer_id in randomness.sample(idle, min(4, len(idle))):
            calls += [api.book_slot(randomness.choice(others), customer_id)]
        # Customers who already hold a ticket try to book the hot slot again: duplicates.
        for holder in randomness.sample(elsewhere, min(2, len(elsewhere))):
            calls += [api.book_slot(hot, holder.customer_id)]
        randomness.shuffle(calls)
        responses = await asyncio.gather(*calls)
        no_5xx(responses)
        statuses.update(r.status_code for r in responses)
        refusals.update(r.json()["code"] for r in responses if r.status_code >= 400)
        assert set(statuses) <= {200, 201, 400}, (statuses, refusals)
        assert set(refusals) <= {"slot_full", "duplicate_active"}, refusals
        await assert_places_consistent(engine, api, grid)
    # The rounds did exercise every path: moves, cancels, bookings and refusals.
    assert statuses[200] and statuses[201] and refusals["slot_full"], (statuses, refusals)


def overbooked_or_drifted(held: Counter[str], taken: dict[str, int]) -> dict[str, tuple[int, int]]:
    slots = set(held) | set(taken)
    return {
        slot: (taken.get(slot, 0), held.get(slot, 0))
        for slot in slots
        if taken.get(slot, 0) != held.get(slot, 0) or held.get(slot, 0) > CAPACITY
    }


async def test_a_cancel_racing_a_move_frees_the_place_the_ticket_holds(
    engine: AsyncEngine, api: Api, database_url: str
) -> None:
    """Each slot holds a keeper and a victim; the victim is moved to a free slot and
    cancelled at the same moment. Whichever wins, exactly the keeper must be left
    holding a place in the old slot, so newcomers get exactly one more place there.
    (Once a bug on PostgreSQL: the cancel's swap ignored the time it had read.)"""
    keepers = await api.new_customers("keeper", 24)
    victims = await api.new_customers("victim", 24)
    newcomers = await api.new_customers("newcomer", 48)
    randomness = random.Random(3)

    async def cancel_after(ticket_id: str, delay: float) -> httpx.Response:
        await asyncio.sleep(delay)  # lands the cancel's read before the move's write
        return await api.cancel(ticket_id)

    today = datetime.now(ZONE).date()
    for offset in (1, 2, 3):  # three rounds, one day each: the race is timing-dependent
        day = (today + timedelta(days=offset)).isoformat()
        grid = sorted(await api.slots(day))
        old, new = grid[:24], grid[24:48]
        moved: list[tuple[str, str, str]] = []
        for slot, keeper, victim in zip(old, keepers, victims, strict=True):
            assert (await api.book_slot(slot, keeper)).status_code == 201
            response = await api.book_slot(slot, victim)
            assert response.status_code == 201
            moved.append((response.json()["data"]["id"], victim, slot))
        calls = []
        for (ticket_id, victim, _), target in zip(moved, new, strict=True):
            calls.append(api.move(ticket_id, target, victim))
            calls.append(cancel_after(ticket_id, randomness.uniform(0, 0.012)))
        responses = await asyncio.gather(*calls)
        no_5xx(responses)
        # Two newcomers per old slot: only one place is free there.
        late = await asyncio.gather(
            *(
                api.book_slot(slot, newcomers[2 * n + k])
                for n, slot in enumerate(old)
                for k in (0, 1)
            )
        )
        no_5xx(late)
        day_slots = set(grid)
        held = Counter(h.time for h in await holdings(engine) if h.time in day_slots)
        async with engine.connect() as connection:
            taken = {
                stamp(row.starts_at): row.taken
                for row in await connection.execute(
                    select(t.slot_places.c.starts_at, t.slot_places.c.taken)
                )
                if stamp(row.starts_at) in day_slots
            }
        late_booked = Counter(r.status_code for r in late)
        assert late_booked == {201: 24, 400: 24}, (late_booked, overbooked_or_drifted(held, taken))
        assert not overbooked_or_drifted(held, taken)
        for response in late:  # free the newcomers for the next day's round
            if response.status_code == 201:
                assert (await api.cancel(response.json()["data"]["id"])).status_code == 200
