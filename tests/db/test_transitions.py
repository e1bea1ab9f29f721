"""The staff-side state machine (design.md §2) against both databases: every allowed
transition does exactly what it should and logs it; every other one is refused with the
ticket's current status and changes nothing; call-next takes the head of the merged
queue; another company's tickets and counters do not exist."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.db.uow import write_transaction
from taboor.tickets import transitions as tr
from taboor.tickets.errors import TicketFieldError
from taboor.tickets.events import Actor
from taboor.tickets.transitions import DuplicateActiveTicketError, TransitionRefusedError
from tests.support import apply_fixture, insert_ticket

BANK = "cmp_bank01"
HALL = "cmp_ctrs01"  # the counters company: the "other tenant" here
COUNTER = "zctr000001"  # the bank's Zallaq counter: Withdrawal and Deposit
BOOKED = datetime(2026, 6, 7, 7, 0, tzinfo=UTC)
NOW = BOOKED + timedelta(minutes=20)
APPOINTMENT_AT = datetime(2026, 6, 7, 8, 0, tzinfo=UTC)
DAY = date(2026, 6, 7)
STAFF = Actor(kind="staff", id="usr_amal", source="staff")
STATUSES = t.TICKET_STATUSES

WITHDRAWAL = {"service_id": "zwithdraw1", "group_id": "ztellers01", "prefix": "W"}
DEPOSIT = {"service_id": "zdeposit01", "group_id": "ztellers01", "prefix": "D"}
OPENING = {"service_id": "zopening01", "group_id": "zaccounts1", "prefix": "A"}


@pytest.fixture
async def tenants(engine: AsyncEngine) -> AsyncEngine:
    """The bank (one counter) and the counters company (four counters, its own tickets)."""
    await apply_fixture(engine, "bank")
    await apply_fixture(engine, "counters")
    return engine


_numbers: dict[str, int] = {}


async def seed(engine: AsyncEngine, status: str, **fields: Any) -> str:
    """A bank ticket in ``status``, shaped as that status would leave it: ``upcoming``
    is an appointment (only appointments are), ``called``/``serving`` sit at the
    counter, ``serving`` has its service time running. Fields override."""
    row: dict[str, Any] = {"status": status, "at": BOOKED, **WITHDRAWAL}
    if status == "upcoming":
        row.update(OPENING, type="appointment", time=APPOINTMENT_AT, queue_at=APPOINTMENT_AT)
    if status in ("called", "serving"):
        row["counter_id"] = COUNTER
    if status == "serving":
        row["serving_at"] = BOOKED + timedelta(minutes=5)
    row.update(fields)
    # Numbers are unique per (branch, prefix, day): hand them out per prefix, above the
    # small ones tests choose themselves.
    prefix = str(row["prefix"])
    if "number" not in row:
        _numbers[prefix] = _numbers.get(prefix, 100) + 1
        row["number"] = _numbers[prefix]
    return await insert_ticket(engine, **row)


async def ticket(engine: AsyncEngine, ticket_id: str) -> dict[str, Any]:
    async with engine.connect() as connection:
        row = (await connection.execute(select(t.tickets).where(t.tickets.c.id == ticket_id))).one()
    return dict(row._mapping)


async def events(engine: AsyncEngine, ticket_id: str) -> list[dict[str, Any]]:
    ev = t.ticket_events.c
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(t.ticket_events).where(ev.ticket_id == ticket_id).order_by(ev.id)
        )
        return [dict(row._mapping) for row in rows]


async def snapshot(engine: AsyncEngine, ticket_id: str) -> tuple[dict[str, Any], list[Any]]:
    return await ticket(engine, ticket_id), await events(engine, ticket_id)


def logged(event: dict[str, Any], from_status: str, to_status: str, at: datetime = NOW) -> None:
    """The event row says who moved the ticket from where to where, and when."""
    assert (event["from_status"], event["to_status"], event["at"]) == (from_status, to_status, at)
    assert (event["actor_kind"], event["actor_id"], event["source"]) == (
        "staff",
        "usr_amal",
        "staff",
    )


# --- the machine, as a table --------------------------------------------------------------

Run = Callable[[AsyncEngine, str, str], Awaitable[object]]  # (engine, company, ticket id)


@dataclass(frozen=True)
class Operation:
    name: str
    allowed: frozenset[str]
    to_status: str
    run: Run

    def __repr__(self) -> str:
        return self.name


OPERATIONS = [
    Operation(
        "check_in",
        frozenset({"upcoming"}),
        "waiting",
        lambda e, c, i: tr.check_in(e, c, i, STAFF, NOW),
    ),
    Operation(
        "call_ticket",
        frozenset({"waiting"}),
        "called",
        lambda e, c, i: tr.call_ticket(e, c, i, COUNTER, STAFF, NOW),
    ),
    Operation(
        "recall", frozenset({"called"}), "called", lambda e, c, i: tr.recall(e, c, i, STAFF, NOW)
    ),
    Operation(
        "requeue", frozenset({"called"}), "waiting", lambda e, c, i: tr.requeue(e, c, i, STAFF, NOW)
    ),
    Operation(
        "start_serving",
        frozenset({"called"}),
        "serving",
        lambda e, c, i: tr.start_serving(e, c, i, STAFF, NOW),
    ),
    Operation(
        "finish", frozenset({"serving"}), "served", lambda e, c, i: tr.finish(e, c, i, STAFF, NOW)
    ),
    Operation(
        "mark_no_show",
        frozenset({"called", "upcoming"}),
        "no_show",
        lambda e, c, i: tr.mark_no_show(e, c, i, STAFF, NOW),
    ),
    Operation(
        "transfer",
        frozenset({"waiting", "called", "serving"}),
        "waiting",
        lambda e, c, i: tr.transfer(e, c, i, "zdeposit01", STAFF, NOW),
    ),
    Operation(
        "cancel",
        frozenset({"upcoming", "waiting"}),
        "cancelled",
        lambda e, c, i: tr.cancel(e, c, i, STAFF, NOW),
    ),
]

ALLOWED = [(op, status) for op in OPERATIONS for status in STATUSES if status in op.allowed]
REFUSED = [(op, status) for op in OPERATIONS for status in STATUSES if status not in op.allowed]


# design.md §2, arrow by arrow (the periodic task's upcoming → no_show included).
DESIGN_ARROWS = {
    ("check_in", "upcoming", "waiting"),
    ("call_ticket", "waiting", "called"),
    ("recall", "called", "called"),
    ("requeue", "called", "waiting"),
    ("start_serving", "called", "serving"),
    ("finish", "serving", "served"),
    ("mark_no_show", "called", "no_show"),
    ("mark_no_show", "upcoming", "no_show"),
    ("transfer", "waiting", "waiting"),
    ("transfer", "called", "waiting"),
    ("transfer", "serving", "waiting"),
    ("cancel", "upcoming", "cancelled"),
    ("cancel", "waiting", "cancelled"),
}


def test_the_table_is_the_machine_of_the_design() -> None:
    """The operations below allow exactly the design's arrows, and the terminal
    statuses lead nowhere."""
    assert {(op.name, status, op.to_status) for op, status in ALLOWED} == DESIGN_ARROWS
    assert len(ALLOWED) + len(REFUSED) == len(OPERATIONS) * 7
    leaving = {status for op, status in ALLOWED}
    assert set(STATUSES) - leaving == {"served", "cancelled", "no_show"}


@pytest.mark.parametrize(("operation", "status"), ALLOWED, ids=lambda v: repr(v))
async def test_allowed_transition_moves_the_ticket_and_logs_it(
    tenants: AsyncEngine, operation: Operation, status: str
) -> None:
    """The status changes, ``status_at`` is now, and one event says from, to and who."""
    ticket_id = await seed(tenants, status)
    before = await events(tenants, ticket_id)
    await operation.run(tenants, BANK, ticket_id)
    row = await ticket(tenants, ticket_id)
    assert (row["status"], row["status_at"]) == (operation.to_status, NOW)
    after = await events(tenants, ticket_id)
    assert len(after) == len(before) + 1
    logged(after[-1], status, operation.to_status)
    assert after[-1]["company_id"] == BANK


@pytest.mark.parametrize(("operation", "status"), REFUSED, ids=lambda v: repr(v))
async def test_refused_transition_reports_the_current_status_and_changes_nothing(
    tenants: AsyncEngine, operation: Operation, status: str
) -> None:
    """Anything outside the machine is refused with the status the ticket has now; the
    row and its events stay exactly as they were."""
    ticket_id = await seed(tenants, status)
    before = await snapshot(tenants, ticket_id)
    with pytest.raises(TransitionRefusedError) as refusal:
        await operation.run(tenants, BANK, ticket_id)
    assert refusal.value.current_status == status
    assert await snapshot(tenants, ticket_id) == before


@pytest.mark.parametrize("operation", OPERATIONS, ids=repr)
async def test_unknown_or_foreign_ticket_does_not_exist(
    tenants: AsyncEngine, operation: Operation
) -> None:
    """A ticket of another company is as absent as a made-up id, and stays untouched."""
    foreign = await seed(
        tenants,
        "waiting",
        company_id=HALL,
        branch_id="hallbr0001",
        group_id="hallgrp001",
        service_id="hallsvc001",
        prefix="Q",
    )
    before = await snapshot(tenants, foreign)
    for ticket_id in (foreign, "nosuchtckt"):
        with pytest.raises(TicketFieldError) as error:
            await operation.run(tenants, BANK, ticket_id)
        assert (error.value.field, error.value.reason) == ("id", "does_not_exist")
    assert await snapshot(tenants, foreign) == before


# --- what each transition leaves behind ---------------------------------------------------


async def test_check_in_keeps_the_appointment_time_as_queue_position(
    tenants: AsyncEngine,
) -> None:
    ticket_id = await seed(tenants, "upcoming")
    await tr.check_in(tenants, BANK, ticket_id, STAFF, NOW)
    row = await ticket(tenants, ticket_id)
    assert (row["status"], row["queue_at"], row["counter_id"]) == ("waiting", APPOINTMENT_AT, None)


async def test_call_ticket_puts_it_at_the_counter(tenants: AsyncEngine) -> None:
    ticket_id = await seed(tenants, "waiting")
    await tr.call_ticket(tenants, BANK, ticket_id, COUNTER, STAFF, NOW)
    row = await ticket(tenants, ticket_id)
    assert (row["status"], row["counter_id"], row["queue_at"]) == ("called", COUNTER, BOOKED)


async def test_call_ticket_needs_a_counter_of_the_tickets_branch(tenants: AsyncEngine) -> None:
    """Another company's counter, a counter of another branch, a made-up one: none exists
    for this ticket, and the ticket stays waiting."""
    async with write_transaction(tenants) as connection:
        await connection.execute(
            t.counters.insert().values(
                id="actr000001",
                company_id=BANK,
                branch_id="amwaj00001",
                name={"en": "A"},
                position=1,
            )
        )
    ticket_id = await seed(tenants, "waiting")
    before = await snapshot(tenants, ticket_id)
    for counter_id in ("hallctr001", "actr000001", "nosuchctr1"):
        with pytest.raises(TicketFieldError) as error:
            await tr.call_ticket(tenants, BANK, ticket_id, counter_id, STAFF, NOW)
        assert (error.value.field, error.value.reason) == ("counterId", "does_not_exist")
    assert await snapshot(tenants, ticket_id) == before


async def test_recall_refreshes_status_at_and_keeps_the_counter(tenants: AsyncEngine) -> None:
    ticket_id = await seed(tenants, "called", status_at=BOOKED + timedelta(minutes=1))
    await tr.recall(tenants, BANK, ticket_id, STAFF, NOW)
    row = await ticket(tenants, ticket_id)
    assert (row["status"], row["status_at"], row["counter_id"]) == ("called", NOW, COUNTER)
    logged((await events(tenants, ticket_id))[-1], "called", "called")


async def test_requeue_leaves_the_counter_and_keeps_the_queue_position(
    tenants: AsyncEngine,
) -> None:
    ticket_id = await seed(tenants, "called")
    await tr.requeue(tenants, BANK, ticket_id, STAFF, NOW)
    row = await ticket(tenants, ticket_id)
    assert (row["status"], row["counter_id"], row["queue_at"]) == ("waiting", None, BOOKED)


async def test_start_serving_starts_the_service_clock(tenants: AsyncEngine) -> None:
    ticket_id = await seed(tenants, "called")
    await tr.start_serving(tenants, BANK, ticket_id, STAFF, NOW)
    row = await ticket(tenants, ticket_id)
    assert (row["status"], row["serving_at"], row["counter_id"]) == ("serving", NOW, COUNTER)


async def test_finish_ends_service_and_keeps_its_start(tenants: AsyncEngine) -> None:
    ticket_id = await seed(tenants, "serving")
    await tr.finish(tenants, BANK, ticket_id, STAFF, NOW)
    row = await ticket(tenants, ticket_id)
    assert (row["status"], row["status_at"]) == ("served", NOW)
    assert row["serving_at"] == BOOKED + timedelta(minutes=5)


@pytest.mark.parametrize("status", ["called", "upcoming"])
async def test_no_show_keeps_an_appointments_place(tenants: AsyncEngine, status: str) -> None:
    """Only cancels give places back; a no-show's slot time has passed anyway."""
    appointment = {**OPENING, "type": "appointment", "time": APPOINTMENT_AT}
    ticket_id = await seed(tenants, status, **appointment)
    await place(tenants, taken=1)
    await tr.mark_no_show(tenants, BANK, ticket_id, STAFF, NOW)
    assert (await ticket(tenants, ticket_id))["status"] == "no_show"
    assert await places_taken(tenants) == 1


