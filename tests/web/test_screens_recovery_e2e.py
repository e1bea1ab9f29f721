"""The screens in a real browser, beyond the happy path (Debian's Chromium, a real
``taboor serve`` with two workers, both databases):

- the hall display and the console come back by themselves after a network cut and
  after the server restarts, showing what happened while they were away;
- an appointment holder checks in at the kiosk by the number on their slip, the agent
  checks in another from the console's list, and the follow-my-ticket page (the kiosk
  ticket's QR code) sees its ticket called.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from tests.live_server import running_server
from tests.staff_api.helpers import Staff, add_staff
from tests.support import insert_ticket
from tests.web.browser import (
    ENGLISH,
    close_pages,
    needs_chromium,
    open_page,
    prepare,
    sign_in_at_counter,
)
from tests.web.proxy import Relay

pytestmark = needs_chromium
EVENTS = t.ticket_events.c
COMPANY = ENGLISH
BACK_WITHIN_MS = 15000  # reconnect backoff tops out at 8 s (+30 % jitter)
# While the network is cut the browser logs its failed requests; nothing else may fail.
NETWORK_ERRORS = ("net::ERR_", "Failed to load resource", "Failed to fetch", "network error")


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    relay = Relay()
    yield relay
    await relay.close()


async def _book_and_call(base: str, key: str, other: Staff) -> str:
    """A Cards ticket booked at the kiosk API and called at counter 2 by another agent,
    straight to the server (not through the relay); its number."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        booked = await api.post(
            f"/kiosk/v1/branches/{COMPANY.branch_id}/tickets",
            headers={"Authorization": f"Bearer {key}"},
            json={"serviceId": COMPANY.cards_id},
        )
        assert booked.status_code == 201, booked.text
        called = await api.post(
            f"/staff/v1/counters/{COMPANY.other_counter_id}/call-next", headers=other.headers()
        )
        assert called.status_code == 200, called.text
        assert called.json()["data"]["ticketNumber"] == booked.json()["data"]["ticketNumber"]
        finished = called.json()["data"]["id"]
        for move in ("start", "finish"):
            response = await api.post(
                f"/staff/v1/tickets/{finished}/{move}", headers=other.headers()
            )
            assert response.status_code == 200, response.text
        return str(booked.json()["data"]["ticketNumber"])


async def _shows(display: Page, number: str) -> None:
    await expect(display.locator("#called li.newest .number")).to_have_text(
        number, timeout=BACK_WITHIN_MS
    )


async def test_display_and_console_recover_from_a_cut_and_a_restart(
    engine: AsyncEngine, database_url: str, browser: Browser, relay: Relay
) -> None:
    key = await prepare(engine, COMPANY)
    other = await add_staff(
        engine, COMPANY.company_id, "agent", (COMPANY.branch_id,), datetime.now(UTC), "Badr"
    )
    address = await relay.start()
    with contextlib.ExitStack() as servers:
        first = servers.enter_context(running_server(database_url, workers=2))
        relay.route_to(first)
        async with httpx.AsyncClient(base_url=first) as api:
            opened = await api.post(
                f"/staff/v1/counters/{COMPANY.other_counter_id}/open", headers=other.headers()
            )
            assert opened.status_code == 200, opened.text
        display = await open_page(
            browser, f"{address}/display/{COMPANY.branch_id}#key={key}", 1280, 720
        )
        console = await open_page(browser, f"{address}/console", 1366, 768)
        await sign_in_at_counter(console, COMPANY)
        await expect(display.locator("body")).to_have_attribute("data-live", "up")
        await _shows(display, await _book_and_call(first, key, other))  # K001, live

        # The network goes down; meanwhile a ticket is called. Back up, both screens
        # catch up by themselves.
        relay.cut()
        await expect(display.locator("body")).to_have_attribute("data-live", "down")
        await expect(console.locator("#link")).to_be_visible()
        missed = await _book_and_call(first, key, other)
        async with httpx.AsyncClient(base_url=first) as api:
            walk_in = await api.post(
                f"/kiosk/v1/branches/{COMPANY.branch_id}/tickets",
                headers={"Authorization": f"Bearer {key}"},
                json={"serviceId": COMPANY.cash_id},
            )
        relay.route_to(first)
        await _shows(display, missed)
        await expect(display.locator("body")).to_have_attribute("data-live", "up")
        await expect(
            console.locator(f"#queue li:has-text('{walk_in.json()['data']['ticketNumber']}')")
        ).to_be_visible(timeout=BACK_WITHIN_MS)
        await expect(console.locator("#link")).to_be_hidden()

        # The server stops (SIGTERM ends the streams) and another one starts on the same
        # database behind the same address.
        servers.close()
        await expect(display.locator("body")).to_have_attribute("data-live", "down")
        second = servers.enter_context(running_server(database_url, workers=2))
        relay.route_to(second)
        after_restart = await _book_and_call(second, key, other)
        await _shows(display, after_restart)
        await expect(display.locator("#called li", has_text=missed)).to_be_visible()
        # The console's session survived the restart: it still works the counter.
        await console.click("#call-next")
        await expect(console.locator("#current .ticket")).to_contain_text(
            walk_in.json()["data"]["ticketNumber"]
        )
        await close_pages(display, console, allowed=NETWORK_ERRORS)


