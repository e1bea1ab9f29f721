"""Booking, fetching, cancelling and rescheduling tickets on both databases. The clock
is pinned to Sunday 2026-06-07 10:00 in Bahrain (07:00 UTC) unless a test moves it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from tests.conftest import CompanyKeys
from tests.support import MutableClock, insert_ticket

API = "/external/v1"
WITHDRAW = {"serviceId": "zwithdraw1", "groupOfServiceId": "ztellers01"}
DEPOSIT = {"serviceId": "zdeposit01", "groupOfServiceId": "ztellers01"}
OPENING = {"serviceId": "zopening01", "groupOfServiceId": "zaccounts1"}  # 15 min, 2 places
LOANS = {"serviceId": "zloans0001", "groupOfServiceId": "ztellers01"}  # 30 min, 1 place
MONDAY_0800 = "2026-06-08T05:00:00.000Z"
MONDAY_0815 = "2026-06-08T05:15:00.000Z"


async def book(
    client: httpx.AsyncClient, keys: CompanyKeys, body: dict[str, Any], locale: str | None = None
) -> httpx.Response:
    return await client.post(
        f"{API}/tickets/book", headers=keys.headers("public", locale), json=body
    )


async def new_customer(
    client: httpx.AsyncClient, keys: CompanyKeys, external_id: str, name: str | None = None
) -> str:
    body: dict[str, Any] = {"externalId": external_id}
    if name:
        body["name"] = name
    response = await client.post(
        f"{API}/customers/create", headers=keys.headers("secret"), json=body
    )
    return str(response.json()["data"]["_id"])


def invalid(fields: dict[str, str]) -> dict[str, Any]:
    return {"message": "The given data was invalid.", "error": fields, "code": "validation_failed"}


def refused(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "error": None, "code": code}


async def remaining(
    client: httpx.AsyncClient, keys: CompanyKeys, service: str, day: str
) -> dict[str, int]:
    body = (
        await client.get(f"{API}/services/{service}/slots?date={day}", headers=keys.headers())
    ).json()
    return {slot["time"]: slot["remaining"] for slot in body["data"]}


# --- walk-ins ---------------------------------------------------------------------


async def test_walk_in_is_numbered_queued_and_estimated(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    first = await book(client, bank, WITHDRAW)
    assert first.status_code == 201
    body = first.json()
    assert body["message"] == "Ticket booked successfully."
    ticket = body["data"]
    assert len(ticket.pop("id")) == 10
    assert ticket == {
        "ticketNumber": "W001",
        "status": "waiting",
        "statusAt": "2026-06-07T07:00:00.000Z",
        "type": "sequential",
        "time": None,
        "branch": {"id": "zallaq0001", "name": "Zallaq Branch"},
        "service": {"id": "zwithdraw1", "name": "Withdrawal"},
        "groupOfService": {"id": "ztellers01", "name": "Tellers"},
        "customer": None,
        "bookedAt": "2026-06-07T07:00:00.000Z",
        "queueSize": 0,
        "waitingTime": 0,
    }
    second = (await book(client, bank, WITHDRAW)).json()["data"]
    third = (await book(client, bank, WITHDRAW)).json()["data"]
    assert (second["ticketNumber"], second["queueSize"], second["waitingTime"]) == ("W002", 1, 5)
    assert (third["ticketNumber"], third["queueSize"], third["waitingTime"]) == ("W003", 2, 10)
    # Another prefix has its own sequence.
    assert (await book(client, bank, DEPOSIT)).json()["data"]["ticketNumber"] == "D001"


async def test_numbers_restart_each_local_day(
    client: httpx.AsyncClient, bank: CompanyKeys, clock: MutableClock
) -> None:
    await book(client, bank, WITHDRAW)
    await book(client, bank, WITHDRAW)
    clock.set("2026-06-08T07:00:00Z")  # Monday
    assert (await book(client, bank, WITHDRAW)).json()["data"]["ticketNumber"] == "W001"


async def test_numbers_pass_999(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            t.ticket_numbers.insert().values(
                branch_id="zallaq0001",
                prefix="W",
                day=date(2026, 6, 7),
                last_number=999,
            )
        )
    assert (await book(client, bank, WITHDRAW)).json()["data"]["ticketNumber"] == "W1000"


@pytest.mark.parametrize(
    ("moment", "body", "message", "code"),
    [
        (
            "2026-06-07T03:00:00Z",
            WITHDRAW,
            "This service is currently closed.",
            "service_closed",
        ),  # 06:00
        (
            "2026-06-10T07:00:00Z",
            WITHDRAW,
            "This service is currently closed.",
            "service_closed",
        ),  # closure
        (
            "2026-06-07T07:00:00Z",
            {"serviceId": "zforex0001", "groupOfServiceId": "ztellers01"},
            "This service is currently closed.",
            "service_closed",
        ),  # walk-in window 09-10 is over
        (
            "2026-06-07T07:00:00Z",
            LOANS,
            "This service does not accept walk-in tickets.",
            "no_walk_in",
        ),
    ],
)
async def test_walk_in_refusals_are_400(
    client: httpx.AsyncClient,
    bank: CompanyKeys,
    clock: MutableClock,
    engine: AsyncEngine,
    moment: str,
    body: dict[str, str],
    message: str,
    code: str,
) -> None:
    clock.set(moment)
    response = await book(client, bank, body)
    assert response.status_code == 400
    assert response.json() == refused(message, code)
    async with engine.connect() as connection:
        assert (await connection.execute(select(t.tickets))).first() is None
        assert (await connection.execute(select(t.ticket_numbers))).first() is None


async def test_walk_in_inside_the_service_window(
    client: httpx.AsyncClient, bank: CompanyKeys, clock: MutableClock
) -> None:
    clock.set("2026-06-07T06:30:00Z")  # 09:30 local
    response = await book(
        client, bank, {"serviceId": "zforex0001", "groupOfServiceId": "ztellers01"}
    )
    assert response.status_code == 201
    assert response.json()["data"]["ticketNumber"] == "F001"


async def test_booking_writes_the_first_event(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine
) -> None:
    ticket_id = (await book(client, bank, WITHDRAW)).json()["data"]["id"]
    async with engine.connect() as connection:
        events = (
            (
                await connection.execute(
                    select(t.ticket_events).where(t.ticket_events.c.ticket_id == ticket_id)
                )
            )
            .mappings()
            .all()
        )
    assert len(events) == 1
    event = events[0]
    assert (event["from_status"], event["to_status"]) == (None, "waiting")
    assert (event["actor_kind"], event["actor_id"], event["source"]) == (
        "api_key",
        bank.public.id,
        "external_api",
    )
    assert event["company_id"] == "cmp_bank01"


# --- appointments -----------------------------------------------------------------


async def test_appointment_is_upcoming_with_its_own_prefix(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    customer = await new_customer(client, bank, "apt", "Mariam")
    response = await book(
        client, bank, {**OPENING, "time": MONDAY_0800, "customerExternalId": "apt"}, locale="ar"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "تم حجز الموعد بنجاح."
    ticket = body["data"]
    assert ticket["ticketNumber"] == "A001"
    assert ticket["status"] == "upcoming"
    assert ticket["type"] == "appointment"
    assert ticket["time"] == MONDAY_0800
    assert ticket["customer"] == {"id": customer, "name": "Mariam"}
    assert ticket["service"]["name"] == "فتح حساب"
    assert "queueSize" not in ticket and "waitingTime" not in ticket
    both = await book(
        client,
        bank,
        {**OPENING, "time": MONDAY_0815, "customerId": customer, "customerExternalId": "apt"},
    )
    assert both.status_code == 400  # same customer, same service, same day: one active ticket
    assert both.json()["code"] == "duplicate_active"
    # The refused booking took nothing: its slot keeps both places, its number is unused.
    assert (await remaining(client, bank, "zopening01", "2026-06-08"))[MONDAY_0815] == 2
    await new_customer(client, bank, "apt2", "Huda")
    other = await book(client, bank, {**OPENING, "time": MONDAY_0815, "customerExternalId": "apt2"})
    assert other.json()["data"]["ticketNumber"] == "A002"


@pytest.mark.parametrize(
    ("extra", "fields"),
    [
        ({"time": MONDAY_0800}, {"customerId": "A customer is required for appointments."}),
        (
            {"time": MONDAY_0800, "customerId": "0" * 32},
            {"customerId": "This value does not exist."},
        ),
        (
            {"time": MONDAY_0800, "customerExternalId": "ghost"},
            {"customerExternalId": "This value does not exist."},
        ),
        (
            {"time": "2026-06-07T06:00:00.000Z", "customerExternalId": "c1"},
            {"time": "The time must be in the future."},
        ),
        (
            {"time": "2026-06-08T05:00:00", "customerExternalId": "c1"},
            {"time": "The time must be an ISO-8601 UTC time ending in Z."},
        ),
        (
            {"time": "2026-06-08T05:00:00+00:00", "customerExternalId": "c1"},
            {"time": "The time must be an ISO-8601 UTC time ending in Z."},
        ),
        (
            {"time": "2026-06-31T05:00:00Z", "customerExternalId": "c1"},
            {"time": "The time must be an ISO-8601 UTC time ending in Z."},
        ),
        (
            {"time": 1780000000, "customerExternalId": "c1"},
            {"time": "The time must be an ISO-8601 UTC time ending in Z."},
        ),
    ],
)
async def test_appointment_field_errors_are_422(
    client: httpx.AsyncClient, bank: CompanyKeys, extra: dict[str, Any], fields: dict[str, str]
) -> None:
    await new_customer(client, bank, "c1")
    response = await book(client, bank, {**OPENING, **extra})
    assert response.status_code == 422
    assert response.json() == invalid(fields)


async def test_customer_id_and_external_id_must_agree(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    first = await new_customer(client, bank, "one")
    await new_customer(client, bank, "two")
    response = await book(
        client,
        bank,
        {**OPENING, "time": MONDAY_0800, "customerId": first, "customerExternalId": "two"},
    )
    assert response.status_code == 422
    assert list(response.json()["error"]) == ["customerExternalId"]


@pytest.mark.parametrize(
    ("time", "message", "code"),
    [
        (
            "2026-06-08T05:07:00.000Z",
            "The selected time is not available.",
            "time_unavailable",
        ),  # off-grid
        (
            "2026-06-08T02:00:00Z",
            "The selected time is not available.",
            "time_unavailable",
        ),  # before hours
        (
            "2026-06-10T05:00:00Z",
            "The selected time is not available.",
            "time_unavailable",
        ),  # closure
        (
            "2026-06-12T05:00:00Z",
            "The selected time is not available.",
            "time_unavailable",
        ),  # Friday
        (
            "2026-07-08T05:00:00Z",
            "The selected time is not available.",
            "time_unavailable",
        ),  # past horizon
    ],
)
async def test_appointment_time_must_be_a_bookable_slot(
    client: httpx.AsyncClient,
    bank: CompanyKeys,
    engine: AsyncEngine,
    time: str,
    message: str,
    code: str,
) -> None:
    await new_customer(client, bank, "c1")
    response = await book(client, bank, {**OPENING, "time": time, "customerExternalId": "c1"})
    assert response.status_code == 400
    assert response.json() == refused(message, code)
    async with engine.connect() as connection:
        assert (await connection.execute(select(t.slot_places))).first() is None


async def test_minimum_notice_refuses_too_soon(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    await new_customer(client, bank, "c1")
    soon = await book(
        client, bank, {**LOANS, "time": "2026-06-07T08:00:00Z", "customerExternalId": "c1"}
    )
    assert soon.status_code == 400 and soon.json()["code"] == "time_unavailable"
    later = await book(
        client, bank, {**LOANS, "time": "2026-06-07T08:30:00Z", "customerExternalId": "c1"}
    )
    assert later.status_code == 201


async def test_a_full_slot_is_refused_and_consumes_no_number(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    for n in range(3):
        await new_customer(client, bank, f"c{n}")
    results = [
        await book(client, bank, {**OPENING, "time": MONDAY_0800, "customerExternalId": f"c{n}"})
        for n in range(3)
    ]
    assert [r.status_code for r in results] == [201, 201, 400]
    assert results[2].json() == refused("This time slot is fully booked.", "slot_full")
    nxt = await book(client, bank, {**OPENING, "time": MONDAY_0815, "customerExternalId": "c2"})
    assert nxt.json()["data"]["ticketNumber"] == "A003"  # the refused booking took no number


async def test_appointment_on_a_service_without_appointments_is_422(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    await new_customer(client, bank, "c1")
    response = await book(
        client, bank, {**WITHDRAW, "time": MONDAY_0800, "customerExternalId": "c1"}
    )
    assert response.status_code == 422
    assert response.json() == invalid(
        {"serviceId": "This service does not support appointment booking."}
    )


# --- the request body -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {},
            {"serviceId": "This field is required.", "groupOfServiceId": "This field is required."},
        ),
        (
            {"serviceId": 5, "groupOfServiceId": "ztellers01"},
            {"serviceId": "This field must be a string."},
        ),
        (
            {"serviceId": "nosuchsvc1", "groupOfServiceId": "ztellers01"},
            {"serviceId": "This value does not exist."},
        ),
        (
            {"serviceId": "zretired01", "groupOfServiceId": "zempty0001"},
            {"serviceId": "This value does not exist."},
        ),
        (
            {"serviceId": "zorphan001", "groupOfServiceId": "zoldgroup1"},
            {"serviceId": "This value does not exist."},
        ),
        (
            {"serviceId": "rivalsvc01", "groupOfServiceId": "rivalgrp01"},
            {"serviceId": "This value does not exist."},
        ),
        (
            {"serviceId": "zwithdraw1", "groupOfServiceId": "zaccounts1"},
            {"groupOfServiceId": "The group of service does not contain this service."},
        ),
        ({**WITHDRAW, "options": [1]}, {"options": "This field must be an object."}),
        (
            {**WITHDRAW, "options": {f"k{i}": i for i in range(21)}},
            {"options": "The options may not have more than 20 keys."},
        ),
        (
            {**WITHDRAW, "options": {"nested": {"a": 1}}},
            {"options": "Option values must be strings, numbers, booleans or null."},
        ),
        (
            {**WITHDRAW, "location": {"lat": 91, "lng": 0}},
            {"location.lat": "This field must be between -90 and 90."},
        ),
        (
            {**WITHDRAW, "location": {"lat": 0, "lng": -180.5}},
            {"location.lng": "This field must be between -180 and 180."},
        ),
        ({**WITHDRAW, "location": {"lat": 26.1}}, {"location.lng": "This field is required."}),
        (
            {**WITHDRAW, "location": {"lat": "26", "lng": 50}},
            {"location.lat": "This field must be a number."},
        ),
        ({**WITHDRAW, "location": "here"}, {"location": "This field must be an object."}),
        ({**WITHDRAW, "customerId": 12}, {"customerId": "This field must be a string."}),
    ],
)
async def test_bad_booking_bodies_are_422_and_write_nothing(
    client: httpx.AsyncClient,
    bank: CompanyKeys,
    rival: CompanyKeys,
    engine: AsyncEngine,
    body: dict[str, Any],
    fields: dict[str, str],
) -> None:
    response = await book(client, bank, body)
    assert response.status_code == 422
    assert response.json() == invalid(fields)
    async with engine.connect() as connection:
        assert (await connection.execute(select(t.tickets))).first() is None


async def test_options_and_location_are_stored(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine
) -> None:
    body = {
        **WITHDRAW,
        "options": {"lang": "ar", "priority": 2, "vip": True, "note": None},
        "location": {"lat": 26.1, "lng": 50.5},
        "unknown": 1,
    }
    ticket_id = (await book(client, bank, body)).json()["data"]["id"]
    async with engine.connect() as connection:
        row = (
            (await connection.execute(select(t.tickets).where(t.tickets.c.id == ticket_id)))
            .mappings()
            .one()
        )
    assert row["options"] == body["options"]
    assert (row["lat"], row["lng"]) == (26.1, 50.5)


# --- fetch --------------------------------------------------------------------------


async def test_fetch_returns_the_same_ticket_as_booking(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    booked = (await book(client, bank, WITHDRAW)).json()["data"]
    fetched = await client.get(f"{API}/tickets/{booked['id']}", headers=bank.headers("secret"))
    assert fetched.status_code == 200
    assert fetched.json() == {"message": "Ticket fetched successfully.", "data": booked}


@pytest.mark.parametrize("ticket_id", ["nosuchtick", "BAD", "0123456789abc"])
async def test_fetch_unknown_is_422(
    client: httpx.AsyncClient, bank: CompanyKeys, ticket_id: str
) -> None:
    response = await client.get(f"{API}/tickets/{ticket_id}", headers=bank.headers())
    assert response.status_code == 422
    assert response.json() == invalid({"id": "This value does not exist."})


async def test_another_company_cannot_see_or_touch_a_ticket(
    client: httpx.AsyncClient, bank: CompanyKeys, rival: CompanyKeys
) -> None:
    ticket_id = (await book(client, bank, WITHDRAW)).json()["data"]["id"]
    for method, path in (
        ("GET", f"/tickets/{ticket_id}"),
        ("POST", f"/tickets/{ticket_id}/cancel"),
    ):
        response = await client.request(method, API + path, headers=rival.headers())
        assert response.status_code == 422, path
    moved = await client.post(
        f"{API}/tickets/{ticket_id}/change-time",
        headers=rival.headers(),
        json={"time": MONDAY_0800, "customerExternalId": "x"},
    )
    assert moved.status_code == 422
    still = await client.get(f"{API}/tickets/{ticket_id}", headers=bank.headers())
    assert still.json()["data"]["status"] == "waiting"


async def test_queue_position_moves_when_someone_ahead_leaves(
    client: httpx.AsyncClient, bank: CompanyKeys, clock: MutableClock
) -> None:
    ids = []
    for _ in range(3):
        clock.now += timedelta(seconds=1)
        ids.append((await book(client, bank, WITHDRAW)).json()["data"]["id"])
    await client.post(f"{API}/tickets/{ids[0]}/cancel", headers=bank.headers())
    last = (await client.get(f"{API}/tickets/{ids[2]}", headers=bank.headers())).json()["data"]
    assert last["queueSize"] == 1


# --- cancel -------------------------------------------------------------------------


async def test_cancel_a_walk_in(
    client: httpx.AsyncClient, bank: CompanyKeys, clock: MutableClock, engine: AsyncEngine
) -> None:
    ticket_id = (await book(client, bank, WITHDRAW)).json()["data"]["id"]
    clock.now += timedelta(minutes=3)
    response = await client.post(f"{API}/tickets/{ticket_id}/cancel", headers=bank.headers())
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Ticket cancelled successfully."
    assert body["data"]["status"] == "cancelled"
    assert body["data"]["statusAt"] == "2026-06-07T07:03:00.000Z"
    assert "queueSize" not in body["data"]
    again = await client.post(
        f"{API}/tickets/{ticket_id}/cancel", headers=bank.headers(locale="ar")
    )
    assert again.status_code == 409
    assert again.json() == refused("لم يعد بالإمكان إلغاء هذه التذكرة.", "not_cancellable")
    async with engine.connect() as connection:
        moves = (
            await connection.execute(
                select(t.ticket_events.c.from_status, t.ticket_events.c.to_status)
                .where(t.ticket_events.c.ticket_id == ticket_id)
                .order_by(t.ticket_events.c.id)
            )
        ).all()
    assert [tuple(m) for m in moves] == [(None, "waiting"), ("waiting", "cancelled")]


async def test_cancel_an_appointment_frees_its_place(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    await new_customer(client, bank, "c1")
    ticket = (
        await book(
            client, bank, {**LOANS, "time": "2026-06-08T05:00:00Z", "customerExternalId": "c1"}
        )
    ).json()["data"]
    assert "2026-06-08T05:00:00.000Z" not in await remaining(
        client, bank, "zloans0001", "2026-06-08"
    )
    cancelled = await client.post(f"{API}/tickets/{ticket['id']}/cancel", headers=bank.headers())
    assert cancelled.status_code == 200
    assert (await remaining(client, bank, "zloans0001", "2026-06-08"))[
        "2026-06-08T05:00:00.000Z"
    ] == 1
    # And the customer may book again: the cancelled ticket is no longer active.
    rebooked = await book(
        client, bank, {**LOANS, "time": "2026-06-08T05:00:00Z", "customerExternalId": "c1"}
    )
    assert rebooked.status_code == 201


@pytest.mark.parametrize("status", ["called", "serving", "served", "no_show", "cancelled"])
async def test_only_waiting_or_upcoming_can_be_cancelled(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine, status: str
) -> None:
    ticket_id = (await book(client, bank, WITHDRAW)).json()["data"]["id"]
    async with engine.begin() as connection:
        await connection.execute(
            t.tickets.update().where(t.tickets.c.id == ticket_id).values(status=status)
        )
    response = await client.post(f"{API}/tickets/{ticket_id}/cancel", headers=bank.headers())
    assert response.status_code == 409
    assert response.json() == refused("This ticket can no longer be cancelled.", "not_cancellable")


async def test_cancel_unknown_is_422(client: httpx.AsyncClient, bank: CompanyKeys) -> None:
    response = await client.post(f"{API}/tickets/nosuchtick/cancel", headers=bank.headers())
    assert response.status_code == 422
    assert response.json() == invalid({"id": "This value does not exist."})


# --- change-time --------------------------------------------------------------------


async def test_change_time_moves_the_place_and_keeps_number_and_status(
    client: httpx.AsyncClient, bank: CompanyKeys, clock: MutableClock
) -> None:
    await new_customer(client, bank, "c1")
    ticket = (
        await book(
            client, bank, {**LOANS, "time": "2026-06-08T05:00:00Z", "customerExternalId": "c1"}
        )
    ).json()["data"]
    clock.now += timedelta(minutes=5)
    response = await client.post(
        f"{API}/tickets/{ticket['id']}/change-time",
        headers=bank.headers(),
        json={"time": "2026-06-09T06:30:00Z", "customerExternalId": "c1"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Ticket updated successfully."
    moved = body["data"]
    assert moved["time"] == "2026-06-09T06:30:00.000Z"
    assert (moved["ticketNumber"], moved["status"], moved["statusAt"]) == (
        ticket["ticketNumber"],
        "upcoming",
        ticket["statusAt"],
    )
    assert (await remaining(client, bank, "zloans0001", "2026-06-08"))[
        "2026-06-08T05:00:00.000Z"
    ] == 1
    assert "2026-06-09T06:30:00.000Z" not in await remaining(
        client, bank, "zloans0001", "2026-06-09"
    )
    same = await client.post(
        f"{API}/tickets/{ticket['id']}/change-time",
        headers=bank.headers(),
        json={"time": "2026-06-09T06:30:00Z", "customerId": moved["customer"]["id"]},
    )
    assert same.status_code == 200 and same.json()["data"] == moved


async def test_change_time_into_a_full_slot_changes_nothing(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    for n in range(2):
        await new_customer(client, bank, f"c{n}")
    mine = (
        await book(
            client, bank, {**LOANS, "time": "2026-06-08T05:00:00Z", "customerExternalId": "c0"}
        )
    ).json()["data"]
    await book(client, bank, {**LOANS, "time": "2026-06-08T05:30:00Z", "customerExternalId": "c1"})
    response = await client.post(
        f"{API}/tickets/{mine['id']}/change-time",
        headers=bank.headers(),
        json={"time": "2026-06-08T05:30:00Z", "customerExternalId": "c0"},
    )
    assert response.status_code == 400
    assert response.json() == refused("This time slot is fully booked.", "slot_full")
    after = (await client.get(f"{API}/tickets/{mine['id']}", headers=bank.headers())).json()["data"]
    assert after == mine
    assert "2026-06-08T05:00:00.000Z" not in await remaining(
        client, bank, "zloans0001", "2026-06-08"
    )


async def test_change_time_refusals(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine
) -> None:
    customer = await new_customer(client, bank, "c1")
    await new_customer(client, bank, "other")
    walk_in = (await book(client, bank, {**WITHDRAW, "customerId": customer})).json()["data"]
    appointment = (
        await book(client, bank, {**LOANS, "time": "2026-06-08T05:00:00Z", "customerId": customer})
    ).json()["data"]
    path = f"{API}/tickets/{appointment['id']}/change-time"
    headers = bank.headers()

    async def move(ticket_path: str, body: dict[str, Any]) -> httpx.Response:
        return await client.post(ticket_path, headers=headers, json=body)

    cases = [
        (
            f"{API}/tickets/{walk_in['id']}/change-time",
            {"time": "2026-06-09T05:00:00Z", "customerId": customer},
            422,
            {"id": "Only appointment tickets can be rescheduled."},
        ),
        (
            path,
            {"time": "2026-06-09T05:00:00Z", "customerExternalId": "other"},
            422,
            {"customerId": "The customer does not match this ticket."},
        ),
        (
            path,
            {"time": "2026-06-09T05:00:00Z", "customerExternalId": "ghost"},
            422,
            {"customerId": "The customer does not match this ticket."},
        ),
        (path, {"time": "2026-06-09T05:00:00Z"}, 422, {"customerId": "This field is required."}),
        (path, {"customerId": customer}, 422, {"time": "This field is required."}),
        (
            path,
            {"time": "soon", "customerId": customer},
            422,
            {"time": "The time must be an ISO-8601 UTC time ending in Z."},
        ),
        (
            path,
            {"time": "2026-06-01T05:00:00Z", "customerId": customer},
            422,
            {"time": "The time must be in the future."},
        ),
        (path, {"time": "2026-06-09T05:10:00Z", "customerId": customer}, 400, None),
        (
            f"{API}/tickets/nosuchtick/change-time",
            {"time": "2026-06-09T05:00:00Z", "customerId": customer},
            422,
            {"id": "This value does not exist."},
        ),
    ]
    for ticket_path, body, status, fields in cases:
        response = await move(ticket_path, body)
        assert response.status_code == status, (body, response.text)
        if fields is not None:
            assert response.json() == invalid(fields), body
        else:
            assert response.json()["code"] == "time_unavailable"
    async with engine.begin() as connection:
        await connection.execute(
            t.tickets.update().where(t.tickets.c.id == appointment["id"]).values(status="served")
        )
    done = await move(path, {"time": "2026-06-09T05:00:00Z", "customerId": customer})
    assert done.status_code == 422
    assert done.json() == invalid({"id": "This ticket can no longer be rescheduled."})


async def open_counter(
    engine: AsyncEngine, counter_id: str, agent: str, at: datetime, company_id: str = "cmp_bank01"
) -> None:
    """An agent (a staff user, created here) holds ``counter_id`` from ``at``."""
    async with engine.begin() as connection:
        await connection.execute(
            t.staff_users.insert().values(
                id=agent,
                company_id=company_id,
                username=agent,
                name=agent,
                role="agent",
                password_hash="-",
                active=True,
                created_at=at,
            )
        )
        await connection.execute(
            t.counters.update()
            .where(t.counters.c.id == counter_id)
            .values(held_by=agent, opened_at=at)
        )


async def test_waiting_time_learns_from_recent_real_service_times(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine, clock: MutableClock
) -> None:
    now = clock.now
    await open_counter(engine, "zctr000001", "usr_teller1", now)
    # Served today in 10 and 20 minutes; one served 8 days ago (outside the window, 60 min).
    for number, minutes, days_ago in ((90, 10, 0), (91, 20, 0), (92, 60, 8)):
        finished = now - timedelta(days=days_ago, minutes=30)
        await insert_ticket(
            engine,
            number=number,
            status="served",
            at=finished,
            serving_at=finished - timedelta(minutes=minutes),
        )
    await book(client, bank, WITHDRAW)
    second = (await book(client, bank, WITHDRAW)).json()["data"]
    assert second["queueSize"] == 1
    assert second["waitingTime"] == 15  # 1 ahead × mean(10, 20) / 1 open counter
    # A service no counter serves still divides by at least one.
    clock.set("2026-06-07T06:30:00Z")
    forex = {"serviceId": "zforex0001", "groupOfServiceId": "ztellers01"}
    await book(client, bank, forex)
    assert (await book(client, bank, forex)).json()["data"]["waitingTime"] == 5


async def test_waiting_time_divides_by_the_open_counters_serving_the_service(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine, clock: MutableClock
) -> None:
    """c counts counters held by someone with the service enabled (design §2), at
    least 1: a counter configured for the service but closed, or open with the
    service switched off, does not shorten the wait."""
    async with engine.begin() as connection:
        await connection.execute(
            t.counters.insert().values(
                id="zctr000002",
                company_id="cmp_bank01",
                branch_id="zallaq0001",
                name={"en": "Counter 2"},
                position=2,
            )
        )
        await connection.execute(
            t.counter_services.insert().values(counter_id="zctr000002", service_id="zwithdraw1")
        )
    for _ in range(4):
        last = (await book(client, bank, WITHDRAW)).json()["data"]
    assert last["queueSize"] == 3

    async def waiting_time() -> int:
        response = await client.get(f"{API}/tickets/{last['id']}", headers=bank.headers())
        return int(response.json()["data"]["waitingTime"])

    async def enable(counter_id: str, enabled: bool) -> None:
        cs = t.counter_services.c
        async with engine.begin() as connection:
            await connection.execute(
                t.counter_services.update()
                .where(cs.counter_id == counter_id, cs.service_id == "zwithdraw1")
                .values(enabled=enabled)
            )

    # Two counters configured, both closed: as for one (3 × 5 / 1).
    assert await waiting_time() == 15
    await open_counter(engine, "zctr000001", "usr_teller1", clock.now)
    assert await waiting_time() == 15
    await open_counter(engine, "zctr000002", "usr_teller2", clock.now)
    assert await waiting_time() == 8  # round(3 × 5 / 2)
    # Counter 2 stays open but stops taking withdrawals; then takes them again.
    await enable("zctr000002", False)
    assert await waiting_time() == 15
    await enable("zctr000002", True)
    assert await waiting_time() == 8
    # Counter 1 closes.
    async with engine.begin() as connection:
        await connection.execute(
            t.counters.update()
            .where(t.counters.c.id == "zctr000001")
            .values(held_by=None, opened_at=None)
        )
    assert await waiting_time() == 15
