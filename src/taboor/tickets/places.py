"""Ticket numbers and appointment places: the two counters booking must never get wrong.

Both are single atomic statements on a counter row, run inside the booking transaction:
a booking that fails later rolls its number and its place back with it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, exists, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.db import tables as t
from taboor.live.marks import note_ticket_change


def _insert(connection: AsyncConnection) -> type[postgresql.Insert] | type[sqlite.Insert]:
    return postgresql.Insert if connection.dialect.name == "postgresql" else sqlite.Insert


async def next_ticket_number(
    connection: AsyncConnection, branch_id: str, prefix: str, day: date
) -> int:
    """The next number of the day for (branch, prefix): an upsert that bumps and returns
    the day's counter row. Concurrent bookings queue on that row; none is skipped."""
    table = t.ticket_numbers
    statement = (
        _insert(connection)(table)
        .values(branch_id=branch_id, prefix=prefix, day=day, last_number=1)
        .on_conflict_do_update(
            index_elements=["branch_id", "prefix", "day"],
            set_={"last_number": table.c.last_number + 1},
        )
        .returning(table.c.last_number)
    )
    return int((await connection.execute(statement)).scalar_one())


def _take_place_statement(dialect_insert: Any) -> Any:
    table = t.slot_places
    insert = dialect_insert(table).values(
        service_id=bindparam("service_id"),
        starts_at=bindparam("starts_at", type_=table.c.starts_at.type),
        capacity=bindparam("capacity"),
        taken=1,
    )
    return insert.on_conflict_do_update(
        index_elements=["service_id", "starts_at"],
        # The capacity follows the company file; places already taken stay taken.
        set_={"taken": table.c.taken + 1, "capacity": insert.excluded.capacity},
        where=table.c.taken < insert.excluded.capacity,
    ).returning(table.c.taken)


_TAKE_PLACE = {
    "postgresql": _take_place_statement(postgresql.insert),
    "sqlite": _take_place_statement(sqlite.insert),
}


async def take_place(
    connection: AsyncConnection, service_id: str, starts_at: datetime, capacity: int
) -> bool:
    """Take one place in a slot, or return False when it is full. One statement: the row
    is created with one place taken, or its ``taken`` is raised only while below the
    capacity (the CHECK constraint backs this up)."""
    parameters = {"service_id": service_id, "starts_at": starts_at, "capacity": capacity}
    result = await connection.execute(_TAKE_PLACE[connection.dialect.name], parameters)
    return result.first() is not None


async def free_place(connection: AsyncConnection, service_id: str, starts_at: datetime) -> None:
    await connection.execute(
        update(t.slot_places)
        .where(
            t.slot_places.c.service_id == service_id,
            t.slot_places.c.starts_at == starts_at,
            t.slot_places.c.taken > 0,
        )
        .values(taken=t.slot_places.c.taken - 1)
    )


TICKET_COLUMNS = (
    "id",
    "company_id",
    "branch_id",
    "group_id",
    "service_id",
    "customer_id",
    "type",
    "status",
    "prefix",
    "day",
    "service_day",
    "time",
    "queue_at",
    "status_at",
    "booked_at",
    "options",
    "lat",
    "lng",
)
EVENT_COLUMNS = (
    "company_id",
    "from_status",
    "to_status",
    "at",
    "actor_kind",
    "actor_id",
    "source",
)


def _numbered_ticket_statement(*, with_place: bool) -> Any:
    """PostgreSQL: draw the number, insert the ticket with it and its first event, in
    one statement. Built once; values are bind parameters (``t_<column>`` for the
    ticket, ``e_<column>`` for the event).

    ``with_place``: first take a place in the appointment's slot as ``take_place``
    does (``service_id``, ``starts_at``, ``capacity``); the number is drawn only when
    the place was taken, so a full slot writes nothing and answers no row."""
    numbers = t.ticket_numbers
    number_columns = ("branch_id", "prefix", "day")
    first_number: Any
    if with_place:
        placed = _TAKE_PLACE["postgresql"].cte("placed")
        drawn = select(
            *(bindparam(f"t_{name}", type_=numbers.c[name].type) for name in number_columns),
            literal(1),
        ).where(exists(select(placed.c.taken)))
        first_number = postgresql.insert(numbers).from_select(
            [*number_columns, "last_number"], drawn
        )
    else:
        first_number = postgresql.insert(numbers).values(
            {**{name: bindparam(f"t_{name}") for name in number_columns}, "last_number": 1}
        )
    numbered = (
        first_number.on_conflict_do_update(
            index_elements=["branch_id", "prefix", "day"],
            set_={"last_number": numbers.c.last_number + 1},
        )
        .returning(numbers.c.last_number)
        .cte("numbered")
    )
    tickets = t.tickets.c
    inserted = (
        t.tickets.insert()
        .from_select(
            [*TICKET_COLUMNS, "number"],
            select(
                *(bindparam(f"t_{name}", type_=tickets[name].type) for name in TICKET_COLUMNS),
                numbered.c.last_number,
            ),
        )
        .returning(tickets.id, tickets.number)
        .cte("inserted")
    )
    logged = events_of(inserted.c.id).cte("logged")
    # A data-modifying CTE runs to completion whether or not the main query reads it.
    return select(inserted.c.number).add_cte(logged)