async def test_kiosk_check_in_console_check_in_and_following_a_ticket(
    engine: AsyncEngine, database_url: str, browser: Browser
) -> None:
    key = await prepare(engine, COMPANY)
    # Two of today's appointments (written directly: the test company takes none).
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.astimezone(ZoneInfo("Asia/Bahrain")).date()
    for number in (1, 2):
        # A few minutes ago (well inside the no-show grace): queued ahead of a walk-in.
        at = now - timedelta(minutes=3 - number)
        await insert_ticket(
            engine,
            company_id=COMPANY.company_id,
            branch_id=COMPANY.branch_id,
            group_id="scrgroup01",
            service_id=COMPANY.cash_id,
            type="appointment",
            status="upcoming",
            prefix="A",
            number=number,
            time=at,
            queue_at=at,
            day=today,
            service_day=today,
            at=now - timedelta(hours=1),
        )
    with running_server(database_url, workers=2) as base:
        console = await open_page(browser, f"{base}/console", 1366, 768)
        kiosk = await open_page(
            browser, f"{base}/kiosk/{COMPANY.branch_id}?print=0#key={key}", 1080, 1350
        )
        await sign_in_at_counter(console, COMPANY)
        appointments = console.locator("#appointments li[data-ticket-id]")
        await expect(appointments).to_have_count(2)

        # At the kiosk: a wrong number is refused in words, the right one checks in.
        await kiosk.click("#appointment")
        await kiosk.fill("#number", "A9")
        await kiosk.click("#checkin button[type=submit]")
        await expect(kiosk.locator("#checkin-error")).to_have_text(
            "There is no appointment with this number at this branch today."
        )
        await kiosk.fill("#number", "a-1")
        await kiosk.click("#checkin button[type=submit]")
        await expect(kiosk.locator("#checkin-ok")).to_contain_text("A001")
        await expect(console.locator("#queue li:has-text('A001')")).to_be_visible()
        await expect(appointments).to_have_count(1)

        # At the console: the other one, from the list.
        await appointments.locator("[data-action=check-in]").click()
        await expect(console.locator("#queue li:has-text('A002')")).to_be_visible()
        await expect(console.locator("#appointments li[data-ticket-id]")).to_have_count(0)

        # A walk-in at the kiosk; its QR code's page follows it on a phone.
        await kiosk.click("#back")
        await kiosk.click(f"[data-service-id='{COMPANY.cash_id}']")
        await expect(kiosk.locator("#slip-number")).to_have_text("C001")
        number = "C001"
        async with engine.connect() as connection:
            ticket_id = await connection.scalar(
                select(t.tickets.c.id).where(
                    t.tickets.c.company_id == COMPANY.company_id,
                    t.tickets.c.prefix == number[0],
                    t.tickets.c.number == int(number[1:]),
                )
            )
        phone = await open_page(browser, f"{base}/follow/{ticket_id}#key={key}", 390, 844)
        await expect(phone.locator("#number")).to_have_text(number)
        await expect(phone.locator("#status")).to_have_text("Waiting")
        await expect(phone.locator("#ahead")).to_have_text("2")  # the two appointments
        # The agent serves the two appointments ahead, then calls the walk-in.
        for ahead in ("1", "0"):
            await console.click("#call-next")
            await console.click("[data-action=start]")
            await console.click("[data-action=finish]")
            await expect(phone.locator("#ahead")).to_have_text(ahead)
        await console.click("#call-next")
        await expect(phone.locator("#status")).to_have_text("Called")
        await expect(phone.locator("#turn")).to_be_visible()
        await console.click("[data-action=start]")
        await expect(phone.locator("#status")).to_have_text("Being served")
        await console.click("[data-action=finish]")
        await expect(phone.locator("#status")).to_have_text("Served")
        await expect(phone.locator("#turn")).to_be_hidden()
        await close_pages(console, phone)
        await close_pages(kiosk, allowed=("status of 422",))  # the wrong number, on purpose


