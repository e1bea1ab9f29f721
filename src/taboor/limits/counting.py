"""Counting External API requests against a company's per-minute budgets.

A company may limit how many requests each of its API keys, and each client address,
makes per minute (the company file's ``limits``). The budgets live in the database
(``rate_limit_counters``), not in process memory or Redis:

- a server runs several worker processes, in production several instances; a counter in
  one process's memory would hand out one budget per process. The database is what they
  already share;
- on the SQLite default it needs no extra service (Redis would be a second thing to run
  just to count);
- a company without limits pays nothing: no statement is sent at all.

Each counted request is one atomic statement that bumps every budget it spends (one
row per budget: the key's, the address's), in fixed one-minute windows that start at
the first request after the previous window ended — the login throttle's pattern
(``taboor.staff.throttle``):

    INSERT … VALUES ('key', :key, :now, 1), ('address', :address, :now, 1)
    ON CONFLICT (scope, subject) DO UPDATE
       SET hits = CASE WHEN <window expired> THEN 1 ELSE hits + 1 END,
           window_started_at = CASE WHEN <window expired> THEN :now ELSE window_started_at END
    RETURNING scope, hits, window_started_at

The database serializes the statements on each row, so concurrent requests from any
number of processes are all counted and each sees its own place in the window; nothing
is read first and written after in Python. The rule: **every counted request is a hit,
refused ones included**, and a request is admitted when, counting itself, no budget is
over its limit. So of N simultaneous requests against a budget of L, exactly L are
admitted, and the counter then says N. Counting refusals costs nothing extra (the same
one statement answers both) and does not lengthen the wait: the window still ends a
minute after it started.

Rows are locked in the same order by every statement (the key's before the address's),
so two statements never wait on each other in a cycle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal

from sqlalchemy import TextualSelect, bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.db.engine import WRITE_OPTION
from taboor.db.uow import joined_transaction, retry_when_safe

Scope = Literal["key", "address"]
WINDOW = timedelta(minutes=1)
SUBJECT_LENGTH = 128  # rate_limit_counters.subject

_c = t.rate_limit_counters.c


@dataclass(frozen=True, slots=True)
class Charge:
    """One budget a request spends: whose it is and how many requests it allows."""

    scope: Scope
    subject: str
    limit: int


@dataclass(frozen=True, slots=True)
class Budget:
    """A budget after counting a request: ``used`` includes that request."""

    scope: Scope
    limit: int
    used: int
    reset_seconds: int  # whole seconds until the window ends, 1 … 60

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


@dataclass(frozen=True, slots=True)
class Verdict:
    budgets: tuple[Budget, ...]

    @property
    def admitted(self) -> bool:
        return not any(budget.exceeded for budget in self.budgets)

    @property
    def tightest(self) -> Budget:
        """The budget to report: the fewest requests left; on a tie, the one that stays
        spent longer (so its reset is when every spent budget has room again)."""
        return min(self.budgets, key=lambda budget: (budget.remaining, -budget.reset_seconds))

    @property
    def retry_after_seconds(self) -> int:
        """When a refused request may be retried with success: every budget with nothing
        left must have started a new window."""
        return max(
            (budget.reset_seconds for budget in self.budgets if budget.remaining == 0),
            default=1,
        )


def _reset_seconds(started: datetime, now: datetime) -> int:
    # Capped at one window: a concurrent request that read its clock after ours may
    # have started the window a moment "after" our now.
    seconds = math.ceil((started + WINDOW - now).total_seconds())
    return min(max(seconds, 1), int(WINDOW.total_seconds()))


_ON_CONFLICT = (
    " ON CONFLICT (scope, subject) DO UPDATE SET "
    "hits = CASE WHEN rate_limit_counters.window_started_at <= :cutoff "
    "THEN 1 ELSE rate_limit_counters.hits + 1 END, "
    "window_started_at = CASE WHEN rate_limit_counters.window_started_at <= :cutoff "
    "THEN excluded.window_started_at ELSE rate_limit_counters.window_started_at END "
    "RETURNING scope, hits, window_started_at"
)


@cache
def _statement(postgres: bool, scopes: tuple[Scope, ...]) -> TextualSelect:
    """The counting statement for these budgets, built once. Written as text:
    SQLAlchemy does not cache the compiled form of a multi-row INSERT construct, and
    compiling it on every request cost more CPU than the rest of the counting.

    On PostgreSQL the statement commits without waiting for its WAL flush
    (``synchronous_commit`` off for its own transaction only): a counter is not worth
    a disk flush per request (measured: the flush was most of the statement's time).
    A database crash may forget the last fraction of a second of hits, which lets a
    budget admit a few more requests; nothing else is affected. SQLite in WAL mode
    with ``synchronous=NORMAL`` does not flush on commit anyway."""
    # Only the scope names are spliced in; every value is a bound parameter.
    if postgres:
        budgets = ", ".join(f"('{scope}', CAST(:{scope}_subject AS text))" for scope in scopes)
        sql = (
            "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) "  # noqa: S608
            "INSERT INTO rate_limit_counters (scope, subject, window_started_at, hits) "
            "SELECT budget.scope, budget.subject, CAST(:now AS timestamptz), 1 "
            f"FROM (VALUES {budgets}) AS budget (scope, subject), relaxed"
        )
    else:
        rows = ", ".join(f"('{scope}', :{scope}_subject, :now, 1)" for scope in scopes)
        sql = (
            "INSERT INTO rate_limit_counters (scope, subject, window_started_at, hits) "  # noqa: S608
            f"VALUES {rows}"
        )
    moment = t.rate_limit_counters.c.window_started_at.type
    return (
        text(sql + _ON_CONFLICT)
        .bindparams(bindparam("now", type_=moment), bindparam("cutoff", type_=moment))
        .columns(_c.scope, _c.hits, _c.window_started_at)
    )


async def count_request(engine: AsyncEngine, charges: Sequence[Charge], now: datetime) -> Verdict:
    """Count one request against every budget in ``charges`` (in one atomic statement,
    committed on its own whatever the request then does) and say whether it is
    admitted. ``charges`` lists at most one budget per scope, the key's first."""
    scopes = tuple(charge.scope for charge in charges)
    postgres = engine.dialect.name == "postgresql"
    statement = _statement(postgres, scopes)
    params: dict[str, Any] = {f"{charge.scope}_subject": charge.subject for charge in charges}
    params.update(now=now, cutoff=now - WINDOW)

    joined = joined_transaction()
    if joined is not None and not postgres:
        # An Idempotency-Key request on SQLite already holds the one write lock in its
        # own transaction (taboor.api.idempotency): a second writer would wait for it
        # until the busy timeout and fail, so the count joins that transaction and
        # stands or falls with it.
        return _verdict(charges, list(await joined.execute(statement, params)), now)

    async def attempt() -> list[Any]:
        # Otherwise a connection of its own, never the request's transaction: the count
        # stands even when the request's own work is rolled back.
        async with engine.connect() as connection:
            if postgres:  # one statement: autocommit, no BEGIN/COMMIT round trips
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                return list(await connection.execute(statement, params))
            await connection.execution_options(**{WRITE_OPTION: True})
            async with connection.begin():  # BEGIN IMMEDIATE: writers queue up front
                return list(await connection.execute(statement, params))

    return _verdict(charges, await retry_when_safe(attempt), now)


def _verdict(charges: Sequence[Charge], returned: list[Any], now: datetime) -> Verdict:
    rows = {row[0]: (row[1], row[2]) for row in returned}
    return Verdict(
        tuple(
            Budget(
                charge.scope,
                charge.limit,
                rows[charge.scope][0],
                _reset_seconds(rows[charge.scope][1], now),
            )
            for charge in charges
        )
    )
