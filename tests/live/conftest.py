"""Fixtures of the live-stream tests: the hall company (counters.yaml) and the bank
as "another company", keys, staff, and the app served on a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.app import create_app
from taboor.settings import Settings
from tests.conftest import CompanyKeys, keys_for
from tests.live.helpers import served
from tests.staff_api.helpers import Staff, add_staff
from tests.support import MutableClock, apply_fixture

HALL, BRANCH = "cmp_ctrs01", "hallbr0001"
Q1, Q2 = "hallsvc001", "hallsvc002"
GROUP = "hallgrp001"
COUNTER1, COUNTER2 = "hallctr001", "hallctr002"
BANK_BRANCH = "zallaq0001"

# Fast enough for tests; the hub's defaults are for servers.
TEST_SETTINGS = Settings(live_poll_seconds=0.05, live_heartbeat_seconds=15.0)


@dataclass
class Hall:
    keys: CompanyKeys
    bank: CompanyKeys
    agent: Staff
    agent2: Staff
    stranger: Staff  # an agent of the hall who works at no branch
    banker: Staff  # an admin of the bank

    def key(self, kind: str = "public") -> dict[str, str]:
        return self.keys.headers(kind)


@pytest.fixture
async def hall(engine: AsyncEngine, clock: MutableClock) -> Hall:
    await apply_fixture(engine, "counters")
    await apply_fixture(engine, "bank")
    now = clock()
    return Hall(
        keys=await keys_for(engine, HALL),
        bank=await keys_for(engine, "cmp_bank01"),
        agent=await add_staff(engine, HALL, "agent", (BRANCH,), now, "Amal"),
        agent2=await add_staff(engine, HALL, "agent", (BRANCH,), now, "Badr"),
        stranger=await add_staff(engine, HALL, "agent", (), now, "Nowhere"),
        banker=await add_staff(engine, "cmp_bank01", "admin", (), now, "Banker"),
    )


def live_app(engine: AsyncEngine, clock: MutableClock, **settings: Any) -> Litestar:
    return create_app(replace(TEST_SETTINGS, **settings), engine=engine, clock=clock)


@pytest.fixture
async def app(engine: AsyncEngine, clock: MutableClock) -> Litestar:
    return live_app(engine, clock)


@pytest.fixture
async def live(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app served on a real socket."""
    async with served(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        yield client


class Moves:
    """Ticket moves through the APIs, as a kiosk and an agent make them."""

    def __init__(self, client: httpx.AsyncClient, hall: Hall) -> None:
        self.client = client
        self.hall = hall

    async def book(self, service: str = Q1) -> dict[str, Any]:
        response = await self.client.post(
            "/external/v1/tickets/book",
            headers=self.hall.key(),
            json={"serviceId": service, "groupOfServiceId": GROUP},
        )
        assert response.status_code == 201, response.text
        return dict(response.json()["data"])

    async def staff(self, path: str, who: Staff | None = None, **kw: Any) -> dict[str, Any]:
        response = await self.client.post(
            f"/staff/v1{path}", headers=(who or self.hall.agent).headers(), **kw
        )
        assert response.status_code == 200, response.text
        return dict(response.json()["data"])

    async def open_counter(self, counter: str = COUNTER1, who: Staff | None = None) -> None:
        await self.staff(f"/counters/{counter}/open", who)

    async def call_next(self, counter: str = COUNTER1, who: Staff | None = None) -> dict[str, Any]:
        return await self.staff(f"/counters/{counter}/call-next", who)


@pytest.fixture
def moves(live: httpx.AsyncClient, hall: Hall) -> Moves:
    return Moves(live, hall)
