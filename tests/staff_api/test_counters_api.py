"""The staff API's counters: holding one, closing it, choosing its services, calling
the next ticket, and the branch's live queue; who may do what (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from tests.staff_api.helpers import Staff, add_staff
from tests.support import MutableClock, apply_fixture, insert_ticket

HALL, BRANCH = "cmp_ctrs01", "hallbr0001"
Q1, Q2, ELSEWHERE = "hallsvc001", "hallsvc002", "hallsvc003"
START = datetime(2026, 6, 7, 7, 0, tzinfo=UTC)  # the clock fixture's moment
HALL_TICKET = {"company_id": HALL, "branch_id": BRANCH, "group_id": "hallgrp001"}


@pytest.fixture
async def hall(engine: AsyncEngine, clock: MutableClock) -> dict[str, Staff]:
    await apply_fixture(engine, "counters")
    await apply_fixture(engine, "bank")
    now = clock()
    return {
        "amal": await add_staff(engine, HALL, "agent", (BRANCH,), now, "Amal"),
        "badr": await add_staff(engine, HALL, "agent", (BRANCH,), now, "Badr"),
        "admin": await add_staff(engine, HALL, "admin", (), now, "Admin"),
        "elsewhere": await add_staff(engine, HALL, "agent", (), now, "Nowhere"),
        "banker": await add_staff(engine, "cmp_bank01", "admin", (), now, "Banker"),
    }


async def waiting(
    engine: AsyncEngine, service: str, number: int, minutes: int, **extra: Any
) -> str:
    prefix = {Q1: "Q", Q2: "K", ELSEWHERE: "E"}[service]
    clock_at = START + timedelta(minutes=minutes)
    return await insert_ticket(
        engine,
        **HALL_TICKET,
        service_id=service,
        prefix=prefix,
        number=number,
        at=clock_at,
        **extra,
    )


async def post(client: httpx.AsyncClient, path: str, who: Staff, **kw: Any) -> httpx.Response:
    return await client.post(f"/staff/v1{path}", headers=who.headers(kw.pop("locale", None)), **kw)


async def test_counters_listed_closed_with_their_services(
    client: httpx.AsyncClient, hall: dict[str, Staff]
) -> None:
    response = await client.get(
        f"/staff/v1/branches/{BRANCH}/counters", headers=hall["amal"].headers()
    )
    assert response.status_code == 200
    counters = response.json()["data"]
    assert [c["id"] for c in counters] == ["hallctr001", "hallctr002", "hallctr003", "hallctr004"]
    assert counters[0] == {
        "id": "hallctr001",
        "branchId": BRANCH,
        "name": "Counter 1",
        "position": 1,
        "open": False,
        "heldBy": None,
        "openedAt": None,
        "services": [{"id": Q1, "enabled": True}, {"id": Q2, "enabled": True}],
    }


async def test_an_agent_holds_one_counter_and_a_counter_one_agent(
    client: httpx.AsyncClient, hall: dict[str, Staff]
) -> None:
    amal, badr = hall["amal"], hall["badr"]
    opened = await post(client, "/counters/hallctr001/open", amal)
    assert opened.status_code == 200
    body = opened.json()["data"]
    assert (body["open"], body["heldBy"]) == (True, {"id": amal.id, "name": "Amal"})
    assert body["openedAt"] == "2026-06-07T07:00:00.000Z"
    # Opening the counter one holds again changes nothing.
    assert (await post(client, "/counters/hallctr001/open", amal)).status_code == 200
    busy = await post(client, "/counters/hallctr001/open", badr)
    assert (busy.status_code, busy.json()["code"]) == (409, "counter_busy")
    second = await post(client, "/counters/hallctr002/open", amal)
    assert (second.status_code, second.json()["code"]) == (409, "already_holding")
    assert second.json()["message"] == "You already hold counter hallctr001: close it first."
    arabic = await post(client, "/counters/hallctr002/open", amal, locale="ar")
    assert arabic.json()["message"] == "أنت تعمل على الشباك hallctr001: أغلقه أولًا."
    # Someone else's counter cannot be closed by an agent; an admin may close it.
    refused = await post(client, "/counters/hallctr001/close", badr)
    assert (refused.status_code, refused.json()["code"]) == (409, "not_holding")
    closed = await post(client, "/counters/hallctr001/close", hall["admin"])
    assert (closed.status_code, closed.json()["data"]["open"]) == (200, False)
    assert (await post(client, "/counters/hallctr001/open", badr)).status_code == 200


async def test_a_counter_with_a_ticket_at_it_does_not_close(
    client: httpx.AsyncClient, engine: AsyncEngine, hall: dict[str, Staff]
) -> None:
    amal = hall["amal"]
    ticket = await waiting(engine, Q1, 1, 0)
    await post(client, "/counters/hallctr001/open", amal)
    called = await post(client, "/counters/hallctr001/call-next", amal)
    assert called.json()["data"]["id"] == ticket
    refused = await post(client, "/counters/hallctr001/close", amal)
    assert (refused.status_code, refused.json()["code"]) == (409, "ticket_at_counter")
    assert ticket in refused.json()["message"]
    async with engine.connect() as connection:
        holder = await connection.scalar(
            select(t.counters.c.held_by).where(t.counters.c.id == "hallctr001")
        )
    assert holder == amal.id  # the refused close changed nothing
    await post(client, f"/tickets/{ticket}/requeue", amal)
    assert (await post(client, "/counters/hallctr001/close", amal)).status_code == 200


async def test_choosing_services_narrows_call_next(
    client: httpx.AsyncClient, engine: AsyncEngine, hall: dict[str, Staff]
) -> None:
    amal = hall["amal"]
    first_q = await waiting(engine, Q1, 1, 0)
    first_k = await waiting(engine, Q2, 1, 1)
    await post(client, "/counters/hallctr001/open", amal)
    chosen = await client.put(
        "/staff/v1/counters/hallctr001/services", headers=amal.headers(), json={"serviceIds": [Q2]}
    )
    assert chosen.status_code == 200
    assert chosen.json()["data"]["services"] == [
        {"id": Q1, "enabled": False},
        {"id": Q2, "enabled": True},
    ]
    called = await post(client, "/counters/hallctr001/call-next", amal)
    assert (called.status_code, called.json()["data"]["id"]) == (200, first_k)
    assert called.json()["message"] == "Ticket K001 called."
    empty = await post(client, "/counters/hallctr001/call-next", amal)
    assert (empty.status_code, empty.json()["data"]) == (200, None)
    # Q1's ticket is still waiting for a counter that takes it.
    async with engine.connect() as connection:
        status = await connection.scalar(
            select(t.tickets.c.status).where(t.tickets.c.id == first_q)
        )
    assert status == "waiting"


@pytest.mark.parametrize("locale", ["en", "ar"])
async def test_call_next_answers_the_called_ticket_as_a_fetch_shows_it(
    client: httpx.AsyncClient, engine: AsyncEngine, hall: dict[str, Staff], locale: str
) -> None:
    """The called ticket comes with the call (on PostgreSQL from the call's own
    statement, no read-back): the same body a fetch of it gives right after, names in
    the caller's language, customer included."""
    amal = hall["amal"]
    async with engine.begin() as connection:
        await connection.execute(
            t.customers.insert().values(
                id="hallcust01", company_id=HALL, name="Salma", created_at=START, updated_at=START
            )
        )
    ticket = await waiting(engine, Q1, 7, 0, customer_id="hallcust01")
    await post(client, "/counters/hallctr001/open", amal)
    called = await post(client, "/counters/hallctr001/call-next", amal, locale=locale)
    assert called.status_code == 200
    data = called.json()["data"]
    assert (data["id"], data["status"], data["ticketNumber"]) == (ticket, "called", "Q007")
    assert data["customer"] == {"id": "hallcust01", "name": "Salma"}
    fetched = await client.get(f"/staff/v1/tickets/{ticket}", headers=amal.headers(locale))
    assert fetched.status_code == 200
    assert data == fetched.json()["data"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "serviceIds", "This field is required."),
        ({"serviceIds": "hallsvc001"}, "serviceIds", "This field must be a list of ids."),
        ({"serviceIds": [1]}, "serviceIds", "This field must be a list of ids."),
        (
            {"serviceIds": [ELSEWHERE]},
            "serviceIds",
            "Service hallsvc003 is not one this counter serves.",
        ),
    ],
)
async def test_bad_service_choices_are_422_and_change_nothing(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    hall: dict[str, Staff],
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    amal = hall["amal"]
    await post(client, "/counters/hallctr001/open", amal)
    response = await client.put(
        "/staff/v1/counters/hallctr001/services", headers=amal.headers(), json=body
    )
    assert response.status_code == 422
    assert response.json()["error"] == {field: message}
    async with engine.connect() as connection:
        flags = set(
            await connection.scalars(
                select(t.counter_services.c.enabled).where(
                    t.counter_services.c.counter_id == "hallctr001"
                )
            )
        )
    assert flags == {True}


async def test_only_the_holder_calls_or_chooses(
    client: httpx.AsyncClient, engine: AsyncEngine, hall: dict[str, Staff]
) -> None:
    await waiting(engine, Q1, 1, 0)
    refused = await post(client, "/counters/hallctr001/call-next", hall["amal"])
    assert (refused.status_code, refused.json()["code"]) == (409, "not_holding")
    await post(client, "/counters/hallctr001/open", hall["amal"])
    for who in ("badr", "admin"):  # an admin chooses services but calls only as holder
        response = await post(client, "/counters/hallctr001/call-next", hall[who])
        assert (response.status_code, response.json()["code"]) == (409, "not_holding")
    chosen = await client.put(
        "/staff/v1/counters/hallctr001/services",
        headers=hall["badr"].headers(),
        json={"serviceIds": [Q1]},
    )
    assert (chosen.status_code, chosen.json()["code"]) == (409, "not_holding")


async def test_a_holder_taken_off_the_branch_or_a_closed_branch_calls_nobody(
    client: httpx.AsyncClient, engine: AsyncEngine, hall: dict[str, Staff]
) -> None:
    """The call checks the counter's company, branch and holder itself: an agent still
    holding a counter at a branch they were taken off gets a 403, and a counter at a
    deactivated branch a 404, and neither calls the waiting ticket."""
    amal = hall["amal"]
    ticket = await waiting(engine, Q1, 1, 0)
    await post(client, "/counters/hallctr001/open", amal)
    async with engine.begin() as connection:
        await connection.execute(
            t.staff_branches.delete().where(t.staff_branches.c.staff_id == amal.id)
        )
    refused = await post(client, "/counters/hallctr001/call-next", amal)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    async with engine.begin() as connection:
        await connection.execute(
            t.branches.update().where(t.branches.c.id == BRANCH).values(active=False)
        )
    hidden = await post(client, "/counters/hallctr001/call-next", hall["admin"])
    assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found")
    async with engine.connect() as connection:
        status = await connection.scalar(select(t.tickets.c.status).where(t.tickets.c.id == ticket))
    assert status == "waiting"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/branches/{BRANCH}/counters"),
        ("GET", f"/branches/{BRANCH}/queue"),
        ("POST", "/counters/hallctr001/open"),
        ("POST", "/counters/hallctr001/close"),
        ("POST", "/counters/hallctr001/call-next"),
    ],
)
async def test_access_is_scoped_by_company_and_branch(
    client: httpx.AsyncClient, hall: dict[str, Staff], method: str, path: str
) -> None:
    url = f"/staff/v1{path}"
    unassigned = await client.request(method, url, headers=hall["elsewhere"].headers())
    assert (unassigned.status_code, unassigned.json()["code"]) == (403, "forbidden")
    assert unassigned.json()["message"] == "You are not assigned to this branch."
    foreign = await client.request(method, url, headers=hall["banker"].headers())
    assert (foreign.status_code, foreign.json()["code"]) == (404, "not_found")
    anonymous = await client.request(method, url)
    assert anonymous.status_code == 401
    forged = await client.request(method, url, headers={"Authorization": "Bearer st_nope"})
    assert forged.json()["error"] == "Invalid or expired session."


