"""Who wakes the hubs: a request that wrote ticket events does, once it is over; a
request that wrote none does not; the no-show sweep does after a sweep that changed
tickets (both databases)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.live.runtime import LiveRuntime
from taboor.tickets.no_show import NoShowSweeper
from tests.db.test_no_show import GP, NOW, appointment, insert
from tests.live.conftest import Hall, Moves
from tests.support import MutableClock, apply_fixture


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


async def test_writes_of_ticket_events_wake_the_hub_and_others_do_not(
    app: Litestar, live: httpx.AsyncClient, moves: Moves, hall: Hall
) -> None:
    runtime: LiveRuntime = app.state.live
    woken = Counting()
    runtime.wakeups.changed = woken  # type: ignore[method-assign]
    await moves.book()
    assert woken.calls == 1
    await moves.open_counter()  # a counter, no ticket event
    refused = await live.post(
        "/external/v1/tickets/book", headers=hall.key(), json={"serviceId": "nosuchsvc1"}
    )
    assert refused.status_code == 422
    assert (await live.get("/external/v1/branches", headers=hall.key())).status_code == 200
    assert woken.calls == 1
    await moves.call_next()
    assert woken.calls == 2


async def test_the_no_show_sweep_wakes_the_hub_when_it_changed_tickets(
    engine: AsyncEngine,
) -> None:
    await apply_fixture(engine, "clinic")
    woken = Counting()
    sweeper = NoShowSweeper(engine, MutableClock(NOW), 60, on_change=woken)
    assert await sweeper.sweep_once() == 0
    assert woken.calls == 0
    await insert(engine, appointment(GP, NOW - timedelta(hours=1)))
    assert await sweeper.sweep_once() == 1
    assert woken.calls == 1
