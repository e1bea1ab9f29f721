"""Slots and appointment booking across daylight-saving changes, through the API."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import keys_for
from tests.support import MutableClock, apply_fixture

SLOTS = "/external/v1/services/thamessvc1/slots"


async def slot_times(client: httpx.AsyncClient, headers: dict[str, str], day: str) -> list[str]:
    response = await client.get(f"{SLOTS}?date={day}", headers=headers)
    assert response.status_code == 200
    return [slot["time"] for slot in response.json()["data"]]


async def test_spring_forward_and_fall_back_days(
    client: httpx.AsyncClient, engine: AsyncEngine, clock: MutableClock
) -> None:
    await apply_fixture(engine, "dst")
    keys = await keys_for(engine, "cmp_clinic1")
    clock.set("2026-03-01T12:00:00Z")
    headers = keys.headers()

    spring = await slot_times(client, headers, "2026-03-29")
    # 00:00-24:00 local in 30-minute slots; 01:00-02:00 local does not exist that day.
    assert len(spring) == 46
    assert spring[:4] == [
        "2026-03-29T00:00:00.000Z",  # 00:00 GMT
        "2026-03-29T00:30:00.000Z",  # 00:30 GMT
        "2026-03-29T01:00:00.000Z",  # 02:00 BST
        "2026-03-29T01:30:00.000Z",  # 02:30 BST
    ]
    assert spring[-1] == "2026-03-29T22:30:00.000Z"  # 23:30 BST
    assert len(set(spring)) == len(spring) and spring == sorted(spring)

    fall = await slot_times(client, headers, "2026-10-25")
    # 01:00 and 01:30 local happen twice; each is offered once (the first time).
    assert len(fall) == 48
    assert fall[:6] == [
        "2026-10-24T23:00:00.000Z",  # 00:00 BST
        "2026-10-24T23:30:00.000Z",  # 00:30 BST
        "2026-10-25T00:00:00.000Z",  # 01:00 BST
        "2026-10-25T00:30:00.000Z",  # 01:30 BST
        "2026-10-25T02:00:00.000Z",  # 02:00 GMT
        "2026-10-25T02:30:00.000Z",  # 02:30 GMT
    ]
    assert len(set(fall)) == len(fall) and fall == sorted(fall)
    starts = [datetime.fromisoformat(s.replace("Z", "+00:00")) for s in fall]
    assert all(b - a >= timedelta(minutes=30) for a, b in itertools.pairwise(starts))
    assert all(s.tzinfo == UTC for s in starts)


async def test_booking_on_the_fall_back_day_uses_the_local_day_for_numbers(
    client: httpx.AsyncClient, engine: AsyncEngine, clock: MutableClock
) -> None:
    await apply_fixture(engine, "dst")
    keys = await keys_for(engine, "cmp_clinic1")
    clock.set("2026-10-01T12:00:00Z")
    customer = await client.post(
        "/external/v1/customers/create", headers=keys.headers("secret"), json={"externalId": "p1"}
    )
    assert customer.status_code == 201
    # 23:30 UTC on the 24th is 00:30 BST on the 25th: numbered on the 25th's sequence.
    booked = await client.post(
        "/external/v1/tickets/book",
        headers=keys.headers(),
        json={
            "serviceId": "thamessvc1",
            "groupOfServiceId": "thamesgrp1",
            "time": "2026-10-24T23:30:00Z",
            "customerExternalId": "p1",
        },
    )
    assert booked.status_code == 201, booked.text
    assert booked.json()["data"]["ticketNumber"] == "C001"
    skipped = await client.post(
        "/external/v1/tickets/book",
        headers=keys.headers(),
        json={
            "serviceId": "thamessvc1",
            "groupOfServiceId": "thamesgrp1",
            "time": "2026-10-25T01:00:00Z",  # 01:00 GMT: the repeated hour, not offered
            "customerExternalId": "p1",
        },
    )
    assert skipped.status_code == 400
    assert skipped.json()["code"] == "time_unavailable"