async def test_sessions_expire_after_a_shift(
    client: httpx.AsyncClient, clock: MutableClock, hall: dict[str, Staff]
) -> None:
    path = f"/staff/v1/branches/{BRANCH}/counters"
    clock.now += timedelta(hours=11, minutes=59)
    assert (await client.get(path, headers=hall["amal"].headers())).status_code == 200
    clock.now += timedelta(minutes=2)
    expired = await client.get(path, headers=hall["amal"].headers(locale="ar"))
    assert expired.status_code == 401
    assert expired.json()["error"] == "الجلسة غير صالحة أو منتهية."


async def test_branches_are_those_the_caller_works_at(
    client: httpx.AsyncClient, hall: dict[str, Staff]
) -> None:
    mine = await client.get("/staff/v1/branches", headers=hall["amal"].headers())
    assert [b["id"] for b in mine.json()["data"]] == [BRANCH]
    none = await client.get("/staff/v1/branches", headers=hall["elsewhere"].headers())
    assert none.json()["data"] == []
    admin = await client.get("/staff/v1/branches", headers=hall["banker"].headers())
    assert BRANCH not in [b["id"] for b in admin.json()["data"]]
    assert len(admin.json()["data"]) >= 2


async def test_live_queue_orders_tickets_and_estimates_with_open_counters(
    client: httpx.AsyncClient, engine: AsyncEngine, hall: dict[str, Staff]
) -> None:
    # Queue One: three walk-ins and a checked-in appointment whose time puts it second.
    a = await waiting(engine, Q1, 1, 0)
    b = await waiting(engine, Q1, 2, 10)
    c = await waiting(engine, Q1, 3, 20)
    appointment = await waiting(
        engine,
        Q1,
        4,
        5,
        type="appointment",
        time=START + timedelta(minutes=5),
    )
    await post(client, "/counters/hallctr001/open", hall["amal"])
    await post(client, "/counters/hallctr002/open", hall["badr"])
    await client.put(
        "/staff/v1/counters/hallctr002/services",
        headers=hall["badr"].headers(),
        json={"serviceIds": [Q2]},
    )
    called = await post(client, "/counters/hallctr001/call-next", hall["amal"])
    assert called.json()["data"]["id"] == a
    response = await client.get(
        f"/staff/v1/branches/{BRANCH}/queue", headers=hall["amal"].headers()
    )
    assert response.status_code == 200
    data = response.json()["data"]
    q1 = next(s for s in data["services"] if s["id"] == Q1)
    # Only Amal's counter takes Queue One (Badr chose Queue Two): c = 1, m = 5 (fallback).
    assert q1["openCounters"] == 1
    assert [(x["id"], x["queueSize"], x["waitingTime"]) for x in q1["waiting"]] == [
        (appointment, 0, 0),
        (b, 1, 5),
        (c, 2, 10),
    ]
    q2 = next(s for s in data["services"] if s["id"] == Q2)
    assert (q2["openCounters"], q2["waitingCount"]) == (2, 0)  # both take Queue Two
    counters = {counter["id"]: counter for counter in data["counters"]}
    assert [x["id"] for x in counters["hallctr001"]["current"]] == [a]
    assert counters["hallctr001"]["current"][0]["status"] == "called"
    assert counters["hallctr003"]["current"] == []
    assert counters["hallctr003"]["open"] is False
