"""staff accounts and counter state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from taboor.db.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("window_started_at", UTCDateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.CheckConstraint("scope IN ('account', 'address')", name=op.f("ck_login_throttle_scope")),
        sa.CheckConstraint("failures >= 0", name=op.f("ck_login_throttle_failures")),
        sa.PrimaryKeyConstraint("scope", "subject", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "staff_users",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'agent')", name=op.f("ck_staff_users_role")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_staff_users_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_users_company_id"), ["company_id"], unique=False)

    op.create_table(
        "staff_branches",
        sa.Column("staff_id", sa.String(length=24), nullable=False),
        sa.Column("branch_id", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_staff_branches_branch_id_branches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_branches_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_id", "branch_id", name=op.f("pk_staff_branches")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.String(length=24), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_sessions_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
    )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_sessions_staff_id"), ["staff_id"], unique=False)

    with op.batch_alter_table("counter_services", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False)
        )

    with op.batch_alter_table("counters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_by", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("opened_at", UTCDateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_counters_held_by"), ["held_by"])
        batch_op.create_foreign_key(
            batch_op.f("fk_counters_held_by_staff_users"),
            "staff_users",
            ["held_by"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_counters_open_state"), "(held_by IS NULL) = (opened_at IS NULL)"
        )

    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "no_show_grace_minutes", sa.Integer(), server_default=sa.text("15"), nullable=False
            )
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_services_no_show_grace_minutes"), "no_show_grace_minutes >= 0"
        )


def downgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_services_no_show_grace_minutes"), type_="check")
        batch_op.drop_column("no_show_grace_minutes")

    with op.batch_alter_table("counters", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_counters_open_state"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_counters_held_by_staff_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_counters_held_by"), type_="unique")
        batch_op.drop_column("opened_at")
        batch_op.drop_column("held_by")

    with op.batch_alter_table("counter_services", schema=None) as batch_op:
        batch_op.drop_column("enabled")

    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_sessions_staff_id"))

    op.drop_table("staff_sessions")
    op.drop_table("staff_branches")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_users_company_id"))

    op.drop_table("staff_users")
    op.drop_table("login_throttle")
