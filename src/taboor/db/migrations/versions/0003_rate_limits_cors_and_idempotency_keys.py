"""rate limits, cors and idempotency keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from taboor.db.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_keys")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_keys_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "rate_limit_counters",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("window_started_at", UTCDateTime(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "scope IN ('key', 'address')", name=op.f("ck_rate_limit_counters_scope")
        ),
        sa.CheckConstraint("hits >= 0", name=op.f("ck_rate_limit_counters_hits")),
        sa.PrimaryKeyConstraint("scope", "subject", name=op.f("pk_rate_limit_counters")),
    )
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rate_limit_per_key", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rate_limit_per_address", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "cors_origins",
                sa.JSON(none_as_null=True).with_variant(
                    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
                ),
                nullable=True,
            )
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_companies_rate_limits"),
            "(rate_limit_per_key IS NULL OR rate_limit_per_key > 0) AND "
            "(rate_limit_per_address IS NULL OR rate_limit_per_address > 0)",
        )


def downgrade() -> None:
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_companies_rate_limits"), type_="check")
        batch_op.drop_column("cors_origins")
        batch_op.drop_column("rate_limit_per_address")
        batch_op.drop_column("rate_limit_per_key")

    op.drop_table("rate_limit_counters")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_created_at"))

    op.drop_table("idempotency_keys")