@pytest.mark.parametrize("status", ["waiting", "called", "serving"])
async def test_transfer_joins_the_back_of_the_other_queue_with_its_number(
    tenants: AsyncEngine, status: str
) -> None:
    """Into another group's service of the same branch: service and group follow,
    number and prefix stay, the counter and the service clock are cleared, and the
    ticket queues behind everyone already waiting there."""
    already_there = await seed(tenants, "waiting", **OPENING, at=BOOKED + timedelta(minutes=10))
    ticket_id = await seed(tenants, status)
    before = await ticket(tenants, ticket_id)
    await tr.transfer(tenants, BANK, ticket_id, "zopening01", STAFF, NOW)
    row = await ticket(tenants, ticket_id)
    assert row["status"] == "waiting"
    assert (row["service_id"], row["group_id"], row["queue_at"]) == (
        "zopening01",
        "zaccounts1",
        NOW,
    )
    assert (row["counter_id"], row["serving_at"], row["status_at"]) == (None, None, NOW)
    assert (row["prefix"], row["number"], row["day"]) == (before["prefix"], before["number"], DAY)
    logged((await events(tenants, ticket_id))[-1], status, "waiting")
    # The back of the queue: the ticket already waiting there is called first.
    await link_counter(tenants, "zopening01")
    first = await tr.call_next(tenants, BANK, COUNTER, ["zopening01"], STAFF, NOW)
    second = await tr.call_next(tenants, BANK, COUNTER, ["zopening01"], STAFF, NOW)
    assert [first, second] == [already_there, ticket_id]


