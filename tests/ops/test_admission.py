"""Admission (taboor.ops.admission): a process works on at most as many requests at once
as its pool keeps connections, so a burst never makes it open (and close again) extra
database connections; the others wait their turn, in arrival order; live streams pass."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import httpx
from sqlalchemy import event

from taboor.app import create_app
from taboor.ops.admission import LONG_LIVED, Admission
from taboor.settings import Settings
from tests.conftest import CompanyKeys

API = "/external/v1"


async def test_a_burst_of_requests_opens_no_more_connections_than_the_pool_keeps(
    database_url: str, bank: CompanyKeys
) -> None:
    pool = 2
    settings = Settings(
        database_url=database_url,
        db_pool_size=pool,
        no_show_interval_seconds=0,
        housekeeping_interval_seconds=0,
    )
    app = create_app(settings)
    opened = 0

    def count(*_: Any) -> None:
        nonlocal opened
        opened += 1

    event.listen(app.state.engine.sync_engine, "connect", count)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://taboor.test") as client,
    ):
        answers = await asyncio.gather(
            *(client.get(f"{API}/branches", headers=bank.headers()) for _ in range(40))
        )
    assert [answer.status_code for answer in answers] == [200] * 40
    assert len({answer.content for answer in answers}) == 1
    # Without admission the 40 would share the pool's kept connections and open its
    # overflow besides (closed again as each request ended).
    assert 1 <= opened <= pool


def _scope(long_lived: bool = False) -> dict[str, Any]:
    handler = SimpleNamespace(opt={LONG_LIVED: True} if long_lived else {})
    return {"type": "http", "route_handler": handler}


async def test_requests_past_the_limit_wait_their_turn_in_arrival_order() -> None:
    started: list[int] = []
    release = asyncio.Event()

    async def app(scope: Any, _receive: Any, _send: Any) -> None:
        started.append(scope["number"])
        await release.wait()

    admission = Admission(app, asyncio.Semaphore(2))
    calls = []
    for number in range(6):
        calls.append(asyncio.create_task(admission({**_scope(), "number": number}, None, None)))  # type: ignore[arg-type]
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    assert started == [0, 1]  # the other four wait
    release.set()
    await asyncio.gather(*calls)
    assert started == [0, 1, 2, 3, 4, 5]


async def test_a_live_stream_passes_while_every_turn_is_taken() -> None:
    release = asyncio.Event()
    streamed = asyncio.Event()

    async def app(scope: Any, _receive: Any, _send: Any) -> None:
        if scope["route_handler"].opt.get(LONG_LIVED):
            streamed.set()
            return
        await release.wait()

    admission = Admission(app, asyncio.Semaphore(1))
    busy = asyncio.create_task(admission(_scope(), None, None))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    await asyncio.wait_for(admission(_scope(long_lived=True), None, None), 1)  # type: ignore[arg-type]
    assert streamed.is_set()
    waiting = asyncio.create_task(admission(_scope(), None, None))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    assert not waiting.done()  # an ordinary request does wait
    release.set()
    await asyncio.gather(busy, waiting)
