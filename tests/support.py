"""Test helpers shared by every suite: databases, company files, clocks, clients."""

from __future__ import annotations

import asyncio
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db.tables import metadata
from taboor.setup.apply import ApplySummary, apply_company
from taboor.setup.loader import load_company_file

FIXTURES = Path(__file__).parent / "fixtures"
COMPANY_FILES = FIXTURES / "companies"
POSTGRES_ENV = "TABOOR_TEST_POSTGRES_URL"


def company_file(name: str) -> Path:
    return COMPANY_FILES / f"{name}.yaml"


async def apply_fixture(engine: AsyncEngine, name: str) -> ApplySummary:
    return await apply_company(engine, load_company_file(company_file(name)))


class MutableClock:
    """A clock tests can set and move; the app reads it on every request."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, iso_utc: str) -> None:
        self.now = datetime.fromisoformat(iso_utc.replace("Z", "+00:00")).astimezone(UTC)


@dataclass(frozen=True)
class PostgresDatabase:
    url: str
    admin_url: str
    name: str


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_postgres_database(base_url: str) -> PostgresDatabase:
    """A brand-new database for this test run, on the server ``base_url`` points at."""
    name = f"taboor_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin_url = make_url(base_url).set(database="postgres").render_as_string(hide_password=False)

    async def create() -> None:
        connection = await asyncpg.connect(_asyncpg_dsn(admin_url))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    return PostgresDatabase(url=url, admin_url=admin_url, name=name)


def drop_postgres_database(database: PostgresDatabase) -> None:
    async def drop() -> None:
        connection = await asyncpg.connect(_asyncpg_dsn(database.admin_url))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())


async def wipe(engine: AsyncEngine) -> None:
    """Empty every table, so each test starts from nothing."""
    names = [table.name for table in reversed(metadata.sorted_tables)]
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                await connection.execute(text(f"DELETE FROM {name}"))


def ticket_row(**fields: object) -> dict[str, object]:
    """A ticket row for tests that write tickets directly (read side, constraints),
    without depending on the booking code. Defaults: a waiting walk-in of the bank's
    Withdrawal service booked at ``at`` (Sunday 2026-06-07 07:00 UTC); fields override."""
    now = fields.pop("at", datetime(2026, 6, 7, 7, 0, tzinfo=UTC))
    assert isinstance(now, datetime)
    row: dict[str, object] = {
        "id": secrets.token_hex(5),
        "company_id": "cmp_bank01",
        "branch_id": "zallaq0001",
        "group_id": "ztellers01",
        "service_id": "zwithdraw1",
        "customer_id": None,
        "type": "sequential",
        "status": "waiting",
        "prefix": "W",
        "day": now.date(),
        "number": 1,
        "service_day": now.date(),
        "time": None,
        "queue_at": now,
        "status_at": now,
        "booked_at": now,
    }
    row.update(fields)
    return row


async def insert_ticket(engine: AsyncEngine, **fields: object) -> str:
    """Write ``ticket_row(**fields)`` and return its id."""
    from taboor.db import tables as t
    from taboor.db.uow import write_transaction

    row = ticket_row(**fields)
    async with write_transaction(engine) as connection:
        await connection.execute(t.tickets.insert().values(**row))
    return str(row["id"])
