"""``externalId`` uniqueness under real concurrency: a 2-worker server, parallel
requests, both databases. Exactly one create wins; the rest get the clean 422."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from tests.conftest import CompanyKeys
from tests.live_server import running_server

ROUNDS = 15
CONTENDERS = 8


async def test_concurrent_creates_with_one_external_id_give_one_201(
    engine: AsyncEngine, database_url: str, bank: CompanyKeys, rival: CompanyKeys
) -> None:
    with running_server(database_url, workers=2) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

            async def create(keys: CompanyKeys, external_id: str) -> httpx.Response:
                return await client.post(
                    "/external/v1/customers/create",
                    headers=keys.headers("secret"),
                    json={"externalId": external_id},
                )

            outcomes: Counter[int] = Counter()
            for round_number in range(ROUNDS):
                external_id = f"race-{round_number}"
                # The rival company races for the same externalId too: never a collision.
                responses = await asyncio.gather(
                    *(create(bank, external_id) for _ in range(CONTENDERS)),
                    create(rival, external_id),
                )
                bank_statuses = Counter(r.status_code for r in responses[:-1])
                assert bank_statuses == {201: 1, 422: CONTENDERS - 1}, bank_statuses
                assert responses[-1].status_code == 201
                for response in responses[:-1]:
                    if response.status_code == 422:
                        assert response.json()["error"] == {
                            "externalId": "This value is already taken."
                        }
                outcomes.update(bank_statuses)

    async with engine.connect() as connection:
        per_company = dict(
            (
                await connection.execute(
                    select(t.customers.c.company_id, func.count()).group_by(
                        t.customers.c.company_id
                    )
                )
            ).all()
        )
    assert per_company == {"cmp_bank01": ROUNDS, "cmp_rival1": ROUNDS}
    assert outcomes[201] == ROUNDS


async def test_concurrent_deletes_and_creates_keep_the_count_exact(
    engine: AsyncEngine, database_url: str, bank: CompanyKeys
) -> None:
    with running_server(database_url, workers=2) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            headers = bank.headers("secret")

            async def create(external_id: str) -> httpx.Response:
                return await client.post(
                    "/external/v1/customers/create",
                    headers=headers,
                    json={"externalId": external_id},
                )

            async def delete(external_id: str) -> httpx.Response:
                return await client.delete(
                    f"/external/v1/customers/delete?externalId={external_id}", headers=headers
                )

            await asyncio.gather(*(create(f"victim-{n}") for n in range(10)))
            # Each victim is deleted by 5 racers while 20 new customers are created.
            responses = await asyncio.gather(
                *(delete(f"victim-{n}") for n in range(10) for _ in range(5)),
                *(create(f"newcomer-{n}") for n in range(20)),
            )
            deletes, creates = responses[:50], responses[50:]
            assert Counter(r.status_code for r in deletes) == {200: 10, 422: 40}
            assert Counter(r.status_code for r in creates) == {201: 20}
            listing = await client.get("/external/v1/customers/getAll", headers=headers)
            assert listing.json()["pagination"]["total"] == 20

    async with engine.connect() as connection:
        actual = await connection.scalar(select(func.count()).select_from(t.customers))
        counted = await connection.scalar(select(t.customer_counts.c.total))
    assert actual == counted == 20
