"""Idempotency-Key (spec §4) on both databases: a retried write replays the stored
response and does nothing again; another request under the same key is refused; the
record and the effect are written together; a burst of 50 identical bookings through a
real 2-worker server books exactly one ticket."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from tests.conftest import CompanyKeys, keys_for
from tests.live_server import running_server
from tests.support import MutableClock, apply_fixture

API = "/external/v1"
WITHDRAW = {"serviceId": "zwithdraw1", "groupOfServiceId": "ztellers01"}


def keyed(keys: CompanyKeys, key: str, kind: str = "public", **extra: str) -> dict[str, str]:
    return {**keys.headers(kind), "Idempotency-Key": key, **extra}


async def count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def test_a_retried_booking_replays_and_books_once(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine
) -> None:
    first = await client.post(f"{API}/tickets/book", headers=keyed(bank, "k-1"), json=WITHDRAW)
    again = await client.post(f"{API}/tickets/book", headers=keyed(bank, "k-1"), json=WITHDRAW)
    assert (first.status_code, again.status_code) == (201, 201)
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert (await count(engine, t.tickets), await count(engine, t.idempotency_keys)) == (1, 1)
    # Another key is another request; no key at all is never remembered.
    other = await client.post(f"{API}/tickets/book", headers=keyed(bank, "k-2"), json=WITHDRAW)
    plain = await client.post(f"{API}/tickets/book", headers=bank.headers(), json=WITHDRAW)
    assert [r.json()["data"]["ticketNumber"] for r in (first, other, plain)] == [
        "W001",
        "W002",
        "W003",
    ]
    assert await count(engine, t.idempotency_keys) == 2


async def test_the_same_key_for_another_request_is_refused(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine
) -> None:
    await client.post(f"{API}/tickets/book", headers=keyed(bank, "k-1"), json=WITHDRAW)
    changed = {**WITHDRAW, "options": {"seat": "7"}}
    for locale, message in [
        (None, "This Idempotency-Key was used for a different request."),
        ("ar", "استُخدم مفتاح Idempotency-Key هذا لطلب مختلف."),
    ]:
        extra = {"X-Locale": locale} if locale else {}
        refused = await client.post(
            f"{API}/tickets/book", headers=keyed(bank, "k-1", **extra), json=changed
        )
        assert refused.status_code == 422
        assert refused.json()["error"] == {"Idempotency-Key": message}
        assert refused.json()["code"] == "idempotency_key_reused"
    assert await count(engine, t.tickets) == 1


async def test_keys_belong_to_one_credential(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine
) -> None:
    """The same key sent with the secret key is another caller's key: it books anew."""
    await client.post(f"{API}/tickets/book", headers=keyed(bank, "k-1"), json=WITHDRAW)
    other = await client.post(
        f"{API}/tickets/book", headers=keyed(bank, "k-1", "secret"), json=WITHDRAW
    )
    assert (other.status_code, "idempotent-replayed" in other.headers) == (201, False)
    assert await count(engine, t.tickets) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "é-key", "tab\tkey"])
async def test_a_malformed_key_is_422_and_changes_nothing(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine, key: str
) -> None:
    headers = {**bank.headers(), "Idempotency-Key": key}
    try:
        response = await client.post(f"{API}/tickets/book", headers=headers, json=WITHDRAW)
    except UnicodeEncodeError:
        pytest.skip("httpx cannot send this header value")
    assert response.status_code == 422
    assert response.json()["error"] == {
        "Idempotency-Key": "The Idempotency-Key must be 1 to 255 printable ASCII characters."
    }
    assert await count(engine, t.tickets) == 0


async def test_refusals_are_not_remembered(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine, clock: MutableClock
) -> None:
    """A refused request changed nothing, so the same key may succeed later."""
    clock.set("2026-06-07T23:00:00Z")  # the branch is closed at 02:00
    closed = await client.post(f"{API}/tickets/book", headers=keyed(bank, "k-1"), json=WITHDRAW)
    assert closed.status_code == 400
    clock.set("2026-06-07T07:00:00Z")
    booked = await client.post(f"{API}/tickets/book", headers=keyed(bank, "k-1"), json=WITHDRAW)
    assert (booked.status_code, "idempotent-replayed" in booked.headers) == (201, False)
    assert await count(engine, t.idempotency_keys) == 1


