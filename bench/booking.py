"""Benchmark: booking tickets, and how close it gets to the database's own limit.

Run by hand against PostgreSQL, never in CI:

    TABOOR_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/taboor_bench_booking \
        .venv/bin/python bench/booking.py [--seconds 10] [--clients 32]

The database is created if missing and emptied first; a bench company (one branch open
around the clock, a walk-in service, an appointment service with 15-minute slots of 50
places) and 50 000 customers are seeded. The server runs as `taboor serve --workers 2`
(granian). With `wrk` and `bench/booking.lua`, 32 clients measure:

- walk-in `POST /tickets/book` (every booking draws the next number of one service's
  day: all of them queue on the same `ticket_numbers` row);
- `GET /tickets/{id}` over the tickets just booked;
- `GET /services/{id}/slots` for tomorrow;
- appointment `POST /tickets/book`, one customer per booking, spread over 2 784 slots of
  the next 29 days, so capacity and the one-active-ticket rule never refuse one.

Then `pgbench` runs the walk-in booking's own SQL (bench/pgbench_walk_in.sql: the
statements `book_ticket` issues on PostgreSQL) and, separately, the whole request's SQL
(the same with the API-key check in front, written out by `pgbench_scripts`) against the
same database with the same clients, and the HTTP booking rate is printed as a share of
each: how much the HTTP stack and Python (and, for the first, the key check) cost on top
of the SQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select
from tests.live_server import running_server
from tests.support import wipe

from bench.harness import Result, draining, pgbench, pgbench_scripts, psql, with_database, wrk
from taboor.db import tables as t
from taboor.db.engine import create_engine
from taboor.db.migrate import upgrade_to_head
from taboor.keys.service import create_key, hash_key
from taboor.setup.apply import apply_company
from taboor.setup.loader import parse_company_yaml

API = "/external/v1"
COMPANY = "cmp_bench1"
BRANCH, GROUP, WALK_IN, APPOINTMENTS = "benchbr001", "benchgrp01", "benchwalk1", "benchappt1"
WALK_IN_PREFIX = "W"
ZONE = ZoneInfo("Asia/Bahrain")
SLOT_MINUTES = 15
SLOT_DAYS = 29
CUSTOMERS = 50_000
DAYS = ("sat", "sun", "mon", "tue", "wed", "thu", "fri")
HOURS = ", ".join(f'{day}: ["00:00-24:00"]' for day in DAYS)
COMPANY_YAML = f"""
company: {{id: {COMPANY}, name: Bench Clinic, timezone: Asia/Bahrain, defaultLocale: en}}
branches:
  - id: {BRANCH}
    name: Bench Branch
    hours: {{{HOURS}}}
    groups:
      - id: {GROUP}
        name: Services
        services:
          - {{id: {WALK_IN}, name: Walk-in, prefix: {WALK_IN_PREFIX}}}
          - id: {APPOINTMENTS}
            name: Consultation
            prefix: C
            walkIn: false
            appointment: {{prefix: A, slotMinutes: {SLOT_MINUTES}, capacity: 50,
                           horizonDays: 30, minNoticeMinutes: 0}}
