"""GET /services/{id}/slots on both databases. The clock is pinned to Sunday
2026-06-07 10:00 in Bahrain (07:00 UTC) unless a test moves it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import CompanyKeys
from tests.support import MutableClock

OPENING = "/external/v1/services/zopening01/slots"  # 15-min slots, capacity 2, no notice
LOANS = "/external/v1/services/zloans0001/slots"  # 30-min slots, capacity 1, 60-min notice


def times(body: dict[str, Any]) -> list[str]:
    return [slot["time"] for slot in body["data"]]


async def test_today_lists_the_rest_of_the_day(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    response = await client.get(OPENING, headers=bank.headers())
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Slots fetched successfully."
    # 10:15 … 13:45 local (UTC+3): a slot starting exactly now is not offered.
    assert times(body)[0] == "2026-06-07T07:15:00.000Z"
    assert times(body)[-1] == "2026-06-07T10:45:00.000Z"
    assert len(body["data"]) == 15
    assert {slot["remaining"] for slot in body["data"]} == {2}


@pytest.mark.parametrize(
    ("day", "count", "first", "last"),
    [
        ("2026-06-08", 24, "2026-06-08T05:00:00.000Z", "2026-06-08T10:45:00.000Z"),  # Monday
        ("2026-06-11", 32, "2026-06-11T05:00:00.000Z", "2026-06-11T13:45:00.000Z"),  # Thu, split
        ("2026-06-10", 0, None, None),  # closed for maintenance
        ("2026-06-12", 0, None, None),  # Friday: no hours
        ("2026-07-07", 24, "2026-07-07T05:00:00.000Z", "2026-07-07T10:45:00.000Z"),  # horizon day
        ("2026-07-08", 0, None, None),  # one day past the 30-day horizon
    ],
)
async def test_a_given_date(
    client: httpx.AsyncClient,
    bank: CompanyKeys,
    day: str,
    count: int,
    first: str | None,
    last: str | None,
) -> None:
    body = (await client.get(f"{OPENING}?date={day}", headers=bank.headers())).json()
    assert len(body["data"]) == count
    if count:
        assert times(body)[0] == first and times(body)[-1] == last
        assert times(body) == sorted(times(body))
    if day == "2026-06-11":
        local_hours = {t[11:16] for t in times(body)}
        assert "09:00" not in local_hours  # 12:00 local: the lunch gap


async def test_minimum_notice_and_slot_length(client: httpx.AsyncClient, bank: CompanyKeys) -> None:
    body = (await client.get(LOANS, headers=bank.headers())).json()
    # now 10:00 + 60 min notice: 11:00 is not after it; 11:30 is the first.
    assert times(body) == [
        "2026-06-07T08:30:00.000Z",
        "2026-06-07T09:00:00.000Z",
        "2026-06-07T09:30:00.000Z",
        "2026-06-07T10:00:00.000Z",
        "2026-06-07T10:30:00.000Z",
    ]
    assert {slot["remaining"] for slot in body["data"]} == {1}


async def test_remaining_follows_bookings_and_full_slots_disappear(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    headers = bank.headers("secret")
    customers = []
    for n in range(2):
        created = await client.post(
            "/external/v1/customers/create", headers=headers, json={"externalId": f"s{n}"}
        )
        customers.append(created.json()["data"]["_id"])
    slot = "2026-06-08T05:00:00.000Z"
    for n, customer in enumerate(customers):
        booked = await client.post(
            "/external/v1/tickets/book",
            headers=headers,
            json={
                "serviceId": "zopening01",
                "groupOfServiceId": "zaccounts1",
                "time": slot,
                "customerId": customer,
            },
        )
        assert booked.status_code == 201, booked.text
        body = (await client.get(f"{OPENING}?date=2026-06-08", headers=headers)).json()
        remaining = {s["time"]: s["remaining"] for s in body["data"]}
        if n == 0:
            assert remaining[slot] == 1
        else:
            assert slot not in remaining
        assert remaining["2026-06-08T05:15:00.000Z"] == 2


@pytest.mark.parametrize(
    ("path", "field", "message"),
    [
        (f"{OPENING}?date=2026-13-01", "date", "The date must be a valid date (YYYY-MM-DD)."),
        (f"{OPENING}?date=tomorrow", "date", "The date must be a valid date (YYYY-MM-DD)."),
        (f"{OPENING}?date=2026-6-8", "date", "The date must be a valid date (YYYY-MM-DD)."),
        (f"{OPENING}?date=2026-06-06", "date", "The date must be today or later."),
        (
            "/external/v1/services/zwithdraw1/slots",
            "id",
            "This service does not support appointment booking.",
        ),
        ("/external/v1/services/nosuchsvc1/slots", "id", "This value does not exist."),
        ("/external/v1/services/zretired01/slots", "id", "This value does not exist."),
        ("/external/v1/services/rivalsvc01/slots", "id", "This value does not exist."),
        ("/external/v1/services/BAD/slots", "id", "This value does not exist."),
    ],
)
async def test_bad_requests_are_422(
    client: httpx.AsyncClient,
    bank: CompanyKeys,
    rival: CompanyKeys,
    path: str,
    field: str,
    message: str,
) -> None:
    response = await client.get(path, headers=bank.headers())
    assert response.status_code == 422
    assert response.json() == {
        "message": "The given data was invalid.",
        "error": {field: message},
        "code": "validation_failed",
    }


async def test_arabic_messages(client: httpx.AsyncClient, bank: CompanyKeys) -> None:
    ok = await client.get(OPENING, headers=bank.headers(locale="ar"))
    assert ok.json()["message"] == "تم جلب المواعيد المتاحة بنجاح."
    bad = await client.get(f"{OPENING}?date=2020-01-01", headers=bank.headers(locale="ar"))
    assert bad.json()["error"] == {"date": "يجب أن يكون التاريخ اليوم أو بعده."}


async def test_today_is_the_branch_local_day(
    client: httpx.AsyncClient, bank: CompanyKeys, clock: MutableClock
) -> None:
    # 22:30 UTC on Saturday is already Sunday 01:30 in Bahrain: "today" is Sunday.
    clock.set("2026-06-06T22:30:00Z")
    body = (await client.get(OPENING, headers=bank.headers())).json()
    assert times(body)[0] == "2026-06-07T05:00:00.000Z"
    past = await client.get(f"{OPENING}?date=2026-06-06", headers=bank.headers())
    assert past.status_code == 422
