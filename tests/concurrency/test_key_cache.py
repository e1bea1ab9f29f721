"""API keys remembered per server process (taboor.keys.cache) against a real 2-worker
server on PostgreSQL: the cache is really used, a revocation reaches every process by
notification, and losing the listening connection stops the cache from being trusted.
On SQLite nothing is cached (checked at the end)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.keys.cache import APPLICATION_NAME, KeyCache
from taboor.keys.service import Principal, revoke_key
from tests.conftest import CompanyKeys
from tests.live_server import running_server

PRINCIPAL = Principal(company_id="cmp_x", key_id="key_x", kind="public", default_locale="en")


def test_the_cache_only_answers_while_live_and_drops_stale_reads() -> None:
    cache = KeyCache(ttl_seconds=60)
    cache.put("h", PRINCIPAL, cache.generation)
    assert cache.get("h") is None  # not listening: nothing stored, nothing answered
    cache.live = True
    cache.put("h", PRINCIPAL, cache.generation)
    assert cache.get("h") == PRINCIPAL
    seen = cache.generation
    cache.invalidate()  # a revocation arrives while a lookup is reading the database
    assert cache.get("h") is None
    cache.put("h", PRINCIPAL, seen)  # what that lookup read is not stored
    assert cache.get("h") is None
    expiring = KeyCache(ttl_seconds=0)
    expiring.live = True
    expiring.put("h", PRINCIPAL, expiring.generation)
    assert expiring.get("h") is None


async def _statuses(client: httpx.AsyncClient, key: str, count: int = 30) -> set[int]:
    headers = {"Authorization": f"Bearer {key}"}
    responses = await asyncio.gather(
        *(client.get("/external/v1/branches", headers=headers) for _ in range(count))
    )
    return {response.status_code for response in responses}


async def _until(client: httpx.AsyncClient, key: str, status: int, within: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        if await _statuses(client, key, 10) == {status}:
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    raise AssertionError(f"still not all {status} after {within} s")


async def _listeners_up(engine: AsyncEngine, count: int, within: float = 20) -> None:
    """Wait until every worker's listening connection is up (workers start unevenly)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = :name AND datname = current_database()"
    )
    started = time.monotonic()
    while time.monotonic() - started < within:
        async with engine.connect() as connection:
            if await connection.scalar(query, {"name": APPLICATION_NAME}) == count:
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {count} key-cache listeners after {within} s")


async def _revoke_quietly(engine: AsyncEngine, key_id: str) -> None:
    """Revoke behind the app's back (no notification), to see what the cache serves."""
    async with engine.begin() as connection:
        await connection.execute(
            update(t.api_keys).where(t.api_keys.c.id == key_id).values(revoked_at=datetime.now(UTC))
        )


async def test_revocations_reach_every_process(
    engine: AsyncEngine, database_url: str, bank: CompanyKeys
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the key cache exists on PostgreSQL only (see the SQLite test below)")
    with running_server(database_url, workers=2) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            await _listeners_up(engine, 2)
            await _until(client, bank.public.key, 200, 5)
            assert await _statuses(client, bank.public.key) == {200}  # both workers warm
            # The cache is used: a revocation nobody announced goes unnoticed...
            await _revoke_quietly(engine, bank.public.id)
            assert await _statuses(client, bank.public.key) == {200}
            # ...until any announcement, which empties every process's cache.
            async with engine.begin() as connection:
                await connection.execute(text("SELECT pg_notify('taboor_api_keys', '')"))
            await _until(client, bank.public.key, 401, 2)

            # The real thing: revoke_key announces it in its own transaction.
            assert await _statuses(client, bank.secret.key) == {200}
            assert await revoke_key(engine, bank.secret.id)
            took = await _until(client, bank.secret.key, 401, 2)
            print(f"revocation seen by every process after {took * 1000:.0f} ms")
            for _ in range(5):  # and it stays that way
                assert await _statuses(client, bank.secret.key) == {401}


async def test_a_lost_listener_stops_the_cache_being_trusted(
    engine: AsyncEngine, database_url: str, bank: CompanyKeys
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the key cache exists on PostgreSQL only")
    with running_server(database_url, workers=2) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            await _until(client, bank.public.key, 200, 5)
            assert await _statuses(client, bank.public.key) == {200}
            await _listeners_up(engine, 2)
            async with engine.begin() as connection:
                killed = await connection.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = :name AND datname = current_database()"
                    ),
                    {"name": APPLICATION_NAME},
                )
            assert killed == 2  # one listener per worker process
            await asyncio.sleep(0.3)  # the workers notice the closed connections
            # A revocation announced to nobody: it must count at once all the same.
            await _revoke_quietly(engine, bank.public.id)
            assert await _statuses(client, bank.public.key) == {401}


async def test_sqlite_servers_check_every_key_every_time(
    engine: AsyncEngine, database_url: str, bank: CompanyKeys
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the SQLite side of the key cache")
    with running_server(database_url, workers=2) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            assert await _statuses(client, bank.public.key) == {200}
            await _revoke_quietly(engine, bank.public.id)
            assert await _statuses(client, bank.public.key) == {401}
