"""autovacuum for the queue tables (PostgreSQL)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

The queue's rows change all day: a ticket's status several times, a day's number row
at every booking, a slot's places at every appointment. PostgreSQL's defaults vacuum a
table once a fifth of it has changed, which for a year of tickets means days; until
then the counts of a queue (index-only scans over the waiting range) visit the heap
for every page a change touched and step over dead entries, and the number row drags
its dead versions. Measured on the bench company (bench/README.md): walk-ins at 128
clients fell from 1 026 to 693-743 requests/s over five runs of 15 s on one database
(autovacuum off) and came back to 884 after a VACUUM. These tables are vacuumed after about a thousand changes instead (a cheap
pass: only the pages that changed are visited). SQLite has no vacuum of this kind:
nothing to do there.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Table -> storage parameters. Thresholds instead of fractions of the table: a table
# that grows every day should not be vacuumed less often as it grows.
SETTINGS: dict[str, dict[str, str]] = {
    "tickets": {
        "autovacuum_vacuum_scale_factor": "0",
        "autovacuum_vacuum_threshold": "1000",
        "autovacuum_vacuum_insert_scale_factor": "0",
        "autovacuum_vacuum_insert_threshold": "1000",
        "autovacuum_analyze_scale_factor": "0.02",
    },
    "ticket_events": {
        "autovacuum_vacuum_insert_scale_factor": "0",
        "autovacuum_vacuum_insert_threshold": "5000",
    },
    "ticket_numbers": {
        "autovacuum_vacuum_scale_factor": "0",
        "autovacuum_vacuum_threshold": "1000",
    },
    "slot_places": {
        "autovacuum_vacuum_scale_factor": "0",
        "autovacuum_vacuum_threshold": "1000",
    },
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, settings in SETTINGS.items():
        values = ", ".join(f"{name} = {value}" for name, value in settings.items())
        op.execute(f"ALTER TABLE {table} SET ({values})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, settings in SETTINGS.items():
        op.execute(f"ALTER TABLE {table} RESET ({', '.join(settings)})")
