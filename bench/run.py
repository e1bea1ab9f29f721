"""`make bench`: the project's performance record, in one run.

    TABOOR_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/postgres make bench
    # or: .venv/bin/python bench/run.py [--seconds 30] [--clients 32 128] [--keep]

The URL names a PostgreSQL server (and a database to connect to for CREATE/DROP); the
run creates its own database there (``--database``, default ``taboor_bench``; dropped
first if it exists, and again at the end unless ``--keep``). Needs ``wrk``, ``pgbench``
and ``psql`` (Debian: ``apt-get install wrk postgresql-client``).

1. Load: ``taboor migrate``, ``taboor apply`` of the generated company file
   (bench/company.py: 20 branches, 200 services), then the bulk load (100 000 customers,
   30 days of past tickets, 10 000 upcoming appointments on the slots service, 160
   agents holding their counters, today's queue at 16 branches). Timed.
2. ``taboor serve --workers 2`` (granian, the server's defaults: JSON logs at info with
   an access line per request, here to a file) and, for each client count, wrk
   (``-t2``, bench/booking.lua): ``GET /tickets/{id}``, slots 30 days ahead, the tree of
   the 50-service branch, walk-in and appointment ``POST /tickets/book``, and then, for
   each count, staff call-next; the slots and tree also with one client. Peak memory
   (VmHWM) of every server process.
3. pgbench with the walk-in's SQL (bench/pgbench_walk_in.sql; and with the key check in
   front), same clients, same database, the walk-in queue drained alike.
4. bench/bare_app.py under granian, 2 workers, answering a real ticket's JSON without
   the database: the same wrk script and clients as ``GET /tickets/{id}``. Its memory.
5. Every figure, the ratios and the issue's targets, to stdout and appended to
   bench/RESULTS.md (``--results``) with the date, commit and machine.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import company as bench_company
from bench.harness import (
    ROOT,
    ProcessMemory,
    Result,
    draining,
    peak_memory,
    pgbench,
    pgbench_scripts,
    psql,
    requeueing,
    serving,
    settle,
    taboor_server,
    with_database,
    wrk,
)
from taboor.keys.service import hash_key

API = "/external/v1"
STAFF = "/staff/v1"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


# A case: clients, seconds → its figures.
Case = Callable[[int, float], Result]
CALL_NEXT = "staff POST /counters/{id}/call-next"
BARE = "bare Litestar GET /tickets/{id}"
BARE_QUERY = "bare Litestar GET /tickets/{id} + its query (asyncpg)"


def _machine(url: str) -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    return {
        "host": socket.gethostname(),
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "ram": f"{memory / 1024 / 1024:.1f} GiB",
        "postgres": psql(url, "SHOW server_version") or "unknown",
        "autovacuum": psql(url, "SHOW autovacuum") or "unknown",
        "shared_buffers": psql(url, "SHOW shared_buffers") or "unknown",
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "python": platform.python_version(),
        "granian": version("granian"),
        "litestar": version("litestar"),
        "load": ", ".join(f"{value:.2f}" for value in os.getloadavg()),
    }


def _get(url: str, token: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return bytes(response.read())


def _check(name: str, url: str, token: str, needle: bytes) -> bytes:
    """A benchmark of empty or wrong answers measures nothing: look before measuring."""
    body = _get(url, token)
    if needle not in body:
        raise SystemExit(f"{name}: unexpected answer from {url}: {body[:300]!r}")
    return body


def _print(result: Result, server: int | None = None) -> None:
    """Print the case's line; with the server's pid, then wait until it is idle."""
    print(f"  {result.clients:>4} clients  {result.row()}", flush=True)
    if server is not None:
        settle(server)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="per case (default 30)")
    parser.add_argument("--clients", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--database", default="taboor_bench", help="created and dropped")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--results", type=Path, default=RESULTS, help="appended to")
    parser.add_argument(
        "--load-only",
        action="store_true",
        help="load the company, print the server command, measure nothing (with --keep: "
        "a database to profile against)",
    )
    args = parser.parse_args()
    url = os.environ.get("TABOOR_BENCH_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        raise SystemExit(
            "make bench needs a PostgreSQL server: set TABOOR_BENCH_DATABASE_URL, e.g. "
            "postgresql://postgres@127.0.0.1/postgres (the run creates and drops its own "
            f"database, {args.database}, there)"
        )
    missing = [tool for tool in ("wrk", "pgbench", "psql") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(
            f"missing: {', '.join(missing)}. On Debian/Ubuntu: "
            "sudo apt-get install wrk postgresql-client"
        )
    if not args.database.replace("_", "").isalnum():
        raise SystemExit("--database: letters, digits and _ only")
    seconds, clients = args.seconds, sorted(set(args.clients))
    cases_count = 10 * len(clients) + 2  # 6 endpoints, 2 pgbench, 2 bare; 1-client slots, tree
    print(
        f"about {math.ceil((cases_count * (seconds + 2) + 120) / 60)} minutes: "
        f"{cases_count} cases of {seconds:.0f} s, plus loading",
        flush=True,
    )

    bench_url = with_database(url, args.database)
    psql(url, f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)", check=True)
    psql(url, f"CREATE DATABASE {args.database}", check=True)
    scratch = Path(tempfile.mkdtemp(prefix="taboor-bench-"))
    try:
        machine = _machine(bench_url)
        if args.load_only:
            load(bench_url, scratch)
            print(f"loaded {bench_url}; keys and tokens in {scratch}")
            return
        record = measure(bench_url, scratch, seconds, clients)
    finally:
        if not args.keep:
            psql(url, f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
    text = report(machine, seconds, clients, *record)
    print()
    print(text)
    if not args.results.exists():
        args.results.write_text(RESULTS_HEADER, encoding="utf-8")
    with args.results.open("a", encoding="utf-8") as results:
        results.write("\n" + text)
    print(f"appended to {args.results}; server logs in {scratch}")


RESULTS_HEADER = """\
# Benchmark results

