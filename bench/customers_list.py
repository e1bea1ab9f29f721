"""Benchmark: GET /customers/getAll on a company with 100 000 customers.

Run by hand against PostgreSQL (or SQLite), never in CI:

    TABOOR_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/taboor_bench \
        .venv/bin/python bench/customers_list.py [--customers 100000] [--seconds 10]

The database is created if missing and emptied first. The server runs as
`taboor serve --workers 2` (granian), as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.live_server import running_server
from tests.support import wipe

from bench.load import run_load, run_wrk
from taboor.db import tables as t
from taboor.db.engine import create_engine
from taboor.db.migrate import upgrade_to_head
from taboor.keys.service import create_key
from taboor.setup.apply import apply_company
from taboor.setup.loader import demo_company_yaml, parse_company_yaml


async def seed(url: str, count: int) -> str:
    engine = create_engine(url)
    await wipe(engine)
    await apply_company(engine, parse_company_yaml(demo_company_yaml()))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    batch = 5000
    async with engine.begin() as connection:
        for offset in range(0, count, batch):
            rows = [
                {
                    "id": secrets.token_hex(16),
                    "company_id": "cmp_demo01",
                    "external_id": f"crm-{n}",
                    "name": f"Customer {n}",
                    "email": f"c{n}@example.com",
                    "mobile": f"+9733{n:07d}",
                    "metadata": {"n": n},
                    "created_at": start + timedelta(seconds=n),
                    "updated_at": start + timedelta(seconds=n),
                }
                for n in range(offset, min(count, offset + batch))
            ]
            await connection.execute(t.customers.insert(), rows)
        # The app keeps this count in step with every create and delete; a bulk seed
        # has to set it itself.
        await connection.execute(
            t.customer_counts.insert().values(company_id="cmp_demo01", total=count)
        )
    key = (await create_key(engine, "cmp_demo01", "secret", "bench")).key
    await engine.dispose()
    return key


async def measure(base_url: str, key: str, customers: int, seconds: float) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    last_page = customers // 10
    cases = [
        ("getAll page 1 limit 10", lambda i: "/external/v1/customers/getAll"),
        ("getAll page 1 limit 100", lambda i: "/external/v1/customers/getAll?limit=100"),
        (
            "getAll middle page limit 10",
            lambda i: f"/external/v1/customers/getAll?page={last_page // 2}",
        ),
        ("getAll last page limit 10", lambda i: f"/external/v1/customers/getAll?page={last_page}"),
        (
            "getOne by externalId",
            lambda i: f"/external/v1/customers/getOne?externalId=crm-{i % customers}",
        ),
    ]
    async with httpx.AsyncClient(base_url=base_url) as client:
        for name, path in cases:
            # A benchmark of empty answers measures nothing: check each case returns data.
            body = (await client.get(path(7), headers=headers)).json()
            assert body["data"], f"{name}: empty answer {body}"
    for name, path in cases:
        result = await run_load(
            name,
            base_url,
            lambda i, path=path: ("GET", path(i), headers),
            clients=1,
            seconds=seconds,
        )
        print(result.line(), flush=True)
    for name, path in cases:
        print(run_wrk(name, base_url + path(7), headers, clients=32, seconds=seconds), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    url = os.environ.get(
        "TABOOR_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/taboor_bench"
    )
    if url.startswith("postgresql"):
        database = url.rsplit("/", 1)[1]
        # Create the database when missing; harmless when it exists.
        os.system(f"psql -q -h 127.0.0.1 -U postgres -c 'CREATE DATABASE {database}' 2>/dev/null")
    upgrade_to_head(url)
    key = asyncio.run(seed(url, args.customers))
    if url.startswith("postgresql"):
        # Production tables get autovacuumed; a just-loaded one has not been yet.
        os.system(f"psql -q -h 127.0.0.1 -U postgres {database} -c 'VACUUM ANALYZE'")
    print(f"seeded {args.customers} customers into {url}")
    with running_server(url, workers=2) as base_url:
        asyncio.run(measure(base_url, key, args.customers, args.seconds))


if __name__ == "__main__":
    main()
