"""Ticket numbers and appointment places: the two counters booking must never get wrong.

Both are single atomic statements on a counter row, run inside the booking transaction:
a booking that fails later rolls its number and its place back with it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.db import tables as t


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


async def take_place(
    connection: AsyncConnection, service_id: str, starts_at: datetime, capacity: int
) -> bool:
    """Take one place in a slot, or return False when it is full. One statement: the row
    is created with one place taken, or its ``taken`` is raised only while below the
    capacity (the CHECK constraint backs this up)."""
    table = t.slot_places
    insert = _insert(connection)(table).values(
        service_id=service_id, starts_at=starts_at, capacity=capacity, taken=1
    )
    statement = insert.on_conflict_do_update(
        index_elements=["service_id", "starts_at"],
        # The capacity follows the company file; places already taken stay taken.
        set_={"taken": table.c.taken + 1, "capacity": insert.excluded.capacity},
        where=table.c.taken < insert.excluded.capacity,
    ).returning(table.c.taken)
    return (await connection.execute(statement)).first() is not None


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


async def insert_numbered_ticket(
    connection: AsyncConnection, ticket: dict[str, Any], event: dict[str, Any]
) -> None:
    """Draw the day's next number and insert the ticket with it, plus its first event.

    The number row stays locked from the draw until commit, so this is the booking's
    bottleneck under load: on PostgreSQL the three writes go in one statement (one
    round trip under the lock instead of three). SQLite runs one writer at a time
    anyway, so there the plain statements do.
    """
    key = {"branch_id": ticket["branch_id"], "prefix": ticket["prefix"], "day": ticket["day"]}
    if connection.dialect.name != "postgresql":
        number = await next_ticket_number(connection, **key)
        await connection.execute(t.tickets.insert().values(**ticket, number=number))
        await connection.execute(t.ticket_events.insert().values(**event))
        return
    numbers = t.ticket_numbers
    numbered = (
        postgresql.insert(numbers)
        .values(**key, last_number=1)
        .on_conflict_do_update(
            index_elements=["branch_id", "prefix", "day"],
            set_={"last_number": numbers.c.last_number + 1},
        )
        .returning(numbers.c.last_number)
        .cte("numbered")
    )
    ticket_columns = list(ticket)
    inserted = (
        t.tickets.insert()
        .from_select(
            [*ticket_columns, "number"],
            select(
                *(literal(ticket[name], t.tickets.c[name].type) for name in ticket_columns),
                numbered.c.last_number,
            ),
        )
        .returning(t.tickets.c.id)
        .cte("inserted")
    )
    event_columns = [name for name in event if name != "ticket_id"]
    await connection.execute(
        t.ticket_events.insert().from_select(
            [*event_columns, "ticket_id"],
            select(
                *(literal(event[name], t.ticket_events.c[name].type) for name in event_columns),
                inserted.c.id,
            ),
        )
    )
