"""Pruning expired rows (taboor.ops.housekeeping), on both databases: exactly the rows
the code already treats as absent go, the others stay; a server app prunes in the
background until shutdown, a test app never."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.app import create_app
from taboor.db import tables as t
from taboor.db.uow import write_transaction
from taboor.ops.housekeeping import Housekeeper, Pruned, prune_expired
from taboor.settings import Settings
from tests.support import MutableClock

NOW = datetime(2026, 6, 7, 7, 0, tzinfo=UTC)


async def _seed(engine: AsyncEngine) -> None:
    """Rows on both sides of each table's expiry (and one exactly at it: expired, as
    the code that reads them decides with ``<=``)."""
    keys = {"expired": 25, "at-expiry": 24, "kept": 23}  # hours old
    rate_windows = {"ended": 61, "at-end": 60, "running": 59}  # seconds old
    login_windows = {"ended": 16, "running": 14}  # minutes old
    async with write_transaction(engine) as connection:
        for name, hours in keys.items():
            await connection.execute(
                insert(t.idempotency_keys).values(
                    scope="key_x",
                    key=name,
                    request_hash="0" * 64,
                    status_code=201,
                    response_body="{}",
                    created_at=NOW - timedelta(hours=hours),
                )
            )
        for name, seconds in rate_windows.items():
            await connection.execute(
                insert(t.rate_limit_counters).values(
                    scope="key",
                    subject=name,
                    window_started_at=NOW - timedelta(seconds=seconds),
                    hits=3,
                )
            )
        for name, minutes in login_windows.items():
            await connection.execute(
                insert(t.login_throttle).values(
                    scope="account",
                    subject=name,
                    window_started_at=NOW - timedelta(minutes=minutes),
                    failures=5,
                )
            )


async def _left(engine: AsyncEngine) -> dict[str, set[str]]:
    async with engine.connect() as connection:
        return {
            "idempotency_keys": set(
                (await connection.execute(select(t.idempotency_keys.c.key))).scalars()
            ),
            "rate_limit_counters": set(
                (await connection.execute(select(t.rate_limit_counters.c.subject))).scalars()
            ),
            "login_throttle": set(
                (await connection.execute(select(t.login_throttle.c.subject))).scalars()
            ),
        }


async def test_only_what_has_expired_is_pruned(engine: AsyncEngine) -> None:
    await _seed(engine)
    pruned = await prune_expired(engine, NOW)
    assert pruned == Pruned(idempotency_keys=2, rate_limit_counters=2, login_throttle=1)
    assert await _left(engine) == {
        "idempotency_keys": {"kept"},
        "rate_limit_counters": {"running"},
        "login_throttle": {"running"},
    }
    # Pruning again finds nothing (several processes prune at the same moment).
    assert (await prune_expired(engine, NOW)).total == 0


async def test_a_failed_run_is_logged_and_the_next_one_goes_on(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    await _seed(engine)

    def broken_clock() -> datetime:
        raise RuntimeError("clock unavailable")

    failing = Housekeeper(engine, broken_clock, interval_seconds=60)
    with caplog.at_level(logging.ERROR, logger="taboor.housekeeping"):
        assert await failing.prune_once() is None
    assert any("housekeeping failed" in record.getMessage() for record in caplog.records)
    assert (await Housekeeper(engine, MutableClock(NOW), 60).prune_once()) == Pruned(2, 2, 1)


async def test_a_test_app_runs_no_housekeeper(engine: AsyncEngine) -> None:
    assert create_app(engine=engine, clock=MutableClock(NOW)).state.housekeeper is None


@pytest.mark.parametrize("interval", [0.05, 0.0])
async def test_a_server_app_prunes_in_the_background_until_shutdown(
    engine: AsyncEngine, database_url: str, interval: float
) -> None:
    await _seed(engine)
    settings = Settings(
        database_url=database_url,
        db_pool_size=2,
        no_show_interval_seconds=0,
        housekeeping_interval_seconds=interval,
    )
    app = create_app(settings, clock=MutableClock(NOW))
    housekeeper = app.state.housekeeper
    assert (housekeeper is None) == (interval == 0)
    async with app.lifespan():
        for _ in range(100 if housekeeper is not None else 4):
            if (await _left(engine))["idempotency_keys"] == {"kept"}:
                break
            await asyncio.sleep(0.05)
    left = await _left(engine)
    if housekeeper is None:
        assert left["idempotency_keys"] == {"expired", "at-expiry", "kept"}
    else:
        assert left["idempotency_keys"] == {"kept"}
        assert housekeeper._loop._task is None  # stopped at shutdown
