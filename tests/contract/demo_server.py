"""A real Taboor server on a fresh database with the demo company, for the contract tests.

``taboor demo`` in a fixture: migrate a brand-new database, apply the bundled demo
company, create a public and a secret key and a staff admin and agent (what ``taboor
staff create`` writes), serve it with ``taboor serve`` (one worker, see ``serving``),
and sign both staff users in through ``POST /staff/v1/login``. ``Demo`` holds
the real ids of the company and of what is created through the API as the tests run
(customers, tickets), so that generated requests can be pointed at real records.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from taboor.db.engine import create_engine
from taboor.db.migrate import upgrade_to_head
from taboor.db.uow import write_transaction
from taboor.keys.service import create_key
from taboor.setup.apply import apply_company
from taboor.setup.loader import demo_company_yaml, parse_company_yaml
from taboor.setup.schema import CompanySpec
from taboor.staff.accounts import create_staff
from taboor.staff.sessions import create_session
from tests.live_server import server_process
from tests.support import POSTGRES_ENV, create_postgres_database, drop_postgres_database

EXTERNAL = "/external/v1"
STAFF = "/staff/v1"
ADMIN = ("fuzz.admin", "fuzz-admin-password")
AGENT = ("fuzz.agent", "fuzz-agent-password")
AGENT_BRANCH = "802b33af66"  # Seef Mall: the agent is not assigned to the other two
# The airport branch is open around the clock, so walk-ins can always be booked there.
AIRPORT_GROUP = "6f7a8b9c01"
AIRPORT_SERVICES = ("2c3d4e5f61", "2c3d4e5f62")
AIRPORT_COUNTER = "ctr0000021"
# Sessions for the fuzzed ``POST /staff/v1/logout`` to end, so that it never ends the
# session the rest of the run uses.
SPARE_SESSIONS = 400


@dataclass(frozen=True)
class TicketInfo:
    service_id: str
    customer_id: str | None
    type: str


@dataclass
class Demo:
    """The running server and the real ids of its demo company."""

    base_url: str
    public_key: str
    secret_key: str
    admin_token: str
    agent_token: str
    spare_sessions: list[str]
    branches: list[str]
    groups: dict[str, str]  # service → its group
    counters: list[str]
    appointment_services: list[str]
    # What the server has created so far, in order (see ``record``).
    customers: dict[str, str | None] = field(default_factory=dict)  # id → externalId
    tickets: dict[str, TicketInfo] = field(default_factory=dict)
    fresh: list[str] = field(default_factory=list)  # the tickets of the last ``refresh``
    slots: dict[str, list[str]] = field(default_factory=dict)  # service → free slot times
    statuses: dict[str, str] = field(default_factory=dict)  # live ticket → status at refresh
    # A staff user and an API key per staff refresh, for deactivating and revoking.
    spare_staff: list[str] = field(default_factory=list)
    spare_keys: list[str] = field(default_factory=list)

    @property
    def services(self) -> list[str]:
        return list(self.groups)

    def external_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret_key}"}

    def staff_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def record(self, status: int, body: Any) -> None:
        """Remember a ticket or a customer the server has just created."""
        if status != 201 or not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            return
        data = body["data"]
        if "ticketNumber" in data:
            customer = data.get("customer")
            self.tickets[data["id"]] = TicketInfo(
                data["service"]["id"], customer["id"] if customer else None, data["type"]
            )
            self.fresh.append(data["id"])
        elif "_id" in data:
            self.customers[data["_id"]] = data.get("externalId")

    def live_tickets(self) -> list[str]:
        """The tickets of the last refresh, and the first few ever booked (by now most
        are cancelled, served or gone through other moves)."""
        return [*self.fresh, *list(self.tickets)[:4]]

    def refresh(self, client: httpx.Client, *, at_counter: bool = False) -> None:
        """New tickets in every status a move starts from, and the free slots now.

        Two new customers, each with an appointment (``upcoming``) where a slot is free,
        and four walk-ins (``waiting``) at the airport. ``at_counter`` (the staff pass):
        the admin holds the airport's counter, calls two tickets and starts serving one,
        and creates a throwaway agent and API key."""
        self.fresh = []
        self._find_slots(client)
        headers = self.external_headers()
        start = len(self.customers)
        for number in range(start, start + 2):
            body = {"externalId": f"crm-{number}", "name": f"Customer {number}"}
            response = client.post(f"{EXTERNAL}/customers/create", json=body, headers=headers)
            self.record(response.status_code, response.json())
        new_customers = list(self.customers)[start:]
        with_slots = [service for service in self.appointment_services if self.slots[service]]
        for customer_id, service_id in zip(new_customers, with_slots, strict=False):
            body = {
                "serviceId": service_id,
                "groupOfServiceId": self.groups[service_id],
                "time": self.slots[service_id][-1],
                "customerId": customer_id,
            }
            response = client.post(f"{EXTERNAL}/tickets/book", json=body, headers=headers)
            self.record(response.status_code, response.json())
        for number in range(4):
            body = {"serviceId": AIRPORT_SERVICES[number % 2], "groupOfServiceId": AIRPORT_GROUP}
            response = client.post(f"{EXTERNAL}/tickets/book", json=body, headers=headers)
            assert response.status_code == 201, response.text
            self.record(201, response.json())
        if at_counter:
            self._hold_airport_counter(client)
            self._throwaways(client)
        self.statuses = {}
        for ticket_id in self.live_tickets():
            response = client.get(f"{EXTERNAL}/tickets/{ticket_id}", headers=headers)
            if response.status_code == 200:
                self.statuses[ticket_id] = response.json()["data"]["status"]

    def _find_slots(self, client: httpx.Client) -> None:
        today = datetime.now(UTC).date()
        for service_id in self.appointment_services:
            times: list[str] = []
            for days in range(4):
                day = (today + timedelta(days=days)).isoformat()
                response = client.get(
                    f"{EXTERNAL}/services/{service_id}/slots",
                    params={"date": day},
                    headers=self.external_headers(),
                )
                if response.status_code == 200:
                    times.extend(slot["time"] for slot in response.json()["data"])
                if len(times) >= 6:
                    break
            self.slots[service_id] = times[:6]

    def _throwaways(self, client: httpx.Client) -> None:
        headers = self.staff_headers()
        number = len(self.spare_staff)
        body = {
            "username": f"spare.{number}",
            "name": f"Spare {number}",
            "role": "agent",
            "password": "spare-password",
            "branchIds": [AGENT_BRANCH],
        }
        response = client.post(f"{STAFF}/staff", json=body, headers=headers)
        if response.status_code == 201:
            self.spare_staff.append(response.json()["data"]["id"])
        response = client.post(f"{STAFF}/keys", json={"kind": "public"}, headers=headers)
        if response.status_code == 201:
            self.spare_keys.append(response.json()["data"]["id"])

    def _hold_airport_counter(self, client: httpx.Client) -> None:
        """The admin holds the airport's counter (closing whatever other counter the
        fuzzing left it holding), with both airport services enabled; two tickets
        called there, one of them being served."""
        headers = self.staff_headers()
        for counter_id in self.counters:
            if counter_id != AIRPORT_COUNTER:
                client.post(f"{STAFF}/counters/{counter_id}/close", headers=headers)
        client.post(f"{STAFF}/counters/{AIRPORT_COUNTER}/open", headers=headers)
        client.put(
            f"{STAFF}/counters/{AIRPORT_COUNTER}/services",
            json={"serviceIds": list(AIRPORT_SERVICES)},
            headers=headers,
        )
        called = []
        for _ in range(2):
            response = client.post(f"{STAFF}/counters/{AIRPORT_COUNTER}/call-next", headers=headers)
            if response.status_code == 200 and response.json()["data"]:
                called.append(response.json()["data"]["id"])
        if called:
            client.post(f"{STAFF}/tickets/{called[0]}/start", headers=headers)
        # The queue's head was called, which may be older than this refresh's tickets.
        self.fresh.extend(ticket_id for ticket_id in called if ticket_id not in self.fresh)


@contextmanager
def serving(database_url: str, log: Path) -> Iterator[str]:
    """``taboor serve`` with one worker, its output in ``log``; the base URL once it
    answers."""
    with server_process(database_url, workers=1, log=log) as (base_url, _process):
        yield base_url


def _ids(spec: CompanySpec) -> dict[str, Any]:
    groups: dict[str, str] = {}
    counters: list[str] = []
    appointments: list[str] = []
    for branch in spec.branches:
        counters.extend(counter.id for counter in branch.counters)
        for group in branch.groups:
            for service in group.services:
                groups[service.id] = group.id
                if service.appointment is not None:
                    appointments.append(service.id)
    return {
        "branches": [branch.id for branch in spec.branches],
        "groups": groups,
        "counters": counters,
        "appointment_services": appointments,
    }


async def _prepare(url: str, spec: CompanySpec) -> tuple[str, str, list[str]]:
    """What ``taboor demo`` and ``taboor staff create`` write: the company, two keys,
    an admin and an agent; plus spare admin sessions for the fuzzed logouts."""
    engine = create_engine(url, pool_size=2)
    now = datetime.now(UTC)
    try:
        await apply_company(engine, spec)
        public = await create_key(engine, spec.id, "public", "contract")
        secret = await create_key(engine, spec.id, "secret", "contract")
        admin_id = await create_staff(
            engine, spec.id, ADMIN[0], "Fuzz Admin", "admin", ADMIN[1], (), now
        )
        await create_staff(
            engine, spec.id, AGENT[0], "Fuzz Agent", "agent", AGENT[1], (AGENT_BRANCH,), now
        )
        async with write_transaction(engine) as connection:
            spare = [await create_session(connection, admin_id, now) for _ in range(SPARE_SESSIONS)]
    finally:
        await engine.dispose()
    return public.key, secret.key, spare


def _login(client: httpx.Client, username: str, password: str) -> str:
    response = client.post(f"{STAFF}/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["token"])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    """A fresh database per module and leg, with the demo company, served by one worker
    (its log: ``server.log`` beside the database, under pytest's temporary directory)."""
    database = None
    directory: Path = tmp_path_factory.mktemp(f"contract-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{directory / 'taboor.db'}"
    else:
        base = os.environ.get(POSTGRES_ENV)
        if not base:
            if os.environ.get("CI") == "true":
                pytest.fail(f"{POSTGRES_ENV} must be set in CI: the PostgreSQL leg is mandatory")
            pytest.skip(f"{POSTGRES_ENV} not set: PostgreSQL leg skipped")
        database = create_postgres_database(base)
        url = database.url
    try:
        upgrade_to_head(url)
        spec = parse_company_yaml(demo_company_yaml())
        public, secret, spare = asyncio.run(_prepare(url, spec))
        server = serving(url, directory / "server.log")
        with server as base_url, httpx.Client(base_url=base_url) as client:
            demo = Demo(
                base_url=base_url,
                public_key=public,
                secret_key=secret,
                admin_token=_login(client, *ADMIN),
                agent_token=_login(client, *AGENT),
                spare_sessions=spare,
                **_ids(spec),
            )
            demo.refresh(client)
            yield demo
    finally:
        if database is not None:
            drop_postgres_database(database)