Written by `make bench` (bench/run.py; what it measures and how: bench/README.md), one
section per run, newest last. Figures are only comparable within a section: each run
measures the database's limit (pgbench) and the framework's (the bare app) on the same
machine at the same time.
"""


def load(
    url: str, scratch: Path
) -> tuple[bench_company.Company, bench_company.Loaded, dict[str, str]]:
    """Apply the company file, bulk-load the rest, vacuum; timed. The ids and tokens
    the cases use are written to ``scratch`` (``key``, ``waiting.ids``,
    ``counters.tokens``)."""
    taboor = str(Path(sys.executable).parent / "taboor")
    started = time.perf_counter()
    plan = bench_company.plan(datetime.now(bench_company.ZONE).date())
    company_file = scratch / "company.yaml"
    company_file.write_text(bench_company.company_yaml(plan), encoding="utf-8")
    subprocess.run([taboor, "--database-url", url, "migrate"], check=True, capture_output=True)
    subprocess.run(
        [taboor, "--database-url", url, "apply", str(company_file)], check=True, capture_output=True
    )
    applied = time.perf_counter()
    loaded = asyncio.run(bench_company.load(url, plan))
    bulk = time.perf_counter()
    psql(url, "VACUUM ANALYZE", check=True)
    done = time.perf_counter()
    rows = ", ".join(f"{count:,} {table}" for table, count in loaded.rows.items())
    facts = {
        "load": (
            f"company file applied in {applied - started:.1f} s; {rows} bulk-loaded in "
            f"{bulk - applied:.1f} s; VACUUM ANALYZE {done - bulk:.1f} s"
        )
    }
    print(facts["load"], flush=True)
    (scratch / "key").write_text(loaded.key + "\n", encoding="utf-8")
    (scratch / "waiting.ids").write_text("\n".join(loaded.waiting_ids) + "\n", encoding="utf-8")
    (scratch / "counters.tokens").write_text(
        "".join(f"{counter} {token}\n" for counter, token in loaded.counter_tokens),
        encoding="utf-8",
    )
    return plan, loaded, facts


def measure(
    url: str, scratch: Path, seconds: float, clients: list[int]
) -> tuple[list[Result], dict[str, list[ProcessMemory]], dict[str, str]]:
    plan, loaded, facts = load(url, scratch)

    now = datetime.now(bench_company.ZONE)
    today = now.date()
    slots_day = today + timedelta(days=bench_company.HORIZON_DAYS)
    first_slot = datetime.combine(today + timedelta(days=1), datetime.min.time(), now.tzinfo)
    booking_slots = (bench_company.HORIZON_DAYS - 1) * 24 * 60 // bench_company.SLOT_MINUTES
    walk_in, appointments, slots = plan.walk_in, plan.appointments, plan.slots
    ids_file, counters_file = scratch / "waiting.ids", scratch / "counters.tokens"
    key = loaded.key
    results: list[Result] = []
    memory: dict[str, list[ProcessMemory]] = {}
    booked = 0  # appointment request numbers used so far: the next run starts after them

    with taboor_server(url, scratch / "taboor.log") as server:
        base = server.base_url
        book = f"{base}{API}/tickets/book"
        ticket_url = f"{base}{API}/tickets/"
        slots_url = f"{base}{API}/services/{slots.id}/slots?date={slots_day.isoformat()}"
        tree_url = f"{base}{API}/branches/{plan.main.id}/tree"
        body = _check("GET /tickets/{id}", ticket_url + loaded.waiting_ids[0], key, b'"waiting"')
        (scratch / "ticket.json").write_bytes(body)
        slot_body = _check("slots", slots_url, key, b'"remaining":')
        facts["slots"] = f"{slot_body.count(b'remaining')} free slots on {slots_day}"
        tree_body = _check("tree", tree_url, key, b'"services"')
        facts["tree"] = f"{tree_body.count(b'isAppointment')} services in the tree"

        def appointment(n: int, seconds: float) -> Result:
            nonlocal booked
            result = wrk(
                "appointment POST /tickets/book", book, key, clients=n, seconds=seconds,
                lua_args=["appointment", appointments.id, appointments.group_id,
                          str(int(first_slot.timestamp())),
                          str(bench_company.SLOT_MINUTES * 60), str(booking_slots),
                          bench_company.CUSTOMER_PREFIX, str(booked),
                          str(bench_company.CUSTOMERS)],
            )  # fmt: skip
            # Past every number sent (the threads count apart): no customer books twice.
            booked += result.highest + 1
            return result

        def walk_ins(n: int, seconds: float) -> Result:
            with draining(url, walk_in.id):
                return wrk(
                    "walk-in POST /tickets/book", book, key, clients=n, seconds=seconds,
                    lua_args=["walk-in", walk_in.id, walk_in.group_id],
                )  # fmt: skip

        def get(name: str, target: str, lua: list[str] | None = None) -> Case:
            return lambda n, seconds: wrk(
                name, target, key, clients=n, seconds=seconds, lua_args=lua
            )

        cases: list[Case] = [
            get("GET /tickets/{id}", ticket_url, ["ticket", str(ids_file)]),
            get("GET /services/{id}/slots", slots_url),
            get("GET /branches/{id}/tree", tree_url),
            walk_ins,
            appointment,
        ]
        for case in cases[:3]:  # statement caches and pools, before the first figure
            _warm(case, seconds)
            settle(server.pid)
        writes = (walk_ins, appointment)
        for n in clients:
            print(f"{n} clients:", flush=True)
            for case in cases:
                results.append(case(n, seconds))
                _print(results[-1], server.pid)
                if case in writes:
                    _vacuum(url)
        for case in cases[1:3]:  # the latency targets, without queueing behind others
            results.append(case(1, seconds))
            _print(results[-1], server.pid)
        # Last: it turns the queue the GET case reads into called tickets. The called
        # ones go back to their queues a second later, which keep their length.
        for n in clients:
            with requeueing(url, [counter for counter, _ in loaded.counter_tokens]):
                results.append(
                    wrk(CALL_NEXT, f"{base}{STAFF}", None, clients=n, seconds=seconds,
                        lua_args=["call-next", str(counters_file)])
                )  # fmt: skip
            _print(results[-1], server.pid)
            _vacuum(url)
        memory["taboor serve --workers 2"] = peak_memory(server.pid)

    variables = {
        "company": bench_company.COMPANY,
        "service": walk_in.id,
        "branch": walk_in.branch_id,
        "grp": walk_in.group_id,
        "prefix": walk_in.prefix,
        "day": today.isoformat(),
        "key": loaded.key_id,
        "key_hash": hash_key(key),
    }
    for label, script in pgbench_scripts(scratch).items():
        for n in clients:
            _vacuum(url)  # pgbench runs with -n: the same settled tables as the app had
            with draining(url, walk_in.id):
                results.append(
                    pgbench(f"pgbench {label}", script, url, variables, clients=n,
                            seconds=seconds)
                )  # fmt: skip
            _print(results[-1])

    bare = [sys.executable, str(ROOT / "bench" / "bare_app.py"), str(scratch / "ticket.json")]
    query = ["--query", url, "--company", bench_company.COMPANY]
    for name, command in ((BARE, bare), (BARE_QUERY, [*bare, *query])):
        with serving([*command, "--port", "{port}"], "/readyz", scratch / "bare.log") as server:
            bare_url = f"{server.base_url}{API}/tickets/"

            def bare_ticket(
                n: int, seconds: float, name: str = name, bare_url: str = bare_url
            ) -> Result:
                return wrk(name, bare_url, key, clients=n, seconds=seconds,
                           lua_args=["ticket", str(ids_file)])  # fmt: skip

            _warm(bare_ticket, seconds)
            settle(server.pid)
            for n in clients:
                results.append(bare_ticket(n, seconds))
                _print(results[-1], server.pid)
            if name == BARE:
                memory["bench/bare_app.py (granian, 2 workers)"] = peak_memory(server.pid)
    return results, memory, facts


def _vacuum(url: str) -> None:
    """After a write case, the vacuum a production server's autovacuum would run within
    a minute (migration 0004 asks for one every thousand or so changes of these tables).

    Without it nothing is ever vacuumed where autovacuum is off (as on the machines this
    was built on: their PostgreSQL is configured for CI), and every later case measures
    the dead rows of the earlier ones: walk-ins at 128 clients fell from 934 to 608
    requests/s over four runs of 15 s on one database."""
    psql(url, "VACUUM ANALYZE tickets, ticket_events, ticket_numbers, slot_places", check=True)


def _warm(case: Case, seconds: float) -> None:
    """A few seconds of the case at 32 clients, figures dropped."""
    case(32, min(3.0, seconds))


def _find(results: list[Result], name: str, clients: int) -> Result | None:
    for result in results:
        if result.name == name and result.clients == clients:
            return result
    return None


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report(
    machine: dict[str, str],
    seconds: float,
    clients: list[int],
    results: list[Result],
    memory: dict[str, list[ProcessMemory]],
    facts: dict[str, str],
) -> str:
    """The run's section of bench/RESULTS.md."""
    now = datetime.now(UTC)
    lines = [
        f"## {now:%Y-%m-%d %H:%M} UTC, commit {machine['commit']}",
        "",
        f"Machine `{machine['host']}`: {machine['cores']} cores ({machine['cpu']}), "
        f"{machine['ram']} RAM; PostgreSQL {machine['postgres']} (autovacuum "
        f"{machine['autovacuum']}, shared_buffers {machine['shared_buffers']}; the run "
        "vacuums the queue tables after each write case) on the same machine, as "
        f"are wrk and pgbench; Python {machine['python']}, granian {machine['granian']}, "
        f"Litestar {machine['litestar']}. Load average at the start: {machine['load']}.",
        "",
        f"Data: {facts['load']}. {facts['slots']} (the 30-day-ahead date); "
        f"{facts['tree']}. {seconds:.0f} s per case.",
        "",
        "| case | clients | req/s (tps) | p50 ms | p99 ms | outcome |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        lines.append(
            f"| {result.name} | {result.clients} | {result.rate:,.0f} | {result.p50_ms:.1f} "
            f"| {result.p99_ms:.1f} | {result.outcome} |"
        )
    lines += ["", "Peak memory (VmHWM, from /proc, read just before each server stopped):", ""]
    lines += ["| server | process | peak RSS MB | RSS at the end MB |", "|---|---|---|---|"]
    for server, processes in memory.items():
        for process in processes:
            lines.append(
                f"| {server} | {process.role} (pid {process.pid}) | {process.peak_rss_mb:.1f} "
                f"| {process.rss_mb:.1f} |"
            )

    targets: list[tuple[str, str, bool]] = []
    for n in clients:
        walk_in = _find(results, "walk-in POST /tickets/book", n)
        for label in ("walk-in booking SQL", "walk-in request SQL, key check included"):
            bench = _find(results, f"pgbench {label}", n)
            if walk_in and bench:
                ratio = walk_in.rate / bench.rate
                target = f"walk-in ≥ 60 % of pgbench ({label}), {n} clients"
                targets.append((target, f"{ratio:.0%} ({walk_in.rate:,.0f} / {bench.rate:,.0f})",
                                ratio >= 0.6))  # fmt: skip
        ticket, bare = _find(results, "GET /tickets/{id}", n), _find(results, BARE, n)
        if ticket and bare:
            ratio = ticket.rate / bare.rate
            targets.append((f"GET /tickets/{{id}} ≥ 50 % of the bare endpoint, {n} clients",
                            f"{ratio:.0%} ({ticket.rate:,.0f} / {bare.rate:,.0f})",
                            ratio >= 0.5))  # fmt: skip
    for name, limit in (("GET /services/{id}/slots", 20.0), ("GET /branches/{id}/tree", 10.0)):
        for n in [1, *clients]:
            found = _find(results, name, n)
            if found:
                targets.append((f"{name} p99 < {limit:.0f} ms, {n} client{'s' * (n > 1)}",
                                f"{found.p99_ms:.1f} ms", found.p99_ms < limit))  # fmt: skip
    most = max(clients)
    for result in results:
        if result.clients == most and not result.name.startswith(("pgbench", "bare")):
            targets.append((f"{result.name} p99 < 250 ms, {most} clients",
                            f"{result.p99_ms:.1f} ms", result.p99_ms < 250))  # fmt: skip
    for process in memory.get("taboor serve --workers 2", []):
        targets.append((f"server RSS < 150 MB: {process.role}",
                        f"{process.peak_rss_mb:.1f} MB", process.peak_rss_mb < 150))  # fmt: skip
    lines += [
        "",
        "GET /tickets/{id} against the floor of an endpoint that reads the database "
        "(the bare app running the ticket's one query; not one of the issue's targets):",
        "",
    ]
    for n in clients:
        ticket, floor = _find(results, "GET /tickets/{id}", n), _find(results, BARE_QUERY, n)
        if ticket and floor:
            lines.append(f"- {n} clients: {ticket.rate / floor.rate:.0%} "
                         f"({ticket.rate:,.0f} / {floor.rate:,.0f})")  # fmt: skip
    lines += ["", "| target | figure | |", "|---|---|---|"]
    lines += [f"| {target} | {figure} | {_met(ok)} |" for target, figure, ok in targets]
    met = sum(ok for _, _, ok in targets)
    lines += ["", f"{met} of {len(targets)} targets met.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
