"""Staff accounts: create, list, deactivate, set a password.

A username is unique across the whole server, not per company: a login names no
company, so the username alone must find the user. The UNIQUE constraint on
``staff_users.username`` decides between two creations racing for one name; we never
look first and insert after (that leaves a window in which both look, find nothing and
insert), we insert and turn the constraint's refusal into ``UsernameTakenError``.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.db import tables as t
from taboor.db.uow import is_unique_violation, read_connection, run_in_transaction
from taboor.staff.passwords import check_password, hash_password
from taboor.staff.sessions import StaffRole

USERNAME_MIN, USERNAME_MAX = 3, 64
NAME_MAX = 120
_USERNAME = re.compile(r"[a-z0-9._@-]+")
ROLES: tuple[StaffRole, ...] = ("admin", "agent")

_users, _assigned = t.staff_users.c, t.staff_branches.c


class StaffAccountError(ValueError):
    """A refused account operation; the message is one plain English line."""


class InvalidUsernameError(StaffAccountError):
    pass


class InvalidNameError(StaffAccountError):
    pass


class InvalidRoleError(StaffAccountError):
    pass


class UsernameTakenError(StaffAccountError):
    def __init__(self, username: str) -> None:
        super().__init__(f"the username {username!r} is already taken")
        self.username = username


class UnknownCompanyError(StaffAccountError):
    def __init__(self, company_id: str) -> None:
        super().__init__(f"no company {company_id!r}")
        self.company_id = company_id


class UnknownBranchError(StaffAccountError):
    def __init__(self, company_id: str, branch_ids: list[str]) -> None:
        listed = ", ".join(branch_ids)
        super().__init__(f"no branch {listed} in company {company_id!r}")
        self.branch_ids = branch_ids


class AgentNeedsBranchError(StaffAccountError):
    def __init__(self) -> None:
        super().__init__("an agent must be assigned to at least one branch")


class UnknownStaffError(StaffAccountError):
    def __init__(self, username: str) -> None:
        super().__init__(f"no staff user {username!r}")
        self.username = username


@dataclass(frozen=True, slots=True)
class StaffInfo:
    id: str
    company_id: str
    username: str
    name: str
    role: StaffRole
    active: bool
    branch_ids: tuple[str, ...]  # sorted
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Deactivation:
    staff_id: str
    was_active: bool
    sessions_ended: int


def normalize_username(username: str) -> str:
    """Stripped and lower-cased; ``InvalidUsernameError`` unless 3 to 64 characters of
    ``a-z 0-9 . _ @ -``."""
    normalized = username.strip().lower()
    if not USERNAME_MIN <= len(normalized) <= USERNAME_MAX:
        raise InvalidUsernameError(
            f"the username must have {USERNAME_MIN} to {USERNAME_MAX} characters"
        )
    if not _USERNAME.fullmatch(normalized):
        raise InvalidUsernameError("the username may contain only letters a-z, digits and . _ @ -")
    return normalized


def username_or_none(username: str) -> str | None:
    """The normalized username, or None when no account could have it."""
    try:
        return normalize_username(username)
    except InvalidUsernameError:
        return None


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > NAME_MAX:
        raise InvalidNameError(f"the name must have 1 to {NAME_MAX} characters")
    return cleaned


async def create_staff(
    engine: AsyncEngine,
    company_id: str,
    username: str,
    name: str,
    role: str,
    password: str,
    branch_ids: Iterable[str],
    now: datetime,
) -> str:
    """Create an active staff user with its branch assignments, in one transaction;
    the new id (``stf_…``). Every refusal is a ``StaffAccountError``."""
    username = normalize_username(username)
    name = _clean_name(name)
    if role not in ROLES:
        raise InvalidRoleError(f"the role must be one of {', '.join(ROLES)}")
    branches = sorted(set(branch_ids))
    if role == "agent" and not branches:
        raise AgentNeedsBranchError()
    check_password(password)
    # ~0.2 s of CPU: in a thread (argon2 releases the GIL), so a server stays responsive.
    password_hash = await asyncio.to_thread(hash_password, password)
    staff_id = "stf_" + secrets.token_hex(8)

    async def work(connection: AsyncConnection) -> None:
        if not await connection.scalar(
            select(t.companies.c.id).where(t.companies.c.id == company_id)
        ):
            raise UnknownCompanyError(company_id)
        if branches:
            found = set(
                (
                    await connection.scalars(
                        select(t.branches.c.id).where(
                            t.branches.c.company_id == company_id, t.branches.c.id.in_(branches)
                        )
                    )
                ).all()
            )
            if missing := [branch for branch in branches if branch not in found]:
                raise UnknownBranchError(company_id, missing)
        await connection.execute(
            t.staff_users.insert().values(
                id=staff_id,
                company_id=company_id,
                username=username,
                name=name,
                role=role,
                password_hash=password_hash,
                active=True,
                created_at=now,
            )
        )
        if branches:
            await connection.execute(
                t.staff_branches.insert(),
                [{"staff_id": staff_id, "branch_id": branch} for branch in branches],
            )

    try:
        await run_in_transaction(engine, work)
    except IntegrityError as error:
        if is_unique_violation(error) and "username" in str(error.orig):
            raise UsernameTakenError(username) from None
        raise
    return staff_id


async def list_staff(engine: AsyncEngine, company_id: str | None = None) -> list[StaffInfo]:
    """Staff users by company, then username, with their sorted branch ids."""
    users = select(t.staff_users).order_by(_users.company_id, _users.username)
    assigned = select(_assigned.staff_id, _assigned.branch_id).order_by(_assigned.branch_id)
    if company_id is not None:
        users = users.where(_users.company_id == company_id)
        assigned = assigned.join(t.staff_users, _users.id == _assigned.staff_id).where(
            _users.company_id == company_id
        )
    async with read_connection(engine) as connection:
        rows = (await connection.execute(users)).mappings().all()
        branches: dict[str, list[str]] = {}
        for staff_id, branch_id in (await connection.execute(assigned)).all():
            branches.setdefault(staff_id, []).append(branch_id)
    return [
        StaffInfo(
            id=row["id"],
            company_id=row["company_id"],
            username=row["username"],
            name=row["name"],
            role=row["role"],
            active=row["active"],
            branch_ids=tuple(branches.get(row["id"], ())),
            created_at=row["created_at"],
        )
        for row in rows
    ]


async def _end_sessions(connection: AsyncConnection, staff_id: str, now: datetime) -> int:
    result = await connection.execute(
        update(t.staff_sessions)
        .where(t.staff_sessions.c.staff_id == staff_id, t.staff_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount


async def deactivate_staff(engine: AsyncEngine, username: str, now: datetime) -> Deactivation:
    """Set the user inactive and end every session of theirs, in one transaction, so
    no request signed in as them succeeds once this returns. ``UnknownStaffError``
    when nobody has the username."""
    username = username.strip().lower()

    async def work(connection: AsyncConnection) -> Deactivation:
        staff_id = await connection.scalar(
            update(t.staff_users)
            .where(_users.username == username, _users.active.is_(True))
            .values(active=False)
            .returning(_users.id)
        )
        was_active = staff_id is not None
        if staff_id is None:
            staff_id = await connection.scalar(select(_users.id).where(_users.username == username))
            if staff_id is None:
                raise UnknownStaffError(username)
        return Deactivation(staff_id, was_active, await _end_sessions(connection, staff_id, now))

    return await run_in_transaction(engine, work)


async def set_password(engine: AsyncEngine, username: str, password: str, now: datetime) -> int:
    """Give the user a new password and end their sessions (a reset usually means the
    old password leaked); the number of sessions ended. ``UnknownStaffError`` when
    nobody has the username, ``PasswordRuleError`` for a password against the rules."""
    username = username.strip().lower()
    check_password(password)
    password_hash = await asyncio.to_thread(hash_password, password)

    async def work(connection: AsyncConnection) -> int:
        staff_id = await connection.scalar(
            update(t.staff_users)
            .where(_users.username == username)
            .values(password_hash=password_hash)
            .returning(_users.id)
        )
        if staff_id is None:
            raise UnknownStaffError(username)
        return await _end_sessions(connection, staff_id, now)

    return await run_in_transaction(engine, work)
