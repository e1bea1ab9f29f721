"""Rate limits on the External API, in process with a pinned clock, on both databases:
what is counted and what is not, the headers, the 429, the per-address budget across
keys, the tighter of two budgets, and a window ending.

The rule under test: every request of a limited company that gets past the key check
is one hit on each of its budgets, refused ones included; a request is admitted when,
counting itself, no budget is over its limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.app import create_app
from taboor.db.engine import create_engine
from taboor.limits.counting import Budget, Charge, Verdict, count_request
from tests.conftest import CompanyKeys
from tests.limits.helpers import RATE_LIMIT_HEADERS, apply_with, counter_rows
from tests.support import MutableClock

BRANCHES = "/external/v1/branches"
ADDRESS = "127.0.0.1"  # httpx's ASGI transport's client address


def limits(response: httpx.Response) -> tuple[int, int, int]:
    return (
        int(response.headers["ratelimit-limit"]),
        int(response.headers["ratelimit-remaining"]),
        int(response.headers["ratelimit-reset"]),
    )


def assert_refused(response: httpx.Response, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json() == {
        "message": "Too many requests.",
        "error": None,
        "code": "rate_limited",
    }
    assert response.headers["retry-after"] == str(retry_after)
    assert response.headers["ratelimit-remaining"] == "0"
    assert response.headers["ratelimit-reset"] == str(retry_after)


@pytest.fixture
async def other_client(
    engine: AsyncEngine, clock: MutableClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The same app seen from another client address."""
    app = create_app(engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=app, client=("10.0.0.7", 4321))
    async with httpx.AsyncClient(transport=transport, base_url="http://taboor.test") as client:
        yield client


async def test_a_company_without_limits_gets_no_headers_and_writes_no_rows(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys
) -> None:
    for _ in range(3):
        response = await client.get(BRANCHES, headers=bank.headers())
        assert response.status_code == 200
        assert not set(RATE_LIMIT_HEADERS) & set(response.headers)
    assert await counter_rows(engine) == {}


async def test_per_key_budget_counts_every_request_and_refuses_over_it(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys, clock: MutableClock
) -> None:
    await apply_with(engine, "bank", limits={"perKeyPerMinute": 3})
    seen = []
    for _ in range(3):
        response = await client.get(BRANCHES, headers=bank.headers())
        assert response.status_code == 200
        seen.append(limits(response))
        clock.now += timedelta(seconds=10)
    assert seen == [(3, 2, 60), (3, 1, 50), (3, 0, 40)]
    assert_refused(await client.get(BRANCHES, headers=bank.headers()), retry_after=30)
    arabic = await client.get(BRANCHES, headers=bank.headers(locale="ar"))
    assert arabic.status_code == 429
    assert arabic.json()["message"] == "طلبات كثيرة جدًا."
    # Refusals are hits too; the other key of the company has its own budget.
    assert await counter_rows(engine) == {("key", bank.public.id): 5}
    assert (await client.get(BRANCHES, headers=bank.headers("secret"))).status_code == 200
    assert (await counter_rows(engine))[("key", bank.secret.id)] == 1


async def test_error_responses_are_counted_and_carry_the_headers(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys
) -> None:
    await apply_with(engine, "bank", limits={"perKeyPerMinute": 5})
    unknown = await client.get("/external/v1/branches/nosuch0001/tree", headers=bank.headers())
    assert unknown.status_code == 422
    assert limits(unknown) == (5, 4, 60)
    bad_body = await client.post(
        "/external/v1/tickets/book", headers=bank.headers(), content=b"{not json"
    )
    assert bad_body.status_code == 422
    assert limits(bad_body) == (5, 3, 60)


async def test_401s_are_not_counted(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys
) -> None:
    await apply_with(engine, "bank", limits={"perKeyPerMinute": 2, "perAddressPerMinute": 2})
    for headers in (
        {},
        {"Authorization": "Bearer pk_nosuchkey"},
        {"Authorization": "Basic abc"},
        bank.headers("public"),  # a public key on a secret-only endpoint
    ):
        response = await client.get("/external/v1/customers/getAll", headers=headers)
        assert response.status_code == 401
        assert not set(RATE_LIMIT_HEADERS) & set(response.headers)
    assert await counter_rows(engine) == {}
    ok = await client.get("/external/v1/customers/getAll", headers=bank.headers("secret"))
    assert ok.status_code == 200
    assert limits(ok) == (2, 1, 60)


async def test_per_address_budget_is_shared_by_the_keys_of_a_company(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    engine: AsyncEngine,
    bank: CompanyKeys,
    rival: CompanyKeys,
) -> None:
    await apply_with(engine, "bank", limits={"perAddressPerMinute": 4})
    await apply_with(engine, "rival", limits={"perAddressPerMinute": 1})
    statuses = []
    for kind in ("public", "secret", "public", "secret", "public", "secret"):
        response = await client.get(BRANCHES, headers=bank.headers(kind))
        statuses.append(response.status_code)
        assert response.headers["ratelimit-limit"] == "4"
    assert statuses == [200, 200, 200, 200, 429, 429]
    # Another address has its own budget; so has the same address at another company.
    assert (await other_client.get(BRANCHES, headers=bank.headers())).status_code == 200
    assert (await client.get(BRANCHES, headers=rival.headers())).status_code == 200
    assert (await client.get(BRANCHES, headers=rival.headers())).status_code == 429
    assert await counter_rows(engine) == {
        ("address", f"cmp_bank01/{ADDRESS}"): 6,
        ("address", "cmp_bank01/10.0.0.7"): 1,
        ("address", f"cmp_rival1/{ADDRESS}"): 2,
    }


