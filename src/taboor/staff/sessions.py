"""Staff sessions: the bearer token a login hands out (``st_`` + 43 URL-safe characters).

Like API keys, only a SHA-256 of the token is stored: a token has 256 random bits, so a
slow hash would buy nothing; one indexed probe finds it. A session lasts one working
shift (``SESSION_HOURS``) and dies at once when revoked (logout) or when its user is
deactivated, because every request reads it afresh.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import String, bindparam, cast, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.db import tables as t

StaffRole = Literal["admin", "agent"]
TOKEN_PREFIX = "st_"  # noqa: S105 (a prefix, not a secret)
SESSION_HOURS = 12

_users, _sessions, _assigned = t.staff_users.c, t.staff_sessions.c, t.staff_branches.c


@dataclass(frozen=True, slots=True)
class StaffPrincipal:
    """A signed-in staff user: the company every query is scoped to, the role, and the
    branches an agent may work at (an admin may work at all of the company's)."""

    staff_id: str
    company_id: str
    username: str
    name: str
    role: StaffRole
    default_locale: str
    branch_ids: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_work_at(self, branch_id: str) -> bool:
        """Only for branches already known to be the company's."""
        return self.is_admin or branch_id in self.branch_ids

    @property
    def branch_scope(self) -> frozenset[str] | None:
        """The branches ``may_work_at`` admits: None for all of the company's."""
        return None if self.is_admin else self.branch_ids


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX) and len(token) <= 100


async def create_session(connection: AsyncConnection, staff_id: str, now: datetime) -> str:
    """Start a session for ``staff_id``; the token, shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await connection.execute(
        insert(t.staff_sessions).values(
            token_hash=hash_token(token),
            staff_id=staff_id,
            created_at=now,
            expires_at=now + timedelta(hours=SESSION_HOURS),
            revoked_at=None,
        )
    )
    return token


async def revoke_session(connection: AsyncConnection, token: str, now: datetime) -> bool:
    result = await connection.execute(
        update(t.staff_sessions)
        .where(_sessions.token_hash == hash_token(token), _sessions.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1


_BRANCHES = (
    select(func.aggregate_strings(cast(_assigned.branch_id, String), ","))
    .where(_assigned.staff_id == _users.id)
    .scalar_subquery()
)
_LIVE_SESSION = (
    select(
        _users.id,
        _users.company_id,
        _users.username,
        _users.name,
        _users.role,
        t.companies.c.default_locale,
        _BRANCHES,
    )
    .join(t.staff_users, _users.id == _sessions.staff_id)
    .join(t.companies, t.companies.c.id == _users.company_id)
    .where(
        _sessions.token_hash == bindparam("token_hash"),
        _sessions.revoked_at.is_(None),
        _sessions.expires_at > bindparam("now", type_=_sessions.expires_at.type),
        _users.active.is_(True),
    )
)


async def resolve_session(
    connection: AsyncConnection, token: str, now: datetime
) -> StaffPrincipal | None:
    """The user behind a live session token, or None (unknown, expired, revoked, or
    the user deactivated)."""
    row = (
        await connection.execute(_LIVE_SESSION, {"token_hash": hash_token(token), "now": now})
    ).first()
    if row is None:
        return None
    branches = frozenset(row[6].split(",")) if row[6] else frozenset()
    return StaffPrincipal(
        staff_id=row[0],
        company_id=row[1],
        username=row[2],
        name=row[3],
        role=row[4],
        default_locale=row[5],
        branch_ids=branches,
    )
