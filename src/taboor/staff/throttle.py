"""Login throttling: failed logins are counted per account (the username) and per client
address in fixed windows; at the limit, further attempts are refused without any
password check until the window ends.

The budget lives in the database (``login_throttle``), not in process memory or Redis.
A server runs several worker processes, and in production several instances; a counter
kept in one process would give an attacker a fresh budget per process. The database is
the one thing they all share already, and on the SQLite default it needs no extra
service: Redis would be a second thing to run just to refuse guesses.

Counting happens *before* the password is checked, in one atomic statement per scope:

    INSERT … VALUES (scope, subject, now, 1)
    ON CONFLICT (scope, subject) DO UPDATE
       SET failures = CASE WHEN <window expired> THEN 1 ELSE failures + 1 END,
           window_started_at = CASE WHEN <window expired> THEN now ELSE window_started_at END
     WHERE <window expired> OR failures < limit
    RETURNING window_started_at

A row back means the attempt is admitted and already counted as a failure; no row
means the counter is at its limit inside its window, and the attempt is refused. The
database serializes the statements on the row, so concurrent attempts from any number
of processes all count and no more than ``limit`` of them are ever admitted per
window. (Checking first and recording the failure after the password check would let
a burst of simultaneous guesses all pass the check before the first failure lands.)

The two scopes are counted in one transaction: when the account refuses, the address
is not charged either. A login that then succeeds is settled in its own transaction:
the account's counter is cleared and the address gets back the one attempt it was
charged, so a successful login never spends an office's shared address budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.db import tables as t

Scope = Literal["account", "address"]

ACCOUNT_LIMIT = 5
"""Failed logins per username per window."""
ADDRESS_LIMIT = 20
"""Failed logins per client address per window, whatever the usernames."""
WINDOW = timedelta(minutes=15)

_c = t.login_throttle.c


@dataclass(frozen=True, slots=True)
class ThrottleLimits:
    account: int = ACCOUNT_LIMIT
    address: int = ADDRESS_LIMIT
    window: timedelta = WINDOW


DEFAULT_LIMITS = ThrottleLimits()


class LoginThrottledError(Exception):
    """Too many failed logins: try again in ``retry_after_seconds``."""

    def __init__(self, retry_after_seconds: float) -> None:
        super().__init__(f"login throttled for {retry_after_seconds:.0f} s")
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True, slots=True)
class Admission:
    """An attempt let through, counted as a failure in advance."""

    account: str | None
    address: str
    address_window: datetime


async def _charge(
    connection: AsyncConnection,
    scope: Scope,
    subject: str,
    now: datetime,
    limit: int,
    window: timedelta,
) -> datetime:
    """Count one attempt against (scope, subject); the window's start, or
    ``LoginThrottledError`` when the counter is at its limit (nothing counted)."""
    builder = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = builder(t.login_throttle).values(
        scope=scope, subject=subject, window_started_at=now, failures=1
    )
    expired = _c.window_started_at <= now - window
    upsert = statement.on_conflict_do_update(
        index_elements=["scope", "subject"],
        set_={
            "failures": case((expired, 1), else_=_c.failures + 1),
            "window_started_at": case(
                (expired, statement.excluded.window_started_at), else_=_c.window_started_at
            ),
        },
        where=or_(expired, _c.failures < limit),
    ).returning(_c.window_started_at)
    started: datetime | None = (await connection.execute(upsert)).scalar_one_or_none()
    if started is not None:
        return started
    # Refused: the row exists and is locked by the statement above until commit.
    started = await connection.scalar(
        select(_c.window_started_at).where(_c.scope == scope, _c.subject == subject)
    )
    assert started is not None
    # Capped at the window: a concurrent attempt that read the clock after ours may
    # have started the window a moment "after" our now.
    raise LoginThrottledError(min(started + window - now, window).total_seconds())


async def admit(
    connection: AsyncConnection,
    account: str | None,
    address: str,
    now: datetime,
    limits: ThrottleLimits = DEFAULT_LIMITS,
) -> Admission:
    """Count an attempt against the address and the account (None: a username no
    account can have, counted against the address only). Raises
    ``LoginThrottledError`` when either is at its limit; run it in a transaction of
    its own, which that exception rolls back whole."""
    address_window = await _charge(
        connection, "address", address, now, limits.address, limits.window
    )
    if account is not None:
        await _charge(connection, "account", account, now, limits.account, limits.window)
    return Admission(account, address, address_window)


async def settle_success(connection: AsyncConnection, admission: Admission) -> None:
    """A login succeeded: clear the account's failures, and give the address back the
    attempt it was charged (if its window is still the same one)."""
    if admission.account is not None:
        await connection.execute(
            delete(t.login_throttle).where(_c.scope == "account", _c.subject == admission.account)
        )
    await connection.execute(
        update(t.login_throttle)
        .where(
            _c.scope == "address",
            _c.subject == admission.address,
            _c.window_started_at == admission.address_window,
            _c.failures > 0,
        )
        .values(failures=_c.failures - 1)
    )


async def failures(connection: AsyncConnection, scope: Scope, subject: str) -> int:
    """Failures counted in the current row (0 when none), whatever its window."""
    count = await connection.scalar(
        select(_c.failures).where(_c.scope == scope, _c.subject == subject)
    )
    return int(count or 0)
