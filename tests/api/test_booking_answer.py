"""A booking answers with the ticket built from what booking read and wrote, without
reading it back: it must be exactly what fetching the ticket gives at that moment, in
every case the answer has a field for (both databases)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from tests.api.test_tickets import API, MONDAY_0800, OPENING, WITHDRAW, book, new_customer
from tests.conftest import CompanyKeys
from tests.support import MutableClock, insert_ticket


async def fetched(
    client: httpx.AsyncClient, keys: CompanyKeys, ticket_id: str, locale: str
) -> dict:
    response = await client.get(
        f"{API}/tickets/{ticket_id}", headers=keys.headers("public", locale)
    )
    assert response.status_code == 200
    return dict(response.json()["data"])


async def open_counter(engine: AsyncEngine, counter_id: str, now: object) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            t.staff_users.insert().values(
                id="stf_answer", company_id="cmp_bank01", username="answer", name="A",
                role="agent", password_hash="x", active=True, created_at=now,
            )
        )  # fmt: skip
        await connection.execute(
            t.counters.update()
            .where(t.counters.c.id == counter_id)
            .values(held_by="stf_answer", opened_at=now)
        )


@pytest.mark.parametrize("locale", ["en", "ar"])
async def test_walk_in_answer_is_the_fetched_ticket(
    client: httpx.AsyncClient,
    bank: CompanyKeys,
    engine: AsyncEngine,
    clock: MutableClock,
    locale: str,
) -> None:
    # Ahead of the new ticket: two waiting walk-ins and a checked-in appointment whose
    # time has come; not ahead: one checked in for later, one called, one served.
    now = clock.now
    for number, status, minutes in (
        (50, "waiting", -20),
        (51, "waiting", -10),
        (52, "called", -30),
    ):
        await insert_ticket(
            engine, number=number, status=status, at=now + timedelta(minutes=minutes)
        )
    await insert_ticket(engine, number=53, status="served", at=now - timedelta(minutes=5),
                        serving_at=now - timedelta(minutes=12))  # fmt: skip
    for number, minutes in ((60, -5), (61, 30)):
        at = now + timedelta(minutes=minutes)
        await insert_ticket(engine, number=number, prefix="A", type="appointment", time=at,
                            queue_at=at, at=now - timedelta(hours=1))  # fmt: skip
    await open_counter(engine, "zctr000001", now)
    customer = await new_customer(client, bank, "answer-1", "Layla")
    response = await book(client, bank, {**WITHDRAW, "customerId": customer}, locale)
    assert response.status_code == 201
    booked = response.json()["data"]
    assert (booked["queueSize"], booked["customer"]) == (3, {"id": customer, "name": "Layla"})
    assert booked["waitingTime"] == 21  # 3 ahead × 7 min (the one served) / 1 open counter
    assert booked == await fetched(client, bank, booked["id"], locale)


@pytest.mark.parametrize("locale", ["en", "ar"])
async def test_appointment_answer_is_the_fetched_ticket(
    client: httpx.AsyncClient, bank: CompanyKeys, locale: str
) -> None:
    customer = await new_customer(client, bank, "answer-2")  # no name
    response = await book(
        client, bank, {**OPENING, "customerExternalId": "answer-2", "time": MONDAY_0800}, locale
    )
    assert response.status_code == 201
    booked = response.json()["data"]
    assert (booked["status"], booked["customer"]) == ("upcoming", {"id": customer, "name": None})
    assert "queueSize" not in booked
    assert booked == await fetched(client, bank, booked["id"], locale)
