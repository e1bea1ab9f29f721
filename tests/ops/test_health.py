"""``GET /healthz`` and ``GET /readyz``: liveness never touches the database; readiness
needs the database to answer and its schema at this code's head revision, and says
which check failed (on both databases, with a database migrated only to 0001 and with
one that cannot be reached), without the database's address or password."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.app import create_app
from taboor.db.engine import create_engine
from taboor.db.migrate import alembic_config, head_revision
from taboor.ops.health import readiness
from tests.conftest import BACKENDS
from tests.live_server import free_port
from tests.support import POSTGRES_ENV, create_postgres_database, drop_postgres_database

PASSWORD = "pw-never-shown-7f3a"


async def ask(engine: AsyncEngine, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://taboor.test") as client:
        return await client.get(path)


def closed_port_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/no-such-directory/taboor.db"
    return f"postgresql://taboor:{PASSWORD}@127.0.0.1:{free_port()}/taboor"


@pytest.fixture
async def unreachable(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(closed_port_url(request.param, tmp_path), pool_size=1)
    yield engine
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
def older_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database migrated to revision 0001 only (as before a release's upgrade)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/old.db"
        command.upgrade(alembic_config(url), "0001")
        yield url
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{POSTGRES_ENV} must be set in CI: the PostgreSQL leg is mandatory")
        pytest.skip(f"{POSTGRES_ENV} not set: PostgreSQL leg skipped")
    database = create_postgres_database(base)
    try:
        command.upgrade(alembic_config(database.url), "0001")
        yield database.url
    finally:
        drop_postgres_database(database)


@pytest.mark.parametrize("unreachable", BACKENDS, indirect=True)
async def test_healthz_is_ok_without_touching_the_database(unreachable: AsyncEngine) -> None:
    response = await ask(unreachable, "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_ready_when_the_database_answers_and_is_at_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "migrations": "current"}


async def test_not_ready_while_migrations_are_behind(older_database: str) -> None:
    engine = create_engine(older_database, pool_size=1)
    try:
        response = await ask(engine, "/readyz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "database": "ok",
            "migrations": "behind",
            "current": "0001",
            "head": head_revision(),
        }
        # Upgraded, the same process becomes ready: nothing is remembered.
        await asyncio.to_thread(command.upgrade, alembic_config(older_database), "head")
        assert (await ask(engine, "/readyz")).status_code == 200
    finally:
        await engine.dispose()


async def test_a_revision_this_code_does_not_know_is_not_ready(older_database: str) -> None:
    """A newer release migrated the database: this code is not ready for it either."""
    engine = create_engine(older_database, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
        response = await ask(engine, "/readyz")
        assert response.status_code == 503
        assert response.json()["migrations"] == "unknown"
        assert response.json()["current"] == "f00dfeed"
    finally:
        await engine.dispose()


@pytest.mark.parametrize("unreachable", BACKENDS, indirect=True)
async def test_not_ready_when_the_database_is_unreachable(unreachable: AsyncEngine) -> None:
    response = await ask(unreachable, "/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "unreachable",
        "migrations": "unknown",
    }
    url = unreachable.url
    for secret in (PASSWORD, str(url.port or ""), str(url.database)):
        assert not secret or secret not in response.text


async def test_a_database_that_never_answers_times_out() -> None:
    """A server that accepts the connection and says nothing (a hung primary, a
    black-holed route) costs the probe its timeout, not the driver's minute."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        engine = create_engine(f"postgresql://taboor@127.0.0.1:{port}/taboor", pool_size=1)
        started = time.monotonic()
        try:
            answer = await readiness(engine, timeout_seconds=0.5)
        finally:
            await engine.dispose()
    assert not answer.ready
    assert answer.body["database"] == "unreachable"
    assert time.monotonic() - started < 5