@pytest.mark.parametrize(
    "service_id",
    [
        "aservice01",  # the bank's, but another branch
        "rivalsvc01",  # another company's (not even applied: unknown)
        "hallsvc001",  # another company's
        "zretired01",  # this branch's, inactive
        "zorphan001",  # this branch's, in an inactive group
        "nosuchsvc1",
    ],
)
async def test_transfer_to_a_service_outside_the_branch_does_not_exist(
    tenants: AsyncEngine, service_id: str
) -> None:
    ticket_id = await seed(tenants, "called")
    before = await snapshot(tenants, ticket_id)
    with pytest.raises(TicketFieldError) as error:
        await tr.transfer(tenants, BANK, ticket_id, service_id, STAFF, NOW)
    assert (error.value.field, error.value.reason) == ("serviceId", "does_not_exist")
    assert await snapshot(tenants, ticket_id) == before


async def test_transfer_refused_when_the_customer_already_queues_there(
    tenants: AsyncEngine,
) -> None:
    """One active ticket per customer, service and day: the index says no, and that is a
    clean refusal (with the current status), not a crash; nothing changes."""
    customer_id = "cus_" + secrets.token_hex(8)
    async with write_transaction(tenants) as connection:
        await connection.execute(
            t.customers.insert().values(
                id=customer_id, company_id=BANK, created_at=BOOKED, updated_at=BOOKED
            )
        )
    ticket_id = await seed(tenants, "called", customer_id=customer_id)
    await seed(tenants, "waiting", customer_id=customer_id, **DEPOSIT)
    before = await snapshot(tenants, ticket_id)
    with pytest.raises(DuplicateActiveTicketError) as refusal:
        await tr.transfer(tenants, BANK, ticket_id, "zdeposit01", STAFF, NOW)
    assert (refusal.value.current_status, refusal.value.service_id) == ("called", "zdeposit01")
    assert await snapshot(tenants, ticket_id) == before


