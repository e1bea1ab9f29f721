"""``GET /staff/v1/counters/{counterId}/today`` on both databases: the counter's figures
for the branch's local day, the tickets at it now, today's appointments still to be
checked in; scoped like every staff read. The clock starts on Sunday 2026-06-07 10:00 in
Bahrain (07:00 UTC)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.staff_api.helpers import add_staff
from tests.support import MutableClock, apply_fixture, insert_ticket

HALL, BRANCH, COUNTER = "cmp_ctrs01", "hallbr0001", "hallctr001"
TODAY = f"/staff/v1/counters/{COUNTER}/today"


async def _ticket(engine: AsyncEngine, clock: MutableClock, number: int, **fields: object) -> str:
    row: dict[str, object] = {
        "company_id": HALL,
        "branch_id": BRANCH,
        "group_id": "hallgrp001",
        "service_id": "hallsvc001",
        "prefix": "Q",
        "number": number,
        "at": clock() - timedelta(minutes=30),
    }
    row.update(fields)
    return await insert_ticket(engine, **row)


async def test_the_counters_day(
    client: httpx.AsyncClient, engine: AsyncEngine, clock: MutableClock
) -> None:
    await apply_fixture(engine, "counters")
    agent = await add_staff(engine, HALL, "agent", (BRANCH,), clock())
    start = clock()
    for number in (1, 2, 3):
        await _ticket(engine, clock, number)
    late = start + timedelta(hours=1)
    appointment = await _ticket(
        engine,
        clock,
        1,
        prefix="A",
        type="appointment",
        status="upcoming",
        time=late,
        queue_at=late,
    )
    # Yesterday's served ticket at this counter does not count today.
    await _ticket(
        engine,
        clock,
        9,
        status="served",
        counter_id=COUNTER,
        at=start - timedelta(days=1),
        serving_at=start - timedelta(days=1, minutes=5),
    )
    headers = agent.headers()
    assert (await client.post(f"/staff/v1/counters/{COUNTER}/open", headers=headers)).is_success

    empty = (await client.get(TODAY, headers=headers)).json()["data"]
    assert empty == {
        "counterId": COUNTER,
        "day": "2026-06-07",
        "served": 0,
        "noShows": 0,
        "averageServiceMinutes": None,
        "current": [],
        "appointments": [
            {
                "id": appointment,
                "ticketNumber": "A001",
                "time": "2026-06-07T08:00:00.000Z",
                "serviceId": "hallsvc001",
                "customerName": None,
            }
        ],
    }

    async def next_ticket() -> str:
        called = await client.post(f"/staff/v1/counters/{COUNTER}/call-next", headers=headers)
        return str(called.json()["data"]["id"])

    # Serve two (4 and 7 minutes), mark one a no-show.
    for served_minutes in (4, 7):
        ticket = await next_ticket()
        await client.post(f"/staff/v1/tickets/{ticket}/start", headers=headers)
        clock.now += timedelta(minutes=served_minutes)
        await client.post(f"/staff/v1/tickets/{ticket}/finish", headers=headers)
    missing = await next_ticket()
    now_at_counter = (await client.get(TODAY, headers=headers)).json()["data"]
    assert [(t["id"], t["status"], t["counterId"]) for t in now_at_counter["current"]] == [
        (missing, "called", COUNTER)
    ]
    await client.post(f"/staff/v1/tickets/{missing}/no-show", headers=headers)
    await client.post(f"/staff/v1/tickets/{appointment}/check-in", headers=headers)

    answer = await client.get(TODAY, headers=agent.headers("ar"))
    assert answer.status_code == 200
    assert answer.json()["message"] == "تم جلب أرقام الشباك بنجاح."
    day = answer.json()["data"]
    assert (day["served"], day["noShows"], day["averageServiceMinutes"]) == (2, 1, 5.5)
    assert (day["current"], day["appointments"]) == ([], [])

    # Past the branch's midnight (21:00 UTC), the figures start over.
    # (a fresh session: the shift's has ended by then).
    clock.set("2026-06-07T21:00:00Z")
    admin = await add_staff(engine, HALL, "admin", (), clock())
    tomorrow = (await client.get(TODAY, headers=admin.headers())).json()["data"]
    assert (tomorrow["day"], tomorrow["served"], tomorrow["noShows"]) == ("2026-06-08", 0, 0)


async def test_who_may_read_a_counters_day(
    client: httpx.AsyncClient, engine: AsyncEngine, clock: MutableClock
) -> None:
    await apply_fixture(engine, "counters")
    await apply_fixture(engine, "bank")
    elsewhere = await add_staff(engine, HALL, "agent", (), clock())
    admin = await add_staff(engine, HALL, "admin", (), clock())
    banker = await add_staff(engine, "cmp_bank01", "admin", (), clock())
    assert (await client.get(TODAY, headers=admin.headers())).status_code == 200
    assert (await client.get(TODAY, headers=elsewhere.headers())).status_code == 403
    assert (await client.get(TODAY, headers=banker.headers())).status_code == 404
    assert (
        await client.get("/staff/v1/counters/nosuchctr1/today", headers=admin.headers())
    ).status_code == 404
    assert (await client.get(TODAY)).status_code == 401
