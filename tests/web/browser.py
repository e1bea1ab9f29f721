"""What the screens' browser tests share: the companies they run against, preparing a
database for a live server (company, agent, public key), opening a page whose errors
are collected, signing in at the console, and saving screenshots on request."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.keys.service import create_key
from taboor.setup.apply import apply_company
from taboor.setup.loader import load_company_file
from taboor.staff.accounts import create_staff

CHROMIUM = "/usr/bin/chromium"
# Flags that keep Debian's Chromium quiet and self-contained in a container; the
# autoplay policy is what an unattended hall display runs with (docs/screens.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
COMPANIES = Path(__file__).parent / "companies"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery"

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
    reason="Debian's Chromium is not installed (apt-get install chromium)",
)


@dataclass(frozen=True)
class Company:
    file: str
    company_id: str
    branch_id: str
    counter_id: str  # serves cash and cards
    cash_id: str
    cards_id: str
    other_counter_id: str  # serves cards only
    locale: str
    username: str


ENGLISH = Company(
    "screens_en",
    "cmp_screen1",
    "scrbranch1",
    "scrctr0001",
    "scrcash001",
    "scrcards01",
    "scrctr0002",
    "en",
    "amal@screens",
)
ARABIC = Company(
    "screens_ar",
    "cmp_screen2",
    "sarbranch1",
    "sarctr0001",
    "sarcash001",
    "sarcards01",
    "sarctr0002",
    "ar",
    "badr@screens",
)


async def prepare(engine: AsyncEngine, company: Company) -> str:
    """The company, an agent at its branch who signs in with ``PASSWORD``, and the public
    key the devices open with."""
    await apply_company(engine, load_company_file(COMPANIES / f"{company.file}.yaml"))
    await create_staff(
        engine,
        company.company_id,
        company.username,
        "Amal Haddad" if company.locale == "en" else "بدر",
        "agent",
        PASSWORD,
        [company.branch_id],
        datetime.now(UTC),
    )
    return (await create_key(engine, company.company_id, "public", "screens")).key


# What each page reported as an error (uncaught exceptions, console errors, failed loads).
ERRORS: dict[Page, list[str]] = {}


async def open_page(
    browser: Browser, url: str, width: int, height: int, *, init_script: str | None = None
) -> Page:
    """A page in a context of its own (its own storage, as on a separate device)."""
    context = await browser.new_context(viewport={"width": width, "height": height})
    if init_script is not None:
        await context.add_init_script(init_script)
    page = await context.new_page()
    errors = ERRORS.setdefault(page, [])
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto(url)
    return page


async def close_pages(*pages: Page, allowed: tuple[str, ...] = ()) -> None:
    """Close the pages, after checking none reported an error (but ``allowed`` ones)."""
    for page in pages:
        errors = [e for e in ERRORS.pop(page) if not any(a in e for a in allowed)]
        assert errors == [], errors
        await page.context.close()


async def sign_in_at_counter(console: Page, company: Company) -> None:
    await console.fill("input[name=username]", company.username)
    await console.fill("input[name=password]", PASSWORD)
    await console.click("#login button[type=submit]")
    await console.click(f"[data-counter-id='{company.counter_id}']")
    await expect(console.locator("#work")).to_be_visible()


async def screenshot(page: Page, name: str) -> None:
    """Saved to docs/screenshots/ only when ``TABOOR_SCREENSHOTS=1``."""
    if os.environ.get("TABOOR_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=SCREENSHOTS / f"{name}.png")
