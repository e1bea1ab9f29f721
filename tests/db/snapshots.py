"""Whole-database snapshots for tests that must prove "exactly these rows" or "nothing"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db.tables import metadata

Snapshot = dict[str, list[dict[str, Any]]]


def _sort_key(row: dict[str, Any], keys: list[str]) -> tuple[str, ...]:
    return tuple(str(row[name]) for name in keys)


async def snapshot(engine: AsyncEngine) -> Snapshot:
    """Every row of every table, as dicts, in primary-key order."""
    result: Snapshot = {}
    async with engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows = [dict(row) for row in (await connection.execute(select(table))).mappings()]
            keys = [column.name for column in table.primary_key.columns]
            result[table.name] = sorted(rows, key=lambda row, keys=keys: _sort_key(row, keys))
    return result


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    """Number of rows in every table."""
    counts: dict[str, int] = {}
    async with engine.connect() as connection:
        for table in metadata.sorted_tables:
            counts[table.name] = int(
                await connection.scalar(select(func.count()).select_from(table)) or 0
            )
    return counts


def empty_counts(**nonzero: int) -> dict[str, int]:
    """Counts for every table: zero except those given."""
    counts = {table.name: 0 for table in metadata.sorted_tables}
    unknown = set(nonzero) - set(counts)
    assert not unknown, f"no such tables: {unknown}"
    counts.update(nonzero)
    return counts


# Row counts after applying tests/fixtures/companies/bank.yaml to an empty database.
BANK_COUNTS = empty_counts(
    companies=1,
    branches=4,
    branch_closures=1,
    service_groups=6,
    services=9,
    counters=1,
    counter_services=2,
)


def changed_cells(before: Snapshot, after: Snapshot) -> set[tuple[str, str, str]]:
    """(table, row primary key, column) of every cell that differs; rows that appear or
    disappear are reported with column '*'."""
    changes: set[tuple[str, str, str]] = set()
    for table in metadata.sorted_tables:
        keys = [column.name for column in table.primary_key.columns]
        old = {"/".join(_sort_key(row, keys)): row for row in before[table.name]}
        new = {"/".join(_sort_key(row, keys)): row for row in after[table.name]}
        for key in old.keys() ^ new.keys():
            changes.add((table.name, key, "*"))
        for key in old.keys() & new.keys():
            changes.update(
                (table.name, key, column)
                for column in old[key]
                if old[key][column] != new[key][column]
            )
    return changes
