"""Appointments nobody checked in for become no-shows (design.md §2:
``upcoming ──(not checked in by time + grace)──▶ no_show``).

``sweep_no_shows`` is run periodically by every server process (``NoShowSweeper``), so
several may sweep at the same moment, while staff check customers in. Each batch is one
compare-and-swap statement: ``UPDATE tickets … WHERE status = 'upcoming' AND time <
now − grace`` with ``RETURNING`` of the rows it actually changed, and events are written
for exactly those rows, in the same transaction. A ticket therefore gets one
``upcoming → no_show`` event whoever sweeps it, and a ticket checked in first is no
longer ``upcoming`` and is left alone (the check-in, arriving second, is refused with
``no_show``).

PostgreSQL: the batch is picked ``FOR UPDATE SKIP LOCKED``, so concurrent sweepers take
disjoint batches instead of queueing behind each other's rows, and a row being checked
in right now is skipped (and looked at again by the next sweep, if it is still due).
SQLite runs one writer at a time (``BEGIN IMMEDIATE``), so the batch it reads is settled.

The appointment's slot place is not given back: its time has passed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, Interval, bindparam, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.clock import Clock
from taboor.db import tables as t
from taboor.db.uow import run_in_transaction
from taboor.ops.periodic import Periodic
from taboor.tickets.events import Actor

logger = logging.getLogger("taboor.no_show")

SYSTEM = Actor(kind="system", id=None, source="system")
# Small enough that a backlog (a server down for a day) never holds row locks or
# SQLite's write lock for long; each batch is its own transaction.
BATCH_SIZE = 500

_tk, _sv = t.tickets.c, t.services.c
_NOW = bindparam("now", type_=_tk.status_at.type)
_CUTOFF_NOW = bindparam("cutoff_now", type_=_tk.time.type)
_LIMIT = bindparam("limit", type_=Integer())
_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%f"  # SQLite's %f is seconds with milliseconds


def _grace(ticket: Any) -> ColumnElement[Any]:
    """The no-show grace of ``ticket``'s service (a correlated subquery)."""
    return select(_sv.no_show_grace_minutes).where(_sv.id == ticket.c.service_id).scalar_subquery()


def _cutoff(dialect: str, grace: ColumnElement[Any]) -> ColumnElement[Any]:
    """``now − grace minutes``, in a form ``tickets.time`` compares with correctly.

    SQLite stores instants as naive UTC text ``YYYY-MM-DD HH:MM:SS.ffffff`` (see
    ``UTCDateTime``), so the cutoff is built as that text and compared as a string. Its
    date functions work in milliseconds (``%f`` is ``SS.SSS``): ``cutoff_now`` is
    ``now`` cut to the millisecond, which makes the result exact (the three missing
    digits are zeros)."""
    if dialect == "postgresql":
        return _CUTOFF_NOW - grace * literal(timedelta(minutes=1), Interval())
    modifier = literal("-").concat(grace).concat(" minutes")
    return func.strftime(_SQLITE_FORMAT, _CUTOFF_NOW, modifier).concat("000")


