"""The database itself refuses rows that break the invariants (design.md §3)."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.db.uow import write_transaction
from tests.support import apply_fixture, ticket_row

NOW = datetime(2026, 6, 7, 7, 0, tzinfo=UTC)
DAY = date(2026, 6, 7)


@pytest.fixture
async def bank_rows(engine: AsyncEngine) -> AsyncEngine:
    """The bank company applied: branches, groups and services to point tickets at."""
    await apply_fixture(engine, "bank")
    return engine


async def insert(engine: AsyncEngine, table: Table, **values: Any) -> None:
    async with write_transaction(engine) as connection:
        await connection.execute(table.insert().values(**values))


async def count(engine: AsyncEngine, table: Table, *where: Any) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table).where(*where)))


def ticket(**fields: Any) -> dict[str, Any]:
    """A waiting walk-in of the bank's Withdrawal service on DAY; fields override."""
    return ticket_row(at=NOW, **fields)


def customer(company_id: str = "cmp_bank01", **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": "cus_" + secrets.token_hex(8),
        "company_id": company_id,
        "external_id": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    row.update(fields)
    return row


# --- ticket numbers ----------------------------------------------------------------------


async def test_duplicate_ticket_number_per_branch_prefix_day_is_rejected(
    bank_rows: AsyncEngine,
) -> None:
    """W-1 twice on one day at one branch violates the unique constraint."""
    await insert(bank_rows, t.tickets, **ticket(number=1))
    with pytest.raises(IntegrityError):
        await insert(bank_rows, t.tickets, **ticket(number=1))
    # Even through another service of the same branch using the same prefix.
    with pytest.raises(IntegrityError):
        await insert(bank_rows, t.tickets, **ticket(number=1, service_id="zdeposit01"))
    assert await count(bank_rows, t.tickets) == 1


async def test_same_number_on_another_day_prefix_or_branch_is_accepted(
    bank_rows: AsyncEngine,
) -> None:
    """W-1 may exist once per day, per prefix and per branch."""
    await insert(bank_rows, t.tickets, **ticket(number=1))
    await insert(bank_rows, t.tickets, **ticket(number=1, day=DAY + timedelta(days=1)))
    await insert(bank_rows, t.tickets, **ticket(number=1, prefix="D", service_id="zdeposit01"))
    await insert(
        bank_rows,
        t.tickets,
        **ticket(number=1, branch_id="amwaj00001", group_id="agroup0001", service_id="aservice01"),
    )
    assert await count(bank_rows, t.tickets, t.tickets.c.number == 1) == 4


async def test_ticket_number_must_be_positive(bank_rows: AsyncEngine) -> None:
    """Number 0 breaks the number CHECK."""
    with pytest.raises(IntegrityError):
        await insert(bank_rows, t.tickets, **ticket(number=0))


async def test_ticket_numbers_counter_row_is_unique_and_not_negative(
    bank_rows: AsyncEngine,
) -> None:
    """One ticket_numbers row per (branch, prefix, day), and last_number never below 0."""
    values = {"branch_id": "zallaq0001", "prefix": "W", "day": DAY, "last_number": 3}
    await insert(bank_rows, t.ticket_numbers, **values)
    with pytest.raises(IntegrityError):
        await insert(bank_rows, t.ticket_numbers, **values)
    with pytest.raises(IntegrityError):
        await insert(
            bank_rows, t.ticket_numbers, **{**values, "day": DAY + timedelta(1), "last_number": -1}
        )


# --- ticket status and type --------------------------------------------------------------


@pytest.mark.parametrize("status", ["booked", "done", "WAITING", ""])
async def test_ticket_status_outside_the_machine_is_rejected(
    bank_rows: AsyncEngine, status: str
) -> None:
    """A status that is not a state of the machine breaks the status CHECK."""
    with pytest.raises(IntegrityError):
        await insert(bank_rows, t.tickets, **ticket(status=status))
    assert await count(bank_rows, t.tickets) == 0


async def test_every_machine_status_is_accepted(bank_rows: AsyncEngine) -> None:
    """All seven states of the machine are storable."""
    for number, status in enumerate(t.TICKET_STATUSES, start=1):
        await insert(bank_rows, t.tickets, **ticket(number=number, status=status))
    assert await count(bank_rows, t.tickets) == len(t.TICKET_STATUSES) == 7


async def test_appointment_without_time_is_rejected(bank_rows: AsyncEngine) -> None:
    """type='appointment' with NULL time breaks time_matches_type."""
    appointment = {"service_id": "zopening01", "group_id": "zaccounts1", "prefix": "A"}
    with pytest.raises(IntegrityError):
        await insert(bank_rows, t.tickets, **ticket(type="appointment", time=None, **appointment))
    await insert(
        bank_rows,
        t.tickets,
        **ticket(
            type="appointment", status="upcoming", time=NOW + timedelta(hours=2), **appointment
        ),
    )
    assert await count(bank_rows, t.tickets) == 1


async def test_walk_in_with_time_and_unknown_type_are_rejected(bank_rows: AsyncEngine) -> None:
    """A sequential ticket with a time, or a type outside the two, is refused."""
    with pytest.raises(IntegrityError):
        await insert(bank_rows, t.tickets, **ticket(time=NOW))
    with pytest.raises(IntegrityError):
        await insert(bank_rows, t.tickets, **ticket(type="vip"))
    assert await count(bank_rows, t.tickets) == 0


# --- slot capacity -----------------------------------------------------------------------


@pytest.mark.parametrize(("capacity", "taken"), [(2, 3), (1, 2), (0, 1), (2, -1)])
async def test_slot_places_outside_zero_to_capacity_are_rejected(
    bank_rows: AsyncEngine, capacity: int, taken: int
) -> None:
    """taken > capacity and taken < 0 break the slot CHECK."""
    with pytest.raises(IntegrityError):
        await insert(
            bank_rows,
            t.slot_places,
            service_id="zopening01",
            starts_at=NOW,
            capacity=capacity,
            taken=taken,
        )
    assert await count(bank_rows, t.slot_places) == 0


async def test_slot_update_beyond_capacity_is_rejected(bank_rows: AsyncEngine) -> None:
    """An UPDATE that forgets WHERE taken < capacity is still refused by the CHECK."""
    await insert(
        bank_rows, t.slot_places, service_id="zopening01", starts_at=NOW, capacity=2, taken=2
    )
    with pytest.raises(IntegrityError):
        async with write_transaction(bank_rows) as connection:
            await connection.execute(t.slot_places.update().values(taken=t.slot_places.c.taken + 1))
    async with bank_rows.connect() as connection:
        assert await connection.scalar(select(t.slot_places.c.taken)) == 2


async def test_slot_places_within_capacity_are_accepted(bank_rows: AsyncEngine) -> None:
    """0 and capacity itself are both allowed."""
    for minutes, taken in ((0, 0), (15, 2)):
        await insert(
            bank_rows,
            t.slot_places,
            service_id="zopening01",
            starts_at=NOW + timedelta(minutes=minutes),
            capacity=2,
            taken=taken,
        )
    assert await count(bank_rows, t.slot_places) == 2


# --- customers ---------------------------------------------------------------------------


async def test_customer_external_id_is_unique_per_company(bank_rows: AsyncEngine) -> None:
    """Two bank customers with one externalId are refused; the rival may reuse it."""
    await apply_fixture(bank_rows, "rival")
    await insert(bank_rows, t.customers, **customer(external_id="ext-1"))
    with pytest.raises(IntegrityError):
        await insert(bank_rows, t.customers, **customer(external_id="ext-1"))
    await insert(bank_rows, t.customers, **customer("cmp_rival1", external_id="ext-1"))
    await insert(bank_rows, t.customers, **customer(external_id=None))
    await insert(bank_rows, t.customers, **customer(external_id=None))
    assert await count(bank_rows, t.customers, t.customers.c.company_id == "cmp_bank01") == 3
    assert await count(bank_rows, t.customers, t.customers.c.external_id == "ext-1") == 2


async def test_deleting_a_customer_detaches_their_tickets(bank_rows: AsyncEngine) -> None:
    """ON DELETE SET NULL: the ticket survives with customer_id NULL."""
    person = customer(external_id="ext-9")
    await insert(bank_rows, t.customers, **person)
    ticket_row = ticket(customer_id=person["id"])
    other = ticket(number=2)
    await insert(bank_rows, t.tickets, **ticket_row)
    await insert(bank_rows, t.tickets, **other)
    async with write_transaction(bank_rows) as connection:
        await connection.execute(delete(t.customers).where(t.customers.c.id == person["id"]))
    async with bank_rows.connect() as connection:
        stored = (await connection.execute(select(t.tickets.c.id, t.tickets.c.customer_id))).all()
    assert sorted(stored) == sorted([(ticket_row["id"], None), (other["id"], None)])


async def test_ticket_for_a_missing_customer_is_rejected(bank_rows: AsyncEngine) -> None:
    """Foreign keys are enforced (on SQLite too): no ticket for an unknown customer."""
    with pytest.raises(IntegrityError):
        await insert(bank_rows, t.tickets, **ticket(customer_id="cus_nobody"))


# --- api keys ----------------------------------------------------------------------------


def api_key(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": "key_" + secrets.token_hex(8),
        "company_id": "cmp_bank01",
        "kind": "public",
        "key_hash": secrets.token_hex(32),
        "key_hint": "pk_abcd…",
        "created_at": NOW,
    }
    row.update(fields)
    return row


@pytest.mark.parametrize("kind", ["admin", "PUBLIC", "", "private"])
async def test_api_key_kind_outside_public_secret_is_rejected(
    bank_rows: AsyncEngine, kind: str
) -> None:
    """Only public and secret keys exist."""
    with pytest.raises(IntegrityError):
        await insert(bank_rows, t.api_keys, **api_key(kind=kind))
    await insert(bank_rows, t.api_keys, **api_key(kind="public"))
    await insert(bank_rows, t.api_keys, **api_key(kind="secret"))
    assert await count(bank_rows, t.api_keys) == 2


async def test_api_key_hash_is_unique(bank_rows: AsyncEngine) -> None:
    """Two keys can never share a hash."""
    row = api_key()
    await insert(bank_rows, t.api_keys, **row)
    with pytest.raises(IntegrityError):
        await insert(bank_rows, t.api_keys, **api_key(key_hash=row["key_hash"]))
