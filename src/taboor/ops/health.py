"""Liveness and readiness, as load balancers and orchestrators ask for them.

``/healthz`` answers while the process serves and touches nothing else: a failing
database must not get healthy processes restarted. ``/readyz`` says whether this process
can do its work: the database answers ``SELECT 1`` within a short timeout and its schema
is at the revision this code was written for.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import cache

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db.migrate import alembic_config, current_revision, head_revision

READINESS_TIMEOUT_SECONDS = 2.0

logger = logging.getLogger("taboor.health")


@cache
def _head() -> str | None:
    # Read from the migration scripts once: they do not change while the process runs.
    return head_revision()


@cache
def _known_revisions() -> frozenset[str]:
    scripts = ScriptDirectory.from_config(alembic_config(""))
    return frozenset(script.revision for script in scripts.walk_revisions())


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    body: dict[str, str | None]


async def readiness(
    engine: AsyncEngine, timeout_seconds: float = READINESS_TIMEOUT_SECONDS
) -> Readiness:
    """Database reachable and migrations current. The answer names the failing check
    and the revisions, never the database's address."""
    try:
        async with asyncio.timeout(timeout_seconds):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            current = await current_revision(engine)
    except Exception as error:
        # The statement is SELECT 1 (no parameters); the error names the driver's
        # complaint (refused, timed out, unknown database), no credentials.
        logger.warning("not ready: database unreachable (%s: %s)", type(error).__name__, error)
        return Readiness(
            False, {"status": "unavailable", "database": "unreachable", "migrations": "unknown"}
        )
    head = _head()
    if current == head:
        return Readiness(True, {"status": "ready", "database": "ok", "migrations": "current"})
    # Behind: an older revision of ours (or none yet). Unknown: a revision this code
    # does not have, i.e. a newer release migrated the database.
    state = "behind" if current is None or current in _known_revisions() else "unknown"
    logger.warning("not ready: migrations %s (database at %s, code at %s)", state, current, head)
    return Readiness(
        False,
        {
            "status": "unavailable",
            "database": "ok",
            "migrations": state,
            "current": current,
            "head": head,
        },
    )