async def test_headers_describe_the_tighter_budget(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys, clock: MutableClock
) -> None:
    await apply_with(engine, "bank", limits={"perKeyPerMinute": 2, "perAddressPerMinute": 4})
    first = await client.get(BRANCHES, headers=bank.headers("public"))
    assert limits(first) == (2, 1, 60)  # the key's: 1 left against the address's 3
    clock.now += timedelta(seconds=20)
    assert limits(await client.get(BRANCHES, headers=bank.headers("public"))) == (2, 0, 40)
    assert_refused(await client.get(BRANCHES, headers=bank.headers("public")), retry_after=40)
    # The secret key's budget is fresh; the address's (3 hits, one refused) is tighter.
    secret = await client.get(BRANCHES, headers=bank.headers("secret"))
    assert secret.status_code == 200
    assert limits(secret) == (4, 0, 40)
    clock.now += timedelta(seconds=30)
    # Over the address's budget (its window ends in 10 s) with the secret key's spent
    # too (ends in 30 s): the wait, and the headers, are the later of the two.
    refused = await client.get(BRANCHES, headers=bank.headers("secret"))
    assert_refused(refused, retry_after=30)
    assert refused.headers["ratelimit-limit"] == "2"


async def test_a_new_window_starts_a_minute_after_the_first_request(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys, clock: MutableClock
) -> None:
    await apply_with(engine, "bank", limits={"perKeyPerMinute": 2})
    start = clock.now
    for _ in range(2):
        assert (await client.get(BRANCHES, headers=bank.headers())).status_code == 200
    clock.now = start + timedelta(seconds=59, milliseconds=500)
    assert_refused(await client.get(BRANCHES, headers=bank.headers()), retry_after=1)
    clock.now = start + timedelta(seconds=60)
    fresh = await client.get(BRANCHES, headers=bank.headers())
    assert fresh.status_code == 200
    assert limits(fresh) == (2, 1, 60)
    assert await counter_rows(engine) == {("key", bank.public.id): 1}


async def test_a_changed_limit_applies_to_the_running_window(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys
) -> None:
    await apply_with(engine, "bank", limits={"perKeyPerMinute": 1})
    assert (await client.get(BRANCHES, headers=bank.headers())).status_code == 200
    assert (await client.get(BRANCHES, headers=bank.headers())).status_code == 429
    await apply_with(engine, "bank", limits={"perKeyPerMinute": 5})
    raised = await client.get(BRANCHES, headers=bank.headers())
    assert limits(raised) == (5, 2, 60)  # 3 hits so far, the refused one included
    await apply_with(engine, "bank")
    unlimited = await client.get(BRANCHES, headers=bank.headers())
    assert unlimited.status_code == 200
    assert "ratelimit-limit" not in unlimited.headers


def test_the_reported_budget_and_the_wait() -> None:
    key = Budget("key", limit=10, used=10, reset_seconds=12)
    address = Budget("address", limit=50, used=50, reset_seconds=45)
    assert key.remaining == address.remaining == 0 and not key.exceeded
    # Both spent: the next request waits for the later window; the headers say so too.
    assert Verdict((key, address)).tightest is address
    assert Verdict((key, address)).retry_after_seconds == 45
    roomy = Budget("address", limit=50, used=3, reset_seconds=5)
    assert Verdict((key, roomy)).tightest is key
    assert Verdict((key, roomy)).retry_after_seconds == 12


async def test_requests_with_an_idempotency_key_are_counted_and_replays_are_not(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys
) -> None:
    """Such a request runs in one transaction of its own (taboor.api.idempotency); on
    SQLite that transaction already holds the write lock, so the count joins it instead
    of waiting for it (which would never end)."""
    await apply_with(engine, "bank", limits={"perKeyPerMinute": 3})
    book = "/external/v1/tickets/book"
    body = {"serviceId": "zwithdraw1", "groupOfServiceId": "ztellers01"}
    headers = {**bank.headers(), "Idempotency-Key": "burst-1"}
    first = await client.post(book, headers=headers, json=body)
    assert first.status_code == 201, first.text
    assert limits(first) == (3, 2, 60)
    replay = await client.post(book, headers=headers, json=body)
    assert replay.headers["idempotent-replayed"] == "true"
    assert "ratelimit-limit" not in replay.headers  # answered before it is counted
    assert await counter_rows(engine) == {("key", bank.public.id): 1}


async def test_counting_relaxes_the_commit_flush_for_its_own_statement_only(
    database_url: str, engine: AsyncEngine
) -> None:
    """On PostgreSQL the count commits without waiting for its WAL flush; the pooled
    connection keeps the server's setting for everything else."""
    if engine.dialect.name != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    single = create_engine(database_url, pool_size=1)
    try:
        now = datetime(2026, 6, 7, 7, 0, tzinfo=UTC)
        verdict = await count_request(single, [Charge("key", "key_probe", 5)], now)
        assert verdict.budgets == (Budget("key", 5, 1, 60),)
        async with single.connect() as connection:
            assert await connection.scalar(text("SHOW synchronous_commit")) == "on"
    finally:
        await single.dispose()
