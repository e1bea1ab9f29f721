"""``taboor serve`` as operators run it (granian, two worker processes, both databases):
metrics summed over the workers in the multiprocess directory, stderr that is JSON and
nothing else and holds no secret, and a SIGTERM that lets a request in flight finish
with its 2xx before the process exits 0."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tests.conftest import CompanyKeys, keys_for
from tests.ops.helpers import json_lines, parse_metrics, value
from tests.ops.server import Server, serving
from tests.staff.helpers import make_staff
from tests.support import apply_fixture

API = "/external/v1"
WALK_IN = {"serviceId": "racewalk01", "groupOfServiceId": "racegrp001"}
HEALTHZ = {"method": "GET", "route": "/healthz", "status": "200"}
PASSWORD = "Sesame-Opens-4471"
CUSTOMER = {
    "externalId": "crm-private-8841",
    "name": "Zuleikha Qadri-Private",
    "email": "zuleikha.private@example.test",
    "mobile": "+97339998877",
}


@pytest.fixture
async def race(engine: AsyncEngine) -> CompanyKeys:
    """The race company: open around the clock, as a server on the real clock needs."""
    await apply_fixture(engine, "race")
    return await keys_for(engine, "cmp_race01")


@pytest.fixture
def server(database_url: str, race: CompanyKeys, tmp_path: Path) -> Iterator[Server]:
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_999999.db").write_bytes(b"left by an earlier run")
    with serving(
        database_url,
        tmp_path / "server",
        env={"PROMETHEUS_MULTIPROC_DIR": str(metrics), "TABOOR_LOG_LEVEL": "debug"},
    ) as running:
        yield running


def healthz_count_per_process(directory: Path) -> list[float]:
    """GET /healthz 200 as each worker process counted it, from its own file."""
    counts = []
    for path in sorted(directory.glob("counter_*.db")):
        samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for metric in MultiProcessCollector.merge([str(path)])
            for sample in metric.samples
        }
        counts.append(value(samples, "taboor_http_requests_total", **HEALTHZ))
    return counts


async def test_metrics_are_summed_over_the_workers(server: Server, tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    assert not (directory / "counter_999999.db").exists()  # cleaned at start
    sent = sum(healthz_count_per_process(directory))  # the start-up probe's
    # Fresh connections, many at once, until both workers have answered some.
    for _ in range(50):
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            answers = await asyncio.gather(*(client.get("/healthz") for _ in range(20)))
        assert {answer.status_code for answer in answers} == {200}
        sent += len(answers)
        if len([count for count in healthz_count_per_process(directory) if count]) == 2:
            break
    per_process = healthz_count_per_process(directory)
    assert len(per_process) == 2 and all(per_process), per_process
    assert sum(per_process) == sent
    for _ in range(6):  # whichever worker answers the scrape, it reports the sum
        with httpx.Client(base_url=server.base_url) as client:
            samples = parse_metrics(client.get("/metrics").text)
        assert value(samples, "taboor_http_requests_total", **HEALTHZ) == sent
        durations = value(
            samples, "taboor_http_request_duration_seconds_count", method="GET", route="/healthz"
        )
        assert durations == sent
    assert server.stop() == 0
    assert directory.is_dir()  # the operator's directory stays, with the counts


def test_without_a_directory_serve_makes_one_and_removes_it(
    database_url: str, race: CompanyKeys, tmp_path: Path
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    with serving(database_url, tmp_path / "server", env={"TMPDIR": str(scratch)}) as server:
        made = list(scratch.glob("taboor-metrics-*"))
        assert len(made) == 1 and list(made[0].glob("counter_*.db"))
        assert httpx.get(f"{server.base_url}/metrics").status_code == 200
        assert server.stop() == 0
    assert list(scratch.iterdir()) == []


async def test_stderr_is_json_lines_without_any_secret(
    server: Server, engine: AsyncEngine, race: CompanyKeys
) -> None:
    await make_staff(
        engine, "amal", company_id="cmp_race01", branches=("racebr0001",), password=PASSWORD
    )
    request_ids = []
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        created = await client.post(
            f"{API}/customers/create", headers=race.headers("secret"), json=CUSTOMER
        )
        assert created.status_code == 201, created.text
        found = await client.get(
            f"{API}/customers/getOne",
            params={"externalId": CUSTOMER["externalId"]},
            headers=race.headers("secret"),
        )
        booked = await client.post(
            f"{API}/tickets/book",
            headers=race.headers(),
            json={**WALK_IN, "customerExternalId": CUSTOMER["externalId"]},
        )
        signed_in = await client.post(
            "/staff/v1/login", json={"username": "amal", "password": PASSWORD}
        )
        assert (found.status_code, booked.status_code, signed_in.status_code) == (200, 201, 200)
        token = signed_in.json()["data"]["token"]
        me = await client.get("/staff/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        request_ids = [r.headers["x-request-id"] for r in (created, found, booked, signed_in, me)]
    assert server.stop() == 0
    output = server.stderr()
    lines = json_lines(output)  # every line of stderr is a JSON object
    assert all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "taboor.access"]
    logged = {line["request_id"]: line["route"] for line in access}
    assert [logged.get(request_id) for request_id in request_ids] == [
        "/external/v1/customers/create",
        "/external/v1/customers/getOne",
        "/external/v1/tickets/book",
        "/staff/v1/login",
        "/staff/v1/me",
    ]
    secrets = [race.public.key, race.secret.key, PASSWORD, token, *CUSTOMER.values()]
    everything = output + server.stdout()
    assert [secret for secret in secrets if secret in everything] == []


async def hold_write_lock(engine: AsyncEngine, database_url: str) -> tuple[object, float]:
    """Block bookings' writes from a connection of the test's own: on PostgreSQL the
    table of daily numbers locked against writes (reads go on), on SQLite the
    database's write lock. Returns the holder and how long to wait for a booking to be
    stuck on it."""
    if engine.dialect.name == "postgresql":
        connection = await engine.connect()
        await connection.begin()
        await connection.execute(text("LOCK TABLE ticket_numbers IN EXCLUSIVE MODE"))
        return connection, 0.0
    holder = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder, 1.0


async def release(holder: object) -> None:
    if isinstance(holder, AsyncConnection):
        await holder.rollback()
        await holder.close()
    else:
        assert isinstance(holder, sqlite3.Connection)
        holder.rollback()
        holder.close()


async def waiting_on_a_lock(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        blocked = await connection.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
    return bool(blocked)


async def test_sigterm_lets_the_request_in_flight_finish(
    server: Server, engine: AsyncEngine, database_url: str, race: CompanyKeys
) -> None:
    holder, settle = await hold_write_lock(engine, database_url)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            booking = asyncio.create_task(
                client.post(f"{API}/tickets/book", headers=race.headers(), json=WALK_IN)
            )
            # The booking has reached the database and waits for the lock.
            deadline = time.monotonic() + 10
            if engine.dialect.name == "postgresql":
                while not await waiting_on_a_lock(engine):
                    assert time.monotonic() < deadline, "the booking never blocked"
                    await asyncio.sleep(0.05)
            await asyncio.sleep(settle)
            assert not booking.done()

            server.terminate()
            await asyncio.sleep(1.5)
            # Draining: the server has stopped taking requests but waits for this one.
            assert server.process.poll() is None
            assert not booking.done()

            await release(holder)
            holder = None
            answer = await booking
    finally:
        if holder is not None:
            await release(holder)
    assert answer.status_code == 201, answer.text
    assert answer.json()["data"]["ticketNumber"] == "Q001"
    assert server.wait(timeout=30) == 0
    # Its access line was written before the worker went: nothing lost at shutdown.
    access = {
        line["request_id"]: (line["route"], line["status"])
        for line in json_lines(server.stderr())
        if line["logger"] == "taboor.access"
    }
    assert access[answer.headers["x-request-id"]] == ("/external/v1/tickets/book", 201)
