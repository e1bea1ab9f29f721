"""Rate limits under real concurrency: a 2-worker server (two processes, each with its
own connection pool and, on PostgreSQL, its own key cache), simultaneous requests, both
databases.

What must hold: the processes spend one shared budget, exactly: of 40 simultaneous
requests against a per-key budget of 20, exactly 20 are admitted (each seeing its own
place: RateLimit-Remaining 19 … 0, each once) and 20 are refused with 429, Retry-After
and RateLimit headers; every one of the 40 is a hit (refusals count), so the counter
row says 40. The same holds for a per-address budget spent by two keys at once.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import CompanyKeys
from tests.limits.helpers import apply_with, counter_rows
from tests.live_server import running_server

BRANCHES = "/external/v1/branches"


async def burst(
    client: httpx.AsyncClient, keys: CompanyKeys, kinds: list[str]
) -> list[httpx.Response]:
    return await asyncio.gather(
        *(client.get(BRANCHES, headers=keys.headers(kind)) for kind in kinds)
    )


def check(responses: list[httpx.Response], limit: int) -> None:
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: limit, 429: len(responses) - limit}, statuses
    admitted = sorted(
        int(response.headers["ratelimit-remaining"])
        for response in responses
        if response.status_code == 200
    )
    assert admitted == list(range(limit)), admitted  # every place in the window, once
    for response in responses:
        assert response.headers["ratelimit-limit"] == str(limit)
        reset = int(response.headers["ratelimit-reset"])
        assert 1 <= reset <= 60
        if response.status_code == 429:
            assert response.json()["code"] == "rate_limited"
            assert response.headers["retry-after"] == str(reset)
            assert response.headers["ratelimit-remaining"] == "0"


async def test_simultaneous_requests_spend_one_shared_budget_exactly(
    engine: AsyncEngine, database_url: str, bank: CompanyKeys, rival: CompanyKeys
) -> None:
    await apply_with(engine, "bank", limits={"perKeyPerMinute": 20})
    await apply_with(engine, "rival", limits={"perAddressPerMinute": 10})
    with running_server(database_url, workers=2) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            check(await burst(client, bank, ["public"] * 40), limit=20)
            check(await burst(client, rival, ["public", "secret"] * 15), limit=10)
    assert await counter_rows(engine) == {
        ("key", bank.public.id): 40,
        ("address", "cmp_rival1/127.0.0.1"): 30,
    }
