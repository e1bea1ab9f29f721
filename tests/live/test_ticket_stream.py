"""A ticket's stream (GET /external/v1/tickets/{id}/events): its state on connect,
then each change of status, place in the queue, estimate or counter, whoever caused
it; resumable; it ends at a final status (both databases)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from tests.live.conftest import COUNTER1, Q1, Q2, Hall, Moves
from tests.live.helpers import stream
from tests.support import MutableClock


def events_of(ticket_id: str) -> str:
    return f"/external/v1/tickets/{ticket_id}/events"


async def _ticket_fetched(
    client: httpx.AsyncClient, hall: Hall, ticket_id: str
) -> dict[str, object]:
    response = await client.get(f"/external/v1/tickets/{ticket_id}", headers=hall.key())
    return dict(response.json()["data"])


async def test_the_place_in_the_queue_follows_the_tickets_ahead(
    live: httpx.AsyncClient, moves: Moves, hall: Hall
) -> None:
    first = await moves.book()
    second = await moves.book()
    mine = await moves.book()
    other_queue = await moves.book(Q2)
    async with stream(live, events_of(mine["id"]), hall.key()) as events:
        hello = await events.next()
        assert hello is not None and hello.event == "ticket" and hello.id is not None
        assert hello.data == {
            "ticketId": mine["id"],
            "ticketNumber": mine["ticketNumber"],
            "status": "waiting",
            "statusAt": mine["statusAt"],
            "queueSize": 2,
            "waitingTime": mine["waitingTime"],
            "counterId": None,
        }
        # The same figures as fetching the ticket.
        fetched = await _ticket_fetched(live, hall, mine["id"])
        assert (fetched["queueSize"], fetched["waitingTime"]) == (2, hello.data["waitingTime"])

        await moves.open_counter()  # no ticket event; the estimate may move later
        await moves.staff(f"/tickets/{first['id']}/cancel")
        moved = await events.next()
        assert moved is not None and moved.data is not None
        assert (moved.data["status"], moved.data["queueSize"]) == ("waiting", 1)
        assert moved.id is not None and moved.id > hello.id

        # A change in another queue of the branch changes nothing here: nothing is sent.
        await moves.staff(f"/tickets/{other_queue['id']}/cancel")
        assert await events.silent_for(0.4)

        called = await moves.call_next()
        assert called["id"] == second["id"]
        ahead_called = await events.next()
        assert ahead_called is not None and ahead_called.data is not None
        assert (ahead_called.data["queueSize"], ahead_called.data["waitingTime"]) == (0, 0)

        await moves.staff(f"/tickets/{second['id']}/start")
        await moves.staff(f"/tickets/{second['id']}/finish")
        assert await events.silent_for(0.4)  # still first in line: nothing changed

        assert (await moves.call_next())["id"] == mine["id"]
        me_called = await events.next()
        assert me_called is not None and me_called.data is not None
        assert me_called.data["status"] == "called"
        assert me_called.data["counterId"] == COUNTER1
        assert (me_called.data["queueSize"], me_called.data["waitingTime"]) == (None, None)

        await moves.staff(f"/tickets/{mine['id']}/start")
        await moves.staff(f"/tickets/{mine['id']}/finish")
        statuses = [(await events.next()) for _ in range(2)]
        assert [m.data["status"] for m in statuses if m and m.data] == ["serving", "served"]
        assert await events.next() is None  # the stream is over


async def test_a_final_ticket_gets_its_state_and_the_end(
    live: httpx.AsyncClient, moves: Moves, hall: Hall
) -> None:
    mine = await moves.book()
    async with stream(live, events_of(mine["id"]), hall.key("secret")) as events:
        assert (await events.next()) is not None
        cancelled = await live.post(f"/external/v1/tickets/{mine['id']}/cancel", headers=hall.key())
        assert cancelled.status_code == 200
        last = await events.next()
        assert last is not None and last.data is not None and last.data["status"] == "cancelled"
        assert await events.next() is None
    async with stream(live, events_of(mine["id"]), hall.key()) as again:
        state = await again.next()
        assert state is not None and state.data is not None
        assert state.data["status"] == "cancelled"
        assert await again.next() is None


async def test_resuming_replays_the_tickets_own_moves_then_its_state(
    live: httpx.AsyncClient, moves: Moves, hall: Hall, engine: AsyncEngine
) -> None:
    mine = await moves.book()
    async with stream(live, events_of(mine["id"]), hall.key()) as events:
        hello = await events.next()
    assert hello is not None and hello.id is not None
    await moves.open_counter()
    await moves.call_next()
    await moves.staff(f"/tickets/{mine['id']}/recall")
    ev = t.ticket_events.c
    async with engine.connect() as connection:
        own = [
            row.id
            for row in await connection.execute(
                select(ev.id).where(ev.ticket_id == mine["id"], ev.id > hello.id).order_by(ev.id)
            )
        ]
    assert len(own) == 2  # called, called again
    headers = {**hall.key(), "Last-Event-ID": str(hello.id)}
    async with stream(live, events_of(mine["id"]), headers) as resumed:
        replayed = await resumed.messages(2)
        assert [m.id for m in replayed] == own
        assert [m.data["status"] for m in replayed if m.data] == ["called", "called"]
        assert all(m.data and m.data["counterId"] is None for m in replayed)
        current = await resumed.next()
        assert current is not None and current.data is not None
        assert (current.data["status"], current.data["counterId"]) == ("called", COUNTER1)
        assert current.id is not None and current.id >= own[-1]


async def test_the_contracts_refusals_come_before_the_stream(
    live: httpx.AsyncClient, moves: Moves, hall: Hall
) -> None:
    mine = await moves.book()

    async def answer(path: str, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
        response = await live.get(path, headers=headers)
        assert response.headers["content-type"].startswith("application/json")
        return response.status_code, response.json()

    code, body = await answer(events_of(mine["id"]), {})
    assert (code, body["error"]) == (401, "Missing bearer token.")
    code, body = await answer(events_of(mine["id"]), {"Authorization": "Bearer sk_nope"})
    assert (code, body["error"]) == (401, "Invalid API key.")
    # Another company's ticket, an unknown one, a malformed id: 422 on `id`.
    for path, headers in (
        (events_of(mine["id"]), hall.bank.headers()),
        (events_of("nosuchtckt"), hall.key()),
        (events_of("NOT-AN-ID"), hall.key()),
    ):
        code, body = await answer(path, headers)
        assert code == 422
        assert body["error"] == {"id": "This value does not exist."}
    # A staff token is not an API key.
    code, _ = await answer(events_of(mine["id"]), hall.agent.headers())
    assert code == 401
    arabic = {**hall.key(), "X-Locale": "ar"}
    code, body = await answer(events_of("nosuchtckt"), arabic)
    assert code == 422 and body["error"] != {"id": "This value does not exist."}


async def test_transfers_out_of_and_into_the_queue_move_the_place(
    live: httpx.AsyncClient, moves: Moves, hall: Hall, clock: MutableClock
) -> None:
    ahead = await moves.book()
    mine = await moves.book()
    elsewhere = await moves.book(Q2)
    async with stream(live, events_of(mine["id"]), hall.key()) as events:
        hello = await events.next()
        assert hello is not None and hello.data is not None and hello.data["queueSize"] == 1
        # The transfer event names the queue the ticket went to, not this one.
        await moves.staff(f"/tickets/{ahead['id']}/transfer", json={"serviceId": Q2})
        left = await events.next()
        assert left is not None and left.data is not None and left.data["queueSize"] == 0
        # One transferred in queues behind: nothing changes for a ticket ahead of it.
        clock.now += timedelta(minutes=1)
        await moves.staff(f"/tickets/{elsewhere['id']}/transfer", json={"serviceId": Q1})
        assert await events.silent_for(0.4)
