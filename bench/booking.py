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
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select
from tests.live_server import running_server
from tests.support import wipe

from taboor.db import tables as t
from taboor.db.engine import create_engine
from taboor.db.migrate import upgrade_to_head
from taboor.keys.service import create_key, hash_key
from taboor.setup.apply import apply_company
from taboor.setup.loader import parse_company_yaml

BENCH = Path(__file__).resolve().parent
LUA = BENCH / "booking.lua"
WALK_IN_SQL = BENCH / "pgbench_walk_in.sql"
# The request's API-key check (keys/service.py, its own autocommit query), put in front
# of the walk-in's SQL for the "whole request" run; needs -D key_hash=….
KEY_CHECK_SQL = """\
SELECT api_keys.id, api_keys.company_id, api_keys.kind, companies.default_locale
  FROM api_keys JOIN companies ON companies.id = api_keys.company_id
 WHERE api_keys.key_hash = :key_hash::varchar AND api_keys.revoked_at IS NULL;
"""


def pgbench_scripts(directory: Path) -> dict[str, Path]:
    """The walk-in's SQL as it is, and with the key check in front (after the \\set)."""
    walk_in = WALK_IN_SQL.read_text(encoding="utf-8")
    set_line, _, statements = walk_in.partition("\n\\set tid")[2].partition("\n")
    request = directory / "pgbench_walk_in_request.sql"
    request.write_text(f"\\set tid{set_line}\n{KEY_CHECK_SQL}{statements}", encoding="utf-8")
    return {
        "walk-in booking SQL": WALK_IN_SQL,
        "walk-in request SQL, key check included": request,
    }


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


@dataclass
class Result:
    name: str
    rate: float
    p50_ms: float
    p99_ms: float
    outcome: str

    def row(self) -> str:
        return (
            f"| {self.name} | {self.rate:,.0f} | {self.p50_ms:.1f} | {self.p99_ms:.1f} "
            f"| {self.outcome} |"
        )


def milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(
    name: str,
    url: str,
    key: str,
    *,
    clients: int,
    seconds: float,
    lua_args: list[str] | None = None,
) -> Result:
    command = ["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency"]
    command += ["-H", f"Authorization: Bearer {key}"]
    if lua_args is not None:
        command += ["-s", str(LUA), url, "--", *lua_args]
    else:
        command += [url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = milliseconds(re.search(r"50%\s+([\d.]+\w+)", output).group(1))  # type: ignore[union-attr]
    p99 = milliseconds(re.search(r"99%\s+([\d.]+\w+)", output).group(1))  # type: ignore[union-attr]
    statuses = re.search(r"statuses: (.*)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    outcome = statuses.group(1) if statuses else f"non-2xx={errors.group(1) if errors else 0}"
    if socket_errors:
        outcome += f"; socket errors: {socket_errors.group(1)}"
    return Result(name, rate, p50, p99, outcome)


def pgbench(
    name: str,
    script: Path,
    database: str,
    variables: dict[str, str],
    *,
    clients: int,
    seconds: float,
) -> Result:
    """pgbench with a per-transaction log, for p50/p99 (pgbench itself reports means)."""
    with tempfile.TemporaryDirectory() as scratch:
        command = [
            "pgbench", "-n", "-M", "prepared", f"-c{clients}", "-j2", f"-T{int(seconds)}",
            "-l", "--log-prefix", f"{scratch}/log", "-f", str(script),
            "-h", "127.0.0.1", "-U", "postgres",
        ]  # fmt: skip
        for variable, value in variables.items():
            command += ["-D", f"{variable}={value}"]
        completed = subprocess.run([*command, database], capture_output=True, text=True)
        if completed.returncode != 0:
            raise RuntimeError(f"pgbench failed:\n{completed.stdout}\n{completed.stderr}")
        latencies = [
            int(line.split()[2]) / 1000
            for log in Path(scratch).glob("log*")
            for line in log.read_text().splitlines()
        ]
    output = completed.stdout
    tps = float(re.search(r"tps = ([\d.]+) \(without", output).group(1))  # type: ignore[union-attr]
    failed = re.search(r"number of failed transactions: (\d+)", output)
    quantiles = statistics.quantiles(latencies, n=100)
    return Result(
        name, tps, quantiles[49], quantiles[98], f"failed={failed.group(1) if failed else 0}"
    )


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


def psql(database: str, sql: str) -> None:
    subprocess.run(
        ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", database, "-c", sql],
        check=False,
        capture_output=True,
    )


# Counters at work: every 0.2 s the walk-ins waiting for more than a second are served,
# so the queue stays about a second of bookings long (a few hundred tickets) instead of
# growing by thousands, and each booking's queue count stays realistic. Runs alike
# during the HTTP walk-in case and the pgbench runs it is compared with.
DRAIN_SQL = (
    "UPDATE tickets SET status = 'served', serving_at = status_at, status_at = now() "
    f"WHERE service_id = '{WALK_IN}' AND status = 'waiting' "
    "AND queue_at < now() - interval '1 second' \\watch 0.2\n"
)


@contextmanager
def draining(database: str, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    process = subprocess.Popen(
        ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", database],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(DRAIN_SQL)
    process.stdin.flush()
    try:
        yield
    finally:
        process.terminate()
        process.wait()


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
    psql("postgres", f"CREATE DATABASE {database}")  # harmless when it exists
    upgrade_to_head(url)
    key, key_id = asyncio.run(seed(url))
    psql(database, "VACUUM ANALYZE")
    print(f"seeded the bench company and {CUSTOMERS} customers into {url}", flush=True)

    now = datetime.now(ZONE)
    tomorrow = now.date() + timedelta(days=1)
    first_slot = datetime.combine(tomorrow, datetime.min.time(), ZONE)
    slots = SLOT_DAYS * 24 * 60 // SLOT_MINUTES
    common = {"clients": args.clients, "seconds": args.seconds}
    results: list[Result] = []
    with running_server(url, workers=2) as base_url:
        book = f"{base_url}{API}/tickets/book"
        with draining(database, not args.no_drain):
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
        with draining(database, not args.no_drain):
            benches.append(
                pgbench(f"pgbench {label}", script, database, variables,
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
