"""Ticket moves through the staff API (both databases): each allowed move answers the
moved ticket and logs an event naming the staff user; each refused one is a 409 naming
the current status and changes nothing; an agent acts only at their branch and on
tickets at their own counter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.tickets import transitions as tr
from taboor.tickets.events import Actor
from taboor.tickets.transitions import CounterNotHeldError
from tests.staff_api.helpers import Staff, add_staff
from tests.support import MutableClock, apply_fixture, insert_ticket

HALL, BRANCH, COUNTER = "cmp_ctrs01", "hallbr0001", "hallctr001"
Q1, Q2 = "hallsvc001", "hallsvc002"
START = datetime(2026, 6, 7, 7, 0, tzinfo=UTC)


@pytest.fixture
async def hall(engine: AsyncEngine, clock: MutableClock) -> dict[str, Staff]:
    await apply_fixture(engine, "counters")
    now = clock()
    staff = {
        "amal": await add_staff(engine, HALL, "agent", (BRANCH,), now, "Amal"),
        "badr": await add_staff(engine, HALL, "agent", (BRANCH,), now, "Badr"),
        "admin": await add_staff(engine, HALL, "admin", (), now, "Admin"),
    }
    async with engine.begin() as connection:
        await connection.execute(
            t.counters.update()
            .where(t.counters.c.id == COUNTER)
            .values(held_by=staff["amal"].id, opened_at=now)
        )
    return staff


_numbers = iter(range(1, 1000))


async def seed(engine: AsyncEngine, status: str, **fields: Any) -> str:
    row: dict[str, Any] = {
        "company_id": HALL,
        "branch_id": BRANCH,
        "group_id": "hallgrp001",
        "service_id": Q1,
        "prefix": "Q",
        "number": next(_numbers),
        "status": status,
        "at": START - timedelta(minutes=30),
    }
    if status == "upcoming":
        row.update(type="appointment", time=START + timedelta(minutes=5))
        row["queue_at"] = row["time"]
    if status in ("called", "serving"):
        row["counter_id"] = COUNTER
    if status == "serving":
        row["serving_at"] = START - timedelta(minutes=3)
    row.update(fields)
    return await insert_ticket(engine, **row)


async def state(engine: AsyncEngine, ticket_id: str) -> tuple[Any, ...]:
    tk, ev = t.tickets.c, t.ticket_events.c
    async with engine.connect() as connection:
        ticket = (
            await connection.execute(
                select(tk.status, tk.service_id, tk.counter_id, tk.queue_at).where(
                    tk.id == ticket_id
                )
            )
        ).one()
        events = (
            await connection.execute(
                select(ev.from_status, ev.to_status, ev.actor_kind, ev.actor_id, ev.source)
                .where(ev.ticket_id == ticket_id)
                .order_by(ev.id)
            )
        ).all()
    return tuple(ticket), [tuple(e) for e in events]


READABLE = {"serving": "being served", "no_show": "a no-show"}  # the rest read as coded

# (path suffix, body, statuses it may start from, status after)
MOVES: list[tuple[str, dict[str, Any] | None, set[str], str]] = [
    ("check-in", None, {"upcoming"}, "waiting"),
    ("call", {"counterId": COUNTER}, {"waiting"}, "called"),
    ("recall", None, {"called"}, "called"),
    ("requeue", None, {"called"}, "waiting"),
    ("start", None, {"called"}, "serving"),
    ("finish", None, {"serving"}, "served"),
    ("no-show", None, {"called", "upcoming"}, "no_show"),
    ("transfer", {"serviceId": Q2}, {"waiting", "called", "serving"}, "waiting"),
    ("cancel", None, {"upcoming", "waiting"}, "cancelled"),
]
CASES = [
    pytest.param(move, body, status, status in allowed, after, id=f"{move}-from-{status}")
    for move, body, allowed, after in MOVES
    for status in t.TICKET_STATUSES
]


@pytest.mark.parametrize(("move", "body", "status", "allowed", "after"), CASES)
async def test_every_move_from_every_status(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    hall: dict[str, Staff],
    move: str,
    body: dict[str, Any] | None,
    status: str,
    allowed: bool,
    after: str,
) -> None:
    amal = hall["amal"]
    ticket = await seed(engine, status)
    before = await state(engine, ticket)
    response = await client.post(
        f"/staff/v1/tickets/{ticket}/{move}", headers=amal.headers(), json=body
    )
    if not allowed:
        assert response.status_code == 409
        said = READABLE.get(status, status)
        assert response.json() == {
            "message": f"The ticket is {said}: this action is not allowed.",
            "error": f"Current status: {said}.",
            "code": "invalid_transition",
        }
        assert await state(engine, ticket) == before
        return
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["id"], data["status"]) == (ticket, after)
    (status_now, service, counter, _queue_at), events = await state(engine, ticket)
    assert status_now == after
    assert events == [(status, after, "staff", amal.id, "staff")]
    if move == "transfer":
        assert (service, counter) == (Q2, None)
    if after == "called":
        assert counter == COUNTER


async def test_a_refusal_speaks_arabic(
    client: httpx.AsyncClient, engine: AsyncEngine, hall: dict[str, Staff]
) -> None:
    ticket = await seed(engine, "served")
    response = await client.post(
        f"/staff/v1/tickets/{ticket}/start", headers=hall["amal"].headers("ar")
    )
    assert response.status_code == 409
    assert response.json()["message"] == "حالة التذكرة تمت خدمتها: هذا الإجراء غير مسموح."
    assert response.json()["error"] == "الحالة الحالية: تمت خدمتها."


async def test_tickets_at_another_agents_counter_are_not_yours(
    client: httpx.AsyncClient, engine: AsyncEngine, hall: dict[str, Staff]
) -> None:
    ticket = await seed(engine, "called")
    before = await state(engine, ticket)
    for move in ("recall", "requeue", "start", "no-show"):
        refused = await client.post(
            f"/staff/v1/tickets/{ticket}/{move}", headers=hall["badr"].headers()
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert await state(engine, ticket) == before
    # Reading it is the branch's business, though: the live queue shows it too.
    read = await client.get(f"/staff/v1/tickets/{ticket}", headers=hall["badr"].headers())
    assert read.status_code == 200
    # An admin may act on any ticket of the company.
    started = await client.post(
        f"/staff/v1/tickets/{ticket}/start", headers=hall["admin"].headers()
    )
    assert started.status_code == 200


async def test_the_counter_check_is_judged_with_the_move(
    engine: AsyncEngine, hall: dict[str, Staff]
) -> None:
    """Domain level: the holder is checked inside the move's transaction, on the same
    read its swap compares (a ticket called elsewhere after an API-level check would
    otherwise be moved by the wrong agent)."""
    ticket = await seed(engine, "called")  # at Amal's counter
    badr = Actor(kind="staff", id=hall["badr"].id, source="staff")
    with pytest.raises(CounterNotHeldError):
        await tr.recall(engine, HALL, ticket, badr, START, holder=hall["badr"].id)
    with pytest.raises(CounterNotHeldError):
        await tr.call_ticket(
            engine, HALL, await seed(engine, "waiting"), COUNTER, badr, START,
            holder=hall["badr"].id,
        )  # fmt: skip
    assert (await state(engine, ticket))[1] == []


async def test_calling_a_ticket_needs_a_counter_you_hold(
    client: httpx.AsyncClient, engine: AsyncEngine, hall: dict[str, Staff]
) -> None:
    ticket = await seed(engine, "waiting")
    for body, status, code in [
        ({"counterId": COUNTER}, 409, "not_holding"),  # Amal's counter, Badr calling
        ({"counterId": "hallctr002"}, 409, "not_holding"),  # nobody's
        ({"counterId": "zctr000001"}, 422, "validation_failed"),  # another company's
        ({}, 422, "validation_failed"),
        ({"counterId": 7}, 422, "validation_failed"),
    ]:
        response = await client.post(
            f"/staff/v1/tickets/{ticket}/call", headers=hall["badr"].headers(), json=body
        )
        assert (response.status_code, response.json()["code"]) == (status, code), body
    assert (await state(engine, ticket))[1] == []


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"serviceId": "hallsvc999"}, 422, {"serviceId": "This value does not exist."}),
        ({"serviceId": "zwithdraw1"}, 422, {"serviceId": "This value does not exist."}),
        ({}, 422, {"serviceId": "This field is required."}),
    ],
)
async def test_transfer_targets_a_service_of_the_branch(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    hall: dict[str, Staff],
    body: dict[str, Any],
    status: int,
    error: dict[str, str],
) -> None:
    await apply_fixture(engine, "bank")
    ticket = await seed(engine, "waiting")
    before = await state(engine, ticket)
    response = await client.post(
        f"/staff/v1/tickets/{ticket}/transfer", headers=hall["amal"].headers(), json=body
    )
    assert (response.status_code, response.json()["error"]) == (status, error)
    assert await state(engine, ticket) == before


async def test_transfer_joins_the_back_of_the_new_queue_with_its_number(
    client: httpx.AsyncClient, engine: AsyncEngine, clock: MutableClock, hall: dict[str, Staff]
) -> None:
    already = await seed(engine, "waiting", service_id=Q2, prefix="K", number=1)
    moved = await seed(engine, "serving", number=7)
    response = await client.post(
        f"/staff/v1/tickets/{moved}/transfer",
        headers=hall["amal"].headers(),
        json={"serviceId": Q2},
    )
    data = response.json()["data"]
    assert (data["ticketNumber"], data["service"]["id"], data["queueSize"]) == ("Q007", Q2, 1)
    assert (await state(engine, moved))[0][3] == clock()
    assert (await state(engine, already))[0][0] == "waiting"


async def test_unknown_and_foreign_tickets_are_not_found(
    client: httpx.AsyncClient, engine: AsyncEngine, hall: dict[str, Staff]
) -> None:
    await apply_fixture(engine, "bank")
    foreign = await insert_ticket(engine)  # a bank ticket
    for ticket in ("nosuchtick", foreign):
        for move in ("start", "cancel"):
            response = await client.post(
                f"/staff/v1/tickets/{ticket}/{move}", headers=hall["admin"].headers()
            )
            assert (response.status_code, response.json()["message"]) == (404, "Ticket not found.")
        got = await client.get(f"/staff/v1/tickets/{ticket}", headers=hall["admin"].headers())
        assert got.status_code == 404
    assert (await state(engine, foreign))[1] == []


async def test_agents_off_the_branch_cannot_move_its_tickets(
    client: httpx.AsyncClient, engine: AsyncEngine, clock: MutableClock, hall: dict[str, Staff]
) -> None:
    stranger = await add_staff(engine, HALL, "agent", (), clock(), "Stranger")
    ticket = await seed(engine, "waiting")
    response = await client.post(f"/staff/v1/tickets/{ticket}/cancel", headers=stranger.headers())
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert (await state(engine, ticket))[0][0] == "waiting"
