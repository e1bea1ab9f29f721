"""``GET /metrics`` in process, on both databases: requests by method, route template and
status with their durations, bookings by kind, and the waiting queues read at scrape
time. Counters are the process's since it started, so each test compares a scrape taken
after its requests with one taken before."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.app import create_app
from taboor.db.engine import create_engine
from tests.conftest import CompanyKeys
from tests.live_server import free_port
from tests.ops.helpers import scrape, value

API = "/external/v1"
REQUESTS = "taboor_http_requests_total"
DURATION_COUNT = "taboor_http_request_duration_seconds_count"
BOOKINGS = "taboor_bookings_total"
WAITING = "taboor_waiting_tickets"
WITHDRAW = {"serviceId": "zwithdraw1", "groupOfServiceId": "ztellers01"}
DEPOSIT = {"serviceId": "zdeposit01", "groupOfServiceId": "ztellers01"}
OPENING = {"serviceId": "zopening01", "groupOfServiceId": "zaccounts1"}
MONDAY_0800 = "2026-06-08T05:00:00.000Z"  # a free slot of OPENING (clock: Sunday 10:00)


async def test_requests_are_counted_by_route_template_and_status(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    before = await scrape(client)
    ticket = f"{API}/tickets/{{ticket_id}}"
    for ticket_id in ("abcdef0001", "abcdef0002", "abcdef0003"):
        response = await client.get(f"{API}/tickets/{ticket_id}", headers=bank.headers())
        assert response.status_code == 422
    await client.get(f"{API}/tickets/abcdef0004")  # no key
    await client.get("/no/such/page?token=abc")
    await client.request("BREW", "/healthz")
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta(REQUESTS, method="GET", route=ticket, status="422") == 3
    assert delta(REQUESTS, method="GET", route=ticket, status="401") == 1
    assert delta(DURATION_COUNT, method="GET", route=ticket) == 4
    assert delta(REQUESTS, method="GET", route="unmatched", status="404") == 1
    assert delta(REQUESTS, method="other", route="unmatched", status="405") == 1
    # The scrape before this one was counted too, under its own template.
    assert delta(REQUESTS, method="GET", route="/metrics", status="200") == 1
    # No label carries a raw path, an id, a query string or a method nobody knows.
    labels = {label for _, pairs in after for label in pairs}
    assert not {pair for pair in labels if "abcdef" in pair[1] or "token" in pair[1]}
    assert ("method", "BREW") not in labels


async def test_bookings_are_counted_by_kind_and_only_when_made(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    before = await scrape(client)
    secret = bank.headers("secret")
    created = await client.post(
        f"{API}/customers/create", headers=secret, json={"externalId": "m-1"}
    )
    assert created.status_code == 201
    book = f"{API}/tickets/book"
    walk_in = await client.post(book, headers=bank.headers(), json=WITHDRAW)
    appointment = await client.post(
        book,
        headers=bank.headers(),
        json={**OPENING, "time": MONDAY_0800, "customerExternalId": "m-1"},
    )
    assert (walk_in.status_code, appointment.status_code) == (201, 201)
    refused = await client.post(
        book,
        headers=bank.headers(),
        json={**OPENING, "time": MONDAY_0800, "customerExternalId": "m-1"},
    )
    assert refused.status_code == 400  # duplicate_active: no booking
    invalid = await client.post(book, headers=bank.headers(), json={"serviceId": "nope"})
    assert invalid.status_code == 422
    after = await scrape(client)
    assert value(after, BOOKINGS, kind="walk_in") - value(before, BOOKINGS, kind="walk_in") == 1
    assert (
        value(after, BOOKINGS, kind="appointment") - value(before, BOOKINGS, kind="appointment")
        == 1
    )
    route = {"method": "POST", "route": "/external/v1/tickets/book"}
    assert (
        value(after, REQUESTS, **route, status="201")
        - value(before, REQUESTS, **route, status="201")
        == 2
    )


async def test_waiting_tickets_are_read_per_service_when_scraped(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    book = f"{API}/tickets/book"
    tickets = [
        (await client.post(book, headers=bank.headers(), json=body)).json()["data"]["id"]
        for body in (WITHDRAW, WITHDRAW, DEPOSIT)
    ]
    samples = await scrape(client)
    assert value(samples, WAITING, branch_id="zallaq0001", service_id="zwithdraw1") == 2
    assert value(samples, WAITING, branch_id="zallaq0001", service_id="zdeposit01") == 1
    # Every service is there, an empty queue as 0 (absent would read as "unknown").
    assert (WAITING, frozenset({("branch_id", "amwaj00001"), ("service_id", "aservice01")})) in (
        samples
    )
    assert value(samples, WAITING, branch_id="amwaj00001", service_id="aservice01") == 0

    cancelled = await client.post(f"{API}/tickets/{tickets[0]}/cancel", headers=bank.headers())
    assert cancelled.status_code == 200
    samples = await scrape(client)
    assert value(samples, WAITING, branch_id="zallaq0001", service_id="zwithdraw1") == 1


async def test_metrics_answer_without_the_database(engine: AsyncEngine) -> None:
    """A database that does not answer leaves out the queue lengths, nothing else."""
    down = create_engine(f"postgresql://taboor@127.0.0.1:{free_port()}/taboor", pool_size=1)
    transport = httpx.ASGITransport(app=create_app(engine=down))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get("/healthz")
            samples = await scrape(client)
    finally:
        await down.dispose()
    assert value(samples, REQUESTS, method="GET", route="/healthz", status="200") >= 1
    assert not [name for name, _ in samples if name == WAITING]
