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

    @classmethod
    def from_env(cls, database_url: str | None = None) -> Settings:
        return cls(
            database_url=database_url
            or os.environ.get("TABOOR_DATABASE_URL")
            or DEFAULT_DATABASE_URL,
            db_pool_size=int(os.environ.get("TABOOR_DB_POOL_SIZE", "10")),
            log_level=os.environ.get("TABOOR_LOG_LEVEL", "info"),
        )
