"""The branch stream (GET /live/v1/branches/{id}/events): every ticket change of the
branch as it happens, resumable from any event id with nothing missed or repeated;
who may watch (both databases)."""

from __future__ import annotations

import asyncio

import httpx
from litestar import Litestar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.live.runtime import LiveRuntime
from tests.live.conftest import BANK_BRANCH, BRANCH, COUNTER1, Q1, Q2, Hall, Moves, live_app
from tests.live.helpers import SseReader, served, stream, until
from tests.support import MutableClock

EVENTS = f"/live/v1/branches/{BRANCH}/events"


async def _branch_event_ids(engine: AsyncEngine, after: int = 0) -> list[int]:
    ev, tk = t.ticket_events.c, t.tickets.c
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(ev.id)
            .join(t.tickets, tk.id == ev.ticket_id)
            .where(tk.branch_id == BRANCH, ev.id > after)
            .order_by(ev.id)
        )
        return [row.id for row in rows]


async def test_the_stream_shows_bookings_calls_and_serving(
    live: httpx.AsyncClient, moves: Moves, hall: Hall, engine: AsyncEngine
) -> None:
    async with stream(live, EVENTS, hall.agent.headers()) as events:
        booked = await moves.book()
        first = await events.next()
        assert first is not None and first.event == "ticket" and first.data is not None
        assert first.data == {
            "eventId": first.id,
            "ticketId": booked["id"],
            "number": booked["ticketNumber"],
            "status": "waiting",
            "fromStatus": None,
            "serviceId": Q1,
            "counterId": None,
            "at": booked["bookedAt"],
        }
        await moves.open_counter()
        await moves.call_next()
        await moves.staff(f"/tickets/{booked['id']}/start")
        await moves.staff(f"/tickets/{booked['id']}/finish")
        later = await events.messages(3)
        assert [(m.data or {})["status"] for m in later] == ["called", "serving", "served"]
        assert [(m.data or {})["fromStatus"] for m in later] == ["waiting", "called", "serving"]
        assert {(m.data or {})["counterId"] for m in later} == {COUNTER1}
        assert all((m.data or {})["ticketId"] == booked["id"] for m in later)
        ids = [first.id, *(m.id for m in later)]
        assert ids == await _branch_event_ids(engine)  # the log's ids, in order
        assert await events.silent_for(0.3)


async def test_other_branches_changes_are_not_sent(
    live: httpx.AsyncClient, moves: Moves, hall: Hall
) -> None:
    bank_events = f"/live/v1/branches/{BANK_BRANCH}/events"
    async with stream(live, bank_events, hall.bank.headers()) as quiet:
        async with stream(live, EVENTS, hall.key()) as busy:
            await moves.book()
            assert await busy.next() is not None
        assert await quiet.silent_for(0.3)


async def test_resuming_gives_exactly_the_missed_events(
    live: httpx.AsyncClient, moves: Moves, hall: Hall, engine: AsyncEngine
) -> None:
    async with stream(live, EVENTS, hall.key()) as events:
        await moves.book()
        await moves.book(Q2)
        seen = await events.messages(2)
    last = seen[-1].id
    assert last is not None
    # Changes while nobody watches.
    await moves.open_counter()
    await moves.call_next()
    await moves.book()
    await moves.call_next()
    missed = await _branch_event_ids(engine, last)
    assert len(missed) >= 3
    headers = {**hall.key(), "Last-Event-ID": str(last)}
    async with stream(live, EVENTS, headers) as resumed:
        replayed = await resumed.messages(len(missed))
        assert [m.id for m in replayed] == missed
        assert await resumed.silent_for(0.3)  # nothing twice
        await moves.book(Q2)  # and then live, from where the backlog stopped
        (fresh,) = await resumed.messages(1)
        assert fresh.id == (await _branch_event_ids(engine, missed[-1]))[0]
    # The query parameter does the same for a first connection (a display that loaded
    # its board); a header (a browser's reconnect) wins over it.
    async with stream(live, f"{EVENTS}?lastEventId={missed[-2]}", hall.key()) as from_query:
        assert [m.id for m in await from_query.messages(2)] == [missed[-1], fresh.id]
    headers = {**hall.key(), "Last-Event-ID": str(missed[-1])}
    async with stream(live, f"{EVENTS}?lastEventId=0", headers) as both:
        assert [m.id for m in await both.messages(1)] == [fresh.id]