def _is_due(
    dialect: str, ticket: Any, grace: ColumnElement[Any]
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return ticket.c.status == "upcoming", ticket.c.time < _cutoff(dialect, grace)


def _sweep_statement(dialect: str) -> Any:
    """One batch: pick up to ``limit`` due upcoming tickets and swap them to ``no_show``.

    The outer ``WHERE`` states the whole decision (still ``upcoming``, still due by its
    service's grace), so it is a compare-and-swap on its own; the inner select only
    bounds the batch (and, on PostgreSQL, claims it: ``SKIP LOCKED``). It reads tickets
    through an alias, so it can never be taken for a subquery correlated with the
    updated row.

    Either way the inner select reaches tickets service by service through the index on
    ``(service_id, status, …)``, reading the upcoming tickets only, never the whole
    history: PostgreSQL plans the join from its statistics; SQLite (no statistics
    unless someone runs ``ANALYZE``) would scan every ticket for the join, but walks
    the index for ``service_id IN (all services)`` (checked with ``EXPLAIN QUERY
    PLAN``)."""
    due = t.tickets.alias("due")
    if dialect == "postgresql":
        picked = (
            select(due.c.id)
            .select_from(t.services)
            .join(due, due.c.service_id == _sv.id)
            .where(*_is_due(dialect, due, _sv.no_show_grace_minutes))
            .limit(_LIMIT)
            .with_for_update(of=due, skip_locked=True)
        )
    else:
        picked = (
            select(due.c.id)
            .where(due.c.service_id.in_(select(_sv.id)), *_is_due(dialect, due, _grace(due)))
            .limit(_LIMIT)
        )
    return (
        update(t.tickets)
        .where(
            _tk.id.in_(picked.scalar_subquery()),
            *_is_due(dialect, t.tickets, _grace(t.tickets)),
        )
        .values(status="no_show", status_at=_NOW)
        .returning(_tk.id, _tk.company_id)
    )


# Built once (see views.py on why): values go in as bind parameters.
_STATEMENTS = {dialect: _sweep_statement(dialect) for dialect in ("postgresql", "sqlite")}


async def _sweep_batch(connection: AsyncConnection, now: datetime, limit: int) -> int:
    parameters = {
        "now": now,
        "cutoff_now": now.replace(microsecond=now.microsecond // 1000 * 1000),
        "limit": limit,
    }
    swapped = (await connection.execute(_STATEMENTS[connection.dialect.name], parameters)).all()
    if swapped:
        await connection.execute(
            t.ticket_events.insert(),
            [
                {
                    "company_id": company_id,
                    "ticket_id": ticket_id,
                    "from_status": "upcoming",
                    "to_status": "no_show",
                    "at": now,
                    "actor_kind": SYSTEM.kind,
                    "actor_id": SYSTEM.id,
                    "source": SYSTEM.source,
                }
                for ticket_id, company_id in swapped
            ],
        )
    return len(swapped)


async def sweep_no_shows(
    engine: AsyncEngine, now: datetime, *, batch_size: int = BATCH_SIZE
) -> int:
    """Turn every ``upcoming`` appointment whose ``time + no_show_grace_minutes`` is
    before ``now`` into ``no_show``, with one system event each; how many this call
    changed (tickets swept by a concurrent caller are not counted here).

    Due means ``time < now − grace``, with ``now`` taken to the millisecond on SQLite
    (its date arithmetic has no finer unit), so a ticket is never swept early."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    total = 0
    while True:
        swept = await run_in_transaction(
            engine, lambda connection: _sweep_batch(connection, now, batch_size)
        )
        total += swept
        # A short batch means nothing due was left that this sweeper could take: the
        # rest (if any) is being swept, or checked in, by someone else right now.
        if swept < batch_size:
            return total


class NoShowSweeper:
    """Runs ``sweep_no_shows`` every ``interval_seconds`` at the clock's "now", in the
    background of a server process. A failed sweep is logged and the loop carries on:
    a database hiccup must never take the server down, and the next sweep catches up.
    Every server process runs one; the sweep is safe to run concurrently."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        interval_seconds: float,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.interval_seconds = interval_seconds
        # Called after a sweep that changed tickets (committed): wakes the live streams.
        self.on_change = on_change
        self._loop = Periodic("taboor-no-show-sweeper", interval_seconds, self.sweep_once)

    async def sweep_once(self) -> int:
        """One sweep, errors logged and swallowed; how many tickets it changed."""
        try:
            swept = await sweep_no_shows(self.engine, self.clock())
        except Exception:
            logger.exception("no-show sweep failed; trying again in %ss", self.interval_seconds)
            return 0
        if swept:
            logger.info("marked %d appointment(s) no-show", swept)
            if self.on_change is not None:
                self.on_change()
        return swept

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        """Cancel the loop and wait for it. A batch in flight is rolled back whole (the
        batches already committed stay; the next start sweeps the rest)."""
        await self._loop.stop()
