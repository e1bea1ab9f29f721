"""Counters as staff work them: open (hold), close, choose services, call the next ticket.

A counter is open while a staff user holds it (``counters.held_by``); the column is
UNIQUE, so an agent holds one counter at a time however two opens race, and opening is
a compare-and-swap on ``held_by IS NULL``, so two agents never hold one counter.

Closing and calling at a counter serialize on the counter's row: close updates it
first and then looks for a ticket still at the counter; call-next locks the row (held
by the caller) before it claims a ticket. Whichever commits first, the other sees it:
a counter is never closed with a called or serving ticket at it, and nobody calls to a
counter they no longer hold.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Row,
    String,
    any_,
    bindparam,
    exists,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.db import tables as t
from taboor.db.uow import (
    is_unique_violation,
    read_connection,
    retry_when_safe,
    run_in_transaction,
)
from taboor.live.marks import note_ticket_change
from taboor.tickets.eta import ServiceTimes
from taboor.tickets.events import Actor
from taboor.tickets.places import events_of
from taboor.tickets.transitions import claim_head, claim_of, queue_head
from taboor.tickets.views import VIEW_TICKET_COLUMNS, TicketView, joined_view, ticket_view, view_of

_c, _cs, _tk, _users = t.counters.c, t.counter_services.c, t.tickets.c, t.staff_users.c
AT_COUNTER = ("called", "serving")
# The branches a caller may work at; None for all of the company's (an admin).
Scope = Collection[str] | None


class CounterError(Exception):
    """A counter operation refused (a 409 or 422 upstairs); ``reason`` says which."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


@dataclass(frozen=True, slots=True)
class CounterServiceState:
    service_id: str
    enabled: bool


@dataclass(frozen=True, slots=True)
class CounterState:
    id: str
    branch_id: str
    name: dict[str, str]
    position: int
    held_by: str | None
    holder_name: str | None
    opened_at: datetime | None
    services: tuple[CounterServiceState, ...]

    @property
    def is_open(self) -> bool:
        return self.held_by is not None

    @property
    def enabled_services(self) -> list[str]:
        return [service.service_id for service in self.services if service.enabled]


async def list_counters(
    connection: AsyncConnection, company_id: str, branch_id: str, counter_id: str | None = None
) -> list[CounterState]:
    """The branch's counters in position order with their holder and services (one
    query; a counter serving nothing still appears)."""
    query = (
        select(
            _c.id,
            _c.branch_id,
            _c.name,
            _c.position,
            _c.held_by,
            _users.name,
            _c.opened_at,
            _cs.service_id,
            _cs.enabled,
        )
        .select_from(
            t.counters.outerjoin(t.counter_services).outerjoin(
                t.staff_users, _users.id == _c.held_by
            )
        )
        .where(_c.company_id == company_id, _c.branch_id == branch_id)
        .order_by(_c.position, _c.id, _cs.service_id)
    )
    if counter_id is not None:
        query = query.where(_c.id == counter_id)
    rows = (await connection.execute(query)).all()
    services: dict[str, list[CounterServiceState]] = {}
    for row in rows:
        served = services.setdefault(row[0], [])
        if row[7] is not None:
            served.append(CounterServiceState(row[7], bool(row[8])))
    first = {row[0]: row for row in reversed(rows)}  # a row per counter, for its fields
    return [
        CounterState(
            id=counter_id,
            branch_id=first[counter_id][1],
            name=first[counter_id][2],
            position=first[counter_id][3],
            held_by=first[counter_id][4],
            holder_name=first[counter_id][5],
            opened_at=first[counter_id][6],
            services=tuple(served),
        )
        for counter_id, served in services.items()
    ]


async def counter_branch(connection: AsyncConnection, company_id: str, counter_id: str) -> str:
    """The branch of one of the company's counters."""
    branch_id = await connection.scalar(
        select(_c.branch_id).where(_c.id == counter_id, _c.company_id == company_id)
    )
    if branch_id is None:
        raise CounterError("unknown_counter")
    return str(branch_id)


async def held_counter(connection: AsyncConnection, staff_id: str) -> str | None:
    return await connection.scalar(select(_c.id).where(_c.held_by == staff_id))


