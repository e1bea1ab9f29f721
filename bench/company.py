"""The realistic company of `make bench`: its company file, and its history bulk-loaded.

The company (``plan``, then ``company_yaml``) is an ordinary company file, applied with
``taboor apply`` like any operator's: 20 branches, 200 services, 8 counters a branch.

- The main branch has 50 services in 5 groups (the tree case); among them the walk-in
  service the walk-in case books (``walk_in``), the appointment service the appointment
  case books (``appointments``: 15-minute slots of 50 places, 30 days ahead) and the one
  the slots case reads (``slots``: 15-minute slots of 5 places, 30 days ahead, carrying
  10 000 booked appointments). It is open around the clock, so every case can run at any
  hour.
- 19 more branches share the other 150 services (7 or 8 each, every fourth taking
  appointments), open 06:00–24:00 (Friday from 14:00); each counter serves all the
  walk-in services of its branch (the main branch's: six services each).

``load`` then writes, fast (asyncpg COPY), what a company that has been running for a
month has:

- 100 000 customers (and the per-company count the directory's paging reads);
- 30 days of past tickets at every branch (up to 300 a day a branch: walk-ins and
  appointments, 85 % served, 8 % cancelled, 7 % no-show) with every event of their life
  cycle, their daily numbers gap-free from 1 and the ``ticket_numbers`` rows that
  counted them, and the appointment places they took (``slot_places``);
- 10 000 upcoming appointments on the slots service, spread evenly over every slot of
  the next 30 days (3 or 4 of its 5 places taken each), each with its own customer,
  number, ``booked`` event and place;
- one agent a counter (160), each signed in and holding their counter;
- today's queue at the 16 branches whose counters call-next is measured at: 30
  waiting walk-ins a service (240 a branch), booked over the last two hours, with
  numbers and events.

Every row respects the database's constraints and the app's own bookkeeping (numbers,
places, counts), so the server sees nothing it could not have written itself.
"""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import yaml
from sqlalchemy.engine import make_url

from taboor.db.engine import create_engine
from taboor.keys.service import create_key
from taboor.staff.passwords import hash_password
from taboor.staff.sessions import create_session

COMPANY = "cmp_benchco01"
ZONE_NAME = "Asia/Bahrain"
ZONE = ZoneInfo(ZONE_NAME)
BRANCHES = 20
SERVICES = 200
MAIN_SERVICES = 50
MAIN_GROUPS = 5
COUNTERS_PER_BRANCH = 8
CALL_NEXT_BRANCHES = 16  # branches 1..16: their 128 counters take the call-next case
QUEUE_PER_SERVICE = 30  # today's waiting walk-ins at each of their services
CUSTOMERS = 100_000
PAST_DAYS = 30
PAST_TICKETS_PER_BRANCH_DAY = 300
SLOT_APPOINTMENTS = 10_000
SLOT_MINUTES = 15
SLOTS_CAPACITY = 5
BOOKING_CAPACITY = 50
HORIZON_DAYS = 30
CUSTOMER_PREFIX = "crm-"
AGENT_PASSWORD = "bench agent password"
DAYS = ("sat", "sun", "mon", "tue", "wed", "thu", "fri")


@dataclass(frozen=True)
class Appointment:
    prefix: str
    slot_minutes: int
    capacity: int
    horizon_days: int = HORIZON_DAYS
    min_notice_minutes: int = 0


@dataclass(frozen=True)
class Service:
    id: str
    group_id: str
    branch_id: str
    name: str
    prefix: str
    walk_in: bool
    minutes: int
    appointment: Appointment | None = None
    walk_in_hours: dict[str, list[str]] | None = None


@dataclass
class Branch:
    id: str
    name: str
    hours: dict[str, list[str]]
    groups: dict[str, list[Service]] = field(default_factory=dict)
    counters: dict[str, list[str]] = field(default_factory=dict)  # id → service ids

    @property
    def services(self) -> list[Service]:
        return [service for services in self.groups.values() for service in services]


