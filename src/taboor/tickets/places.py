"""Ticket numbers and appointment places: the two counters booking must never get wrong.

Both are single atomic statements on a counter row, run inside the booking transaction:
a booking that fails later rolls its number and its place back with it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update
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