async def open_counter(
    engine: AsyncEngine, company_id: str, counter_id: str, staff_id: str, now: datetime
) -> None:
    """Hold ``counter_id``. Opening the counter one already holds changes nothing."""

    async def work(connection: AsyncConnection) -> None:
        try:
            taken = await connection.execute(
                update(t.counters)
                .where(_c.id == counter_id, _c.company_id == company_id, _c.held_by.is_(None))
                .values(held_by=staff_id, opened_at=now)
            )
        except IntegrityError as error:
            if not is_unique_violation(error):
                raise
            # held_by is UNIQUE: this user holds another counter (the failed statement
            # ended the transaction on PostgreSQL; the refusal rolls it back).
            raise CounterError("already_holding") from None
        if taken.rowcount == 1:
            return
        holder = (
            await connection.execute(
                select(_c.held_by).where(_c.id == counter_id, _c.company_id == company_id)
            )
        ).first()
        if holder is None:
            raise CounterError("unknown_counter")
        if holder[0] != staff_id:
            raise CounterError("counter_busy")

    try:
        await run_in_transaction(engine, work)
    except CounterError as error:
        if error.reason != "already_holding":
            raise
        async with read_connection(engine) as connection:
            other = await held_counter(connection, staff_id)
        raise CounterError("already_holding", counter_id=other) from None


async def close_counter(
    engine: AsyncEngine, company_id: str, counter_id: str, staff_id: str | None
) -> None:
    """Release the counter; ``staff_id`` None closes whoever holds it (an admin). Refused
    while a ticket is called or served at it: it must be finished, requeued or marked
    first, or it would sit at a counter nobody works."""

    async def work(connection: AsyncConnection) -> None:
        condition = [_c.id == counter_id, _c.company_id == company_id, _c.held_by.is_not(None)]
        if staff_id is not None:
            condition.append(_c.held_by == staff_id)
        closed = await connection.execute(
            update(t.counters).where(*condition).values(held_by=None, opened_at=None)
        )
        if closed.rowcount != 1:
            await counter_branch(connection, company_id, counter_id)  # unknown → error
            raise CounterError("not_holding")
        busy = await connection.scalar(
            select(_tk.id).where(_tk.counter_id == counter_id, _tk.status.in_(AT_COUNTER)).limit(1)
        )
        if busy is not None:
            raise CounterError("ticket_at_counter", ticket_id=busy)

    await run_in_transaction(engine, work)


async def choose_services(
    engine: AsyncEngine,
    company_id: str,
    counter_id: str,
    service_ids: Collection[str],
    staff_id: str | None,
) -> None:
    """Take exactly ``service_ids`` (a subset of what the company file lets the counter
    serve) from now on. ``staff_id`` must hold the counter (None: an admin)."""
    wanted = set(service_ids)

    async def work(connection: AsyncConnection) -> None:
        holder = (
            await connection.execute(
                select(_c.held_by)
                .where(_c.id == counter_id, _c.company_id == company_id)
                .with_for_update()
            )
        ).first()
        if holder is None:
            raise CounterError("unknown_counter")
        if staff_id is not None and holder[0] != staff_id:
            raise CounterError("not_holding")
        configured = set(
            await connection.scalars(select(_cs.service_id).where(_cs.counter_id == counter_id))
        )
        unknown = sorted(wanted - configured)
        if unknown:
            raise CounterError("unknown_service", service_id=unknown[0])
        for enabled, ids in ((True, wanted), (False, configured - wanted)):
            if ids:
                await connection.execute(
                    update(t.counter_services)
                    .where(_cs.counter_id == counter_id, _cs.service_id.in_(sorted(ids)))
                    .values(enabled=enabled)
                )

    await run_in_transaction(engine, work)


# The counter a call is made at: the company's, at an active branch, its row locked
# (not the branch's). Binds ``b_counter_id`` and ``b_company_id``.
_COUNTER_CALLED_AT = (
    select(_c.held_by, _c.branch_id)
    .join(t.branches, t.branches.c.id == _c.branch_id)
    .where(
        _c.id == bindparam("b_counter_id"),
        _c.company_id == bindparam("b_company_id"),
        t.branches.c.active.is_(True),
    )
    .with_for_update(of=t.counters)
)


def _refuse_call(
    known: bool, branch_id: str | None, holder: str | None, actor: Actor, branches: Scope
) -> None:
    """The checks before a call, in the order they are answered: the counter (404),
    the caller's branches (403), holding it (409)."""
    if not known:
        raise CounterError("unknown_counter")
    if branches is not None and branch_id not in branches:
        raise CounterError("branch_forbidden")
    if holder != actor.id:
        raise CounterError("not_holding")


