"""The ticket life cycle against a model, on both databases: a Hypothesis state machine
books walk-ins and appointments and drives them through every move of design.md §2 with
the real domain functions (``taboor.tickets.booking.book_ticket``,
``taboor.tickets.transitions``, ``taboor.tickets.lifecycle.change_time``) on a real
database, while a plain-Python model of the machine predicts each outcome.

After every step the model and the database agree on every ticket (status, counter,
service, number, times, customer) and on its event log, transition by transition; a
refused move raised exactly the refusal the model predicts (the same exception, field,
reason or current status) and changed nothing; numbers per (branch, prefix, local day)
are 1..n without a gap and the day's counter row is n; the places taken in each slot are
the model's: its non-cancelled appointments holding that slot, never over capacity.

The company (``tests/fixtures/companies/lifecycle.yaml``) is open around the clock, so
the clock only matters for appointment times and local days; the machine moves it
forward, across midnight too. Moves run without a counter holder (``holder=None``): who
may move what is the staff API's tests' business.

The model found that cancelling or rescheduling an appointment transferred to another
service worked on the new service's slot (fixed in ec2e455: a transfer gives the place
back; test_regressions.py::test_*_a_transferred_appointment_*).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.customers.service import create_customer
from taboor.db import tables as t
from taboor.db.engine import create_engine
from taboor.db.uow import write_transaction
from taboor.tickets import lifecycle
from taboor.tickets import transitions as tr
from taboor.tickets.booking import BookingRequest, CustomerRef, book_ticket
from taboor.tickets.errors import BookingRefusedError, TicketFieldError
from taboor.tickets.events import Actor
from tests.support import apply_fixture, wipe

T = TypeVar("T")

COMPANY = "cmp_cycle1"
ZONE = ZoneInfo("Asia/Bahrain")
START = datetime(2026, 6, 7, 7, 0, tzinfo=UTC)  # Sunday 10:00 in Bahrain
ACTOR = Actor(kind="staff", id="stf_model", source="staff")
SLOT = timedelta(minutes=30)
# Runs of the machine, and steps per run (docs/fuzzing.md has the longer run).
EXAMPLES = int(os.environ.get("TABOOR_STATEFUL_EXAMPLES", "60"))
STEPS = int(os.environ.get("TABOOR_STATEFUL_STEPS", "40"))
HORIZON_DAYS = 7


@dataclass(frozen=True)
class Service:
    branch: str
    group: str
    prefix: str
    walk_in: bool = True
    active: bool = True
    appointment_prefix: str | None = None
    capacity: int = 0


# What tests/fixtures/companies/lifecycle.yaml says, written out again for the model.
SERVICES = {
    "cyclesvc0a": Service("cyclebr001", "cyclegrp01", "Q", appointment_prefix="A", capacity=2),
    "cyclesvc0b": Service("cyclebr001", "cyclegrp01", "Q", appointment_prefix="P", capacity=1),
    "cyclesvc0c": Service("cyclebr001", "cyclegrp02", "K"),
    "cyclesvc0d": Service(
        "cyclebr001", "cyclegrp02", "L", walk_in=False, appointment_prefix="M", capacity=1
    ),
    "cyclesvc0f": Service("cyclebr001", "cyclegrp02", "Z", active=False),
    "cyclesvc0e": Service("cyclebr002", "cyclegrp03", "Q"),
}
COUNTERS = {
    "cyclectr01": ("cyclebr001", frozenset({"cyclesvc0a", "cyclesvc0b"})),
    "cyclectr02": ("cyclebr001", frozenset({"cyclesvc0b", "cyclesvc0c"})),
    "cyclectr03": ("cyclebr002", frozenset({"cyclesvc0e"})),
}
ACTIVE = frozenset({"upcoming", "waiting", "called", "serving"})

# --- the model ----------------------------------------------------------------------------


@dataclass
class Ticket:
    id: str
    branch: str
    service: str
    customer: str | None
    type: str
    status: str
    prefix: str
    day: date  # the day of its number
    number: int
    time: datetime | None
    queue_at: datetime
    service_day: date
    status_at: datetime
    counter: str | None = None
    place: tuple[str, datetime] | None = None  # the slot place it holds (service, start)
    events: list[tuple[str | None, str]] = field(default_factory=list)


# An outcome: None when the call succeeds, else what it must raise, as a tuple:
# ("field", field, reason), ("booking", reason), ("status", current) for a refused move,
# ("duplicate", current) for a transfer refused by the one-active-ticket rule.
Outcome = tuple[Any, ...] | None


def refusal(error: Exception) -> tuple[Any, ...]:
    if isinstance(error, tr.DuplicateActiveTicketError):
        return ("duplicate", error.current_status)
    if isinstance(error, tr.TransitionRefusedError):
        return ("status", error.current_status)
    if isinstance(error, TicketFieldError):
        return ("field", error.field, error.reason)
    if isinstance(error, BookingRefusedError):
        return ("booking", error.reason)
    raise error


def local_day(instant: datetime) -> date:
    return instant.astimezone(ZONE).date()


def candidate_time(now: datetime, choice: int) -> datetime:
    """An appointment time relative to ``now``: -1 the slot before (past), 0 the first
    slot start at or after now (now itself, when it is on the grid), 1..5 the next
    slots, 6 ten minutes off the grid, 7 a slot beyond the horizon."""
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    base = epoch + -((epoch - now) // SLOT) * SLOT  # the first grid point >= now
    if choice == 6:
        return base + timedelta(minutes=40)
    if choice == 7:
        return base + timedelta(days=HORIZON_DAYS + 1)
    return base + choice * SLOT


class Model:
    def __init__(self) -> None:
        self.now = START
        self.tickets: dict[str, Ticket] = {}
        self.numbers: Counter[tuple[str, str, date]] = Counter()
        self.places: Counter[tuple[str, datetime]] = Counter()

    # -- rules of the domain --

    def is_slot_start(self, start: datetime) -> bool:
        on_grid = start.second == 0 and start.microsecond == 0 and start.minute % 30 == 0
        within = local_day(start) <= local_day(self.now) + timedelta(days=HORIZON_DAYS)
        return on_grid and within and start > self.now

    def duplicate(
        self, customer: str | None, service: str, day: date, but: str | None = None
    ) -> bool:
        return customer is not None and any(
            ticket.customer == customer
            and ticket.service == service
            and ticket.service_day == day
            and ticket.status in ACTIVE
            and ticket.id != but
            for ticket in self.tickets.values()
        )

    def predict_booking(
        self, service_id: str, customer: str | None, time: datetime | None
    ) -> Outcome:
        service = SERVICES[service_id]
        if not service.active:
            return ("field", "serviceId", "does_not_exist")
        if time is None:
            if not service.walk_in:
                return ("booking", "no_walk_in")
            if self.duplicate(customer, service_id, local_day(self.now)):
                return ("booking", "duplicate_active")
            return None
        if service.appointment_prefix is None:
            return ("field", "serviceId", "no_appointments")
        if customer is None:
            return ("field", "customerId", "customer_required")
        if time <= self.now:
            return ("field", "time", "time_past")
        if not self.is_slot_start(time):
            return ("booking", "time_unavailable")
        if self.places[(service_id, time)] >= service.capacity:
            return ("booking", "slot_full")
        if self.duplicate(customer, service_id, local_day(time)):
            return ("booking", "duplicate_active")
        return None

    def book(
        self, ticket_id: str, service_id: str, customer: str | None, time: datetime | None
    ) -> None:
        service = SERVICES[service_id]
        queue_at = time or self.now
        prefix = service.prefix if time is None else str(service.appointment_prefix)
        key = (service.branch, prefix, local_day(queue_at))
        self.numbers[key] += 1
        status = "waiting" if time is None else "upcoming"
        ticket = Ticket(
            id=ticket_id,
            branch=service.branch,
            service=service_id,
            customer=customer,
            type="sequential" if time is None else "appointment",
            status=status,
            prefix=prefix,
            day=key[2],
            number=self.numbers[key],
            time=time,
            queue_at=queue_at,
            service_day=local_day(queue_at),
            status_at=self.now,
            events=[(None, status)],
        )
        if time is not None:
            ticket.place = (service_id, time)
            self.places[ticket.place] += 1
        self.tickets[ticket_id] = ticket

    def move(self, ticket: Ticket, to_status: str) -> None:
        ticket.events.append((ticket.status, to_status))
        ticket.status = to_status
        ticket.status_at = self.now

    def head(self, service_ids: frozenset[str]) -> Ticket | None:
        waiting = [
            ticket
            for ticket in self.tickets.values()
            if ticket.status == "waiting" and ticket.service in service_ids
        ]
        return min(waiting, key=lambda t: (t.queue_at, t.number, t.id), default=None)


# --- the database side --------------------------------------------------------------------


async def reset(engine: AsyncEngine) -> None:
    """No tickets: what one run of the machine starts from (the company and its
    customers stay)."""
    async with write_transaction(engine) as connection:
        for table in (t.ticket_events, t.tickets, t.ticket_numbers, t.slot_places):
            await connection.execute(delete(table))


@dataclass
class Database:
    tickets: dict[str, Any]
    events: dict[str, list[tuple[str | None, str]]]
    places: dict[tuple[str, datetime], int]
    numbers: dict[tuple[str, str, date], int]


async def read(engine: AsyncEngine) -> Database:
    tk, ev, sp, tn = t.tickets.c, t.ticket_events.c, t.slot_places.c, t.ticket_numbers.c
    async with engine.connect() as connection:
        tickets = {
            row.id: row
            for row in await connection.execute(select(t.tickets).where(tk.company_id == COMPANY))
        }
        events: dict[str, list[tuple[str | None, str]]] = {}
        for row in await connection.execute(
            select(ev.ticket_id, ev.from_status, ev.to_status).order_by(ev.id)
        ):
            events.setdefault(row.ticket_id, []).append((row.from_status, row.to_status))
        places = {
            (row.service_id, row.starts_at.astimezone(UTC)): row.taken
            for row in await connection.execute(select(sp.service_id, sp.starts_at, sp.taken))
        }
        numbers = {
            (row.branch_id, row.prefix, row.day): row.last_number
            for row in await connection.execute(
                select(tn.branch_id, tn.prefix, tn.day, tn.last_number)
            )
        }
    return Database(tickets, events, places, numbers)


# --- the machine --------------------------------------------------------------------------


class LifeCycle(RuleBasedStateMachine):
    """Bound by the ``machine`` fixture to the event loop, engine and customers it works
    with. Each run starts with no tickets (``reset``)."""

    runner: asyncio.Runner
    engine: AsyncEngine
    customers: tuple[str, ...]

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.run(reset(self.engine))

    def run(self, work: Awaitable[T]) -> T:
        return self.runner.run(work)  # type: ignore[arg-type]

    def attempt(self, expected: Outcome, work: Callable[[], Awaitable[T]]) -> T | None:
        """Run ``work``; it must succeed when ``expected`` is None, else raise exactly
        the refusal ``expected`` describes."""
        try:
            result = self.run(work())
        except Exception as error:  # every refusal is compared with the model's
            assert refusal(error) == expected, f"raised {refusal(error)}, model: {expected}"
            return None
        assert expected is None, f"succeeded, model expected {expected}"
        return result

    def customer(self, index: int | None) -> str | None:
        return None if index is None else self.customers[index]

    def pick(self, data: st.DataObject, statuses: frozenset[str]) -> str:
        """A ticket for a move: mostly one in a status the move starts from (when there
        is one; an appointment half of the time, when one fits: they are fewer and have
        more to get wrong), else any, so that moves succeed often and are refused too.
        (Hypothesis draws 0 and False more often than the rest: they pick the fit.)"""
        tickets = self.model.tickets
        fitting = [i for i, ticket in tickets.items() if ticket.status in statuses]
        appointments = [i for i in fitting if tickets[i].type == "appointment"]
        if fitting and data.draw(st.integers(0, 3), label="any ticket") < 3:
            if appointments and not data.draw(st.booleans(), label="any fitting ticket"):
                return data.draw(st.sampled_from(appointments), label="ticket")
            return data.draw(st.sampled_from(fitting), label="ticket")
        return data.draw(st.sampled_from(list(tickets)), label="ticket")

    # -- booking --

    @initialize(
        walk_ins=st.lists(
            st.sampled_from(["cyclesvc0a", "cyclesvc0b", "cyclesvc0c"]), min_size=1, max_size=3
        ),
        appointments=st.lists(
            st.tuples(
                st.sampled_from(["cyclesvc0a", "cyclesvc0b"]), st.integers(1, 3), st.booleans()
            ),
            min_size=2,
            max_size=3,
        ),
    )
    def some_tickets(self, walk_ins: list[str], appointments: list[tuple[str, int, bool]]) -> None:
        """Something to move from the first step on: walk-ins without a customer, and
        appointments of customers 0, 1 and 2 (some refused: a full slot), some of them
        checked in (an appointment in the queue has the most ways to go wrong)."""
        for service in walk_ins:
            self._book(service, None, None)
        for index, (service, choice, arrived) in enumerate(appointments):
            booked = self._book(
                service, self.customers[index], candidate_time(self.model.now, choice)
            )
            if booked is not None and not arrived:  # False is drawn more: checked in
                self._simple_move(booked, tr.CHECK_IN_FROM, "waiting", tr.check_in)

    @rule(
        service=st.sampled_from(sorted(SERVICES)),
        customer=st.sampled_from([None, 0, 1, 2]),
    )
    def book_walk_in(self, service: str, customer: int | None) -> None:
        self._book(service, self.customer(customer), None)

    @rule(
        service=st.sampled_from(["cyclesvc0a", "cyclesvc0b", "cyclesvc0d", "cyclesvc0c"]),
        customer=st.sampled_from([0, 1, 2, None]),
        choice=st.integers(-1, 7),
    )
    def book_appointment(self, service: str, customer: int | None, choice: int) -> None:
        self._book(service, self.customer(customer), candidate_time(self.model.now, choice))

    def _book(self, service_id: str, customer: str | None, time: datetime | None) -> str | None:
        """Book through ``book_ticket``, as the model predicts; the new ticket's id."""
        model = self.model
        expected = model.predict_booking(service_id, customer, time)
        request = BookingRequest(
            service_id, SERVICES[service_id].group, time, CustomerRef(id=customer)
        )
        now = model.now
        view = self.attempt(
            expected, lambda: book_ticket(self.engine, COMPANY, request, ACTOR, now)
        )
        if view is None:
            return None
        model.book(view.id, service_id, customer, time)
        ticket = model.tickets[view.id]
        assert view.ticket_number == f"{ticket.prefix}{ticket.number:03d}"
        return view.id

    # -- the staff moves --

    def _simple_move(
        self,
        ticket_id: str,
        allowed: frozenset[str],
        to_status: str,
        call: Callable[..., Awaitable[None]],
        **effects: Any,
    ) -> None:
        model = self.model
        ticket = model.tickets[ticket_id]
        expected = None if ticket.status in allowed else ("status", ticket.status)
        now = model.now
        self.attempt(expected, lambda: call(self.engine, COMPANY, ticket_id, ACTOR, now))
        if expected is None:
            model.move(ticket, to_status)
            for name, value in effects.items():
                setattr(ticket, name, value)

    @precondition(lambda self: self.model.tickets)
    @rule(data=st.data())
    def check_in(self, data: st.DataObject) -> None:
        ticket = self.pick(data, tr.CHECK_IN_FROM)
        self._simple_move(ticket, tr.CHECK_IN_FROM, "waiting", tr.check_in)

    @precondition(lambda self: self.model.tickets)
    @rule(data=st.data(), counter=st.sampled_from(sorted(COUNTERS)))
    def call_ticket(self, data: st.DataObject, counter: str) -> None:
        ticket = self.pick(data, tr.CALL_FROM)
        model = self.model
        current = model.tickets[ticket]
        expected: Outcome = None
        if COUNTERS[counter][0] != current.branch:
            expected = ("field", "counterId", "does_not_exist")
        elif current.status not in tr.CALL_FROM:
            expected = ("status", current.status)
        now = model.now
        self.attempt(
            expected,
            lambda: tr.call_ticket(self.engine, COMPANY, ticket, counter, ACTOR, now),
        )
        if expected is None:
            model.move(current, "called")
            current.counter = counter

    @rule(
        counter=st.sampled_from(sorted(COUNTERS)),
        services=st.lists(st.sampled_from(sorted(SERVICES)), max_size=2, unique=True),
    )
    def call_next(self, counter: str, services: list[str]) -> None:
        model = self.model
        wanted = frozenset(services)
        served = COUNTERS[counter][1]
        expected: Outcome = None if wanted <= served else ("field", "serviceIds", "does_not_exist")
        head = model.head(wanted) if expected is None and wanted else None
        now = model.now
        called = self.attempt(
            expected,
            lambda: tr.call_next(self.engine, COMPANY, counter, services, ACTOR, now),
        )
        assert called == (head.id if head else None), (called, head)
        if head is not None:
            model.move(head, "called")
            head.counter = counter

    @precondition(lambda self: self.model.tickets)
    @rule(data=st.data())
    def recall(self, data: st.DataObject) -> None:
        ticket = self.pick(data, tr.RECALL_FROM)
        self._simple_move(ticket, tr.RECALL_FROM, "called", tr.recall)

    @precondition(lambda self: self.model.tickets)
    @rule(data=st.data())
    def requeue(self, data: st.DataObject) -> None:
        ticket = self.pick(data, tr.REQUEUE_FROM)
        self._simple_move(ticket, tr.REQUEUE_FROM, "waiting", tr.requeue, counter=None)

    @precondition(lambda self: self.model.tickets)
    @rule(data=st.data())
    def start_serving(self, data: st.DataObject) -> None:
        ticket = self.pick(data, tr.START_FROM)
        self._simple_move(ticket, tr.START_FROM, "serving", tr.start_serving)

    @precondition(lambda self: self.model.tickets)
    @rule(data=st.data())
    def finish(self, data: st.DataObject) -> None:
        ticket = self.pick(data, tr.FINISH_FROM)
        self._simple_move(ticket, tr.FINISH_FROM, "served", tr.finish)

    @precondition(lambda self: self.model.tickets)
    @rule(data=st.data())
    def mark_no_show(self, data: st.DataObject) -> None:
        ticket = self.pick(data, tr.NO_SHOW_FROM)
        self._simple_move(ticket, tr.NO_SHOW_FROM, "no_show", tr.mark_no_show)

    @precondition(lambda self: self.model.tickets)
    @rule(data=st.data(), to=st.sampled_from(sorted(SERVICES)))
    def transfer(self, data: st.DataObject, to: str) -> None:
        ticket, target = self.pick(data, tr.TRANSFER_FROM), to
        model = self.model
        current = model.tickets[ticket]
        service = SERVICES[target]
        expected: Outcome = None
        if not service.active or service.branch != current.branch:
            expected = ("field", "serviceId", "does_not_exist")
        elif current.status not in tr.TRANSFER_FROM:
            expected = ("status", current.status)
        elif model.duplicate(current.customer, target, current.service_day, but=ticket):
            expected = ("duplicate", current.status)
        now = model.now
        self.attempt(
            expected, lambda: tr.transfer(self.engine, COMPANY, ticket, target, ACTOR, now)
        )
        if expected is None:
            model.move(current, "waiting")
            current.service = target
            # At the back of the queue, never at its appointment time.
            current.queue_at = model.now
            if current.queue_at == current.time:
                current.queue_at += timedelta(microseconds=1)
            current.counter = None
            if current.place is not None:  # kept: the place goes back to its service
                model.places[current.place] -= 1
                current.place = None

    @precondition(lambda self: self.model.tickets)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        ticket = self.pick(data, tr.CANCEL_FROM)
        current = self.model.tickets[ticket]
        place = current.place if current.status in tr.CANCEL_FROM else None
        self._simple_move(ticket, tr.CANCEL_FROM, "cancelled", tr.cancel)
        if place is not None:  # given back in the same transaction
            self.model.places[place] -= 1
            current.place = None

    # -- the External API's reschedule --

    @precondition(lambda self: self.model.tickets)
    @rule(data=st.data(), choice=st.integers(-1, 7), own=st.booleans())
    def change_time(self, data: st.DataObject, choice: int, own: bool) -> None:
        ticket = self.pick(data, frozenset(lifecycle.RESCHEDULABLE))
        model = self.model
        current = model.tickets[ticket]
        new_time = candidate_time(model.now, choice)
        others = [c for c in self.customers if c != current.customer]
        customer = current.customer if own else others[choice % len(others)]
        service = SERVICES[current.service]
        expected: Outcome = None
        if current.type != "appointment":
            expected = ("field", "id", "only_appointments")
        elif current.status not in lifecycle.RESCHEDULABLE or current.place is None:
            # A transferred appointment holds no place any more: it cannot be moved.
            expected = ("field", "id", "not_reschedulable")
        elif customer is None or customer != current.customer:
            expected = ("field", "customerId", "customer_mismatch")
        elif new_time <= model.now:
            expected = ("field", "time", "time_past")
        elif not service.active or service.appointment_prefix is None:
            expected = ("booking", "time_unavailable")
        elif new_time == current.time:
            expected = None
        elif not model.is_slot_start(new_time):
            expected = ("booking", "time_unavailable")
        elif model.duplicate(customer, current.service, local_day(new_time), but=ticket):
            expected = ("booking", "duplicate_active")
        elif model.places[(current.service, new_time)] >= service.capacity:
            expected = ("booking", "slot_full")
        now = model.now
        self.attempt(
            expected,
            lambda: lifecycle.change_time(
                self.engine, COMPANY, ticket, new_time, CustomerRef(id=customer), now
            ),
        )
        if expected is None and new_time != current.time:
            assert current.place is not None
            model.places[current.place] -= 1
            current.place = (current.service, new_time)
            model.places[current.place] += 1
            current.time = current.queue_at = new_time
            current.service_day = local_day(new_time)

    # -- time --

    @rule(minutes=st.sampled_from([1, 7, 30, 90, 600]))
    def wait(self, minutes: int) -> None:
        self.model.now += timedelta(minutes=minutes)

    # -- after every step --

    @invariant()
    def the_database_agrees_with_the_model(self) -> None:
        model = self.model
        database = self.run(read(self.engine))
        assert set(database.tickets) == set(model.tickets)
        for ticket_id, ticket in model.tickets.items():
            row = database.tickets[ticket_id]
            stored = (
                row.status,
                row.counter_id,
                row.service_id,
                row.group_id,
                row.customer_id,
                row.type,
                row.prefix,
                row.day,
                row.number,
                row.time.astimezone(UTC) if row.time else None,
                row.queue_at.astimezone(UTC),
                row.service_day,
                row.status_at.astimezone(UTC),
            )
            expected = (
                ticket.status,
                ticket.counter,
                ticket.service,
                SERVICES[ticket.service].group,
                ticket.customer,
                ticket.type,
                ticket.prefix,
                ticket.day,
                ticket.number,
                ticket.time,
                ticket.queue_at,
                ticket.service_day,
                ticket.status_at,
            )
            assert stored == expected, ticket_id
            # One event per transition, each from the status before to the one after.
            assert database.events.get(ticket_id, []) == ticket.events, ticket_id
        # Numbers: the model's counters, and 1..n without a gap in every sequence.
        assert database.numbers == {key: n for key, n in model.numbers.items() if n}
        sequences: dict[tuple[str, str, date], list[int]] = {}
        for row in database.tickets.values():
            sequences.setdefault((row.branch_id, row.prefix, row.day), []).append(row.number)
        for key, numbers in sequences.items():
            assert sorted(numbers) == list(range(1, database.numbers[key] + 1)), key
        # Places: taken = the non-cancelled appointments holding the slot, within capacity.
        held = Counter(
            ticket.place for ticket in model.tickets.values() if ticket.place is not None
        )
        assert +model.places == held
        assert {key: n for key, n in database.places.items() if n} == dict(held)
        for (service_id, _), taken in database.places.items():
            assert taken <= SERVICES[service_id].capacity