async def test_many_changes_at_once_arrive_in_order_without_gaps(
    live: httpx.AsyncClient, moves: Moves, hall: Hall, engine: AsyncEngine
) -> None:
    async with stream(live, EVENTS, hall.key()) as events:
        await asyncio.gather(*(moves.book(Q1 if n % 2 else Q2) for n in range(12)))
        received = await events.messages(12)
        assert [m.id for m in received] == await _branch_event_ids(engine)


async def test_who_may_watch(live: httpx.AsyncClient, hall: Hall) -> None:
    async def status(path: str, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
        async with live.stream("GET", path, headers=headers) as response:
            if response.status_code == 200:
                return 200, {}
            assert response.headers["content-type"].startswith("application/json")
            await response.aread()
            return response.status_code, response.json()

    code, body = await status(EVENTS, {})
    assert (code, body["error"], body["code"]) == (401, "Missing bearer token.", "unauthorized")
    code, body = await status(EVENTS, {"Authorization": "Bearer pk_nope"})
    assert (code, body["error"]) == (401, "Invalid API key.")
    code, body = await status(EVENTS, {"Authorization": "Bearer st_nope"})
    assert code == 401
    # Another company's key or staff: the branch does not exist for them.
    assert (await status(EVENTS, hall.bank.headers()))[0] == 404
    assert (await status(EVENTS, hall.banker.headers()))[0] == 404
    assert (await status("/live/v1/branches/nosuchbrnc/events", hall.key()))[0] == 404
    # A staff user of the company who does not work there: as on the staff API.
    assert (await status(EVENTS, hall.stranger.headers()))[0] == 403
    for allowed in (hall.key(), hall.key("secret"), hall.agent.headers()):
        assert (await status(EVENTS, allowed))[0] == 200
    # A browser's EventSource cannot send headers: the query parameter will do.
    assert (await status(f"{EVENTS}?access_token={hall.agent.token}", {}))[0] == 200
    assert (await status(f"{EVENTS}?access_token=st_nope", {}))[0] == 401


async def test_a_quiet_stream_gets_heartbeats(
    engine: AsyncEngine, hall: Hall, clock: MutableClock
) -> None:
    app = live_app(engine, clock, live_heartbeat_seconds=0.1)
    async with (
        served(app) as base_url,
        httpx.AsyncClient(base_url=base_url) as client,
        stream(client, EVENTS, hall.key()) as events,
    ):
        assert await events.silent_for(0.5)
        assert events.comments.count("ping") >= 2


async def test_a_client_that_goes_leaves_no_subscriber(
    live: httpx.AsyncClient, app: Litestar, hall: Hall, moves: Moves
) -> None:
    runtime: LiveRuntime = app.state.live
    async with stream(live, EVENTS, hall.key()) as first:
        async with stream(live, EVENTS, hall.agent.headers()):
            await until(lambda: runtime.hub.subscriber_count == 2)
        await until(lambda: runtime.hub.subscriber_count == 1)
        await moves.book()  # the one left still works
        assert await first.next() is not None
    await until(lambda: runtime.hub.subscriber_count == 0)
    # A client that vanishes without a goodbye (connection dropped mid-stream).
    response = await live.send(live.build_request("GET", EVENTS, headers=hall.key()), stream=True)
    reader = SseReader(response)
    await moves.book()
    assert await reader.next() is not None
    await reader.close()
    await response.aclose()
    await until(lambda: runtime.hub.subscriber_count == 0)


async def test_an_id_beyond_the_log_means_live_from_now(
    live: httpx.AsyncClient, moves: Moves, hall: Hall
) -> None:
    # Another database's id, or a made-up one, must not hold back every event below it.
    headers = {**hall.key(), "Last-Event-ID": "999999999"}
    async with stream(live, EVENTS, headers) as events:
        booked = await moves.book()
        message = await events.next()
        assert message is not None and message.data is not None
        assert message.data["ticketId"] == booked["id"]
