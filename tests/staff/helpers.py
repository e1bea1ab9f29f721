"""Staff users for the login and account tests, made through ``create_staff`` (the real
hash, the real validation)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.staff.accounts import create_staff
from taboor.staff.throttle import Scope, failures

PASSWORD = "correct horse battery"
WRONG = "wrong horse battery"
NOW = datetime(2026, 6, 7, 7, 0, tzinfo=UTC)


async def make_staff(
    engine: AsyncEngine,
    username: str = "amal",
    *,
    role: str = "agent",
    branches: tuple[str, ...] = ("zallaq0001",),
    company_id: str = "cmp_bank01",
    name: str = "Amal Haddad",
    password: str = PASSWORD,
) -> str:
    return await create_staff(engine, company_id, username, name, role, password, branches, NOW)


async def failures_of(engine: AsyncEngine, scope: Scope, subject: str) -> int:
    async with engine.connect() as connection:
        return await failures(connection, scope, subject)


async def staff_row(engine: AsyncEngine, username: str) -> dict[str, object] | None:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(t.staff_users).where(t.staff_users.c.username == username)
            )
        ).first()
    return dict(row._mapping) if row else None