# --- the test -----------------------------------------------------------------------------


async def _prepare(engine: AsyncEngine) -> tuple[str, ...]:
    await wipe(engine)
    await apply_fixture(engine, "lifecycle")
    async with write_transaction(engine) as connection:
        return tuple(
            [
                (await create_customer(connection, COMPANY, {"name": f"Customer {n}"}, START)).id
                for n in range(3)
            ]
        )


@pytest.fixture
def machine(database_url: str) -> Iterator[type[LifeCycle]]:
    """The machine class, bound to an engine on its own event loop (Hypothesis runs
    steps synchronously; each step runs its coroutines to completion on that loop)."""
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        engine = create_engine(database_url, pool_size=2)
        try:
            customers = runner.run(_prepare(engine))
            yield type(
                "BoundLifeCycle",
                (LifeCycle,),
                {"runner": runner, "engine": engine, "customers": customers},
            )
        finally:
            runner.run(wipe(engine))
            runner.run(engine.dispose())


def test_ticket_life_cycle_matches_the_model(
    machine: type[LifeCycle], request: pytest.FixtureRequest
) -> None:
    # Derandomized (the same runs every time, so CI is reproducible) unless a seed is
    # given with ``pytest --hypothesis-seed=N``: then that seed's runs (docs/fuzzing.md).
    seeded = request.config.getoption("hypothesis_seed", None) is not None
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            derandomize=not seeded,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