async def call_next_at_counter(
    engine: AsyncEngine,
    company_id: str,
    counter_id: str,
    actor: Actor,
    branches: Scope,
    now: datetime,
    service_times: ServiceTimes,
) -> TicketView | None:
    """Call the head of the merged queue of the counter's chosen services to it; the
    called ticket's view, or None when nothing is waiting. The counter must be at one
    of ``branches`` (None: any of the company's) and the caller must hold it; the
    counter's row is locked first (see the module's docstring)."""
    if engine.dialect.name == "postgresql":
        parameters = _one_statement_parameters(company_id, counter_id, actor, branches, now)
        async with read_connection(engine) as connection:

            async def attempt() -> Row[Any]:
                return (await connection.execute(_CALL_NEXT_IN_ONE, parameters)).one()

            row = await retry_when_safe(attempt)
            _refuse_call(row.known, row.counter_branch_id, row.holder, actor, branches)
            if row.id is None:  # nobody waiting
                return None
            note_ticket_change()  # the live streams are woken once the request commits
            return await view_of(connection, row, now, service_times)

    async def work(connection: AsyncConnection) -> str | None:
        counter = (
            await connection.execute(
                _COUNTER_CALLED_AT, {"b_counter_id": counter_id, "b_company_id": company_id}
            )
        ).first()
        if counter is None:
            _refuse_call(False, None, None, actor, branches)
        else:
            _refuse_call(True, counter.branch_id, counter.held_by, actor, branches)
        services = list(
            await connection.scalars(
                select(_cs.service_id).where(_cs.counter_id == counter_id, _cs.enabled.is_(True))
            )
        )
        if not services:
            return None
        return await claim_head(connection, company_id, counter_id, services, actor, now)

    ticket_id = await run_in_transaction(engine, work)
    if ticket_id is None:
        return None
    async with read_connection(engine) as connection:
        return await ticket_view(connection, company_id, ticket_id, now, service_times)


# PostgreSQL: call-next as one statement, which is a transaction by itself (autocommit).
# It used to be BEGIN, the counter's lock, its services, the claim, the event and
# COMMIT: six round trips with the counter locked across them (bench/README.md). The
# order of things is the same: the counter's row is locked first (``counter`` is
# evaluated before the queue is read, as the claim's one-time filter), then the head
# of the merged queue is claimed with the very statement ``claim_head`` runs
# (``transitions.queue_head``, ``claim_of``), and the event is written with it
# (``places.events_of``, as bookings do). The called ticket's view comes with it
# (``views.joined_view`` over what the claim returns): no read-back. A close that
# commits first leaves ``held_by`` empty in the locked row's re-read, so nothing is
# claimed; a close that comes second finds the called ticket at the counter. One
# difference: the queue is read as of the statement's start, so when two calls at one
# counter meet, a ticket queued while the second waited for the counter's row is left
# for the next call (it keeps its place).
def _call_next_in_one_statement_sql() -> Any:
    counter = _COUNTER_CALLED_AT.cte("counter")
    holder = select(counter.c.held_by).scalar_subquery()
    branch = select(counter.c.branch_id).scalar_subquery()
    in_scope = or_(
        bindparam("b_any_branch", type_=Boolean()),
        branch == any_(bindparam("b_branches", type_=ARRAY(String()))),
    )
    services = select(_cs.service_id).where(
        _cs.counter_id == bindparam("b_counter_id"), _cs.enabled.is_(True)
    )
    head = queue_head("postgresql", services).where(holder == bindparam("b_staff_id"), in_scope)
    claimed = claim_of(head, returning=VIEW_TICKET_COLUMNS).cte("claimed")
    logged = events_of(claimed.c.id).cte("logged")
    called = joined_view(claimed, in_queue=False).subquery("called")
    one_row = select(literal_column("1").label("one")).subquery("one_row")  # no ticket, too
    return (
        select(
            exists(select(counter.c.held_by)).label("known"),
            branch.label("counter_branch_id"),
            holder.label("holder"),
            *called.c,
        )
        .select_from(one_row.outerjoin(called, true()))
        .add_cte(logged)
    )


_CALL_NEXT_IN_ONE = _call_next_in_one_statement_sql()


def _one_statement_parameters(
    company_id: str, counter_id: str, actor: Actor, branches: Scope, now: datetime
) -> dict[str, Any]:
    """The bind parameters of ``_CALL_NEXT_IN_ONE``."""
    return {
        "b_company_id": company_id,
        "b_counter_id": counter_id,
        "b_staff_id": actor.id,
        "b_any_branch": branches is None,
        "b_branches": sorted(branches or ()),
        "b_now": now,
        "e_company_id": company_id,
        "e_from_status": "waiting",
        "e_to_status": "called",
        "e_at": now,
        "e_actor_kind": actor.kind,
        "e_actor_id": actor.id,
        "e_source": actor.source,
    }