async def place(engine: AsyncEngine, taken: int, capacity: int = 2) -> None:
    """The Account Opening slot the seeded appointments hold."""
    async with write_transaction(engine) as connection:
        await connection.execute(
            t.slot_places.insert().values(
                service_id="zopening01", starts_at=APPOINTMENT_AT, capacity=capacity, taken=taken
            )
        )


async def places_taken(engine: AsyncEngine) -> int:
    sp = t.slot_places.c
    async with engine.connect() as connection:
        return int(
            await connection.scalar(
                select(sp.taken).where(
                    sp.service_id == "zopening01", sp.starts_at == APPOINTMENT_AT
                )
            )
        )


async def test_staff_cancel_of_an_appointment_frees_its_place(tenants: AsyncEngine) -> None:
    ticket_id = await seed(tenants, "upcoming")
    await place(tenants, taken=2)
    await tr.cancel(tenants, BANK, ticket_id, STAFF, NOW)
    assert (await ticket(tenants, ticket_id))["status"] == "cancelled"
    assert await places_taken(tenants) == 1


async def test_staff_cancel_of_a_walk_in_touches_no_place(tenants: AsyncEngine) -> None:
    ticket_id = await seed(tenants, "waiting")
    await place(tenants, taken=2)
    await tr.cancel(tenants, BANK, ticket_id, STAFF, NOW)
    assert await places_taken(tenants) == 2


