"""INSERT … ON CONFLICT DO UPDATE for both databases (same SQL, two dialect builders)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


async def upsert(
    connection: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    only_if_same: str | None = None,
) -> None:
    """Insert ``rows``, updating the non-key columns of rows whose ``key`` exists.

    ``only_if_same`` names a column that must already match for the update to happen —
    used with ``company_id`` so a row of one company is never taken over by another.
    """
    if not rows:
        return
    builder = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = builder(table).values(list(rows))
    updates = {name: statement.excluded[name] for name in rows[0] if name not in key}
    where = table.c[only_if_same] == statement.excluded[only_if_same] if only_if_same else None
    if updates:
        statement = statement.on_conflict_do_update(index_elements=key, set_=updates, where=where)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=key)
    await connection.execute(statement)


async def increment(
    connection: AsyncConnection,
    table: Table,
    key: dict[str, Any],
    column: str,
    by: int,
) -> None:
    """Add ``by`` (> 0) to a counter row in one atomic statement, creating the row at
    ``by`` when missing. Concurrent increments queue on the row lock; none is lost.
    (Not for decrements: SQLite checks CHECK constraints on the would-be inserted row
    before resolving the conflict, so a negative first value fails there.)"""
    if by <= 0:
        raise ValueError("increment needs a positive amount; decrement with an UPDATE")
    builder = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = builder(table).values(**key, **{column: by})
    statement = statement.on_conflict_do_update(
        index_elements=list(key), set_={column: table.c[column] + by}
    )
    await connection.execute(statement)