@dataclass
class Company:
    branches: list[Branch]
    today: date  # the main branch's local day when planned

    @property
    def main(self) -> Branch:
        return self.branches[0]

    @property
    def walk_in(self) -> Service:
        return self.main.services[0]

    @property
    def appointments(self) -> Service:
        return self.main.services[1]

    @property
    def slots(self) -> Service:
        return self.main.services[2]

    def call_next_counters(self) -> list[tuple[str, str]]:
        """(counter id, branch id) of the counters the call-next case calls at."""
        return [
            (counter, branch.id)
            for branch in self.branches[1 : 1 + CALL_NEXT_BRANCHES]
            for counter in branch.counters
        ]


def _prefix(index: int) -> str:
    return chr(65 + index // 26) + chr(65 + index % 26)


GROUP_NAMES = ("Teller Services", "Customer Service", "Cards", "Loans", "Business Banking")
SERVICE_NAMES = (
    "Cash Withdrawal", "Cash Deposit", "Account Opening", "Card Services", "Cheques",
    "Transfers", "Statements", "Loan Enquiry", "Mortgage Advice", "Foreign Exchange",
)  # fmt: skip


def plan(today: date) -> Company:
    """The company: ids, names, hours, services and counters (deterministic)."""
    all_day = {day: ["00:00-24:00"] for day in DAYS}
    office = {day: ["06:00-24:00"] for day in DAYS[:-1]} | {"fri": ["14:00-24:00"]}
    sizes = [MAIN_SERVICES] + [8] * (BRANCHES - 1)
    for index in range(sum(sizes) - SERVICES):  # 50 + 19 × 8 = 202: two branches get 7
        sizes[-1 - index] -= 1
    branches = []
    for b, size in enumerate(sizes):
        branch = Branch(f"br{b:08d}", "Main Branch" if b == 0 else f"Branch {b}", all_day)
        if b:
            branch.hours = office
        groups = MAIN_GROUPS if b == 0 else 2
        for s in range(size):
            g = s * groups // size
            group_id = f"gr{b:04d}{g:04d}"
            appointment = None
            walk_in = True
            if b == 0 and s == 1:
                walk_in = False
                appointment = Appointment("ZB", SLOT_MINUTES, BOOKING_CAPACITY)
            elif b == 0 and s == 2:
                walk_in = False
                appointment = Appointment("ZS", SLOT_MINUTES, SLOTS_CAPACITY)
            elif s % 4 == 3:
                appointment = Appointment("Z" + _prefix(s), 30, 2, min_notice_minutes=60)
            service = Service(
                id=f"sv{b:04d}{s:04d}",
                group_id=group_id,
                branch_id=branch.id,
                name=f"{SERVICE_NAMES[s % len(SERVICE_NAMES)]} {s // len(SERVICE_NAMES) + 1}",
                prefix=_prefix(s),
                walk_in=walk_in,
                minutes=3 + s % 12,
                appointment=appointment,
                # Some services take walk-ins for part of the day only.
                walk_in_hours={day: ["07:00-21:00"] for day in DAYS} if s % 5 == 4 else None,
            )
            branch.groups.setdefault(group_id, []).append(service)
        walk_ins = [service.id for service in branch.services if service.walk_in]
        for c in range(COUNTERS_PER_BRANCH):
            # The main branch's counters split its services six each (the first also
            # takes the walk-in case's service); every other branch's take them all.
            served = walk_ins[c * 6 : c * 6 + 6] if b == 0 else walk_ins
            branch.counters[f"ct{b:04d}{c:04d}"] = served
        branches.append(branch)
    return Company(branches, today)


def company_yaml(company: Company) -> str:
    """The company file (docs/company-file.md)."""
    closure = company.today + timedelta(days=HORIZON_DAYS + 10)  # beyond the slots case
    branches: list[dict[str, Any]] = []
    for number, branch in enumerate(company.branches):
        groups = []
        for position, (group_id, services) in enumerate(branch.groups.items(), start=1):
            items = []
            for service in services:
                item: dict[str, Any] = {
                    "id": service.id,
                    "name": {"en": service.name, "ar": f"خدمة {service.id[-3:]}"},
                    "prefix": service.prefix,
                    "walkIn": service.walk_in,
                    "avgServiceMinutes": service.minutes,
                }
                if service.walk_in_hours:
                    item["walkInHours"] = service.walk_in_hours
                if rules := service.appointment:
                    item["appointment"] = {
                        "prefix": rules.prefix,
                        "slotMinutes": rules.slot_minutes,
                        "capacity": rules.capacity,
                        "horizonDays": rules.horizon_days,
                        "minNoticeMinutes": rules.min_notice_minutes,
                    }
                items.append(item)
            groups.append(
                {
                    "id": group_id,
                    "name": {
                        "en": GROUP_NAMES[(position - 1) % len(GROUP_NAMES)],
                        "ar": f"مجموعة {position}",
                    },
                    "position": position,
                    "services": items,
                }
            )
        branches.append(
            {
                "id": branch.id,
                "name": {"en": branch.name, "ar": f"فرع {number}"},
                "address": {"en": f"Building {100 + number}, Road {number}, Manama"},
                "location": {"lat": 26.2 + number / 1000, "lng": 50.5 + number / 1000},
                "hours": branch.hours,
                "closures": [{"date": closure.isoformat(), "reason": {"en": "Holiday"}}],
                "counters": [
                    {"id": counter, "name": {"en": f"Counter {c + 1}"}, "services": served}
                    for c, (counter, served) in enumerate(branch.counters.items())
                ],
                "groups": groups,
            }
        )
    document = {
        "company": {
            "id": COMPANY,
            "name": "Bench Bank",
            "timezone": ZONE_NAME,
            "defaultLocale": "en",
        },
        "branches": branches,
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=120)


_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass
class Loaded:
    """What the runs need from the load."""

    key: str
    key_id: str
    waiting_ids: list[str]  # today's queue at the call-next branches
    counter_tokens: list[tuple[str, str]]  # (counter id, token of the agent holding it)
    rows: dict[str, int]


class _Writer:
    """Rows of tickets, events, numbers and places, gathered for COPY."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.ids: set[str] = set()
        self.tickets: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.numbers: dict[tuple[str, str, date], int] = defaultdict(int)
        self.places: dict[tuple[str, datetime], int] = defaultdict(int)

    def ticket_id(self) -> str:
        while True:
            candidate = "".join(self.random.choice(_ALPHABET) for _ in range(10))
            if candidate not in self.ids:
                self.ids.add(candidate)
                return candidate

    def ticket(
        self,
        service: Service,
        *,
        appointment: bool,
        queue_at: datetime,
        booked_at: datetime,
        history: list[tuple[str | None, str, datetime, str, str | None]],
        customer_id: str | None,
        counter_id: str | None = None,
        serving_at: datetime | None = None,
    ) -> str:
        """One ticket with its events (``history``: from, to, at, actor kind, actor
        id), its number drawn in order and, for an appointment that still holds it,
        its place."""
        ticket_id = self.ticket_id()
        day = queue_at.astimezone(ZONE).date()
        assert service.appointment is not None or not appointment
        prefix = (
            service.appointment.prefix if appointment and service.appointment else service.prefix
        )
        key = (service.branch_id, prefix, day)
        self.numbers[key] += 1
        status, status_at = history[-1][1], history[-1][2]
        self.tickets.append(
            (
                ticket_id, COMPANY, service.branch_id, service.group_id, service.id,
                customer_id, counter_id, "appointment" if appointment else "sequential",
                status, prefix, day, self.numbers[key], day,
                queue_at if appointment else None, queue_at, status_at, booked_at,
                serving_at,
            )
        )  # fmt: skip
        for from_status, to_status, at, actor_kind, actor_id in history:
            source = "external_api" if actor_kind == "api_key" else actor_kind
            self.events.append(
                (COMPANY, ticket_id, from_status, to_status, at, actor_kind, actor_id, source)
            )
        if appointment and status != "cancelled":
            self.places[(service.id, queue_at)] += 1
        return ticket_id


TICKET_COLUMNS = [
    "id", "company_id", "branch_id", "group_id", "service_id", "customer_id", "counter_id",
    "type", "status", "prefix", "day", "number", "service_day", "time", "queue_at",
    "status_at", "booked_at", "serving_at",
]  # fmt: skip
EVENT_COLUMNS = [
    "company_id", "ticket_id", "from_status", "to_status", "at", "actor_kind", "actor_id",
    "source",
]  # fmt: skip


def _local(day: date, minute: float) -> datetime:
    return datetime.combine(day, time()).replace(tzinfo=ZONE).astimezone(UTC) + timedelta(
        minutes=minute
    )


def _past(
    writer: _Writer,
    company: Company,
    now: datetime,
    key_id: str,
    agents: dict[str, str],
    customer_ids: list[str],
) -> None:
    """30 days of past tickets at every branch."""
    rnd = writer.random
    today = now.astimezone(ZONE).date()
    for branch in company.branches:
        walk_ins = [s for s in branch.services if s.walk_in]
        with_appointments = [s for s in branch.services if s.appointment and s.walk_in]
        counters_of: dict[str, list[str]] = defaultdict(list)
        for counter, served in branch.counters.items():
            for service_id in served:
                counters_of[service_id].append(counter)
        for back in range(PAST_DAYS, 0, -1):
            day = today - timedelta(days=back)
            taken_slots: set[tuple[str, datetime]] = set()
            for _ in range(PAST_TICKETS_PER_BRANCH_DAY):
                appointment = bool(with_appointments) and rnd.random() < 0.15
                service = rnd.choice(with_appointments if appointment else walk_ins)
                customer = rnd.choice(customer_ids) if rnd.random() < 0.6 or appointment else None
                if appointment:
                    rules = service.appointment
                    assert rules is not None
                    slot = rnd.randrange(
                        8 * 60 // rules.slot_minutes, 20 * 60 // rules.slot_minutes
                    )
                    queue_at = _local(day, slot * rules.slot_minutes)
                    if (service.id, queue_at) in taken_slots:
                        continue  # one place a slot in the past: capacity never in doubt
                    taken_slots.add((service.id, queue_at))
                    booked_at = queue_at - timedelta(days=rnd.randint(1, 10))
                    history = [(None, "upcoming", booked_at, "api_key", key_id)]
                    arrived = queue_at - timedelta(minutes=rnd.uniform(0, 10))
                else:
                    queue_at = booked_at = arrived = _local(day, rnd.uniform(8 * 60, 20 * 60))
                    history = []
                counters = counters_of.get(service.id) or list(branch.counters)
                counter = rnd.choice(counters)
                agent = agents[counter]
                fate = rnd.random()
                if fate < 0.08:
                    if appointment:
                        history.append(("upcoming", "cancelled", arrived, "api_key", key_id))
                    else:
                        history.append((None, "waiting", arrived, "api_key", key_id))
                        cancelled = arrived + timedelta(minutes=rnd.uniform(1, 20))
                        history.append(("waiting", "cancelled", cancelled, "api_key", key_id))
                    writer.ticket(
                        service, appointment=appointment, queue_at=queue_at,
                        booked_at=booked_at, history=history, customer_id=customer,
                    )  # fmt: skip
                    continue
                if appointment and fate < 0.15:
                    late = queue_at + timedelta(minutes=15, seconds=rnd.uniform(0, 30))
                    history.append(("upcoming", "no_show", late, "system", None))
                    writer.ticket(
                        service, appointment=True, queue_at=queue_at, booked_at=booked_at,
                        history=history, customer_id=customer,
                    )  # fmt: skip
                    continue
                if appointment:
                    history.append(("upcoming", "waiting", arrived, "staff", agent))
                else:
                    history.append((None, "waiting", arrived, "api_key", key_id))
                called = max(arrived, queue_at) + timedelta(minutes=rnd.uniform(1, 40))
                history.append(("waiting", "called", called, "staff", agent))
                if fate < 0.15:
                    gone = called + timedelta(minutes=3)
                    history.append(("called", "no_show", gone, "staff", agent))
                    writer.ticket(
                        service, appointment=appointment, queue_at=queue_at,
                        booked_at=booked_at, history=history, customer_id=customer,
                        counter_id=counter,
                    )  # fmt: skip
                    continue
                serving = called + timedelta(seconds=rnd.uniform(20, 90))
                served = serving + timedelta(minutes=rnd.uniform(0.5, 2) * service.minutes)
                history.append(("called", "serving", serving, "staff", agent))
                history.append(("serving", "served", served, "staff", agent))
                writer.ticket(
                    service, appointment=appointment, queue_at=queue_at, booked_at=booked_at,
                    history=history, customer_id=customer, counter_id=counter,
                    serving_at=serving,
                )  # fmt: skip


def _upcoming(
    writer: _Writer, company: Company, now: datetime, key_id: str, customer_ids: list[str]
) -> None:
    """The slots service's 10 000 upcoming appointments, over every slot of the next 30
    days, one customer each."""
    service = company.slots
    rules = service.appointment
    assert rules is not None
    today = now.astimezone(ZONE).date()
    per_day = 24 * 60 // rules.slot_minutes
    starts = [
        _local(today + timedelta(days=day), slot * rules.slot_minutes)
        for day in range(1, rules.horizon_days + 1)
        for slot in range(per_day)
    ]
    for n in range(SLOT_APPOINTMENTS):
        start = starts[n % len(starts)]
        booked = now - timedelta(minutes=SLOT_APPOINTMENTS - n)
        writer.ticket(
            service, appointment=True, queue_at=start, booked_at=booked,
            history=[(None, "upcoming", booked, "api_key", key_id)],
            customer_id=customer_ids[n],
        )  # fmt: skip


def _queue(writer: _Writer, company: Company, now: datetime, key_id: str) -> list[str]:
    """Today's waiting walk-ins at the call-next branches, booked over the last two
    hours (but not before local midnight)."""
    midnight = _local(now.astimezone(ZONE).date(), 0)
    first = max(midnight, now - timedelta(hours=2))
    services = [
        service
        for branch in company.branches[1 : 1 + CALL_NEXT_BRANCHES]
        for service in branch.services
        if service.walk_in
    ]
    span = (now - first).total_seconds() - 1
    size = QUEUE_PER_SERVICE * len(services)
    ids = []
    for n in range(size):
        at = first + timedelta(seconds=span * n / size)
        ids.append(
            writer.ticket(
                services[n % len(services)], appointment=False, queue_at=at, booked_at=at,
                history=[(None, "waiting", at, "api_key", key_id)], customer_id=None,
            )
        )  # fmt: skip
    return ids


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _staff(url: str, company: Company, now: datetime) -> tuple[dict[str, str], list[str]]:
    """One agent a counter (one password hash, computed once, for all), each signed in
    (the app's sessions) and holding their counter; agent id by counter, and the tokens
    in counter order."""
    password_hash = hash_password(AGENT_PASSWORD)
    agents: dict[str, str] = {}
    users, assignments = [], []
    for branch in company.branches:
        for counter in branch.counters:
            staff_id = "stf_" + secrets.token_hex(8)
            agents[counter] = staff_id
            users.append(
                (staff_id, COMPANY, f"agent-{counter}", f"Agent {counter[-6:]}", "agent",
                 password_hash, True, now)
            )  # fmt: skip
            assignments.append((staff_id, branch.id))
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.copy_records_to_table(
            "staff_users",
            records=users,
            columns=["id", "company_id", "username", "name", "role", "password_hash",
                     "active", "created_at"],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "staff_branches", records=assignments, columns=["staff_id", "branch_id"]
        )
        await connection.executemany(
            "UPDATE counters SET held_by = $1, opened_at = $2 WHERE id = $3",
            [(staff_id, now, counter) for counter, staff_id in agents.items()],
        )
    finally:
        await connection.close()
    engine = create_engine(url)
    tokens = []
    async with engine.begin() as session_connection:
        for counter in agents:
            tokens.append(await create_session(session_connection, agents[counter], now))
    await engine.dispose()
    return agents, tokens


async def load(url: str, company: Company, seed: int = 7) -> Loaded:
    """Bulk-load the company's customers, history, appointments, staff and queue."""
    now = datetime.now(UTC)
    engine = create_engine(url)
    key = await create_key(engine, COMPANY, "public", "bench")
    await engine.dispose()
    agents, tokens = await _staff(url, company, now)
    counters = [counter for branch in company.branches for counter in branch.counters]

    rnd = random.Random(seed)
    start = now - timedelta(days=400)
    customers = []
    customer_ids = []
    for n in range(CUSTOMERS):
        customer_id = "%032x" % rnd.getrandbits(128)  # noqa: UP031
        customer_ids.append(customer_id)
        created = start + timedelta(seconds=n * 300)
        customers.append(
            (customer_id, COMPANY, f"{CUSTOMER_PREFIX}{n}", f"Customer {n}",
             f"c{n}@example.com", f"+9733{n:07d}", created, created)
        )  # fmt: skip

    writer = _Writer(seed)
    _past(writer, company, now, key.id, agents, customer_ids)
    _upcoming(writer, company, now, key.id, customer_ids)
    waiting = _queue(writer, company, now, key.id)
    capacities = {
        service.id: service.appointment.capacity
        for branch in company.branches
        for service in branch.services
        if service.appointment
    }
    places = []
    for (service_id, starts_at), taken in writer.places.items():
        assert taken <= capacities[service_id], (service_id, starts_at, taken)
        places.append((service_id, starts_at, capacities[service_id], taken))
    numbers = [(b, p, d, last) for (b, p, d), last in writer.numbers.items()]

    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with connection.transaction():
            await connection.copy_records_to_table(
                "customers",
                records=customers,
                columns=["id", "company_id", "external_id", "name", "email", "mobile",
                         "created_at", "updated_at"],
            )  # fmt: skip
            # The directory's paging reads this count; the app keeps it in step with
            # every create and delete, so a bulk load sets it itself.
            await connection.execute(
                "INSERT INTO customer_counts (company_id, total) VALUES ($1, $2)",
                COMPANY,
                CUSTOMERS,
            )
            await connection.copy_records_to_table(
                "ticket_numbers",
                records=numbers,
                columns=["branch_id", "prefix", "day", "last_number"],
            )
            await connection.copy_records_to_table(
                "tickets", records=writer.tickets, columns=TICKET_COLUMNS
            )
            await connection.copy_records_to_table(
                "ticket_events", records=writer.events, columns=EVENT_COLUMNS
            )
            await connection.copy_records_to_table(
                "slot_places",
                records=places,
                columns=["service_id", "starts_at", "capacity", "taken"],
            )
    finally:
        await connection.close()
    return Loaded(
        key=key.key,
        key_id=key.id,
        waiting_ids=waiting,
        counter_tokens=[
            (counter, token)
            for counter, token in zip(counters, tokens, strict=True)
            if counter in dict(company.call_next_counters())
        ],
        rows={
            "customers": len(customers),
            "tickets": len(writer.tickets),
            "ticket_events": len(writer.events),
            "ticket_numbers": len(numbers),
            "slot_places": len(places),
            "staff_users": len(agents),
        },
    )