async def test_refused_cancel_frees_no_place(tenants: AsyncEngine) -> None:
    """A no-show appointment still holds its place; cancelling it is refused whole."""
    ticket_id = await seed(tenants, "no_show", **OPENING, type="appointment", time=APPOINTMENT_AT)
    await place(tenants, taken=2)
    with pytest.raises(TransitionRefusedError):
        await tr.cancel(tenants, BANK, ticket_id, STAFF, NOW)
    assert await places_taken(tenants) == 2


# --- call next ----------------------------------------------------------------------------


async def link_counter(engine: AsyncEngine, service_id: str) -> None:
    async with write_transaction(engine) as connection:
        await connection.execute(
            t.counter_services.insert().values(counter_id=COUNTER, service_id=service_id)
        )


async def test_call_next_takes_the_merged_queue_in_order(tenants: AsyncEngine) -> None:
    """Withdrawal and Deposit merged on (queue_at, number, id): queue times first, the
    number breaks a tie of times, the id a tie of both, whatever the service. Each call
    puts the ticket at the counter and logs waiting → called."""
    minute = timedelta(minutes=1)
    queue = {
        "D1": {**DEPOSIT, "at": BOOKED, "number": 1},
        "W2": {**WITHDRAWAL, "at": BOOKED, "number": 2},
        "W3": {**WITHDRAWAL, "at": BOOKED + minute, "number": 3},
        "D3": {**DEPOSIT, "at": BOOKED + minute, "number": 3},
        "D2": {**DEPOSIT, "at": BOOKED + 2 * minute, "number": 2},
        # A checked-in appointment queues by its time, not by when it was booked.
        "W4": {
            **WITHDRAWAL,
            "at": BOOKED - 60 * minute,
            "type": "appointment",
            "time": BOOKED + 3 * minute,
            "queue_at": BOOKED + 3 * minute,
            "number": 4,
        },
        "W5": {**WITHDRAWAL, "at": BOOKED + 4 * minute, "number": 5},
    }
    # Seeded back to front, so insertion order cannot pass for queue order.
    ids = {label: await seed(tenants, "waiting", **queue[label]) for label in reversed(queue)}
    tie = sorted([ids["W3"], ids["D3"]])
    expected = [ids["D1"], ids["W2"], *tie, ids["D2"], ids["W4"], ids["W5"]]
    # Never called: other statuses, a service the call does not name, another company.
    bystanders = [
        await seed(tenants, status, at=BOOKED - minute)
        for status in STATUSES
        if status != "waiting"
    ]
    bystanders.append(await seed(tenants, "waiting", service_id="zforex0001", prefix="F"))
    bystanders.append(
        await seed(
            tenants,
            "waiting",
            company_id=HALL,
            branch_id="hallbr0001",
            group_id="hallgrp001",
            service_id="hallsvc001",
            prefix="Q",
            at=BOOKED - minute,
        )
    )
    untouched = [await snapshot(tenants, b) for b in bystanders]

    called = []
    while (
        next_id := await tr.call_next(
            tenants, BANK, COUNTER, ["zwithdraw1", "zdeposit01"], STAFF, NOW
        )
    ) is not None:
        called.append(next_id)
    assert called == expected
    for ticket_id in called:
        row = await ticket(tenants, ticket_id)
        assert (row["status"], row["counter_id"], row["status_at"]) == ("called", COUNTER, NOW)
        [event] = await events(tenants, ticket_id)
        logged(event, "waiting", "called")
    assert [await snapshot(tenants, b) for b in bystanders] == untouched