async def test_every_move_at_the_counter_is_one_click(
    engine: AsyncEngine, database_url: str, browser: Browser
) -> None:
    """Call next, recall, back to queue, transfer and no-show from the console's buttons,
    each the staff API's move (the ticket's event log says so), the figures counting the
    no-show."""
    key = await prepare(engine, COMPANY)
    with running_server(database_url, workers=2) as base:
        console = await open_page(browser, f"{base}/console", 1366, 768)
        await sign_in_at_counter(console, COMPANY)
        async with httpx.AsyncClient(base_url=base) as api:
            booked = await api.post(
                f"/kiosk/v1/branches/{COMPANY.branch_id}/tickets",
                headers={"Authorization": f"Bearer {key}"},
                json={"serviceId": COMPANY.cash_id},
            )
        ticket_id, number = booked.json()["data"]["id"], booked.json()["data"]["ticketNumber"]
        current = console.locator("#current .ticket")

        def waiting_in(service_id: str) -> Locator:
            return console.locator(
                f"[data-service-id='{service_id}'] li[data-ticket-id='{ticket_id}']"
            )

        await expect(waiting_in(COMPANY.cash_id)).to_be_visible()
        await console.click("#call-next")
        await expect(current).to_have_attribute("data-status", "called")
        await console.click("[data-action=recall]")
        await console.click("[data-action=requeue]")
        await expect(current).to_have_count(0)
        await expect(waiting_in(COMPANY.cash_id)).to_be_visible()
        await console.click("#call-next")
        await expect(current).to_contain_text(number)
        await console.select_option("#moves select", COMPANY.cards_id)
        await console.click("[data-action=transfer]")
        await expect(current).to_have_count(0)
        await expect(waiting_in(COMPANY.cards_id)).to_be_visible()
        await console.click("#call-next")
        await expect(current).to_have_attribute("data-status", "called")
        await console.click("[data-action=no-show]")
        await expect(console.locator("#no-shows")).to_have_text("1")
        await expect(current).to_have_count(0)
        await close_pages(console)

    async with engine.connect() as connection:
        events = (
            await connection.execute(
                select(EVENTS.from_status, EVENTS.to_status, EVENTS.source)
                .where(EVENTS.ticket_id == ticket_id)
                .order_by(EVENTS.id)
            )
        ).all()
    assert [tuple(row) for row in events] == [
        (None, "waiting", "kiosk"),
        ("waiting", "called", "staff"),
        ("called", "called", "staff"),  # recall
        ("called", "waiting", "staff"),  # back to the queue
        ("waiting", "called", "staff"),
        ("called", "waiting", "staff"),  # transfer to cards
        ("waiting", "called", "staff"),
        ("called", "no_show", "staff"),
    ]
