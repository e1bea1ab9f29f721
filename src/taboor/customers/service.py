"""Customer directory: create, find, page through, update, delete — always within one
company. Field rules (lengths, formats) are checked by the caller; this module owns
identity, uniqueness and scoping.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.db import tables as t
from taboor.db.uow import is_unique_violation
from taboor.db.upsert import increment

c = t.customers.c
WRITABLE_FIELDS = ("external_id", "name", "email", "mobile", "metadata")


class ExternalIdTakenError(Exception):
    """Another customer of the company already has this externalId."""


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    company_id: str
    external_id: str | None
    name: str | None
    email: str | None
    mobile: str | None
    metadata: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Locator:
    """How the caller names a customer: by ``id`` or by ``externalId`` (id wins)."""

    field: str  # "id" or "externalId": the field an unknown value is reported on
    value: str


def _from_row(row: Row[Any]) -> Customer:
    fields = row._mapping
    return Customer(**{name: fields[name] for name in Customer.__slots__})


def new_customer_id() -> str:
    return secrets.token_hex(16)


def _match(company_id: str, locator: Locator) -> Any:
    column = c.id if locator.field == "id" else c.external_id
    return (c.company_id == company_id) & (column == locator.value)


async def create_customer(
    connection: AsyncConnection, company_id: str, fields: Mapping[str, Any], now: datetime
) -> Customer:
    row: dict[str, Any] = {
        "id": new_customer_id(),
        "company_id": company_id,
        **{name: fields.get(name) for name in WRITABLE_FIELDS},
        "created_at": now,
        "updated_at": now,
    }
    try:
        # A savepoint, so a duplicate leaves the surrounding transaction usable.
        async with connection.begin_nested():
            await connection.execute(t.customers.insert().values(**row))
    except IntegrityError as error:
        if is_unique_violation(error):
            raise ExternalIdTakenError from None
        raise
    await increment(connection, t.customer_counts, {"company_id": company_id}, "total", 1)
    return Customer(
        id=row["id"],
        company_id=company_id,
        external_id=row["external_id"],
        name=row["name"],
        email=row["email"],
        mobile=row["mobile"],
        metadata=row["metadata"],
        created_at=now,
        updated_at=now,
    )


async def find_customer(
    connection: AsyncConnection, company_id: str, locator: Locator
) -> Customer | None:
    row = (await connection.execute(select(t.customers).where(_match(company_id, locator)))).first()
    return _from_row(row) if row else None


async def find_customer_id(
    connection: AsyncConnection, company_id: str, locator: Locator
) -> str | None:
    return await connection.scalar(select(c.id).where(_match(company_id, locator)))


async def find_customer_name(
    connection: AsyncConnection, company_id: str, locator: Locator
) -> tuple[str, str | None] | None:
    """The customer's id and name (what a ticket shows of its customer), or None."""
    row = (
        await connection.execute(select(c.id, c.name).where(_match(company_id, locator)))
    ).first()
    return (row[0], row[1]) if row else None


def _page_statement(*, newest_first: bool) -> Any:
    """A page of a company's customers: the ids come from the ``(company_id, created_at,
    id)`` index alone (index-only, however deep the page), then only those rows are
    read. Built once, with bind parameters."""
    order = (c.created_at.desc(), c.id.desc()) if newest_first else (c.created_at.asc(), c.id.asc())
    page_ids = (
        select(c.id)
        .where(c.company_id == bindparam("company_id"))
        .order_by(*order)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery()
    )
    return select(t.customers).join(page_ids, page_ids.c.id == c.id).order_by(*order)


_NEWEST_FIRST_PAGE = _page_statement(newest_first=True)
_OLDEST_FIRST_PAGE = _page_statement(newest_first=False)
_CUSTOMER_TOTAL = select(t.customer_counts.c.total).where(
    t.customer_counts.c.company_id == bindparam("company_id")
)


async def page_of_customers(
    connection: AsyncConnection, company_id: str, page: int, limit: int
) -> tuple[list[Customer], int]:
    """Newest first. An offset costs index entries skipped, so a page in the older half
    is read from the oldest end and reversed: the last page is as cheap as the first.
    The total comes from ``customer_counts``, not from counting rows."""
    total = int(await connection.scalar(_CUSTOMER_TOTAL, {"company_id": company_id}) or 0)
    offset = (page - 1) * limit
    if offset >= total:
        return [], total
    if offset <= total // 2:
        parameters = {"company_id": company_id, "limit": limit, "offset": offset}
        rows = await connection.execute(_NEWEST_FIRST_PAGE, parameters)
        return [_from_row(row) for row in rows], total
    from_oldest = {
        "company_id": company_id,
        "limit": min(limit, total - offset),
        "offset": max(0, total - offset - limit),
    }
    rows = await connection.execute(_OLDEST_FIRST_PAGE, from_oldest)
    return [_from_row(row) for row in rows][::-1], total


async def update_customer(
    connection: AsyncConnection,
    company_id: str,
    locator: Locator,
    changes: Mapping[str, Any],
    now: datetime,
) -> Customer | None:
    """Apply ``changes`` (column -> value, None clears); None when no such customer."""
    statement = (
        update(t.customers)
        .where(_match(company_id, locator))
        .values(**changes, updated_at=now)
        .returning(*t.customers.c)
    )
    try:
        async with connection.begin_nested():
            row = (await connection.execute(statement)).first()
    except IntegrityError as error:
        if is_unique_violation(error):
            raise ExternalIdTakenError from None
        raise
    return _from_row(row) if row else None


async def delete_customer(connection: AsyncConnection, company_id: str, locator: Locator) -> bool:
    """Delete permanently; the customer's tickets stay, their customer becomes NULL
    (the foreign key's ON DELETE SET NULL does it in the same statement)."""
    result = await connection.execute(delete(t.customers).where(_match(company_id, locator)))
    if result.rowcount != 1:
        return False
    await connection.execute(
        update(t.customer_counts)
        .where(t.customer_counts.c.company_id == company_id)
        .values(total=t.customer_counts.c.total - 1)
    )
    return True
