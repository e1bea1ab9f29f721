"""The schema, in SQLAlchemy Core.

Invariants that must survive concurrency live here as constraints (design.md §3):
gap-free daily numbers (``ticket_numbers`` + the unique number per branch, prefix and
day), slot capacity (``slot_places`` CHECK), tenant ownership (``company_id`` on every
row reachable from the API), customer ``externalId`` unique per company.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.sql.elements import ColumnElement

from taboor.db.types import BigIntKey, JSONDocument, UTCDateTime

# Stable constraint names, so migrations can refer to them on both databases.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

TICKET_STATUSES = ("upcoming", "waiting", "called", "serving", "served", "cancelled", "no_show")
TICKET_TYPES = ("sequential", "appointment")
KEY_KINDS = ("public", "secret")
ACTOR_KINDS = ("api_key", "staff", "system")
EVENT_SOURCES = ("external_api", "staff", "kiosk", "system")
ACTIVE_STATUSES = ("upcoming", "waiting", "called", "serving")
# ``status = 'waiting'`` for statements that read queues: written into the SQL, not
# bound. PostgreSQL costs a prepared statement's generic plan without its parameters'
# values, so for ``status = $n`` it guessed a share of all tickets (waiting ones are a
# few of them), found the generic plan dear and planned such statements anew at every
# execution: the call-next statement spent 1.3-2.3 ms of its 2.5-4 ms planning
# (bench/README.md).
WAITING: ColumnElement[str] = literal_column("'waiting'", String())
STAFF_ROLES = ("admin", "agent")
THROTTLE_SCOPES = ("account", "address")
DEFAULT_NO_SHOW_GRACE_MINUTES = 15


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


ACTIVE_TICKET = "customer_id IS NOT NULL AND " + _in("status", ACTIVE_STATUSES)


def _company_fk() -> Column[str]:
    return Column(
        "company_id", String(40), ForeignKey("companies.id", ondelete="CASCADE"), nullable=False
    )


companies = Table(
    "companies",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("default_locale", String(8), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # From the company file's `limits`/`cors`: requests per minute per API key and per
    # client address (NULL: unlimited), and the browser origins its public keys serve.
    Column("rate_limit_per_key", Integer, nullable=True),
    Column("rate_limit_per_address", Integer, nullable=True),
    Column("cors_origins", JSONDocument, nullable=True),
    CheckConstraint(
        "(rate_limit_per_key IS NULL OR rate_limit_per_key > 0) AND "
        "(rate_limit_per_address IS NULL OR rate_limit_per_address > 0)",
        name="rate_limits",
    ),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(24), primary_key=True),
    _company_fk(),
    Column("kind", String(8), nullable=False),
    Column("name", Text, nullable=True),
    # SHA-256 of the whole key: keys carry >= 190 random bits, so a fast hash is safe
    # and lets us find the key by an indexed equality lookup.
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("key_hint", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    CheckConstraint(_in("kind", KEY_KINDS), name="kind"),
    Index(None, "company_id"),
)

branches = Table(
    "branches",
    metadata,
    Column("id", String(10), primary_key=True),
    _company_fk(),
    Column("name", JSONDocument, nullable=False),
    Column("address", JSONDocument, nullable=True),
    Column("lat", Float, nullable=True),
    Column("lng", Float, nullable=True),
    Column("timezone", String(64), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("hours", JSONDocument, nullable=False),
    Column("position", Integer, nullable=False),
    CheckConstraint("lat IS NULL OR (lat >= -90 AND lat <= 90)", name="lat"),
    CheckConstraint("lng IS NULL OR (lng >= -180 AND lng <= 180)", name="lng"),
    Index(None, "company_id", "active"),
)

branch_closures = Table(
    "branch_closures",
    metadata,
    Column(
        "branch_id", String(10), ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("day", Date, primary_key=True),
    Column("reason", JSONDocument, nullable=True),
)

service_groups = Table(
    "service_groups",
    metadata,
    Column("id", String(10), primary_key=True),
    _company_fk(),
    Column("branch_id", String(10), ForeignKey("branches.id", ondelete="CASCADE"), nullable=False),
    Column("name", JSONDocument, nullable=False),
    Column("position", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Index(None, "branch_id"),
)

services = Table(
    "services",
    metadata,
    Column("id", String(10), primary_key=True),
    _company_fk(),
    Column("branch_id", String(10), ForeignKey("branches.id", ondelete="CASCADE"), nullable=False),
    Column(
        "group_id", String(10), ForeignKey("service_groups.id", ondelete="CASCADE"), nullable=False
    ),
    Column("name", JSONDocument, nullable=False),
    Column("position", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("prefix", String(3), nullable=False),
    Column("walk_in", Boolean, nullable=False),
    Column("walk_in_hours", JSONDocument, nullable=True),
    Column("avg_service_minutes", Integer, nullable=False),
    # The appointment block: all NULL when the service takes no appointments.
    Column("appointment_prefix", String(3), nullable=True),
    Column("slot_minutes", Integer, nullable=True),
    Column("slot_capacity", Integer, nullable=True),
    Column("horizon_days", Integer, nullable=True),
    Column("min_notice_minutes", Integer, nullable=True),
    Column("appointment_hours", JSONDocument, nullable=True),
    # An upcoming appointment not checked in by time + grace becomes a no-show.
    Column(
        "no_show_grace_minutes",
        Integer,
        nullable=False,
        server_default=text(str(DEFAULT_NO_SHOW_GRACE_MINUTES)),
    ),
    CheckConstraint("avg_service_minutes > 0", name="avg_service_minutes"),
    CheckConstraint("no_show_grace_minutes >= 0", name="no_show_grace_minutes"),
    CheckConstraint(
        "(appointment_prefix IS NULL AND slot_minutes IS NULL AND slot_capacity IS NULL"
        " AND horizon_days IS NULL AND min_notice_minutes IS NULL)"
        " OR (appointment_prefix IS NOT NULL AND slot_minutes > 0 AND slot_capacity > 0"
        " AND horizon_days >= 1 AND min_notice_minutes >= 0)",
        name="appointment_block",
    ),
    Index(None, "group_id"),
    Index(None, "branch_id"),
)

counters = Table(
    "counters",
    metadata,
    Column("id", String(10), primary_key=True),
    _company_fk(),
    Column("branch_id", String(10), ForeignKey("branches.id", ondelete="CASCADE"), nullable=False),
    Column("name", JSONDocument, nullable=False),
    Column("position", Integer, nullable=False),
    # The staff user working the counter; NULL = closed. UNIQUE: an agent holds one
    # counter at a time, whatever races to open two.
    Column(
        "held_by",
        String(24),
        ForeignKey("staff_users.id", ondelete="SET NULL"),
        nullable=True,
        unique=True,
    ),
    Column("opened_at", UTCDateTime, nullable=True),
    CheckConstraint("(held_by IS NULL) = (opened_at IS NULL)", name="open_state"),
    Index(None, "branch_id"),
)

counter_services = Table(
    "counter_services",
    metadata,
    Column(
        "counter_id", String(10), ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "service_id", String(10), ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    ),
    # Which of the services it may take (the company file) it takes now (the agent's choice).
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Index(None, "service_id"),
)

customers = Table(
    "customers",
    metadata,
    Column("id", String(32), primary_key=True),
    _company_fk(),
    Column("external_id", String(64), nullable=True),
    Column("name", String(120), nullable=True),
    Column("email", String(254), nullable=True),
    Column("mobile", String(16), nullable=True),
    Column("metadata", JSONDocument, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # NULLs are distinct on both databases, so customers without externalId never collide.
    UniqueConstraint("company_id", "external_id"),
    # Newest-first pagination walks this index.
    Index(None, "company_id", "created_at", "id"),
)

# How many customers each company has, kept in step by the same transaction that
# creates or deletes one, so paging never has to count 100 000 rows.
customer_counts = Table(
    "customer_counts",
    metadata,
    Column(
        "company_id", String(40), ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("total", Integer, nullable=False),
    CheckConstraint("total >= 0", name="total"),
)

# One row per (branch, prefix, local day), bumped by a single upsert inside the booking
# transaction: a rolled-back booking rolls its number back too, so numbers never gap.
ticket_numbers = Table(
    "ticket_numbers",
    metadata,
    Column(
        "branch_id", String(10), ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("prefix", String(3), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("last_number", Integer, nullable=False),
    CheckConstraint("last_number >= 0", name="last_number"),
)

# Places taken per appointment slot; the CHECK makes overbooking impossible even for a
# statement that forgets its ``WHERE taken < capacity``.
slot_places = Table(
    "slot_places",
    metadata,
    Column(
        "service_id", String(10), ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("starts_at", UTCDateTime, primary_key=True),
    Column("capacity", Integer, nullable=False),
    Column("taken", Integer, nullable=False),
    CheckConstraint("taken >= 0 AND taken <= capacity", name="taken_within_capacity"),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", String(10), primary_key=True),
    _company_fk(),
    Column("branch_id", String(10), ForeignKey("branches.id", ondelete="CASCADE"), nullable=False),
    Column(
        "group_id", String(10), ForeignKey("service_groups.id", ondelete="CASCADE"), nullable=False
    ),
    Column("service_id", String(10), ForeignKey("services.id", ondelete="CASCADE"), nullable=False),
    Column(
        "customer_id", String(32), ForeignKey("customers.id", ondelete="SET NULL"), nullable=True
    ),
    Column("counter_id", String(10), ForeignKey("counters.id", ondelete="SET NULL"), nullable=True),
    Column("type", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("prefix", String(3), nullable=False),
    # The local day the number belongs to (kept when an appointment moves).
    Column("day", Date, nullable=False),
    Column("number", Integer, nullable=False),
    # The local day the ticket is for: the walk-in's day, the appointment's day.
    Column("service_day", Date, nullable=False),
    Column("time", UTCDateTime, nullable=True),
    # Queue order: the appointment time for appointments, the booking time for walk-ins.
    Column("queue_at", UTCDateTime, nullable=False),
    Column("status_at", UTCDateTime, nullable=False),
    Column("booked_at", UTCDateTime, nullable=False),
    # When serving began; with status_at of a served ticket it gives the real service
    # time the waiting-time estimate learns from.
    Column("serving_at", UTCDateTime, nullable=True),
    Column("options", JSONDocument, nullable=True),
    Column("lat", Float, nullable=True),
    Column("lng", Float, nullable=True),
    CheckConstraint(_in("status", TICKET_STATUSES), name="status"),
    CheckConstraint(_in("type", TICKET_TYPES), name="type"),
    CheckConstraint("number > 0", name="number"),
    CheckConstraint(
        "(type = 'appointment' AND time IS NOT NULL) OR (type = 'sequential' AND time IS NULL)",
        name="time_matches_type",
    ),
    UniqueConstraint("branch_id", "prefix", "day", "number"),
    # One active ticket per customer, service and day (spec §2, decided), enforced here
    # so two concurrent bookings by the same customer cannot both pass.
    Index(
        "uq_tickets_one_active_per_customer",
        "customer_id",
        "service_id",
        "service_day",
        unique=True,
        sqlite_where=text(ACTIVE_TICKET),
        postgresql_where=text(ACTIVE_TICKET),
    ),
    # Queue order (queue_at, number, id) in full, so a queue position is counted from
    # the index alone.
    Index(None, "service_id", "status", "queue_at", "number", "id"),
    Index(None, "service_id", "status", "status_at"),
    Index(None, "company_id", "customer_id", "booked_at"),
)

ticket_events = Table(
    "ticket_events",
    metadata,
    Column("id", BigIntKey, primary_key=True, autoincrement=True),
    _company_fk(),
    Column("ticket_id", String(10), ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("actor_id", String(64), nullable=True),
    Column("source", String(16), nullable=False),
    CheckConstraint(_in("to_status", TICKET_STATUSES), name="to_status"),
    CheckConstraint(_in("actor_kind", ACTOR_KINDS), name="actor_kind"),
    CheckConstraint(_in("source", EVENT_SOURCES), name="source"),
    Index(None, "ticket_id", "id"),
)

staff_users = Table(
    "staff_users",
    metadata,
    Column("id", String(24), primary_key=True),
    _company_fk(),
    # Unique across the server (stored lower-cased): a login names no company.
    Column("username", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("role", String(8), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint(_in("role", STAFF_ROLES), name="role"),
    Index(None, "company_id"),
)

staff_branches = Table(
    "staff_branches",
    metadata,
    Column(
        "staff_id", String(24), ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "branch_id", String(10), ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True
    ),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column(
        "staff_id", String(24), ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
    ),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index(None, "staff_id"),
)

# Failed logins counted per account and per client address in fixed windows, bumped by
# one atomic upsert so concurrent attempts (any number of processes) all count.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("scope", String(8), primary_key=True),
    Column("subject", String(128), primary_key=True),
    Column("window_started_at", UTCDateTime, nullable=False),
    Column("failures", Integer, nullable=False),
    CheckConstraint(_in("scope", THROTTLE_SCOPES), name="scope"),
    CheckConstraint("failures >= 0", name="failures"),
)

# Requests counted per API key and per client address in fixed one-minute windows, by
# one atomic upsert per request, so every server process spends one shared budget.
rate_limit_counters = Table(
    "rate_limit_counters",
    metadata,
    Column("scope", String(8), primary_key=True),
    Column("subject", String(128), primary_key=True),
    Column("window_started_at", UTCDateTime, nullable=False),
    Column("hits", Integer, nullable=False),
    CheckConstraint("scope IN ('key', 'address')", name="scope"),
    CheckConstraint("hits >= 0", name="hits"),
)

# Idempotency-Key records (spec §4): the response of a POST/PUT/DELETE, written in the
# same transaction as its effect, replayed for the same key and body within 24 hours.
# ``scope`` is whose key it is (an API key or a staff user), so keys never collide
# across callers.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response_body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "created_at"),
)