def events_of(ticket_id: Any) -> Any:
    """PostgreSQL, inside a one-statement write: insert an event (``e_<column>`` bind
    parameters) for each ticket id the column ``ticket_id`` of an earlier CTE yields."""
    events = t.ticket_events.c
    return t.ticket_events.insert().from_select(
        [*EVENT_COLUMNS, "ticket_id"],
        select(
            *(bindparam(f"e_{name}", type_=events[name].type) for name in EVENT_COLUMNS),
            ticket_id,
        ),
    )


_NUMBERED_TICKET = _numbered_ticket_statement(with_place=False)
_PLACED_NUMBERED_TICKET = _numbered_ticket_statement(with_place=True)


async def insert_numbered_ticket(
    connection: AsyncConnection, ticket: dict[str, Any], event: dict[str, Any]
) -> int:
    """Draw the day's next number and insert the ticket with it, plus its first event;
    the number.

    The number row stays locked from the draw until commit, so this is the booking's
    bottleneck under load: on PostgreSQL the three writes go in one statement (one
    round trip under the lock instead of three), which is a whole transaction by
    itself when run in autocommit (a walk-in: the lock then lasts only as long as the
    statement). SQLite runs one writer at a time anyway, so there the plain statements
    do. ``ticket`` holds ``TICKET_COLUMNS``, ``event`` ``EVENT_COLUMNS`` and
    ``ticket_id``.
    """
    note_ticket_change()  # the live streams are woken once the request commits
    if connection.dialect.name != "postgresql":
        key = {name: ticket[name] for name in ("branch_id", "prefix", "day")}
        number = await next_ticket_number(connection, **key)
        await connection.execute(t.tickets.insert().values(**ticket, number=number))
        await connection.execute(t.ticket_events.insert().values(**event))
        return number
    parameters = _statement_parameters(ticket, event)
    return int((await connection.execute(_NUMBERED_TICKET, parameters)).scalar_one())


def _statement_parameters(ticket: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """The bind parameters of the one-statement writes: ``t_<column>``, ``e_<column>``."""
    parameters = {f"t_{name}": ticket[name] for name in TICKET_COLUMNS}
    parameters.update({f"e_{name}": event[name] for name in EVENT_COLUMNS})
    return parameters


async def insert_placed_ticket(
    connection: AsyncConnection,
    ticket: dict[str, Any],
    event: dict[str, Any],
    capacity: int,
) -> int | None:
    """``take_place`` in the ticket's slot, then ``insert_numbered_ticket``; the number,
    or None when the slot is full (then nothing is written).

    On PostgreSQL the two are one statement: an appointment booked in autocommit is one
    round trip, with the slot's row and the number row locked only while it runs, and a
    refused ticket (the one-active-ticket rule) rolls its place back with it, as the
    statement is all or nothing. SQLite runs them in the caller's write transaction."""
    if connection.dialect.name != "postgresql":
        if not await take_place(connection, ticket["service_id"], ticket["time"], capacity):
            return None
        return await insert_numbered_ticket(connection, ticket, event)
    parameters = _statement_parameters(ticket, event)
    parameters.update(service_id=ticket["service_id"], starts_at=ticket["time"], capacity=capacity)
    number = (await connection.execute(_PLACED_NUMBERED_TICKET, parameters)).scalar_one_or_none()
    if number is None:
        return None
    note_ticket_change()  # the live streams are woken once the request commits
    return int(number)
