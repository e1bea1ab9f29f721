"""The login throttle under real concurrency: a 2-worker server (two processes, each with
its own connection pool), 30 simultaneous wrong-password logins for one account, both
databases.

What must hold: every attempt that got its password checked is counted (no lost
update between the processes), no more than the account's limit are ever checked in a
window however many arrive at once, every other attempt is a 429 with Retry-After, and
the right password is refused the same way until the window has passed.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.db.uow import write_transaction
from taboor.staff.throttle import ACCOUNT_LIMIT, WINDOW
from tests.conftest import CompanyKeys
from tests.live_server import running_server
from tests.staff.helpers import PASSWORD, WRONG, failures_of, make_staff

ATTEMPTS = 30


async def burst(client: httpx.AsyncClient, password: str) -> list[httpx.Response]:
    return await asyncio.gather(
        *(
            client.post("/staff/v1/login", json={"username": "amal", "password": password})
            for _ in range(ATTEMPTS)
        )
    )


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["retry-after"]) <= WINDOW.total_seconds()
    assert response.json()["code"] == "rate_limited"


async def let_the_window_pass(engine: AsyncEngine) -> None:
    """Move every window back by its length: the server reads time from the system
    clock, so the rows move instead."""
    c = t.login_throttle.c
    async with write_transaction(engine) as connection:
        rows = (await connection.execute(select(c.scope, c.subject, c.window_started_at))).all()
        for scope, subject, started in rows:
            await connection.execute(
                update(t.login_throttle)
                .where(c.scope == scope, c.subject == subject)
                .values(window_started_at=started - WINDOW)
            )


async def test_thirty_simultaneous_wrong_passwords_are_each_counted_once(
    engine: AsyncEngine, database_url: str, bank: CompanyKeys
) -> None:
    await make_staff(engine, "amal")
    with running_server(database_url, workers=2) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            for _round in range(2):
                responses = await burst(client, WRONG)
                statuses = Counter(response.status_code for response in responses)
                assert statuses == {401: ACCOUNT_LIMIT, 429: ATTEMPTS - ACCOUNT_LIMIT}, statuses
                for response in responses:
                    if response.status_code == 429:
                        assert_throttled(response)
                    else:
                        assert response.json()["error"] == "Invalid username or password."
                # Exactly the attempts that were checked are counted, in both scopes.
                checked = statuses[401]
                assert await failures_of(engine, "account", "amal") == checked
                assert await failures_of(engine, "address", "127.0.0.1") == checked

                # At the limit: every further attempt is refused, the right password too.
                for password in (WRONG, PASSWORD, PASSWORD):
                    response = await client.post(
                        "/staff/v1/login", json={"username": "amal", "password": password}
                    )
                    assert_throttled(response)
                assert await failures_of(engine, "account", "amal") == checked

                # Once the window has passed, a new one starts with a full budget.
                await let_the_window_pass(engine)

            signed_in = await client.post(
                "/staff/v1/login", json={"username": "amal", "password": PASSWORD}
            )
            assert signed_in.status_code == 200, signed_in.text
            token = signed_in.json()["data"]["token"]
            me = await client.get("/staff/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert me.json()["data"]["username"] == "amal"
    assert await failures_of(engine, "account", "amal") == 0