"""


async def seed(url: str) -> tuple[str, str]:
    """Empty the database, apply the bench company, add customers; the key and its id."""
    engine = create_engine(url)
    await wipe(engine)
    await apply_company(engine, parse_company_yaml(COMPANY_YAML))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    async with engine.begin() as connection:
        for offset in range(0, CUSTOMERS, 5000):
            rows = [
                {
                    "id": secrets.token_hex(16),
                    "company_id": COMPANY,
                    "external_id": f"bench-{n}",
                    "name": f"Customer {n}",
                    "created_at": start + timedelta(seconds=n),
                    "updated_at": start + timedelta(seconds=n),
                }
                for n in range(offset, min(CUSTOMERS, offset + 5000))
            ]
            await connection.execute(t.customers.insert(), rows)
    key = await create_key(engine, COMPANY, "public", "bench")
    await engine.dispose()
    return key.key, key.id


async def ticket_ids(url: str) -> list[str]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        ids = list(
            await connection.scalars(
                select(t.tickets.c.id).where(t.tickets.c.service_id == WALK_IN)
            )
        )
    await engine.dispose()
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument(
        "--no-drain",
        action="store_true",
        help="let the walk-in queue grow (every booking then counts thousands ahead)",
    )
    args = parser.parse_args()
    url = os.environ.get(
        "TABOOR_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/taboor_bench_booking"
    )
    if not url.startswith("postgresql"):
        raise SystemExit("bench/booking.py compares with pgbench: it needs a PostgreSQL URL")
    for tool in ("wrk", "pgbench", "psql"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")
    database = url.rsplit("/", 1)[1]
    psql(with_database(url, "postgres"), f"CREATE DATABASE {database}")  # harmless when it exists
    upgrade_to_head(url)
    key, key_id = asyncio.run(seed(url))
    psql(url, "VACUUM ANALYZE")
    print(f"seeded the bench company and {CUSTOMERS} customers into {url}", flush=True)

    now = datetime.now(ZONE)
    tomorrow = now.date() + timedelta(days=1)
    first_slot = datetime.combine(tomorrow, datetime.min.time(), ZONE)
    slots = SLOT_DAYS * 24 * 60 // SLOT_MINUTES
    common = {"clients": args.clients, "seconds": args.seconds}
    results: list[Result] = []
    with running_server(url, workers=2) as base_url:
        book = f"{base_url}{API}/tickets/book"
        with draining(url, WALK_IN, not args.no_drain):
            results.append(
                wrk("walk-in POST /tickets/book", book, key, **common,
                    lua_args=["walk-in", WALK_IN, GROUP])
            )  # fmt: skip
        print(results[-1].row(), flush=True)
        ids = asyncio.run(ticket_ids(url))
        with tempfile.NamedTemporaryFile("w", suffix=".ids") as id_file:
            id_file.write("\n".join(ids) + "\n")
            id_file.flush()
            results.append(
                wrk(f"GET /tickets/{{id}} ({len(ids)} booked tickets)",
                    f"{base_url}{API}/tickets/", key, **common,
                    lua_args=["ticket", id_file.name])
            )  # fmt: skip
        print(results[-1].row(), flush=True)
        results.append(
            wrk("GET /services/{id}/slots (tomorrow, 96 slots)",
                f"{base_url}{API}/services/{APPOINTMENTS}/slots?date={tomorrow.isoformat()}",
                key, **common)
        )  # fmt: skip
        print(results[-1].row(), flush=True)
        results.append(
            wrk(f"appointment POST /tickets/book ({slots} slots)", book, key, **common,
                lua_args=["appointment", APPOINTMENTS, GROUP,
                          str(int(first_slot.timestamp())), str(SLOT_MINUTES * 60),
                          str(slots), "bench-"])
        )  # fmt: skip
        print(results[-1].row(), flush=True)

    variables = {
        "company": COMPANY,
        "service": WALK_IN,
        "branch": BRANCH,
        "grp": GROUP,
        "prefix": WALK_IN_PREFIX,
        "day": datetime.now(ZONE).date().isoformat(),
        "key": key_id,
        "key_hash": hash_key(key),
    }
    benches = []
    scripts = pgbench_scripts(Path(tempfile.mkdtemp(prefix="taboor-bench-")))
    for label, script in scripts.items():
        with draining(url, WALK_IN, not args.no_drain):
            benches.append(
                pgbench(f"pgbench {label}", script, url, variables,
                        **common)
            )  # fmt: skip
        print(benches[-1].row(), flush=True)

    print()
    print(f"{args.clients} clients, {args.seconds:.0f} s per case, PostgreSQL {url}")
    print("| case | req/s (tps) | p50 ms | p99 ms | outcome |")
    print("|---|---|---|---|---|")
    for result in [*results, *benches]:
        print(result.row())
    walk_in = results[0].rate
    for bench in benches:
        print(f"walk-in booking over HTTP / {bench.name}: {walk_in / bench.rate:.0%}")


if __name__ == "__main__":
    main()
