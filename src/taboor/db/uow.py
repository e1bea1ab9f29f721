"""Units of work: one transaction, retried whole when the database asks for it.

PostgreSQL may abort a transaction with a serialization failure (40001) or a deadlock
(40P01); the right answer is to run the whole unit again, never to patch it up halfway.
SQLite may report "database is locked" when the busy timeout runs out under heavy load;
that, too, is safe to retry because nothing was written.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.db.engine import WRITE_OPTION

T = TypeVar("T")

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
MAX_ATTEMPTS = 8


def sqlstate_of(error: DBAPIError) -> str | None:
    """The SQLSTATE of a driver error, whichever driver raised it."""
    original = error.orig
    for attribute in ("sqlstate", "pgcode"):
        code = getattr(original, attribute, None)
        if isinstance(code, str):
            return code
    cause = getattr(original, "__cause__", None)
    code = getattr(cause, "sqlstate", None)
    return code if isinstance(code, str) else None


def is_retryable(error: DBAPIError) -> bool:
    if sqlstate_of(error) in RETRYABLE_SQLSTATES:
        return True
    return isinstance(error, OperationalError) and "database is locked" in str(error.orig)


def is_foreign_key_violation(error: DBAPIError) -> bool:
    if sqlstate_of(error) == "23503":
        return True
    return "FOREIGN KEY constraint failed" in str(error.orig)


def is_unique_violation(error: DBAPIError) -> bool:
    if sqlstate_of(error) == "23505":
        return True
    return "UNIQUE constraint failed" in str(error.orig)


# A request that must be all or nothing (one carrying an Idempotency-Key: its effect and
# the record of its response commit together) runs in one transaction; every unit of work
# and every read inside it joins that transaction instead of opening its own.
_joined: ContextVar[AsyncConnection | None] = ContextVar("taboor_joined", default=None)


def joined_transaction() -> AsyncConnection | None:
    return _joined.get()


@contextmanager
def joining(connection: AsyncConnection) -> Iterator[None]:
    """Make every unit of work and read in this context run on ``connection``'s
    transaction (the caller opened it and decides its commit)."""
    token = _joined.set(connection)
    try:
        yield
    finally:
        _joined.reset(token)


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A single write transaction (``BEGIN IMMEDIATE`` on SQLite). No retries. Inside a
    joined transaction it is a savepoint of it: a refused unit of work is undone alone,
    as its own transaction would have been, and the request's transaction goes on."""
    if (outer := _joined.get()) is not None:
        async with outer.begin_nested():
            yield outer
        return
    async with engine.connect() as connection:
        await connection.execution_options(**{WRITE_OPTION: True})
        async with connection.begin():
            yield connection


@asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for reads. On PostgreSQL it runs in autocommit: each statement sees
    committed data (as READ COMMITTED would) without BEGIN/ROLLBACK round trips."""
    if (outer := _joined.get()) is not None:
        yield outer
        return
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


async def retry_when_safe(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt`` (a whole unit of work) again while the database reports a
    failure that is safe to retry. Inside a joined transaction a failure ends the whole
    transaction, so it is not retried here but by whoever owns it."""
    if _joined.get() is not None:
        return await attempt()
    for number in range(1, MAX_ATTEMPTS + 1):
        try:
            return await attempt()
        except DBAPIError as error:
            if number == MAX_ATTEMPTS or not is_retryable(error):
                raise
        # Jittered backoff so colliding transactions do not collide again in lockstep.
        await asyncio.sleep(random.uniform(0, 0.005 * 2**number))
    raise AssertionError("unreachable")


async def run_in_transaction(
    engine: AsyncEngine, work: Callable[[AsyncConnection], Awaitable[T]]
) -> T:
    """Run ``work`` in a write transaction, retrying the whole of it when that is safe."""

    async def attempt() -> T:
        async with write_transaction(engine) as connection:
            return await work(connection)

    return await retry_when_safe(attempt)


async def run_in_transaction_on(
    connection: AsyncConnection, work: Callable[[AsyncConnection], Awaitable[T]]
) -> T:
    """``run_in_transaction`` on a connection already checked out for reads (saves a
    checkout): it leaves autocommit for the transaction and returns to it after."""
    autocommit = connection.dialect.name == "postgresql"
    during: dict[str, Any] = {WRITE_OPTION: True}
    after: dict[str, Any] = {WRITE_OPTION: False}
    if autocommit:
        during["isolation_level"], after["isolation_level"] = "READ COMMITTED", "AUTOCOMMIT"

    if _joined.get() is connection:
        async with connection.begin_nested():
            return await work(connection)

    async def attempt() -> T:
        if connection.in_transaction():  # SQLite's reads began one; end it first
            await connection.rollback()
        await connection.execution_options(**during)
        try:
            async with connection.begin():
                return await work(connection)
        finally:
            await connection.execution_options(**after)

    return await retry_when_safe(attempt)
