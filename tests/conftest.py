"""Every database test runs twice: on SQLite and on PostgreSQL.

The PostgreSQL leg needs ``TABOOR_TEST_POSTGRES_URL`` (a server URL; each run creates
and drops its own database there). Without it the leg is skipped locally, and fails
under ``CI=true``, so CI can never go green without having tested PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.app import create_app
from taboor.db.engine import create_engine
from taboor.db.migrate import upgrade_to_head
from taboor.keys.service import CreatedKey, create_key
from tests.support import (
    POSTGRES_ENV,
    MutableClock,
    apply_fixture,
    create_postgres_database,
    drop_postgres_database,
    wipe,
)

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "taboor.db"
        url = f"sqlite:///{path}"
        upgrade_to_head(url)
        yield url
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{POSTGRES_ENV} must be set in CI: the PostgreSQL leg is mandatory")
        pytest.skip(f"{POSTGRES_ENV} not set: PostgreSQL leg skipped")
    database = create_postgres_database(base)
    try:
        upgrade_to_head(database.url)
        yield database.url
    finally:
        drop_postgres_database(database)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=5)
    await wipe(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def clock() -> MutableClock:
    # A Sunday 10:00 in Bahrain (UTC+3): the demo-like fixtures are open then.
    return MutableClock(datetime(2026, 6, 7, 7, 0, tzinfo=UTC))


@pytest.fixture
async def client(engine: AsyncEngine, clock: MutableClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://taboor.test") as client:
        yield client


class CompanyKeys:
    def __init__(self, public: CreatedKey, secret: CreatedKey) -> None:
        self.public = public
        self.secret = secret

    def headers(self, kind: str = "public", locale: str | None = None) -> dict[str, str]:
        key = self.public if kind == "public" else self.secret
        headers = {"Authorization": f"Bearer {key.key}"}
        if locale is not None:
            headers["X-Locale"] = locale
        return headers


async def keys_for(engine: AsyncEngine, company_id: str) -> CompanyKeys:
    return CompanyKeys(
        await create_key(engine, company_id, "public", "test"),
        await create_key(engine, company_id, "secret", "test"),
    )


@pytest.fixture
async def bank(engine: AsyncEngine) -> CompanyKeys:
    """The ``bank`` company file applied, with a public and a secret key."""
    await apply_fixture(engine, "bank")
    return await keys_for(engine, "cmp_bank01")


@pytest.fixture
async def rival(engine: AsyncEngine) -> CompanyKeys:
    """A second company, to prove tenant isolation."""
    await apply_fixture(engine, "rival")
    return await keys_for(engine, "cmp_rival1")
