"""Staff users and sessions for API tests, written straight to the tables (the login
flow has its own tests): a user of a role, assigned to branches, with a live token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.db.uow import write_transaction
from taboor.staff.sessions import create_session


@dataclass(frozen=True)
class Staff:
    id: str
    token: str

    def headers(self, locale: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if locale:
            headers["X-Locale"] = locale
        return headers


async def add_staff(
    engine: AsyncEngine,
    company_id: str,
    role: str,
    branches: tuple[str, ...],
    now: datetime,
    name: str = "Amal",
) -> Staff:
    staff_id = "stf_" + secrets.token_hex(8)
    async with write_transaction(engine) as connection:
        await connection.execute(
            t.staff_users.insert().values(
                id=staff_id,
                company_id=company_id,
                username=staff_id,
                name=name,
                role=role,
                password_hash="not-a-hash",  # never logs in: the session is made directly
                active=True,
                created_at=now,
            )
        )
        for branch_id in branches:
            await connection.execute(
                t.staff_branches.insert().values(staff_id=staff_id, branch_id=branch_id)
            )
        token = await create_session(connection, staff_id, now)
    return Staff(staff_id, token)
