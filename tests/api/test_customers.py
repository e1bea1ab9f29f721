"""The customer directory (spec §2 customers, §3 Customer) on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from tests.conftest import CompanyKeys
from tests.support import MutableClock, insert_ticket

BASE = "/external/v1/customers"
TAKEN = "This value is already taken."
MISSING = "This value does not exist."


async def create(
    client: httpx.AsyncClient, keys: CompanyKeys, body: Any, locale: str | None = None
) -> httpx.Response:
    return await client.post(f"{BASE}/create", headers=keys.headers("secret", locale), json=body)


async def customer_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(t.customers)) or 0)


def invalid(field: str, message: str) -> dict[str, Any]:
    return {
        "message": "The given data was invalid.",
        "error": {field: message},
        "code": "validation_failed",
    }


async def test_create_returns_the_customer_with_absent_fields_omitted(
    client: httpx.AsyncClient, bank: CompanyKeys, clock: MutableClock
) -> None:
    clock.set("2026-06-23T11:08:41.123456Z")
    response = await create(
        client,
        bank,
        {
            "externalId": "crm-1",
            "name": "Fatima Al-Sayed",
            "email": "fatima@example.com",
            "mobile": "+97333334444",
            "metadata": {"tier": "gold", "visits": 3, "tags": ["vip"], "nested": {"a": None}},
            "unknownField": "ignored",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Customer created successfully."
    data = body["data"]
    assert len(data.pop("_id")) == 32
    assert data == {
        "externalId": "crm-1",
        "companyId": "cmp_bank01",
        "name": "Fatima Al-Sayed",
        "email": "fatima@example.com",
        "mobile": "+97333334444",
        "metadata": {"tier": "gold", "visits": 3, "tags": ["vip"], "nested": {"a": None}},
        "createdAt": "2026-06-23T11:08:41.123Z",
        "updatedAt": "2026-06-23T11:08:41.123Z",
    }
    minimal = await create(client, bank, {"name": "", "email": None, "externalId": ""})
    assert minimal.status_code == 201
    assert set(minimal.json()["data"]) == {"_id", "companyId", "createdAt", "updatedAt"}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"externalId": "x" * 65},
            "externalId",
            "This field must not be longer than 64 characters.",
        ),
        ({"externalId": 12}, "externalId", "This field must be a string."),
        ({"name": "n" * 121}, "name", "This field must not be longer than 120 characters."),
        ({"name": ["a"]}, "name", "This field must be a string."),
        ({"email": "not-an-email"}, "email", "This field must be a valid email address."),
        ({"email": "a@b"}, "email", "This field must be a valid email address."),
        ({"email": "a b@c.com"}, "email", "This field must be a valid email address."),
        (
            {"email": "a@" + "b" * 250 + ".com"},
            "email",
            "This field must not be longer than 254 characters.",
        ),
        (
            {"mobile": "97333334444"},
            "mobile",
            "The mobile number must be in E.164 format (+ and 8 to 15 digits).",
        ),
        (
            {"mobile": "+9733333"[:8]},
            "mobile",
            "The mobile number must be in E.164 format (+ and 8 to 15 digits).",
        ),
        (
            {"mobile": "+1234567890123456"},
            "mobile",
            "The mobile number must be in E.164 format (+ and 8 to 15 digits).",
        ),
        (
            {"mobile": "+973 3333 4444"},
            "mobile",
            "The mobile number must be in E.164 format (+ and 8 to 15 digits).",
        ),
        (
            {"mobile": 97333334444},
            "mobile",
            "The mobile number must be in E.164 format (+ and 8 to 15 digits).",
        ),
        ({"metadata": ["a"]}, "metadata", "This field must be an object."),
        ({"metadata": "text"}, "metadata", "This field must be an object."),
        (
            {"metadata": {f"k{i}": i for i in range(51)}},
            "metadata",
            "The metadata may not have more than 50 keys.",
        ),
        (
            {"metadata": {"blob": "x" * 4100}},
            "metadata",
            "The metadata may not be larger than 4096 bytes as JSON.",
        ),
    ],
)
async def test_create_rejects_each_bad_field_and_stores_nothing(
    client: httpx.AsyncClient,
    bank: CompanyKeys,
    engine: AsyncEngine,
    body: Any,
    field: str,
    message: str,
) -> None:
    response = await create(client, bank, body)
    assert response.status_code == 422
    assert response.json() == invalid(field, message)
    assert await customer_count(engine) == 0


async def test_boundary_values_are_accepted(client: httpx.AsyncClient, bank: CompanyKeys) -> None:
    response = await create(
        client,
        bank,
        {
            "externalId": "x" * 64,
            "name": "n" * 120,
            "mobile": "+12345678",
            "metadata": {f"k{i}": i for i in range(50)},
        },
    )
    assert response.status_code == 201, response.text
    assert (await create(client, bank, {"mobile": "+123456789012345"})).status_code == 201


async def test_every_bad_field_is_reported_at_once_in_arabic(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    response = await create(
        client, bank, {"email": "nope", "mobile": "123", "metadata": 1}, locale="ar"
    )
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "البيانات المقدمة غير صالحة."
    assert body["error"] == {
        "email": "يجب أن يكون هذا الحقل بريدًا إلكترونيًا صالحًا.",
        "mobile": "يجب أن يكون رقم الجوال بصيغة E.164 (علامة + ثم من 8 إلى 15 رقمًا).",
        "metadata": "يجب أن يكون هذا الحقل كائنًا.",
    }


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"{not json", "application/json", "The request body is not valid JSON."),
        (b"", "application/json", "The request body is not valid JSON."),
        (b"[1, 2]", "application/json", "The request body must be a JSON object."),
        (b'"text"', "application/json", "The request body must be a JSON object."),
        (b"null", "application/json", "The request body must be a JSON object."),
        (b'{"name": "x"}', "text/plain", "The request body must be sent as application/json."),
        (
            b"name=x",
            "application/x-www-form-urlencoded",
            "The request body must be sent as application/json.",
        ),
    ],
)
async def test_bad_bodies_are_422_on_body(
    client: httpx.AsyncClient,
    bank: CompanyKeys,
    engine: AsyncEngine,
    content: bytes,
    content_type: str,
    message: str,
) -> None:
    headers = bank.headers("secret") | {"Content-Type": content_type}
    response = await client.post(f"{BASE}/create", headers=headers, content=content)
    assert response.status_code == 422
    assert response.json() == invalid("body", message)
    assert await customer_count(engine) == 0


async def test_duplicate_external_id_is_422_taken(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine
) -> None:
    assert (await create(client, bank, {"externalId": "dup"})).status_code == 201
    response = await create(client, bank, {"externalId": "dup", "name": "Second"})
    assert response.status_code == 422
    assert response.json() == invalid("externalId", TAKEN)
    assert await customer_count(engine) == 1
    arabic = await create(client, bank, {"externalId": "dup"}, locale="ar")
    assert arabic.json()["error"] == {"externalId": "هذه القيمة مستخدمة بالفعل."}


async def test_list_is_newest_first_and_paginated(
    client: httpx.AsyncClient, bank: CompanyKeys, clock: MutableClock
) -> None:
    for index in range(25):
        clock.now += timedelta(seconds=1)
        await create(client, bank, {"externalId": f"c{index:02d}"})
    response = await client.get(f"{BASE}/getAll", headers=bank.headers("secret"))
    body = response.json()
    assert body["message"] == "Customers fetched successfully."
    assert [c["externalId"] for c in body["data"]] == [f"c{i:02d}" for i in range(24, 14, -1)]
    assert body["pagination"] == {
        "total": 25,
        "page": 1,
        "limit": 10,
        "totalPages": 3,
        "hasNextPage": True,
        "hasPrevPage": False,
    }
    last = (
        await client.get(f"{BASE}/getAll?page=3&limit=10", headers=bank.headers("secret"))
    ).json()
    assert [c["externalId"] for c in last["data"]] == [f"c{i:02d}" for i in range(4, -1, -1)]
    assert last["pagination"]["hasNextPage"] is False
    assert last["pagination"]["hasPrevPage"] is True
    past = (await client.get(f"{BASE}/getAll?page=9", headers=bank.headers("secret"))).json()
    assert past["data"] == []
    assert past["pagination"]["total"] == 25
    everything = await client.get(f"{BASE}/getAll?limit=100", headers=bank.headers("secret"))
    assert len(everything.json()["data"]) == 25


async def test_same_instant_customers_keep_a_stable_order(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    ids = [(await create(client, bank, {})).json()["data"]["_id"] for _ in range(5)]
    pages = [
        (
            await client.get(f"{BASE}/getAll?limit=2&page={page}", headers=bank.headers("secret"))
        ).json()["data"]
        for page in (1, 2, 3)
    ]
    listed = [c["_id"] for page in pages for c in page]
    assert sorted(listed) == sorted(ids)
    assert listed == sorted(ids, reverse=True)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("limit=101", "limit", "This field must be between 1 and 100."),
        ("limit=0", "limit", "This field must be between 1 and 100."),
        ("limit=-5", "limit", "This field must be between 1 and 100."),
        ("limit=ten", "limit", "This field must be an integer."),
        ("limit=1.5", "limit", "This field must be an integer."),
        ("page=0", "page", "This field must be at least 1."),
        ("page=abc", "page", "This field must be an integer."),
        ("page=99999999999999999999", "page", "This field must be an integer."),
    ],
)
async def test_list_rejects_out_of_range_paging(
    client: httpx.AsyncClient, bank: CompanyKeys, query: str, field: str, message: str
) -> None:
    response = await client.get(f"{BASE}/getAll?{query}", headers=bank.headers("secret"))
    assert response.status_code == 422
    assert response.json() == invalid(field, message)


async def test_get_one_by_id_or_external_id_with_id_winning(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    first = (await create(client, bank, {"externalId": "first", "name": "First"})).json()["data"]
    await create(client, bank, {"externalId": "second", "name": "Second"})
    headers = bank.headers("secret")
    by_id = await client.get(f"{BASE}/getOne?id={first['_id']}", headers=headers)
    assert by_id.status_code == 200
    assert by_id.json() == {"message": "Customer fetched successfully.", "data": first}
    by_external = await client.get(f"{BASE}/getOne?externalId=second", headers=headers)
    assert by_external.json()["data"]["name"] == "Second"
    both = await client.get(f"{BASE}/getOne?id={first['_id']}&externalId=second", headers=headers)
    assert both.json()["data"]["name"] == "First"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("", "id", "Provide id or externalId."),
        ("id=&externalId=", "id", "Provide id or externalId."),
        ("id=0123456789abcdef0123456789abcdef", "id", MISSING),
        ("id=not-a-customer-id", "id", MISSING),
        ("externalId=nobody", "externalId", MISSING),
    ],
)
async def test_get_one_without_or_with_unknown_identifier_is_422(
    client: httpx.AsyncClient, bank: CompanyKeys, query: str, field: str, message: str
) -> None:
    response = await client.get(f"{BASE}/getOne?{query}", headers=bank.headers("secret"))
    assert response.status_code == 422
    assert response.json() == invalid(field, message)


async def test_update_changes_only_sent_fields_and_clears_null_or_empty(
    client: httpx.AsyncClient, bank: CompanyKeys, clock: MutableClock
) -> None:
    created = (
        await create(
            client,
            bank,
            {
                "externalId": "u1",
                "name": "Old",
                "email": "old@example.com",
                "mobile": "+97311112222",
                "metadata": {"a": 1, "b": 2},
            },
        )
    ).json()["data"]
    clock.now += timedelta(minutes=5)
    response = await client.put(
        f"{BASE}/update",
        headers=bank.headers("secret"),
        json={"externalId": "u1", "name": "New", "email": None, "mobile": "", "metadata": {"c": 3}},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Customer updated successfully."
    updated = body["data"]
    assert updated["name"] == "New"
    assert "email" not in updated and "mobile" not in updated
    assert updated["metadata"] == {"c": 3}  # replaced whole, not merged
    assert updated["externalId"] == "u1"
    assert updated["createdAt"] == created["createdAt"]
    assert updated["updatedAt"] > created["updatedAt"]
    fetched = await client.get(f"{BASE}/getOne?externalId=u1", headers=bank.headers("secret"))
    assert fetched.json()["data"] == updated
    cleared = await client.put(
        f"{BASE}/update",
        headers=bank.headers("secret"),
        json={"id": created["_id"], "metadata": None},
    )
    assert "metadata" not in cleared.json()["data"]


async def test_update_by_id_can_change_the_external_id_but_not_to_a_taken_one(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    one = (await create(client, bank, {"externalId": "one"})).json()["data"]
    await create(client, bank, {"externalId": "two"})
    headers = bank.headers("secret")
    taken = await client.put(
        f"{BASE}/update", headers=headers, json={"id": one["_id"], "externalId": "two", "name": "X"}
    )
    assert taken.status_code == 422
    assert taken.json() == invalid("externalId", TAKEN)
    unchanged = await client.get(f"{BASE}/getOne?id={one['_id']}", headers=headers)
    assert unchanged.json()["data"] == one  # the failed update changed nothing
    moved = await client.put(
        f"{BASE}/update", headers=headers, json={"id": one["_id"], "externalId": "uno"}
    )
    assert moved.json()["data"]["externalId"] == "uno"
    removed = await client.put(
        f"{BASE}/update", headers=headers, json={"id": one["_id"], "externalId": None}
    )
    assert "externalId" not in removed.json()["data"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "x"}, "id", "Provide id or externalId."),
        ({"id": "ffffffffffffffffffffffffffffffff", "name": "x"}, "id", MISSING),
        ({"externalId": "ghost", "name": "x"}, "externalId", MISSING),
        ({"id": 5}, "id", "This field must be a string."),
    ],
)
async def test_update_of_unknown_customer_is_422(
    client: httpx.AsyncClient, bank: CompanyKeys, body: Any, field: str, message: str
) -> None:
    response = await client.put(f"{BASE}/update", headers=bank.headers("secret"), json=body)
    assert response.status_code == 422
    assert response.json() == invalid(field, message)


async def test_update_validates_fields_and_changes_nothing_on_error(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    created = (await create(client, bank, {"externalId": "v", "name": "Keep"})).json()["data"]
    response = await client.put(
        f"{BASE}/update",
        headers=bank.headers("secret"),
        json={"externalId": "v", "name": "Changed", "email": "broken"},
    )
    assert response.status_code == 422
    assert response.json() == invalid("email", "This field must be a valid email address.")
    fetched = await client.get(f"{BASE}/getOne?externalId=v", headers=bank.headers("secret"))
    assert fetched.json()["data"] == created


async def test_delete_keeps_tickets_and_detaches_them(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine
) -> None:
    customer = (await create(client, bank, {"externalId": "gone"})).json()["data"]
    ticket_id = await insert_ticket(engine, customer_id=customer["_id"])
    response = await client.delete(f"{BASE}/delete?externalId=gone", headers=bank.headers("secret"))
    assert response.status_code == 200
    assert response.json() == {"message": "Customer deleted successfully.", "data": None}
    again = await client.delete(f"{BASE}/delete?externalId=gone", headers=bank.headers("secret"))
    assert again.status_code == 422
    assert again.json() == invalid("externalId", MISSING)
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(t.tickets.c.customer_id).where(t.tickets.c.id == ticket_id)
            )
        ).one()
    assert row.customer_id is None


async def test_customer_tickets_lists_full_tickets_newest_first(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine, clock: MutableClock
) -> None:
    customer = (await create(client, bank, {"externalId": "t1", "name": "Huda"})).json()["data"]
    other = (await create(client, bank, {"externalId": "t2"})).json()["data"]
    base = clock.now
    ahead = await insert_ticket(
        engine, number=1, at=base - timedelta(minutes=30), customer_id=other["_id"]
    )
    waiting = await insert_ticket(
        engine, number=2, at=base - timedelta(minutes=20), customer_id=customer["_id"]
    )
    served = await insert_ticket(
        engine,
        number=3,
        at=base - timedelta(minutes=10),
        status="served",
        customer_id=customer["_id"],
    )
    response = await client.get(f"{BASE}/tickets?externalId=t1", headers=bank.headers("public"))
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Customer tickets fetched successfully."
    assert [ticket["id"] for ticket in body["data"]] == [served, waiting]
    assert ahead not in [ticket["id"] for ticket in body["data"]]
    assert body["pagination"]["total"] == 2
    served_json, waiting_json = body["data"]
    assert "queueSize" not in served_json and "waitingTime" not in served_json
    assert waiting_json == {
        "id": waiting,
        "ticketNumber": "W002",
        "status": "waiting",
        "statusAt": "2026-06-07T06:40:00.000Z",
        "type": "sequential",
        "time": None,
        "branch": {"id": "zallaq0001", "name": "Zallaq Branch"},
        "service": {"id": "zwithdraw1", "name": "Withdrawal"},
        "groupOfService": {"id": "ztellers01", "name": "Tellers"},
        "customer": {"id": customer["_id"], "name": "Huda"},
        "bookedAt": "2026-06-07T06:40:00.000Z",
        "queueSize": 1,
        "waitingTime": 5,  # 1 ahead × 5 min (avgServiceMinutes default) / 1 counter
    }
    arabic = await client.get(f"{BASE}/tickets?externalId=t1", headers=bank.headers("public", "ar"))
    assert arabic.json()["data"][1]["service"]["name"] == "سحب"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("externalId=t&limit=11", "limit", "This field must be between 1 and 10."),
        ("externalId=t&limit=0", "limit", "This field must be between 1 and 10."),
        ("externalId=t&page=0", "page", "This field must be at least 1."),
        ("limit=5", "id", "Provide id or externalId."),
        ("externalId=nobody", "externalId", MISSING),
    ],
)
async def test_customer_tickets_validation(
    client: httpx.AsyncClient, bank: CompanyKeys, query: str, field: str, message: str
) -> None:
    await create(client, bank, {"externalId": "t"})
    response = await client.get(f"{BASE}/tickets?{query}", headers=bank.headers("public"))
    assert response.status_code == 422
    assert response.json() == invalid(field, message)


async def test_companies_cannot_reach_each_others_customers(
    client: httpx.AsyncClient, bank: CompanyKeys, rival: CompanyKeys, engine: AsyncEngine
) -> None:
    mine = (await create(client, bank, {"externalId": "shared", "name": "Bank's"})).json()["data"]
    # The same externalId is free in another company.
    theirs = await create(client, rival, {"externalId": "shared", "name": "Rival's"})
    assert theirs.status_code == 201
    rival_headers = rival.headers("secret")
    by_id = await client.get(f"{BASE}/getOne?id={mine['_id']}", headers=rival_headers)
    assert by_id.status_code == 422 and by_id.json() == invalid("id", MISSING)
    by_external = await client.get(f"{BASE}/getOne?externalId=shared", headers=rival_headers)
    assert by_external.json()["data"]["name"] == "Rival's"
    update = await client.put(
        f"{BASE}/update", headers=rival_headers, json={"id": mine["_id"], "name": "Hijacked"}
    )
    assert update.status_code == 422
    delete = await client.delete(f"{BASE}/delete?id={mine['_id']}", headers=rival_headers)
    assert delete.status_code == 422
    tickets = await client.get(f"{BASE}/tickets?id={mine['_id']}", headers=rival.headers("public"))
    assert tickets.status_code == 422
    listing = await client.get(f"{BASE}/getAll", headers=rival_headers)
    assert [c["name"] for c in listing.json()["data"]] == ["Rival's"]
    untouched = await client.get(f"{BASE}/getOne?id={mine['_id']}", headers=bank.headers("secret"))
    assert untouched.json()["data"] == mine
    assert await customer_count(engine) == 2


async def test_every_page_of_every_size_concatenates_to_the_whole_list(
    client: httpx.AsyncClient, bank: CompanyKeys, clock: MutableClock
) -> None:
    """Pages in the older half are read from the oldest end; the seams must not show."""
    expected = []
    for index in range(23):
        clock.now += timedelta(seconds=1 if index % 3 else 0)  # some share an instant
        created = await create(client, bank, {"externalId": f"p{index:02d}"})
        expected.append(created.json()["data"]["_id"])
    listed_all = (
        await client.get(f"{BASE}/getAll?limit=100", headers=bank.headers("secret"))
    ).json()["data"]
    newest_first = [c["_id"] for c in listed_all]
    assert sorted(newest_first) == sorted(expected)
    for limit in (1, 4, 7, 10, 22, 23):
        seen: list[str] = []
        page = 1
        while True:
            body = (
                await client.get(
                    f"{BASE}/getAll?limit={limit}&page={page}", headers=bank.headers("secret")
                )
            ).json()
            if not body["data"]:
                break
            assert len(body["data"]) <= limit
            seen.extend(c["_id"] for c in body["data"])
            page += 1
        assert seen == newest_first, limit
        assert page - 1 == -(-23 // limit)
