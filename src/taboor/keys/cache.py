"""A per-process cache of resolved API keys, kept exact by PostgreSQL notifications.

Checking the key is one query on every External API request, a third of a walk-in
booking's statements. A key rarely changes, but a revoked key must stop working at
once, on every server process. So each process keeps the keys it has resolved, and
listens on the ``taboor_api_keys`` channel: revoking a key notifies it in the revoking
transaction (delivered at commit), and every process drops its whole cache.

The cache is only used while the listening connection is up. When it drops, the cache
is emptied and bypassed (every request queries again) until the connection is back and
listening: a notification lost in between can then only miss entries that no longer
exist. A lookup that was already reading the database when a notification arrived does
not store what it read (the generation moved on), so a revocation is never undone by a
read that started before it. Entries also expire after ``ttl_seconds``, which bounds how
long a changed company default locale is remembered. SQLite (one process, no
notifications) does not use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import asyncpg

from taboor.keys.service import KEY_CHANNEL as CHANNEL
from taboor.keys.service import Principal

APPLICATION_NAME = "taboor-key-cache"
logger = logging.getLogger("taboor.keys")


def _resolver(future: asyncio.Future[None]) -> Any:
    def resolve(_connection: object) -> None:
        if not future.done():
            future.set_result(None)

    return resolve


class KeyCache:
    def __init__(self, ttl_seconds: float = 60.0, max_entries: int = 10_000) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.generation = 0
        self.live = False
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, key_hash: str) -> Principal | None:
        if not self.live:
            return None
        entry = self._entries.get(key_hash)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key_hash: str, principal: Principal, generation: int) -> None:
        """Remember ``principal`` if nothing was invalidated since ``generation`` was
        read (before the lookup that found it)."""
        if not self.live or generation != self.generation:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # a burst of distinct keys: start over, stay bounded
        self._entries[key_hash] = (time.monotonic() + self.ttl_seconds, principal)

    def invalidate(self) -> None:
        self.generation += 1
        self._entries.clear()

    async def listen(self, dsn: str, *, retry_seconds: float = 1.0) -> None:
        """Keep a listening connection up until cancelled; the cache is live only
        while it is."""
        while True:
            connection: Any = None
            try:
                connection = await asyncpg.connect(
                    dsn, server_settings={"application_name": APPLICATION_NAME}
                )
                lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                connection.add_termination_listener(_resolver(lost))
                await connection.add_listener(CHANNEL, lambda *_args: self.invalidate())
                self.invalidate()  # whatever was missed while not listening
                self.live = True
                await lost
                logger.warning("key cache: listening connection lost; bypassing the cache")
            except Exception as error:  # any failure: bypass, retry (cancellation passes)
                logger.warning("key cache: cannot listen (%s); bypassing the cache", error)
            finally:
                self.live = False
                self.invalidate()
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=1)
            await asyncio.sleep(retry_seconds)
