"""Runtime settings, read once from the environment.

Only what differs between deployments lives here; everything about a company lives in
its company file (see ``taboor.setup``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///./taboor.db"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # A pool per process: the server runs one process per worker.
    db_pool_size: int = 10
    log_level: str = "info"
    # How often each server process sweeps overdue appointments into no-show
    # (taboor.tickets.no_show); 0 turns the sweep off.
    no_show_interval_seconds: float = 30.0
    # How often each server process prunes expired idempotency keys and ended rate-limit
    # and login windows (taboor.ops.housekeeping); 0 turns it off.
    housekeeping_interval_seconds: float = 600.0
    # How long a process may remember a resolved API key (PostgreSQL only; revocations
    # reach every process at once by notification, see taboor.keys.cache); 0 = never.
    key_cache_seconds: float = 60.0
    # json or text: the app then configures every logger itself (taboor.ops.logs);
    # None leaves logging to the framework's defaults. `taboor serve` defaults to json.
    log_format: str | None = None
    # How long `taboor serve` lets workers finish in-flight requests after SIGTERM
    # before killing them; 0 waits as long as they take.
    shutdown_timeout_seconds: float = 25.0
    # Live streams (taboor.live, docs/live.md). Each process tails ticket_events while
    # someone watches: every this many seconds without Redis, so a display shows a call
    # within a second.
    live_poll_seconds: float = 0.25
    # With Redis, writers wake every process at once; the poll stays as a safety net.
    live_safety_poll_seconds: float = 5.0
    # A comment line this often keeps proxies and browsers from closing a quiet stream.
    live_heartbeat_seconds: float = 15.0
    # redis://… : wake-ups across processes by pub/sub. None: polling only.
    redis_url: str | None = None

    @classmethod
    def from_env(cls, database_url: str | None = None) -> Settings:
        return cls(
            database_url=database_url
            or os.environ.get("TABOOR_DATABASE_URL")
            or DEFAULT_DATABASE_URL,
            db_pool_size=int(os.environ.get("TABOOR_DB_POOL_SIZE", "10")),
            log_level=os.environ.get("TABOOR_LOG_LEVEL", "info"),
            no_show_interval_seconds=_seconds("TABOOR_NO_SHOW_INTERVAL_SECONDS", 30.0),
            housekeeping_interval_seconds=_seconds("TABOOR_HOUSEKEEPING_INTERVAL_SECONDS", 600.0),
            key_cache_seconds=_seconds("TABOOR_KEY_CACHE_SECONDS", 60.0),
            log_format=os.environ.get("TABOOR_LOG_FORMAT") or None,
            shutdown_timeout_seconds=_seconds("TABOOR_SHUTDOWN_TIMEOUT_SECONDS", 25.0),
            live_poll_seconds=_positive_seconds("TABOOR_LIVE_POLL_SECONDS", 0.25),
            live_safety_poll_seconds=_positive_seconds("TABOOR_LIVE_SAFETY_POLL_SECONDS", 5.0),
            live_heartbeat_seconds=_positive_seconds("TABOOR_LIVE_HEARTBEAT_SECONDS", 15.0),
            redis_url=os.environ.get("TABOOR_REDIS_URL") or None,
        )


def _seconds(name: str, default: float) -> float:
    """A number of seconds (0 or more) from the environment; a bad value stops the
    start with its name rather than running with a surprise."""
    raw = os.environ.get(name, "")
    if not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{name} must be 0 (off) or a positive number of seconds, not {raw!r}")
    return value


def _positive_seconds(name: str, default: float) -> float:
    """Like ``_seconds``, for intervals that cannot be off (0 would spin)."""
    value = _seconds(name, default)
    if value == 0:
        raise ValueError(f"{name} must be a positive number of seconds, not 0")
    return value
