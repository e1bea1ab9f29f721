"""Signing a staff user in: throttle, check the password, start a session.

Every way a login can fail without being throttled (unknown username, wrong password,
deactivated user) is the same ``InvalidCredentialsError`` after the same amount of
work, one argon2 verification, so neither the answer nor its timing tells an
attacker whether a username exists.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.db import tables as t
from taboor.db.uow import read_connection, run_in_transaction
from taboor.staff import throttle
from taboor.staff.accounts import username_or_none
from taboor.staff.passwords import hash_password, needs_rehash, verify_dummy, verify_password
from taboor.staff.sessions import SESSION_HOURS, StaffPrincipal, create_session, resolve_session
from taboor.staff.throttle import DEFAULT_LIMITS, LoginThrottledError, ThrottleLimits

__all__ = ["InvalidCredentialsError", "LoginResult", "LoginThrottledError", "login"]

_users = t.staff_users.c


class InvalidCredentialsError(Exception):
    """Unknown username, wrong password or deactivated user: deliberately one error."""


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: str  # shown once: only its hash is stored
    expires_at: datetime
    staff: StaffPrincipal


_ACCOUNT = select(_users.id, _users.password_hash, _users.active)


async def login(
    engine: AsyncEngine,
    username: str,
    password: str,
    address: str,
    now: datetime,
    *,
    limits: ThrottleLimits = DEFAULT_LIMITS,
) -> LoginResult:
    """A new session for the user, or ``InvalidCredentialsError`` /
    ``LoginThrottledError`` (raised before any password is checked)."""
    account = username_or_none(username)

    async def charge(connection: AsyncConnection) -> throttle.Admission:
        return await throttle.admit(connection, account, address, now, limits)

    admission = await run_in_transaction(engine, charge)

    row = None
    if account is not None:
        async with read_connection(engine) as connection:
            row = (await connection.execute(_ACCOUNT.where(_users.username == account))).first()
    # argon2 takes ~0.2 s of CPU and releases the GIL: run it in a thread so the
    # server's other requests are not held up behind it.
    if row is None:
        await asyncio.to_thread(verify_dummy, password)
        raise InvalidCredentialsError()
    staff_id, stored_hash, active = row
    if not await asyncio.to_thread(verify_password, stored_hash, password) or not active:
        raise InvalidCredentialsError()
    fresh_hash = (
        await asyncio.to_thread(hash_password, password) if needs_rehash(stored_hash) else None
    )

    async def start(connection: AsyncConnection) -> LoginResult:
        await throttle.settle_success(connection, admission)
        if fresh_hash is not None:
            # Only over the hash we verified: a password set meanwhile wins.
            await connection.execute(
                update(t.staff_users)
                .where(_users.id == staff_id, _users.password_hash == stored_hash)
                .values(password_hash=fresh_hash)
            )
        token = await create_session(connection, staff_id, now)
        principal = await resolve_session(connection, token, now)
        if principal is None:  # deactivated since we looked: roll it all back
            raise InvalidCredentialsError()
        return LoginResult(token, now + timedelta(hours=SESSION_HOURS), principal)

    return await run_in_transaction(engine, start)
