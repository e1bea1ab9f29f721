"""Migrations: the migrated schema is the declared schema, and history is one straight line."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, String, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db.migrate import alembic_config, current_revision, head_revision
from taboor.db.tables import metadata


def _differences(connection: Connection, target: MetaData = metadata) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, target))


def _with_extra_column() -> MetaData:
    """A copy of the schema with one column the database does not have."""
    copy = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(copy)
    copy.tables["tickets"].append_column(Column("colour", String(8), nullable=True))
    return copy


async def test_migrated_schema_matches_the_tables_module(engine: AsyncEngine) -> None:
    """Autogenerate finds nothing to add, drop or alter after upgrade to head."""
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


async def test_comparison_notices_a_drifted_schema(engine: AsyncEngine) -> None:
    """Control: the same comparison does report a column missing from the database."""
    drifted = _with_extra_column()
    async with engine.connect() as connection:
        differences = await connection.run_sync(lambda sync: _differences(sync, drifted))
    assert [(d[0], d[2], d[3].name) for d in differences] == [("add_column", "tickets", "colour")]


async def test_every_declared_table_exists(engine: AsyncEngine) -> None:
    """The migrated database holds every table of the metadata (plus alembic_version)."""
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert names == set(metadata.tables) | {"alembic_version"}


async def test_database_is_at_head(engine: AsyncEngine) -> None:
    """The fixture's database reports the newest revision of the migrations directory."""
    head = head_revision()
    assert head is not None
    assert await current_revision(engine) == head


def test_history_is_linear_with_one_head() -> None:
    """One head, one base, each revision with at most one parent and one child."""
    scripts = ScriptDirectory.from_config(alembic_config(""))
    assert len(scripts.get_heads()) == 1
    assert len(scripts.get_bases()) == 1
    revisions = list(scripts.walk_revisions())
    children: dict[str, list[str]] = {revision.revision: [] for revision in revisions}
    for revision in revisions:
        parent = revision.down_revision
        assert parent is None or isinstance(parent, str), (
            f"{revision.revision} is a merge of {parent}"
        )
        assert not revision.dependencies, f"{revision.revision} has depends_on"
        if parent is not None:
            assert parent in children, f"{revision.revision} revises unknown {parent}"
            children[parent].append(revision.revision)
    assert all(len(kids) <= 1 for kids in children.values()), children
    # Walking from head down reaches every revision exactly once.
    chain = []
    current: str | None = scripts.get_current_head()
    while current is not None:
        chain.append(current)
        script = scripts.get_revision(current)
        assert script is not None
        current = script.down_revision  # type: ignore[assignment]
    assert sorted(chain) == sorted(children)
    assert chain[0] == head_revision()


async def test_the_queue_tables_are_vacuumed_after_a_thousand_changes(
    engine: AsyncEngine,
) -> None:
    """PostgreSQL: migration 0004's storage parameters are on the queue tables (the
    default, a fifth of the table, would leave a year of tickets unvacuumed for days).
    SQLite has no such parameters: nothing to set."""
    if engine.dialect.name != "postgresql":
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert {"tickets", "ticket_numbers"} <= tables  # the migration ran and changed nothing
        return
    async with engine.connect() as connection:
        rows = await connection.exec_driver_sql(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN "
            "('tickets', 'ticket_events', 'ticket_numbers', 'slot_places') AND relkind = 'r'"
        )
        options = {name: set(values or []) for name, values in rows}
    assert {"autovacuum_vacuum_scale_factor=0", "autovacuum_vacuum_threshold=1000"} <= options[
        "tickets"
    ]
    assert "autovacuum_vacuum_insert_threshold=1000" in options["tickets"]
    assert "autovacuum_vacuum_insert_threshold=5000" in options["ticket_events"]
    assert "autovacuum_vacuum_threshold=1000" in options["ticket_numbers"]
    assert "autovacuum_vacuum_threshold=1000" in options["slot_places"]
