"""The hall display's snapshot (GET /live/v1/branches/{id}/board): today's latest
calls, newest first, the waiting count of each service, localized names, and the event
id to follow the stream from without losing anything (both databases)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from tests.live.conftest import BANK_BRANCH, BRANCH, COUNTER1, COUNTER2, Q1, Q2, Hall, Moves
from tests.live.helpers import stream
from tests.support import MutableClock

BOARD = f"/live/v1/branches/{BRANCH}/board"


async def _board(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> Any:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def _last_event_id(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.max(t.ticket_events.c.id))) or 0)


async def test_the_board_shows_the_latest_calls_and_the_queues(
    live: httpx.AsyncClient, moves: Moves, hall: Hall, engine: AsyncEngine, clock: MutableClock
) -> None:
    empty = await _board(live, BOARD, hall.key())
    assert empty["branch"] == {
        "id": BRANCH,
        "name": "Hall Branch",
        "locale": "en",
        "timeZone": "Asia/Bahrain",
    }
    assert empty["called"] == []
    assert empty["waiting"] == [
        {"serviceId": "hallsvc001", "serviceName": "Queue One", "waiting": 0},
        {"serviceId": "hallsvc002", "serviceName": "Queue Two", "waiting": 0},
        {"serviceId": "hallsvc003", "serviceName": "Elsewhere", "waiting": 0},
    ]

    tickets = [await moves.book(Q1) for _ in range(3)] + [await moves.book(Q2)]
    await moves.open_counter(COUNTER1)
    await moves.open_counter(COUNTER2, hall.agent2)
    clock.set("2026-06-07T07:01:00Z")
    first = await moves.call_next(COUNTER1)
    await moves.staff(f"/tickets/{first['id']}/start")
    await moves.staff(f"/tickets/{first['id']}/finish")
    clock.set("2026-06-07T07:02:00Z")
    second = await moves.call_next(COUNTER1)
    clock.set("2026-06-07T07:03:00Z")
    third = await moves.call_next(COUNTER2, hall.agent2)
    await moves.staff(f"/tickets/{third['id']}/no-show", hall.agent2)

    board = await _board(live, BOARD, hall.agent.headers())
    assert board["lastEventId"] == await _last_event_id(engine)
    assert [
        (c["ticketId"], c["status"], c["counterId"], c["counterName"], c["calledAt"])
        for c in board["called"]
    ] == [
        (third["id"], "no_show", COUNTER2, "Counter 2", "2026-06-07T07:03:00.000Z"),
        (second["id"], "called", COUNTER1, "Counter 1", "2026-06-07T07:02:00.000Z"),
        (first["id"], "served", COUNTER1, "Counter 1", "2026-06-07T07:01:00.000Z"),
    ]
    numbers = {ticket["id"]: ticket["ticketNumber"] for ticket in tickets}
    assert all(c["number"] == numbers[c["ticketId"]] for c in board["called"])
    assert board["called"][0]["serviceName"] in {"Queue One", "Queue Two"}
    waiting = {w["serviceId"]: w["waiting"] for w in board["waiting"]}
    assert sum(waiting.values()) == 1  # four booked, three called

    # The next day the calls of yesterday are gone.
    clock.set("2026-06-08T07:00:00Z")
    assert (await _board(live, BOARD, hall.key()))["called"] == []


async def test_the_board_then_the_stream_lose_nothing(
    live: httpx.AsyncClient, moves: Moves, hall: Hall
) -> None:
    await moves.book()
    board = await _board(live, BOARD, hall.key())
    booked_meanwhile = await moves.book()  # between loading the board and the stream
    path = f"/live/v1/branches/{BRANCH}/events?lastEventId={board['lastEventId']}"
    async with stream(live, path, hall.key()) as events:
        caught_up = await events.next()
        assert caught_up is not None and caught_up.data is not None
        assert caught_up.data["ticketId"] == booked_meanwhile["id"]
        assert await events.silent_for(0.3)


async def test_names_in_the_asked_locale_else_the_companys(
    live: httpx.AsyncClient, hall: Hall
) -> None:
    path = f"/live/v1/branches/{BANK_BRANCH}/board"
    arabic = await _board(live, f"{path}?locale=ar", hall.bank.headers())
    assert arabic["branch"]["name"] == "فرع الزلاق"
    assert arabic["branch"]["locale"] == "ar"
    names = {w["serviceId"]: w["serviceName"] for w in arabic["waiting"]}
    assert names["zwithdraw1"] == "سحب"
    assert names["zforex0001"] == "Foreign Exchange"  # no Arabic name: the default one
    english = await _board(live, path, hall.bank.headers())
    assert english["branch"]["name"] == "Zallaq Branch"
    assert english["branch"]["locale"] == "en"


async def test_who_may_see_the_board(live: httpx.AsyncClient, hall: Hall) -> None:
    assert (await live.get(BOARD)).status_code == 401
    assert (await live.get(BOARD, headers=hall.bank.headers())).status_code == 404
    assert (await live.get(BOARD, headers=hall.stranger.headers())).status_code == 403
    other = f"/live/v1/branches/{BANK_BRANCH}/board"
    assert (await live.get(other, headers=hall.agent.headers())).status_code == 404
