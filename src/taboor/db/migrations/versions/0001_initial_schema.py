"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from taboor.db.types import UTCDateTime

# Frozen here (not imported from tables.py) so this revision never changes meaning.
ACTIVE_TICKET = "customer_id IS NOT NULL AND status IN ('upcoming', 'waiting', 'called', 'serving')"

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "companies",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("default_locale", sa.String(length=8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_hint", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('public', 'secret')", name=op.f("ck_api_keys_kind")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_api_keys_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_company_id"), ["company_id"], unique=False)

    op.create_table(
        "branches",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column(
            "name",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "address",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "hours",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "lat IS NULL OR (lat >= -90 AND lat <= 90)", name=op.f("ck_branches_lat")
        ),
        sa.CheckConstraint(
            "lng IS NULL OR (lng >= -180 AND lng <= 180)", name=op.f("ck_branches_lng")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_branches_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branches")),
    )
    with op.batch_alter_table("branches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_branches_company_id_active"), ["company_id", "active"], unique=False
        )

    op.create_table(
        "customers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("mobile", sa.String(length=16), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_customers_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint(
            "company_id", "external_id", name=op.f("uq_customers_company_id_external_id")
        ),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customers_company_id_created_at_id"),
            ["company_id", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "branch_closures",
        sa.Column("branch_id", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "reason",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_branch_closures_branch_id_branches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("branch_id", "day", name=op.f("pk_branch_closures")),
    )
    op.create_table(
        "counters",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column("branch_id", sa.String(length=10), nullable=False),
        sa.Column(
            "name",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_counters_branch_id_branches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_counters_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counters")),
    )
    with op.batch_alter_table("counters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_counters_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "service_groups",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column("branch_id", sa.String(length=10), nullable=False),
        sa.Column(
            "name",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_service_groups_branch_id_branches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_service_groups_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_groups")),
    )
    with op.batch_alter_table("service_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_groups_branch_id"), ["branch_id"], unique=False
        )

    op.create_table(
        "customer_counts",
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.CheckConstraint("total >= 0", name=op.f("ck_customer_counts_total")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_customer_counts_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_customer_counts")),
    )
    op.create_table(
        "ticket_numbers",
        sa.Column("branch_id", sa.String(length=10), nullable=False),
        sa.Column("prefix", sa.String(length=3), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.CheckConstraint("last_number >= 0", name=op.f("ck_ticket_numbers_last_number")),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_ticket_numbers_branch_id_branches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("branch_id", "prefix", "day", name=op.f("pk_ticket_numbers")),
    )
    op.create_table(
        "services",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column("branch_id", sa.String(length=10), nullable=False),
        sa.Column("group_id", sa.String(length=10), nullable=False),
        sa.Column(
            "name",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("prefix", sa.String(length=3), nullable=False),
        sa.Column("walk_in", sa.Boolean(), nullable=False),
        sa.Column(
            "walk_in_hours",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("avg_service_minutes", sa.Integer(), nullable=False),
        sa.Column("appointment_prefix", sa.String(length=3), nullable=True),
        sa.Column("slot_minutes", sa.Integer(), nullable=True),
        sa.Column("slot_capacity", sa.Integer(), nullable=True),
        sa.Column("horizon_days", sa.Integer(), nullable=True),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=True),
        sa.Column(
            "appointment_hours",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "(appointment_prefix IS NULL AND slot_minutes IS NULL AND slot_capacity IS NULL AND horizon_days IS NULL AND min_notice_minutes IS NULL) OR (appointment_prefix IS NOT NULL AND slot_minutes > 0 AND slot_capacity > 0 AND horizon_days >= 1 AND min_notice_minutes >= 0)",
            name=op.f("ck_services_appointment_block"),
        ),
        sa.CheckConstraint("avg_service_minutes > 0", name=op.f("ck_services_avg_service_minutes")),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_services_branch_id_branches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_services_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["service_groups.id"],
            name=op.f("fk_services_group_id_service_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
    )
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_services_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_services_group_id"), ["group_id"], unique=False)

    op.create_table(
        "counter_services",
        sa.Column("counter_id", sa.String(length=10), nullable=False),
        sa.Column("service_id", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["counter_id"],
            ["counters.id"],
            name=op.f("fk_counter_services_counter_id_counters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_counter_services_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("counter_id", "service_id", name=op.f("pk_counter_services")),
    )
    with op.batch_alter_table("counter_services", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_counter_services_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "slot_places",
        sa.Column("service_id", sa.String(length=10), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "taken >= 0 AND taken <= capacity", name=op.f("ck_slot_places_taken_within_capacity")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_slot_places_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", "starts_at", name=op.f("pk_slot_places")),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column("branch_id", sa.String(length=10), nullable=False),
        sa.Column("group_id", sa.String(length=10), nullable=False),
        sa.Column("service_id", sa.String(length=10), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("counter_id", sa.String(length=10), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("prefix", sa.String(length=3), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("service_day", sa.Date(), nullable=False),
        sa.Column("time", UTCDateTime(), nullable=True),
        sa.Column("queue_at", UTCDateTime(), nullable=False),
        sa.Column("status_at", UTCDateTime(), nullable=False),
        sa.Column("booked_at", UTCDateTime(), nullable=False),
        sa.Column("serving_at", UTCDateTime(), nullable=True),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "(type = 'appointment' AND time IS NOT NULL) OR (type = 'sequential' AND time IS NULL)",
            name=op.f("ck_tickets_time_matches_type"),
        ),
        sa.CheckConstraint(
            "status IN ('upcoming', 'waiting', 'called', 'serving', 'served', 'cancelled', 'no_show')",
            name=op.f("ck_tickets_status"),
        ),
        sa.CheckConstraint("type IN ('sequential', 'appointment')", name=op.f("ck_tickets_type")),
        sa.CheckConstraint("number > 0", name=op.f("ck_tickets_number")),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_tickets_branch_id_branches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_tickets_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"],
            ["counters.id"],
            name=op.f("fk_tickets_counter_id_counters"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_tickets_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["service_groups.id"],
            name=op.f("fk_tickets_group_id_service_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_tickets_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint(
            "branch_id",
            "prefix",
            "day",
            "number",
            name=op.f("uq_tickets_branch_id_prefix_day_number"),
        ),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tickets_company_id_customer_id_booked_at"),
            ["company_id", "customer_id", "booked_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_tickets_service_id_status_queue_at_number_id"),
            ["service_id", "status", "queue_at", "number", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_tickets_service_id_status_status_at"),
            ["service_id", "status", "status_at"],
            unique=False,
        )
        batch_op.create_index(
            "uq_tickets_one_active_per_customer",
            ["customer_id", "service_id", "service_day"],
            unique=True,
            sqlite_where=sa.text(ACTIVE_TICKET),
            postgresql_where=sa.text(ACTIVE_TICKET),
        )

    op.create_table(
        "ticket_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.String(length=10), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "actor_kind IN ('api_key', 'staff', 'system')", name=op.f("ck_ticket_events_actor_kind")
        ),
        sa.CheckConstraint(
            "source IN ('external_api', 'staff', 'kiosk', 'system')",
            name=op.f("ck_ticket_events_source"),
        ),
        sa.CheckConstraint(
            "to_status IN ('upcoming', 'waiting', 'called', 'serving', 'served', 'cancelled', 'no_show')",
            name=op.f("ck_ticket_events_to_status"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_ticket_events_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_events_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
    )
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ticket_events_ticket_id_id"), ["ticket_id", "id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_events_ticket_id_id"))

    op.drop_table("ticket_events")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("uq_tickets_one_active_per_customer")
        batch_op.drop_index(batch_op.f("ix_tickets_service_id_status_status_at"))
        batch_op.drop_index(batch_op.f("ix_tickets_service_id_status_queue_at_number_id"))
        batch_op.drop_index(batch_op.f("ix_tickets_company_id_customer_id_booked_at"))

    op.drop_table("tickets")
    op.drop_table("slot_places")
    with op.batch_alter_table("counter_services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counter_services_service_id"))

    op.drop_table("counter_services")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_services_group_id"))
        batch_op.drop_index(batch_op.f("ix_services_branch_id"))

    op.drop_table("services")
    op.drop_table("ticket_numbers")
    op.drop_table("customer_counts")
    with op.batch_alter_table("service_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_groups_branch_id"))

    op.drop_table("service_groups")
    with op.batch_alter_table("counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counters_branch_id"))

    op.drop_table("counters")
    op.drop_table("branch_closures")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_company_id_created_at_id"))

    op.drop_table("customers")
    with op.batch_alter_table("branches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_branches_company_id_active"))

    op.drop_table("branches")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_company_id"))

    op.drop_table("api_keys")
    op.drop_table("companies")
