"""The hall display's announcements in a real browser (Debian's Chromium, a real
``taboor serve``, both databases): every call and every recall is announced, in the
branch's language, in the order they happened, each only after the one before has been
said, none cut short. The browser's speech synthesis is replaced by a recorder that
takes 400 ms per sentence, so the test sees what would have been said and when."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.live_server import running_server
from tests.staff_api.helpers import add_staff
from tests.web.browser import ARABIC, close_pages, needs_chromium, open_page, prepare

pytestmark = needs_chromium
COMPANY = ARABIC  # the display speaks the branch's language by itself: Arabic

# Installed before the page's scripts run: speak() records the sentence and "says" it
# for 400 ms; a sentence given while another is being said is an overlap.
SPEECH_RECORDER = """
(() => {
  const said = [];
  let speaking = false;
  window.speechRecord = { said, overlaps: 0 };
  const synthesis = {
    getVoices: () => [],
    cancel: () => { window.speechRecord.cancelled = true; },
    speak(utterance) {
      if (speaking) window.speechRecord.overlaps += 1;
      speaking = true;
      said.push({ text: utterance.text, lang: utterance.lang, at: Date.now() });
      setTimeout(() => { speaking = false; utterance.onend && utterance.onend(); }, 400);
    },
  };
  Object.defineProperty(window, "speechSynthesis", { value: synthesis });
})();
"""


async def test_calls_and_recalls_are_announced_in_order_never_over_each_other(
    engine: AsyncEngine, database_url: str, browser: Browser
) -> None:
    key = await prepare(engine, COMPANY)
    agent = await add_staff(
        engine, COMPANY.company_id, "agent", (COMPANY.branch_id,), datetime.now(UTC)
    )
    with running_server(database_url, workers=2) as base:
        display = await open_page(
            browser,
            f"{base}/display/{COMPANY.branch_id}#key={key}",
            1280,
            720,
            init_script=SPEECH_RECORDER,
        )
        await expect(display.locator("body")).to_have_attribute("data-live", "up")
        async with httpx.AsyncClient(base_url=base, headers=agent.headers()) as api:
            opened = await api.post(f"/staff/v1/counters/{COMPANY.counter_id}/open")
            assert opened.status_code == 200, opened.text
            kiosk = {"Authorization": f"Bearer {key}"}
            numbers = []
            for _ in range(2):
                booked = await api.post(
                    f"/kiosk/v1/branches/{COMPANY.branch_id}/tickets",
                    headers=kiosk,
                    json={"serviceId": COMPANY.cash_id},
                )
                numbers.append(booked.json()["data"]["ticketNumber"])
            # In quick succession: call C001, recall it twice, finish it, call C002.
            first = (await api.post(f"/staff/v1/counters/{COMPANY.counter_id}/call-next")).json()
            ticket = first["data"]["id"]
            for move in ("recall", "recall", "start", "finish"):
                answer = await api.post(f"/staff/v1/tickets/{ticket}/{move}")
                assert answer.status_code == 200, answer.text
            second = await api.post(f"/staff/v1/counters/{COMPANY.counter_id}/call-next")
            assert second.json()["data"]["ticketNumber"] == numbers[1]

        await display.wait_for_function("() => window.speechRecord.said.length >= 4")
        await display.wait_for_timeout(1500)  # nothing more, nothing cut short
        record: dict[str, Any] = await display.evaluate("() => window.speechRecord")
        counter = "الشباك 1"
        expected = [f"التذكرة {n}، يرجى التوجه إلى {counter}." for n in [numbers[0]] * 3]
        expected.append(f"التذكرة {numbers[1]}، يرجى التوجه إلى {counter}.")
        assert [item["text"] for item in record["said"]] == expected
        assert {item["lang"] for item in record["said"]} == {"ar-SA"}
        assert record["overlaps"] == 0 and "cancelled" not in record
        # Each began only after the one before was said (400 ms) and the chime (700 ms).
        starts = [item["at"] for item in record["said"]]
        assert all(later - earlier >= 1000 for earlier, later in itertools.pairwise(starts))
        await expect(display.locator("#called li.newest .number")).to_have_text(numbers[1])
        await close_pages(display)
