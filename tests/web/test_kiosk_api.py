"""The kiosk's JSON API on both databases: the open walk-in services of a branch, a
walk-in ticket logged with the source ``kiosk``, an appointment's check-in by its
number, the QR code; refusals name the field in the caller's language and change
nothing. The clock is pinned to Sunday 2026-06-07 10:00 in Bahrain (07:00 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from tests.conftest import CompanyKeys
from tests.support import MutableClock, insert_ticket

KIOSK = "/kiosk/v1/branches/zallaq0001"
NOW = datetime(2026, 6, 7, 7, 0, tzinfo=UTC)


async def _count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def test_services_list_the_walk_in_services_with_their_queues(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys
) -> None:
    await insert_ticket(engine, number=1)
    await insert_ticket(engine, number=2, at=NOW - timedelta(minutes=1))
    response = await client.get(f"{KIOSK}/services", headers=bank.headers("public", "ar"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "تم جلب الخدمات بنجاح."
    assert body["data"]["branch"] == {
        "id": "zallaq0001",
        "name": "فرع الزلاق",
        "timezone": "Asia/Bahrain",
        "locale": "en",
    }
    services = {service["id"]: service for service in body["data"]["services"]}
    # By group, then service position (ties by id). Loans take no walk-ins; the retired
    # service and the old group are inactive.
    assert list(services) == ["zopening01", "zdeposit01", "zwithdraw1", "zforex0001"]
    assert services["zwithdraw1"] == {
        "id": "zwithdraw1",
        "groupOfServiceId": "ztellers01",
        "name": "سحب",
        "groupName": "الصرافون",
        "isOpen": True,
        "waiting": 2,
        "waitingTime": 10,  # 2 ahead × the service's 5 minutes, no counter open
    }
    assert services["zforex0001"]["isOpen"] is False  # its walk-in hours are 09:00-10:00
    assert services["zforex0001"]["name"] == "Foreign Exchange"  # no Arabic name: English


async def test_a_kiosk_ticket_is_booked_and_logged_as_the_kiosks(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys
) -> None:
    for _ in range(2):
        response = await client.post(
            f"{KIOSK}/tickets", headers=bank.headers(), json={"serviceId": "zwithdraw1"}
        )
        assert response.status_code == 201, response.text
    ticket = response.json()["data"]
    assert ticket["ticketNumber"] == "W002"
    assert (ticket["status"], ticket["queueSize"], ticket["waitingTime"]) == ("waiting", 1, 5)
    assert ticket["service"] == {"id": "zwithdraw1", "name": "Withdrawal"}
    async with engine.connect() as connection:
        event = (
            await connection.execute(
                select(t.ticket_events).where(t.ticket_events.c.ticket_id == ticket["id"])
            )
        ).one()
    assert (event.source, event.actor_kind, event.actor_id) == (
        "kiosk",
        "api_key",
        bank.public.id,
    )
    assert (event.from_status, event.to_status) == (None, "waiting")


async def test_booking_refusals_name_the_field_and_change_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys, rival: CompanyKeys
) -> None:
    cases: list[tuple[Any, int, str, str]] = [
        ({}, 422, "serviceId", "هذا الحقل مطلوب."),
        ({"serviceId": 7}, 422, "serviceId", "يجب أن يكون هذا الحقل نصًا."),
        ({"serviceId": "nosuchsvc1"}, 422, "serviceId", "هذه القيمة غير موجودة."),
        # Another branch's service (the bank's second branch) is not this kiosk's.
        ({"serviceId": "aservice01"}, 422, "serviceId", "هذه القيمة غير موجودة."),
    ]
    for body, status, field, message in cases:
        response = await client.post(
            f"{KIOSK}/tickets", headers=bank.headers("public", "ar"), json=body
        )
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"] == {field: message}
    no_walk_in = await client.post(
        f"{KIOSK}/tickets", headers=bank.headers(), json={"serviceId": "zloans0001"}
    )
    assert (no_walk_in.status_code, no_walk_in.json()["code"]) == (400, "no_walk_in")
    closed = await client.post(
        f"{KIOSK}/tickets", headers=bank.headers(), json={"serviceId": "zforex0001"}
    )
    assert (closed.status_code, closed.json()["code"]) == (400, "service_closed")
    not_json = await client.post(f"{KIOSK}/tickets", headers=bank.headers(), content=b"x")
    assert (not_json.status_code, list(not_json.json()["error"])) == (422, ["body"])
    # Another company's branch, or none at all: 404, whatever the body.
    for branch in ("rivalbr001", "nosuchbr01"):
        response = await client.post(
            f"/kiosk/v1/branches/{branch}/tickets",
            headers=bank.headers(),
            json={"serviceId": "zwithdraw1"},
        )
        assert (response.status_code, response.json()["message"]) == (404, "Branch not found.")
    no_key = await client.post(f"{KIOSK}/tickets", json={"serviceId": "zwithdraw1"})
    assert no_key.status_code == 401
    assert await _count(engine, t.tickets) == 0
    assert await _count(engine, t.ticket_events) == 0


async def _appointment(engine: AsyncEngine, number: int, status: str = "upcoming") -> str:
    time = NOW + timedelta(hours=1)
    return await insert_ticket(
        engine,
        service_id="zopening01",
        group_id="zaccounts1",
        type="appointment",
        prefix="A",
        number=number,
        status=status,
        time=time,
        queue_at=time,
    )


async def test_an_appointment_checks_in_by_its_number(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys
) -> None:
    ticket_id = await _appointment(engine, 4)
    for typed in (" a-4 ",):
        response = await client.post(
            f"{KIOSK}/check-in", headers=bank.headers("public", "ar"), json={"number": typed}
        )
        assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "تم تسجيل الحضور بنجاح."
    assert (body["data"]["id"], body["data"]["status"]) == (ticket_id, "waiting")
    async with engine.connect() as connection:
        sources = (
            await connection.execute(
                select(t.ticket_events.c.source, t.ticket_events.c.to_status).where(
                    t.ticket_events.c.ticket_id == ticket_id
                )
            )
        ).all()
    assert [tuple(row) for row in sources] == [("kiosk", "waiting")]
    again = await client.post(f"{KIOSK}/check-in", headers=bank.headers(), json={"number": "A004"})
    assert again.status_code == 409
    assert again.json() == {
        "message": "This appointment is already checked in.",
        "error": None,
        "code": "already_checked_in",
    }


async def test_check_in_refusals(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys, clock: MutableClock
) -> None:
    await _appointment(engine, 5, status="cancelled")
    await _appointment(engine, 6)
    cases: list[tuple[Any, str]] = [
        ({}, "هذا الحقل مطلوب."),
        ({"number": ["A006"]}, "يجب أن يكون هذا الحقل نصًا."),
        ({"number": "6"}, "أدخل الرقم المطبوع على تذكرتك، مثل A001."),
        ({"number": "A000"}, "أدخل الرقم المطبوع على تذكرتك، مثل A001."),
        ({"number": "A007"}, "لا يوجد موعد بهذا الرقم في هذا الفرع اليوم."),
        ({"number": "W006"}, "لا يوجد موعد بهذا الرقم في هذا الفرع اليوم."),
    ]
    for body, message in cases:
        response = await client.post(
            f"{KIOSK}/check-in", headers=bank.headers("public", "ar"), json=body
        )
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"] == {"number": message}
    over = await client.post(f"{KIOSK}/check-in", headers=bank.headers(), json={"number": "A5"})
    assert (over.status_code, over.json()["code"]) == (409, "invalid_transition")
    assert over.json()["message"] == (
        "This appointment can no longer be checked in: it is cancelled."
    )
    # Tomorrow, today's appointment is no longer found.
    clock.now = NOW + timedelta(days=1)
    tomorrow = await client.post(f"{KIOSK}/check-in", headers=bank.headers(), json={"number": "A6"})
    assert tomorrow.status_code == 422
    async with engine.connect() as connection:
        statuses = (await connection.execute(select(t.tickets.c.status))).scalars().all()
    assert sorted(statuses) == ["cancelled", "upcoming"]
    assert await _count(engine, t.ticket_events) == 0


async def test_the_qr_code_is_an_svg_data_uri(client: httpx.AsyncClient, bank: CompanyKeys) -> None:
    text = "http://taboor.test/follow/abcdefghij#key=" + bank.public.key
    response = await client.post("/kiosk/v1/qr", headers=bank.headers(), json={"text": text})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["svg"].startswith("data:image/svg+xml")
    too_long = await client.post("/kiosk/v1/qr", headers=bank.headers(), json={"text": "x" * 513})
    assert too_long.status_code == 422
    assert too_long.json()["error"] == {"text": "The text must have 1 to 512 characters."}
    assert (await client.post("/kiosk/v1/qr", json={"text": text})).status_code == 401


async def test_a_kiosk_reaches_nothing_of_another_company(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys, rival: CompanyKeys
) -> None:
    """The rival's key on the bank's branch is a 404 on every kiosk endpoint; the bank's
    service and appointment through the rival's own branch do not exist."""
    await _appointment(engine, 3)
    before = await _count(engine, t.ticket_events)
    for method, path, body in [
        ("GET", f"{KIOSK}/services", None),
        ("POST", f"{KIOSK}/tickets", {"serviceId": "zwithdraw1"}),
        ("POST", f"{KIOSK}/check-in", {"number": "A003"}),
    ]:
        response = await client.request(method, path, headers=rival.headers(), json=body)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), path
        assert "zallaq" not in response.text and "Zallaq" not in response.text
    own = "/kiosk/v1/branches/rivalbr001"
    booked = await client.post(
        f"{own}/tickets", headers=rival.headers(), json={"serviceId": "zwithdraw1"}
    )
    assert (booked.status_code, booked.json()["error"]) == (
        422,
        {"serviceId": "This value does not exist."},
    )
    checked = await client.post(f"{own}/check-in", headers=rival.headers(), json={"number": "A3"})
    assert (checked.status_code, list(checked.json()["error"])) == (422, ["number"])
    assert await _count(engine, t.ticket_events) == before
    async with engine.connect() as connection:
        status = await connection.scalar(select(t.tickets.c.status))
    assert status == "upcoming"
