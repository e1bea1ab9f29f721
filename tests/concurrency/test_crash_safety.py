"""Crash safety: a 2-worker ``taboor serve`` is killed with SIGKILL (the whole process
group, no shutdown of any kind) in the middle of a booking load, restarted on the same
database, killed again, and so on; both databases. Whatever the moment of the kill:

- every answer the clients received is durable: each 201 ticket exists with the number
  it was given, each acknowledged cancel and move is there (design.md §3: an answer
  is sent only after its transaction committed);
- no ticket exists without its history: its first event is its booking (from nothing to
  its initial status), every later event starts where the previous one ended, and the
  last one ends at the ticket's status;
- numbers stay gap-free: per (branch, prefix, local day) the tickets hold exactly
  1..n, n being ``ticket_numbers.last_number`` (a number drawn by a booking the crash
  cut short was rolled back with it);
- ``slot_places.taken`` equals the non-cancelled tickets holding each slot, never above
  its capacity;
- a booking sent with an ``Idempotency-Key`` (spec §4) and cut by the kill, sent again
  after the restart, books at most once: the retry replays the stored answer if the
  first attempt committed, runs if it did not (each key is also written in the ticket's
  ``options``, so the tickets of a key can be counted).

The load mixes walk-ins (on PostgreSQL one autocommit statement each), appointment
bookings on a few hot slots (a transaction taking a place), cancels and moves of
tickets booked earlier, while two agents call, start and finish walk-ins at two
counters (each move a compare-and-swap writing its event). The ``crash`` company is
open around the clock and appointments are taken from tomorrow (branch zone), as in
``test_booking_races``.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from tests.conftest import CompanyKeys, keys_for
from tests.live_server import free_port, serve_command
from tests.staff_api.helpers import Staff, add_staff
from tests.support import apply_fixture

API, STAFF = "/external/v1", "/staff/v1"
COMPANY, BRANCH = "cmp_crash1", "crashbr001"
COUNTERS = ("crashctr01", "crashctr02")
ZONE = ZoneInfo("Asia/Bahrain")
WALK_INS = [
    {"serviceId": "crashwalk1", "groupOfServiceId": "crashgrp01"},  # prefix Q
    {"serviceId": "crashwalk2", "groupOfServiceId": "crashgrp01"},  # prefix K
]
CONSULTATION = {"serviceId": "crashappt1", "groupOfServiceId": "crashgrp02"}  # prefix A
INITIAL_STATUS = {"sequential": "waiting", "appointment": "upcoming"}

KILLS = 3  # server lifetimes killed mid-load; one more books on and is killed idle
CLIENTS = 24  # concurrent client loops
CUSTOMERS = 60
HOT_SLOTS = 12  # the appointment slots the load fights over (capacity 2 each)
KEYED = 0.3  # the share of bookings sent with an Idempotency-Key


# -- a server whose whole process group the test can kill --------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once: nothing is flushed, no
        shutdown hook runs, connections are cut mid-transaction."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@contextmanager
def server(database_url: str, directory: Path, lifetime: int) -> Iterator[Server]:
    """``taboor serve --workers 2`` on a free port, once it answers; killed (group) at
    the end whatever happened."""
    port = free_port()
    log = directory / f"server-{lifetime}.log"
    metrics = directory / f"metrics-{lifetime}"  # left behind by a kill: ours to clean
    metrics.mkdir()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_MULTIPROC")},
        "TABOOR_LOG_LEVEL": "warning",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            serve_command(database_url, port, workers=2),
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,  # its own process group: killpg reaches the workers
        )
    running = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{log.read_text(errors='replace')}")
            with suppress(httpx.HTTPError):
                if httpx.get(f"{running.base_url}{API}/openapi.json", timeout=1).is_success:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer within 30 s")
            time.sleep(0.1)
        yield running
    finally:
        running.kill()


# -- what the clients were told ----------------------------------------------------------


@dataclass
class Known:
    """A ticket some client got a 201 for, and what later answers said about it."""

    id: str
    number: str  # ticketNumber as answered
    type: str
    customer_id: str | None
    status: str
    time: str | None
    # A cancel, move, start or finish of it went unanswered (the kill): outcome unknown.
    uncertain: bool = False
    busy: bool = False


@dataclass
class Ledger:
    tickets: dict[str, Known] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    unanswered: int = 0  # requests in flight when the server died
    # Bookings sent with an Idempotency-Key (and the key in their options): the ticket
    # each key booked as answered (None: refused), and those cut by a kill, to retry.
    keyed: dict[str, str | None] = field(default_factory=dict)
    cut_keyed: dict[str, dict[str, Any]] = field(default_factory=dict)
    retries: Counter[str] = field(default_factory=Counter)
    acknowledged_moves: int = 0
    acknowledged_cancels: int = 0
    served: int = 0  # walk-ins an agent was told are finished
    cut_calls: int = 0  # call-next requests the kill cut: each may have called a ticket

    def summary(self) -> str:
        uncertain = sum(k.uncertain for k in self.tickets.values())
        return (
            f"{len(self.tickets)} answered 201, {self.unanswered} requests cut by kills, "
            f"cut keyed bookings retried: {dict(self.retries)}, "
            f"{self.acknowledged_cancels} cancels and {self.acknowledged_moves} moves "
            f"acknowledged, {self.served} served, {self.cut_calls} call-nexts cut, "
            f"{uncertain} tickets with an unanswered cancel, move, start or finish, "
            f"answers {dict(self.statuses)}"
        )

    def movable(self) -> list[Known]:
        return [
            k
            for k in self.tickets.values()
            if not (k.busy or k.uncertain) and k.status in ("waiting", "upcoming")
        ]


@dataclass
class Load:
    client: httpx.AsyncClient
    keys: CompanyKeys
    customers: list[str]
    slots: list[str]
    ledger: Ledger
    randomness: random.Random

    def headers(self) -> dict[str, str]:
        return self.keys.headers("public")

    async def step(self) -> None:
        """One request of the mix; its answer goes into the ledger."""
        roll = self.randomness.random()
        movable = self.ledger.movable()
        appointments = [k for k in movable if k.type == "appointment"]
        if roll < 0.15 and movable:
            await self.cancel(self.randomness.choice(movable))
        elif roll < 0.30 and appointments:
            await self.move(self.randomness.choice(appointments))
        elif roll < 0.65:
            body: dict[str, Any] = {
                **CONSULTATION,
                "time": self.randomness.choice(self.slots),
                "customerId": self.randomness.choice(self.customers),
            }
            await self.book(body)
        else:
            body = dict(self.randomness.choice(WALK_INS))
            if self.randomness.random() < 0.2:  # some walk-ins name a customer
                body["customerId"] = self.randomness.choice(self.customers)
            await self.book(body)

    def _answered(self, response: httpx.Response) -> None:
        code = response.json().get("code") if response.status_code >= 400 else None
        self.ledger.statuses[f"{response.status_code} {code or ''}".strip()] += 1

    async def book(self, body: dict[str, Any]) -> None:
        headers = self.headers()
        key = None
        if self.randomness.random() < KEYED:
            key = f"crash-{self.randomness.getrandbits(64):016x}"
            body = {**body, "options": {"request": key}}
            headers["Idempotency-Key"] = key
        try:
            response = await self.client.post(f"{API}/tickets/book", headers=headers, json=body)
        except httpx.TransportError:
            if key is not None:
                self.ledger.cut_keyed[key] = body
            raise
        self._answered(response)
        booked = self._booked(response)
        if key is not None:
            self.ledger.keyed[key] = booked

    def _booked(self, response: httpx.Response) -> str | None:
        if response.status_code != 201:
            return None
        data = response.json()["data"]
        self.ledger.tickets[data["id"]] = Known(
            id=data["id"],
            number=data["ticketNumber"],
            type=data["type"],
            customer_id=(data["customer"] or {}).get("id"),
            status=data["status"],
            time=data["time"],
        )
        return str(data["id"])

    async def retry_cut_bookings(self) -> None:
        """What a careful client does after an outage: send each booking the kill left
        unanswered again, with its Idempotency-Key. If the first one committed, its
        stored answer comes back; if not, the booking runs now (spec §4)."""
        for key, body in sorted(self.ledger.cut_keyed.items()):
            headers = {**self.headers(), "Idempotency-Key": key}
            for _ in range(40):
                response = await self.client.post(f"{API}/tickets/book", headers=headers, json=body)
                # A first attempt whose session the database has not yet ended.
                if response.status_code != 409:
                    break
                assert response.json()["code"] == "idempotency_in_progress", response.text
                await asyncio.sleep(0.25)
            assert response.status_code in (201, 400), response.text
            if response.status_code == 400:
                assert response.json()["code"] in ("slot_full", "duplicate_active")
                outcome = "refused"
            elif response.headers.get("Idempotent-Replayed") == "true":
                outcome = "replayed"
            else:
                outcome = "ran"
            self.ledger.retries[outcome] += 1
            self.ledger.keyed[key] = self._booked(response)
        self.ledger.cut_keyed.clear()

    async def cancel(self, ticket: Known) -> None:
        ticket.busy = True
        try:
            response = await self.client.post(
                f"{API}/tickets/{ticket.id}/cancel", headers=self.headers()
            )
        except httpx.TransportError:
            ticket.uncertain = True
            raise
        finally:
            ticket.busy = False
        self._answered(response)
        if response.status_code == 200:
            ticket.status = response.json()["data"]["status"]
            self.ledger.acknowledged_cancels += 1

    async def move(self, ticket: Known) -> None:
        target = self.randomness.choice([slot for slot in self.slots if slot != ticket.time])
        ticket.busy = True
        try:
            response = await self.client.post(
                f"{API}/tickets/{ticket.id}/change-time",
                headers=self.headers(),
                json={"time": target, "customerId": ticket.customer_id},
            )
        except httpx.TransportError:
            ticket.uncertain = True
            raise
        finally:
            ticket.busy = False
        self._answered(response)
        if response.status_code == 200:
            ticket.time = response.json()["data"]["time"]
            assert ticket.time == target
            self.ledger.acknowledged_moves += 1


async def run_load(load: Load, stop: asyncio.Event) -> None:
    """``CLIENTS`` loops of requests until the server dies (a transport error) or
    ``stop`` is set."""

    async def loop() -> None:
        while not stop.is_set():
            try:
                await load.step()
            except httpx.TransportError:
                load.ledger.unanswered += 1
                return

    await asyncio.gather(*(loop() for _ in range(CLIENTS)))


@dataclass
class Agent:
    """A staff user working a counter: call the next walk-in, start, finish, again."""

    client: httpx.AsyncClient
    staff: Staff
    counter: str
    ledger: Ledger

    async def _post(self, path: str, ticket: str | None = None) -> Any:
        try:
            response = await self.client.post(f"{STAFF}{path}", headers=self.staff.headers())
        except httpx.TransportError:
            if ticket is None:
                self.ledger.cut_calls += path.endswith("/call-next")
            elif ticket in self.ledger.tickets:
                self.ledger.tickets[ticket].uncertain = True
            raise
        code = response.json().get("code") if response.status_code >= 400 else None
        self.ledger.statuses[f"staff {response.status_code} {code or ''}".strip()] += 1
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def _now(self, ticket: str, status: str) -> None:
        if ticket in self.ledger.tickets:  # else its booking's answer was lost
            self.ledger.tickets[ticket].status = status

    async def work(self, stop: asyncio.Event) -> None:
        try:
            await self._post(f"/counters/{self.counter}/open")  # held again after a kill
            while not stop.is_set():
                called = await self._post(f"/counters/{self.counter}/call-next")
                if called is None:
                    await asyncio.sleep(0.05)
                    continue
                ticket = called["id"]
                self._now(ticket, "called")
                await self._post(f"/tickets/{ticket}/start", ticket)
                self._now(ticket, "serving")
                await self._post(f"/tickets/{ticket}/finish", ticket)
                self._now(ticket, "served")
                self.ledger.served += 1
        except httpx.TransportError:
            self.ledger.unanswered += 1


def client_for(base_url: str) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    return httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits)


# -- what the database must say ----------------------------------------------------------


def stamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def assert_database_consistent(engine: AsyncEngine, ledger: Ledger, note: str) -> int:
    """Every invariant of this module's docstring, read straight from the tables; the
    number of tickets."""
    tk, ev = t.tickets.c, t.ticket_events.c
    async with engine.connect() as connection:
        tickets: dict[str, Any] = {
            row.id: row
            for row in await connection.execute(
                select(
                    tk.id,
                    tk.branch_id,
                    tk.service_id,
                    tk.type,
                    tk.status,
                    tk.prefix,
                    tk.day,
                    tk.number,
                    tk.time,
                    tk.options,
                ).where(tk.company_id == COMPANY)
            )
        }
        events: dict[str, list[Any]] = defaultdict(list)
        for event in await connection.execute(
            select(ev.ticket_id, ev.from_status, ev.to_status).order_by(ev.id)
        ):
            events[event.ticket_id].append(event)
        last_numbers = {
            (row.branch_id, row.prefix, row.day): row.last_number
            for row in await connection.execute(select(t.ticket_numbers))
        }
        places = {
            (row.service_id, stamp(row.starts_at)): (row.taken, row.capacity)
            for row in await connection.execute(select(t.slot_places))
        }

    # Every 201 is there with its number; every acknowledged cancel and move too.
    missing = [k.id for k in ledger.tickets.values() if k.id not in tickets]
    assert not missing, f"{note}: 201 answered, ticket missing: {missing[:5]} of {len(missing)}"
    wrong: list[tuple[str, str, str]] = []
    silently_called = 0
    for known in ledger.tickets.values():
        row = tickets[known.id]
        if f"{row.prefix}{row.number:03d}" != known.number:
            wrong.append((known.id, known.number, f"{row.prefix}{row.number:03d}"))
        if (known.status, row.status) == ("waiting", "called"):
            silently_called += 1  # by a call-next whose answer the kill cut
        elif not known.uncertain and (row.status, stamp(row.time)) != (known.status, known.time):
            wrong.append((known.id, f"{known.status} {known.time}", f"{row.status} {row.time}"))
    assert not wrong, f"{note}: acknowledged vs stored (id, answered, stored): {wrong[:5]}"
    assert silently_called <= ledger.cut_calls, (note, silently_called, ledger.cut_calls)

    # One Idempotency-Key, one booking at most: the ticket its answer (first or retried)
    # named, or none when refused, however the kill fell.
    by_key: dict[str, list[str]] = defaultdict(list)
    for row in tickets.values():
        if row.options and "request" in row.options:
            by_key[row.options["request"]].append(row.id)
    twice = {
        key: (booked, by_key.get(key, []))
        for key, booked in ledger.keyed.items()
        if by_key.get(key, []) != ([booked] if booked else [])
    }
    assert not twice, f"{note}: key -> (answered ticket, tickets with that key): {twice}"
    unknown = set(by_key) - set(ledger.keyed) - set(ledger.cut_keyed)
    assert not unknown, f"{note}: tickets of keys never sent: {unknown}"

    # No ticket without its history, and the history ends where the ticket is.
    broken: list[tuple[str, list[tuple[str | None, str]]]] = []
    for ticket_id, row in tickets.items():
        chain = [(e.from_status, e.to_status) for e in events.get(ticket_id, [])]
        ok = bool(chain) and chain[0] == (None, INITIAL_STATUS[row.type])
        ok = ok and all(chain[i][0] == chain[i - 1][1] for i in range(1, len(chain)))
        ok = ok and chain[-1][1] == row.status
        if not ok:
            broken.append((ticket_id, chain))
    assert not broken, f"{note}: tickets whose events do not tell their story: {broken[:5]}"
    orphans = set(events) - set(tickets)
    assert not orphans, f"{note}: events of no ticket: {sorted(orphans)[:5]}"

    # Gap-free numbers, none drawn without a ticket.
    numbers: dict[tuple[str, str, date], list[int]] = defaultdict(list)
    for row in tickets.values():
        numbers[(row.branch_id, row.prefix, row.day)].append(row.number)
    gaps = {
        key: (sorted(held), last_numbers.get(key))
        for key, held in numbers.items()
        if sorted(held) != list(range(1, len(held) + 1)) or last_numbers.get(key) != len(held)
    }
    assert not gaps, f"{note}: (branch, prefix, day) -> (numbers held, last_number): {gaps}"
    drawn_for_nothing = {key: n for key, n in last_numbers.items() if key not in numbers and n}
    assert not drawn_for_nothing, f"{note}: numbers drawn, no ticket: {drawn_for_nothing}"

    # Slot places agree with the tickets holding them, within capacity.
    held = Counter(
        (row.service_id, stamp(row.time))
        for row in tickets.values()
        if row.type == "appointment" and row.status != "cancelled"
    )
    drift = {
        slot: (places.get(slot, (0, None))[0], held.get(slot, 0))
        for slot in set(places) | set(held)
        if places.get(slot, (0, None))[0] != held.get(slot, 0)
    }
    assert not drift, f"{note}: slot -> (slot_places.taken, holding tickets): {drift}"
    over = {slot: pair for slot, pair in places.items() if pair[0] > pair[1]}
    assert not over, f"{note}: above capacity: {over}"
    return len(tickets)


# -- the test ----------------------------------------------------------------------------


@pytest.fixture
async def crash(engine: AsyncEngine) -> CompanyKeys:
    await apply_fixture(engine, "crash")
    return await keys_for(engine, COMPANY)


async def create_customers(client: httpx.AsyncClient, keys: CompanyKeys) -> list[str]:
    async def one(n: int) -> str:
        response = await client.post(
            f"{API}/customers/create", headers=keys.headers("secret"), json={"externalId": f"c{n}"}
        )
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["_id"])

    return list(await asyncio.gather(*(one(n) for n in range(CUSTOMERS))))


async def hot_slots(client: httpx.AsyncClient, keys: CompanyKeys) -> list[str]:
    tomorrow = (datetime.now(ZONE).date() + timedelta(days=1)).isoformat()
    response = await client.get(
        f"{API}/services/crashappt1/slots?date={tomorrow}", headers=keys.headers()
    )
    assert response.status_code == 200, response.text
    return [slot["time"] for slot in response.json()["data"]][10 : 10 + HOT_SLOTS]


async def test_sigkill_mid_load_loses_no_answer_and_breaks_no_invariant(
    engine: AsyncEngine, crash: CompanyKeys, database_url: str, tmp_path: Path
) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    randomness = random.Random(seed)
    ledger = Ledger()
    customers: list[str] = []
    slots: list[str] = []
    kill_after: list[float] = []
    now = datetime.now(UTC)
    agents = [
        await add_staff(engine, COMPANY, "agent", (BRANCH,), now, f"Agent {n}") for n in (1, 2)
    ]

    for lifetime in range(KILLS + 1):
        answered_before_kill = None
        with server(database_url, tmp_path, lifetime) as running:
            async with client_for(running.base_url) as client:
                if not customers:
                    customers = await create_customers(client, crash)
                    slots = await hot_slots(client, crash)
                    assert len(slots) == HOT_SLOTS
                load = Load(client, crash, customers, slots, ledger, randomness)
                await load.retry_cut_bookings()
                before = sum(ledger.statuses.values())
                if lifetime < KILLS:
                    stop = asyncio.Event()
                    working = [
                        Agent(client, staff, counter, ledger).work(stop)
                        for staff, counter in zip(agents, COUNTERS, strict=True)
                    ]
                    loading = asyncio.gather(run_load(load, stop), *working)
                    moment = randomness.uniform(1.0, 3.0)
                    kill_after.append(round(moment, 2))
                    await asyncio.sleep(moment)
                    answered_before_kill = sum(ledger.statuses.values()) - before
                    running.kill()
                    stop.set()
                    await asyncio.wait_for(loading, timeout=60)
                else:
                    # The last life: the restarted server books on from what the
                    # crashes left (numbers continue from the stored counters, freed
                    # places are free), then goes down idle.
                    for _ in range(40):
                        await load.step()
                    assert sum(ledger.statuses.values()) == before + 40
        note = f"seed {seed}, lifetime {lifetime}, killed after {kill_after} s"
        no_5xx = {status: n for status, n in ledger.statuses.items() if status.startswith("5")}
        assert not no_5xx, (note, no_5xx)
        expected = {"200", "201", "400 slot_full", "400 duplicate_active", "staff 200"}
        # A walk-in an agent called just before its cancel arrived.
        expected.add("409 not_cancellable")
        unexpected = set(ledger.statuses) - expected
        assert not unexpected, (note, ledger.statuses)
        # The kill landed mid-load: requests had been answered before it.
        assert answered_before_kill is None or answered_before_kill > 0, note
        stored = await assert_database_consistent(engine, ledger, note)
        # Shown when the test fails (and with -s): how hard each lifetime was hit.
        print(f"{note}: {stored} tickets stored; {ledger.summary()}")

    assert ledger.unanswered > 0, "no request was ever in flight at a kill"
    # Every path ran: bookings of both kinds, refusals, cancels and moves acknowledged.
    types = Counter(k.type for k in ledger.tickets.values())
    assert types["sequential"] and types["appointment"], types
    assert ledger.statuses["400 slot_full"], ledger.statuses
    assert ledger.acknowledged_cancels and ledger.acknowledged_moves, ledger.summary()
    assert ledger.retries and ledger.served, ledger.summary()