async def test_call_next_on_an_empty_queue_is_none(tenants: AsyncEngine) -> None:
    await seed(tenants, "called")
    assert (
        await tr.call_next(tenants, BANK, COUNTER, ["zwithdraw1", "zdeposit01"], STAFF, NOW) is None
    )
    assert await tr.call_next(tenants, BANK, COUNTER, [], STAFF, NOW) is None


async def test_call_next_one_service_of_the_counter(tenants: AsyncEngine) -> None:
    """A counter may pull from a subset of its services."""
    await seed(tenants, "waiting", **WITHDRAWAL, at=BOOKED)
    deposit = await seed(tenants, "waiting", **DEPOSIT, at=BOOKED + timedelta(minutes=1))
    assert await tr.call_next(tenants, BANK, COUNTER, ["zdeposit01"], STAFF, NOW) == deposit


async def test_call_next_only_at_the_companys_counter_for_its_services(
    tenants: AsyncEngine,
) -> None:
    """Another company's counter or a made-up one does not exist; a service the
    counter does not serve (even another company's) is refused; nothing is called."""
    waiting = await seed(tenants, "waiting")
    before = await snapshot(tenants, waiting)
    for counter_id in ("hallctr001", "nosuchctr1"):
        with pytest.raises(TicketFieldError) as error:
            await tr.call_next(tenants, BANK, counter_id, ["zwithdraw1"], STAFF, NOW)
        assert (error.value.field, error.value.reason) == ("counterId", "does_not_exist")
    for services in (["zwithdraw1", "zforex0001"], ["hallsvc001"], ["nosuchsvc1"]):
        with pytest.raises(TicketFieldError) as error:
            await tr.call_next(tenants, BANK, COUNTER, services, STAFF, NOW)
        assert (error.value.field, error.value.reason) == ("serviceIds", "does_not_exist")
    # And the other company, at its own counter, never reaches the bank's queue.
    assert await tr.call_next(tenants, HALL, "hallctr001", ["hallsvc001"], STAFF, NOW) is None
    assert await snapshot(tenants, waiting) == before


# --- races between two staff actions ------------------------------------------------------


async def test_racing_transitions_one_wins_the_other_sees_its_result(
    tenants: AsyncEngine,
) -> None:
    """Call and cancel the same waiting ticket at once: exactly one happens, the loser
    re-reads and is refused with the winner's status, and exactly one event is logged."""
    for _ in range(10):
        ticket_id = await seed(tenants, "waiting")
        outcomes = await asyncio.gather(
            tr.call_ticket(tenants, BANK, ticket_id, COUNTER, STAFF, NOW),
            tr.cancel(tenants, BANK, ticket_id, STAFF, NOW),
            return_exceptions=True,
        )
        refusals = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(refusals) == 1, outcomes
        assert isinstance(refusals[0], TransitionRefusedError), refusals
        final = (await ticket(tenants, ticket_id))["status"]
        assert final in ("called", "cancelled")
        assert refusals[0].current_status == final
        [event] = await events(tenants, ticket_id)
        assert (event["from_status"], event["to_status"]) == ("waiting", final)
