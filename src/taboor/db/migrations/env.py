"""Alembic environment: runs migrations on our async engines, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from taboor.db.engine import WRITE_OPTION, create_engine
from taboor.db.tables import metadata

# Any constant: serializes concurrent `taboor migrate` runs against one PostgreSQL.
MIGRATION_LOCK_ID = 0x7AB0_0001


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        context.run_migrations()


async def _run_online(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # SQLite alters a table by copying it and dropping the original; with
                # foreign keys enforced, that drop would cascade into the rows that
                # point at it (a ticket's service, a counter's services). The switch
                # only works outside a transaction, hence the raw connection; the
                # engine is disposed of below, so it never reaches the app.
                raw = await connection.get_raw_connection()
                await raw.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            await connection.execution_options(**{WRITE_OPTION: True})
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


url = context.config.attributes.get("database_url") or context.config.get_main_option(
    "sqlalchemy.url"
)
if not url:
    raise RuntimeError("no database URL given to the migration environment")
asyncio.run(_run_online(url))
