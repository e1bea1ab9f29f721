"""Units of work: one transaction, retried whole when the database asks for it.

PostgreSQL may abort a transaction with a serialization failure (40001) or a deadlock
(40P01); the right answer is to run the whole unit again, never to patch it up halfway.
SQLite may report "database is locked" when the busy timeout runs out under heavy load;
that, too, is safe to retry because nothing was written.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

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


def is_unique_violation(error: DBAPIError) -> bool:
    if sqlstate_of(error) == "23505":
        return True
    return "UNIQUE constraint failed" in str(error.orig)


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A single write transaction (``BEGIN IMMEDIATE`` on SQLite). No retries."""
    async with engine.connect() as connection:
        await connection.execution_options(**{WRITE_OPTION: True})
        async with connection.begin():
            yield connection


@asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for reads. On PostgreSQL it runs in autocommit: each statement sees
    committed data (as READ COMMITTED would) without BEGIN/ROLLBACK round trips."""
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


async def run_in_transaction(
    engine: AsyncEngine, work: Callable[[AsyncConnection], Awaitable[T]]
) -> T:
    """Run ``work`` in a write transaction, retrying the whole of it when that is safe."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            async with write_transaction(engine) as connection:
                return await work(connection)
        except DBAPIError as error:
            if attempt == MAX_ATTEMPTS or not is_retryable(error):
                raise
        # Jittered backoff so colliding transactions do not collide again in lockstep.
        await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
    raise AssertionError("unreachable")
