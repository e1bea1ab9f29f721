"""The staff side of the ticket state machine (design.md §2): check-in, calling,
serving, finishing, no-shows, transfers and cancels at the counter.

The machine is closed: each operation names the statuses it may start from, and any
other status is refused with the ticket's *current* status, so the caller can say why.
Every change is a compare-and-swap on what was read (design.md §3): an ``UPDATE`` whose
``WHERE`` repeats the status (and the service and time the decision depended on). Zero
rows means another transaction changed the ticket in between; the unit re-reads and
decides again, inside the same transaction (READ COMMITTED lets the new read see what
the winner committed). Each change writes its ``ticket_events`` row in that transaction.

``call_next`` is the one hot, contended path: several counters pull from one queue at
once. It takes the head in a single statement that picks and claims the row together
(see ``_call_next_statement``), so no two counters get the same ticket and none is
skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import bindparam, literal_column, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.db import tables as t
from taboor.db.uow import run_in_transaction
from taboor.tickets.booking import is_duplicate_active
from taboor.tickets.cas import LostRaceError, retry_lost_races
from taboor.tickets.errors import TicketFieldError
from taboor.tickets.events import Actor, record_event
from taboor.tickets.places import free_place

T = TypeVar("T")

tk = t.tickets.c
_counters, _served = t.counters.c, t.counter_services.c
_services, _groups = t.services.c, t.service_groups.c

# A few re-reads are plenty: each lost swap means another transaction *committed* a
# change to this ticket, and the machine has no long cycles to chase.

CHECK_IN_FROM = frozenset({"upcoming"})
CALL_FROM = frozenset({"waiting"})
RECALL_FROM = frozenset({"called"})
REQUEUE_FROM = frozenset({"called"})
START_FROM = frozenset({"called"})
FINISH_FROM = frozenset({"serving"})
# ``upcoming`` → ``no_show`` is the periodic task's (not checked in by time + grace).
NO_SHOW_FROM = frozenset({"called", "upcoming"})
TRANSFER_FROM = frozenset({"waiting", "called", "serving"})
CANCEL_FROM = frozenset({"upcoming", "waiting"})


class TransitionRefusedError(Exception):
    """The ticket's current status does not allow this transition (a 409 upstairs).
    Carries that status so the caller can tell the user what the ticket is now."""

    def __init__(self, current_status: str) -> None:
        super().__init__(f"not allowed from {current_status!r}")
        self.current_status = current_status


class CounterNotHeldError(Exception):
    """The move needs a counter the acting staff user holds: the ticket is at someone
    else's counter, or the counter it would be called to is not the caller's."""


class DuplicateActiveTicketError(TransitionRefusedError):
    """A transfer would give the customer a second active ticket for the target service
    that day, which the ``uq_tickets_one_active_per_customer`` index forbids. A
    refusal like any other (the ticket is left as it was), told apart so the message
    can say why."""

    def __init__(self, current_status: str, service_id: str) -> None:
        super().__init__(current_status)
        self.service_id = service_id


@dataclass(frozen=True, slots=True)
class _Ticket:
    """What a transition decides on; the swap compares all of it."""

    id: str
    status: str
    branch_id: str
    service_id: str
    time: datetime | None
    counter_id: str | None
    queue_at: datetime

    @property
    def holds_place(self) -> bool:
        """An appointment holds its slot's place in its service until it is transferred:
        a transfer gives the place back and queues the ticket at another time, so
        "queued at its appointment time" is exactly "still holds its place"."""
        return self.time is not None and self.queue_at == self.time


async def _read(connection: AsyncConnection, company_id: str, ticket_id: str) -> _Ticket:
    row = (
        await connection.execute(
            select(
                tk.id, tk.status, tk.branch_id, tk.service_id, tk.time, tk.counter_id, tk.queue_at
            ).where(tk.id == ticket_id, tk.company_id == company_id)
        )
    ).first()
    if row is None:
        # Another company's ticket is indistinguishable from a missing one.
        raise TicketFieldError("id", "does_not_exist")
    return _Ticket(*row)


async def _swap(
    connection: AsyncConnection,
    company_id: str,
    current: _Ticket,
    to_status: str,
    actor: Actor,
    now: datetime,
    **values: Any,
) -> None:
    """Move ``current`` to ``to_status`` if it is still what we read, and log it.

    Besides the status, the swap compares the service (a concurrent transfer keeps the
    status ``waiting`` but changes the queue the decision was about) and the time (a
    concurrent move changes which slot's place a cancel must free)."""
    swapped = await connection.execute(
        update(t.tickets)
        .where(
            tk.id == current.id,
            tk.company_id == company_id,
            tk.status == current.status,
            tk.service_id == current.service_id,
            tk.time.is_not_distinct_from(current.time),
        )
        .values(status=to_status, status_at=now, **values)
    )
    if swapped.rowcount != 1:
        raise LostRaceError
    await record_event(
        connection,
        company_id=company_id,
        ticket_id=current.id,
        from_status=current.status,
        to_status=to_status,
        at=now,
        actor=actor,
    )


Step = Callable[[AsyncConnection, _Ticket], Awaitable[None]]
Check = Callable[[AsyncConnection, _Ticket], Awaitable[None]]


async def _no_check(_connection: AsyncConnection, _current: _Ticket) -> None:
    return None


async def _transition(
    engine: AsyncEngine,
    company_id: str,
    ticket_id: str,
    allowed: Collection[str],
    step: Step,
    check: Check = _no_check,
    holder: str | None = None,
) -> None:
    """Read, validate, check the status, swap; again on a lost race. One transaction.

    ``check`` validates the other arguments against the ticket (its branch, say) before
    the status is judged, so a wrong field is reported as such whatever the status.
    ``holder``, when given, is the staff user acting: a ticket at a counter (called or
    serving) may then only be moved by whoever holds that counter. This is judged on
    the same read the swap compares: a ticket called elsewhere meanwhile changed status,
    so the swap fails and the re-read judges again."""

    async def attempt(connection: AsyncConnection) -> None:
        current = await _read(connection, company_id, ticket_id)
        await check(connection, current)
        if holder is not None and current.status in AT_COUNTER and current.counter_id:
            await _require_holder(connection, current.counter_id, holder)
        if current.status not in allowed:
            raise TransitionRefusedError(current.status)
        await step(connection, current)

    async def exhausted(connection: AsyncConnection) -> Exception:
        # Still losing after several re-reads: report where the ticket stands now.
        return TransitionRefusedError((await _read(connection, company_id, ticket_id)).status)

    await run_in_transaction(engine, lambda c: retry_lost_races(c, attempt, exhausted))


def _simple(company_id: str, to_status: str, actor: Actor, now: datetime, **values: Any) -> Step:
    """A step that only swaps the status (and sets ``values``)."""

    async def step(connection: AsyncConnection, current: _Ticket) -> None:
        await _swap(connection, company_id, current, to_status, actor, now, **values)

    return step


# --- counters -----------------------------------------------------------------------------

AT_COUNTER = frozenset({"called", "serving"})


async def _require_holder(
    connection: AsyncConnection, counter_id: str, holder: str, *, lock: bool = False
) -> None:
    """The counter must be held by ``holder``. ``lock`` takes the counter's row for the
    transaction (closing it waits for us, and we for a close in flight), for moves that
    bring a ticket *to* the counter; a ticket already there keeps it from closing."""
    query = select(_counters.held_by).where(_counters.id == counter_id)
    if lock:
        query = query.with_for_update()
    if await connection.scalar(query) != holder:
        raise CounterNotHeldError


async def _counter_branch(connection: AsyncConnection, company_id: str, counter_id: str) -> str:
    """The branch of one of the company's counters; a foreign or unknown counter does
    not exist."""
    branch_id = await connection.scalar(
        select(_counters.branch_id).where(
            _counters.id == counter_id, _counters.company_id == company_id
        )
    )
    if branch_id is None:
        raise TicketFieldError("counterId", "does_not_exist")
    return str(branch_id)


async def _counter_services(
    connection: AsyncConnection, company_id: str, counter_id: str
) -> set[str]:
    """The services the company's counter serves (an outer join, so a counter that
    serves nothing still exists)."""
    rows = (
        await connection.execute(
            select(_counters.id, _served.service_id)
            .select_from(t.counters.outerjoin(t.counter_services))
            .where(_counters.id == counter_id, _counters.company_id == company_id)
        )
    ).all()
    if not rows:
        raise TicketFieldError("counterId", "does_not_exist")
    return {row.service_id for row in rows if row.service_id is not None}


# --- the operations -----------------------------------------------------------------------


async def check_in(
    engine: AsyncEngine,
    company_id: str,
    ticket_id: str,
    actor: Actor,
    now: datetime,
    *,
    holder: str | None = None,
) -> None:
    """``upcoming`` → ``waiting``. ``queue_at`` already holds the appointment time, so
    the customer joins the queue at the place the appointment earned, not at the back."""
    await _transition(
        engine,
        company_id,
        ticket_id,
        CHECK_IN_FROM,
        _simple(company_id, "waiting", actor, now),
        holder=holder,
    )


def _call_next_statement(dialect: str) -> Any:
    """Pick the head of the merged queue and claim it, in one statement.

    PostgreSQL: the subquery locks the head ``FOR UPDATE SKIP LOCKED``, so a counter
    whose head is being claimed by another counter takes the next ticket instead of
    waiting for (and then losing) that one; the lock is held until commit. Rows that
    another caller has claimed and committed meanwhile fail the lock's re-check of
    ``status = 'waiting'`` and are passed over too, so the first ticket nobody is
    claiming is the one taken: none skipped, none taken twice.

    SQLite runs one writer at a time (``BEGIN IMMEDIATE``), so the plain subquery sees
    a settled queue; it has no row locks to ask for. The outer ``status = 'waiting'``
    is the compare-and-swap both databases keep anyway.

    Built once per dialect, values as bind parameters (``b_company_id``,
    ``b_service_ids``, ``b_counter_id``, ``b_now``; an update reserves the column names):
    building it per call was a measurable share of a call-next's CPU.
    """
    return claim_of(queue_head(dialect, bindparam("b_service_ids", expanding=True)))


def queue_head(dialect: str, service_ids: Any) -> Any:
    """The first waiting ticket of the merged queue of ``service_ids`` (a list bind
    parameter or a subquery), by ``(queue_at, number, id)``, of ``b_company_id``;
    on PostgreSQL locked ``FOR UPDATE SKIP LOCKED`` (see ``_call_next_statement``)."""
    head = (
        select(tk.id)
        .where(
            tk.company_id == bindparam("b_company_id"),
            tk.service_id.in_(service_ids),
            tk.status == t.WAITING,
        )
        .order_by(tk.queue_at, tk.number, tk.id)
        .limit(literal_column("1"))  # bound, a generic plan would guess a tenth of the rows
    )
    return head.with_for_update(skip_locked=True) if dialect == "postgresql" else head


def claim_of(head: Any, returning: Sequence[str] = ("id",)) -> Any:
    """The head ``waiting`` → ``called`` at ``b_counter_id`` at ``b_now`` (the
    compare-and-swap on ``status``), returning the ``returning`` columns of the
    called ticket (its id unless told)."""
    return (
        update(t.tickets)
        .where(
            tk.id == head.scalar_subquery(),
            tk.company_id == bindparam("b_company_id"),
            tk.status == t.WAITING,
        )
        .values(
            status="called",
            status_at=bindparam("b_now", type_=tk.status_at.type),
            counter_id=bindparam("b_counter_id"),
        )
        .returning(*(tk[name] for name in returning))
    )


_CALL_NEXT = {dialect: _call_next_statement(dialect) for dialect in ("postgresql", "sqlite")}


async def call_next(
    engine: AsyncEngine,
    company_id: str,
    counter_id: str,
    service_ids: Sequence[str],
    actor: Actor,
    now: datetime,
) -> str | None:
    """Call the head of the merged queue of ``service_ids`` (by ``(queue_at, number,
    id)``) to ``counter_id``; its id, or None when no waiting ticket is free to call.

    The services must be ones the counter serves: a counter never takes another
    counter's work. On PostgreSQL "free" means not being claimed by a transaction in
    flight: when every waiting ticket is being called elsewhere this answers None
    rather than wait for them.
    """
    wanted = list(dict.fromkeys(service_ids))

    async def work(connection: AsyncConnection) -> str | None:
        served = await _counter_services(connection, company_id, counter_id)
        if not set(wanted) <= served:
            raise TicketFieldError("serviceIds", "does_not_exist")
        if not wanted:
            return None
        return await claim_head(connection, company_id, counter_id, wanted, actor, now)

    return await run_in_transaction(engine, work)


async def claim_head(
    connection: AsyncConnection,
    company_id: str,
    counter_id: str,
    service_ids: Sequence[str],
    actor: Actor,
    now: datetime,
) -> str | None:
    """Inside the caller's transaction: claim the head of the merged queue of
    ``service_ids`` for ``counter_id`` and log it; its id, or None."""
    parameters = {
        "b_company_id": company_id,
        "b_service_ids": list(service_ids),
        "b_counter_id": counter_id,
        "b_now": now,
    }
    # No re-read loop here: the row the subquery returns is already ours (locked on
    # PostgreSQL, serialized on SQLite), so no row means no free waiting ticket.
    result = await connection.execute(_CALL_NEXT[connection.dialect.name], parameters)
    ticket_id = result.scalar_one_or_none()
    if ticket_id is None:
        return None
    await record_event(
        connection,
        company_id=company_id,
        ticket_id=ticket_id,
        from_status="waiting",
        to_status="called",
        at=now,
        actor=actor,
    )
    return str(ticket_id)


async def call_ticket(
    engine: AsyncEngine,
    company_id: str,
    ticket_id: str,
    counter_id: str,
    actor: Actor,
    now: datetime,
    *,
    holder: str | None = None,
) -> None:
    """A specific ``waiting`` ticket → ``called`` at ``counter_id``, out of queue order
    (the staff chose it). The counter must be in the ticket's branch; it need not serve
    the ticket's service, since picking this ticket is the point."""

    async def same_branch(connection: AsyncConnection, current: _Ticket) -> None:
        if await _counter_branch(connection, company_id, counter_id) != current.branch_id:
            raise TicketFieldError("counterId", "does_not_exist")
        if holder is not None:
            await _require_holder(connection, counter_id, holder, lock=True)

    await _transition(
        engine,
        company_id,
        ticket_id,
        CALL_FROM,
        _simple(company_id, "called", actor, now, counter_id=counter_id),
        check=same_branch,
        holder=holder,
    )


async def recall(
    engine: AsyncEngine,
    company_id: str,
    ticket_id: str,
    actor: Actor,
    now: datetime,
    *,
    holder: str | None = None,
) -> None:
    """``called`` → ``called``: call the customer again. The event and the fresh
    ``status_at`` are what displays and the no-show grace period react to."""
    await _transition(
        engine,
        company_id,
        ticket_id,
        RECALL_FROM,
        _simple(company_id, "called", actor, now),
        holder=holder,
    )


async def requeue(
    engine: AsyncEngine,
    company_id: str,
    ticket_id: str,
    actor: Actor,
    now: datetime,
    *,
    holder: str | None = None,
) -> None:
    """``called`` → ``waiting``, back at the place it had (``queue_at`` untouched), and
    no longer at any counter."""
    await _transition(
        engine,
        company_id,
        ticket_id,
        REQUEUE_FROM,
        _simple(company_id, "waiting", actor, now, counter_id=None),
        holder=holder,
    )


async def start_serving(
    engine: AsyncEngine,
    company_id: str,
    ticket_id: str,
    actor: Actor,
    now: datetime,
    *,
    holder: str | None = None,
) -> None:
    """``called`` → ``serving``. ``serving_at`` starts the real service time the
    waiting-time estimate learns from."""
    await _transition(
        engine,
        company_id,
        ticket_id,
        START_FROM,
        _simple(company_id, "serving", actor, now, serving_at=now),
        holder=holder,
    )


async def finish(
    engine: AsyncEngine,
    company_id: str,
    ticket_id: str,
    actor: Actor,
    now: datetime,
    *,
    holder: str | None = None,
) -> None:
    """``serving`` → ``served`` (terminal); ``status_at`` ends the service time."""
    await _transition(
        engine,
        company_id,
        ticket_id,
        FINISH_FROM,
        _simple(company_id, "served", actor, now),
        holder=holder,
    )


async def mark_no_show(
    engine: AsyncEngine,
    company_id: str,
    ticket_id: str,
    actor: Actor,
    now: datetime,
    *,
    holder: str | None = None,
) -> None:
    """``called`` (the customer did not come to the counter) or ``upcoming`` (not
    checked in by time + grace) → ``no_show`` (terminal). An appointment's place stays
    taken: its time has passed, and only cancelled tickets give places back."""
    await _transition(
        engine,
        company_id,
        ticket_id,
        NO_SHOW_FROM,
        _simple(company_id, "no_show", actor, now),
        holder=holder,
    )


async def transfer(
    engine: AsyncEngine,
    company_id: str,
    ticket_id: str,
    to_service_id: str,
    actor: Actor,
    now: datetime,
    *,
    holder: str | None = None,
) -> None:
    """``waiting``/``called``/``serving`` → ``waiting`` in another service of the same
    branch. The ticket keeps its number and prefix (the customer keeps the slip in
    hand) and joins the *back* of the new queue (``queue_at = now``): it has been served
    once and must not jump the people already waiting there. Not at a counter any more,
    and no service time running.

    The target must be an active service of the ticket's branch (in an active group);
    anything else does not exist for this ticket. Its own service is allowed: that
    sends the ticket to the back of its queue. An appointment gives its place back to
    its old service in the same transaction (the appointment was kept); it holds none
    in the new one, so a later cancel frees nothing and it can no longer be moved.
    """

    groups: dict[str, str] = {}  # branch → target group, looked up once per branch

    async def target_group(connection: AsyncConnection, current: _Ticket) -> str:
        if current.branch_id in groups:
            return groups[current.branch_id]
        group_id = await connection.scalar(
            select(_services.group_id)
            .join(t.service_groups, _groups.id == _services.group_id)
            .where(
                _services.id == to_service_id,
                _services.company_id == company_id,
                _services.branch_id == current.branch_id,
                _services.active.is_(True),
                _groups.active.is_(True),
            )
        )
        if group_id is None:
            raise TicketFieldError("serviceId", "does_not_exist")
        groups[current.branch_id] = str(group_id)
        return groups[current.branch_id]

    async def check(connection: AsyncConnection, current: _Ticket) -> None:
        await target_group(connection, current)

    async def step(connection: AsyncConnection, current: _Ticket) -> None:
        group_id = await target_group(connection, current)
        # Queued at the back, never at its appointment time (which would read as still
        # holding a place, see _Ticket.holds_place).
        queue_at = now if now != current.time else now + timedelta(microseconds=1)
        try:
            await _swap(
                connection,
                company_id,
                current,
                "waiting",
                actor,
                now,
                service_id=to_service_id,
                group_id=group_id,
                queue_at=queue_at,
                counter_id=None,
                serving_at=None,
            )
        except IntegrityError as error:
            # The customer already holds an active ticket for the target service that
            # day. The failed statement ends the transaction (PostgreSQL aborts it), so
            # this refuses the whole unit, which rolls back.
            if is_duplicate_active(error):
                raise DuplicateActiveTicketError(current.status, to_service_id) from None
            raise
        if current.holds_place:
            # The appointment has been kept (the customer came); its place goes back to
            # its own service, in the same transaction. Nothing is held in the new one.
            assert current.time is not None
            await free_place(connection, current.service_id, current.time)

    await _transition(
        engine, company_id, ticket_id, TRANSFER_FROM, step, check=check, holder=holder
    )


async def cancel(
    engine: AsyncEngine,
    company_id: str,
    ticket_id: str,
    actor: Actor,
    now: datetime,
    *,
    holder: str | None = None,
) -> None:
    """``upcoming``/``waiting`` → ``cancelled`` (by staff, or by a caller of the External
    API through ``lifecycle.cancel_ticket``), giving an appointment's place back in the
    same transaction. The swap compares the time, so a move committed since
    our read makes us re-read and free the right slot's place."""

    async def step(connection: AsyncConnection, current: _Ticket) -> None:
        await _swap(connection, company_id, current, "cancelled", actor, now)
        if current.holds_place:
            assert current.time is not None
            await free_place(connection, current.service_id, current.time)

    await _transition(engine, company_id, ticket_id, CANCEL_FROM, step, holder=holder)