async def test_a_key_is_kept_for_24_hours(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine, clock: MutableClock
) -> None:
    await client.post(f"{API}/tickets/book", headers=keyed(bank, "k-1"), json=WITHDRAW)
    clock.now += timedelta(hours=23, minutes=59)
    kept = await client.post(f"{API}/tickets/book", headers=keyed(bank, "k-1"), json=WITHDRAW)
    assert kept.headers.get("idempotent-replayed") == "true"
    clock.now += timedelta(minutes=2)
    fresh = await client.post(f"{API}/tickets/book", headers=keyed(bank, "k-1"), json=WITHDRAW)
    assert (fresh.status_code, "idempotent-replayed" in fresh.headers) == (201, False)
    assert (await count(engine, t.tickets), await count(engine, t.idempotency_keys)) == (2, 1)


async def test_customer_writes_and_deletes_replay(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine
) -> None:
    body = {"externalId": "idem-1", "name": "Layla"}
    made = [
        await client.post(
            f"{API}/customers/create", headers=keyed(bank, "c-1", "secret"), json=body
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in made] == [201, 201]
    assert made[1].json() == made[0].json()
    deleted = [
        await client.delete(
            f"{API}/customers/delete?externalId=idem-1", headers=keyed(bank, "d-1", "secret")
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in deleted] == [200, 200]
    assert deleted[1].headers["idempotent-replayed"] == "true"
    assert await count(engine, t.customers) == 0


async def test_fifty_identical_bookings_at_once_book_one_ticket(
    engine: AsyncEngine, database_url: str
) -> None:
    await apply_fixture(engine, "race")  # open around the clock: the server's clock is real
    keys = await keys_for(engine, "cmp_race01")
    race_walk_in = {"serviceId": "racewalk01", "groupOfServiceId": "racegrp001"}
    with running_server(database_url, workers=2) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            responses = list(
                await asyncio.gather(
                    *(
                        client.post(
                            f"{API}/tickets/book",
                            headers=keyed(keys, "burst-1"),
                            json=race_walk_in,
                        )
                        for _ in range(50)
                    )
                )
            )
    outcomes = Counter(
        r.status_code if r.status_code != 409 else r.json()["code"] for r in responses
    )
    assert set(outcomes) <= {201, "idempotency_in_progress"}, outcomes
    created = [r.json() for r in responses if r.status_code == 201]
    assert created and all(body == created[0] for body in created)
    assert (
        sum("idempotent-replayed" not in r.headers for r in responses if r.status_code == 201) == 1
    )
    assert (await count(engine, t.tickets), await count(engine, t.idempotency_keys)) == (1, 1)
    async with engine.connect() as connection:
        events = await connection.scalar(select(func.count()).select_from(t.ticket_events))
    assert events == 1
    print("burst outcomes:", dict(outcomes))


async def test_refusals_match_the_documented_envelopes(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    from openapi_schema_validator import OAS31Validator

    from taboor.api.external_v1.implemented import IMPLEMENTED_OPERATIONS
    from taboor.api.external_v1.openapi_document import build_openapi_document

    document = build_openapi_document(IMPLEMENTED_OPERATIONS)
    responses = document["paths"]["/tickets/book"]["post"]["responses"]

    def check(response: httpx.Response) -> None:
        schema = responses[str(response.status_code)]["content"]["application/json"]["schema"]
        validator = OAS31Validator({**schema, "components": document["components"]})
        assert list(validator.iter_errors(response.json())) == [], response.json()

    await client.post(f"{API}/tickets/book", headers=keyed(bank, "k-1"), json=WITHDRAW)
    reused = await client.post(
        f"{API}/tickets/book", headers=keyed(bank, "k-1"), json={**WITHDRAW, "options": {}}
    )
    malformed = await client.post(f"{API}/tickets/book", headers=keyed(bank, ""), json=WITHDRAW)
    replayed = await client.post(f"{API}/tickets/book", headers=keyed(bank, "k-1"), json=WITHDRAW)
    for response in (reused, malformed, replayed):
        check(response)
    assert "Idempotent-Replayed" in responses["201"]["headers"]


async def test_a_request_failing_retryably_inside_is_run_again(
    client: httpx.AsyncClient,
    bank: CompanyKeys,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Within a keyed request a deadlock cannot be retried by the unit of work (the
    request's transaction is gone), so the whole request runs again: one ticket, a 201."""
    from sqlalchemy.exc import OperationalError

    from taboor.tickets import booking

    real = booking.insert_numbered_ticket
    calls = 0

    async def deadlocking_once(*args: Any, **kwargs: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OperationalError("INSERT …", {}, Exception("database is locked"))
        return await real(*args, **kwargs)

    monkeypatch.setattr(booking, "insert_numbered_ticket", deadlocking_once)
    response = await client.post(f"{API}/tickets/book", headers=keyed(bank, "k-1"), json=WITHDRAW)
    assert (response.status_code, calls) == (201, 2)
    assert (await count(engine, t.tickets), await count(engine, t.idempotency_keys)) == (1, 1)
