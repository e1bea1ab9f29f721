"""Booking walk-in tickets and appointments (spec §2 POST /tickets/book).

One transaction per booking: check the rules, take an appointment place, draw the
day's next number, insert the ticket and its first event. Any refusal after a place or
a number was taken rolls both back, so neither ever leaks.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.customers.service import Locator, find_customer_id
from taboor.db.uow import is_unique_violation, run_in_transaction
from taboor.tickets.errors import BookingRefusedError, TicketFieldError
from taboor.tickets.events import Actor
from taboor.tickets.places import insert_numbered_ticket, take_place
from taboor.tickets.services import BookableService, load_bookable_service

_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def is_duplicate_active(error: IntegrityError) -> bool:
    """Did the one-active-ticket-per-customer index refuse the row? PostgreSQL names
    the index; SQLite names its columns."""
    text = str(error.orig)
    return is_unique_violation(error) and (
        "one_active_per_customer" in text or "tickets.service_day" in text
    )


def new_ticket_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(10))


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """The customer as the caller named it: by ``customerId``, ``customerExternalId``
    or both (then both must name the same customer)."""

    id: str | None = None
    external_id: str | None = None

    @property
    def given(self) -> bool:
        return self.id is not None or self.external_id is not None


@dataclass(frozen=True, slots=True)
class BookingRequest:
    service_id: str
    group_id: str
    time: datetime | None = None
    customer: CustomerRef = CustomerRef()
    options: dict[str, Any] | None = None
    location: tuple[float, float] | None = None


async def resolve_customer(
    connection: AsyncConnection, company_id: str, ref: CustomerRef
) -> str | None:
    """The customer's id, or None when none was named."""
    by_id = by_external = None
    if ref.id is not None:
        by_id = await find_customer_id(connection, company_id, Locator("id", ref.id))
        if by_id is None:
            raise TicketFieldError("customerId", "does_not_exist")
    if ref.external_id is not None:
        by_external = await find_customer_id(
            connection, company_id, Locator("externalId", ref.external_id)
        )
        if by_external is None:
            raise TicketFieldError("customerExternalId", "does_not_exist")
    if by_id is not None and by_external is not None and by_id != by_external:
        raise TicketFieldError("customerExternalId", "customer_conflict")
    return by_id or by_external


async def _load_service(
    connection: AsyncConnection, company_id: str, request: BookingRequest, now: datetime
) -> BookableService:
    service = await load_bookable_service(connection, company_id, request.service_id, now)
    if service is None:
        raise TicketFieldError("serviceId", "does_not_exist")
    if service.group_id != request.group_id:
        raise TicketFieldError("groupOfServiceId", "group_mismatch")
    return service


async def book_ticket(
    engine: AsyncEngine,
    company_id: str,
    request: BookingRequest,
    actor: Actor,
    now: datetime,
) -> str:
    """Book and return the new ticket's id, or raise a domain error (nothing written)."""

    async def work(connection: AsyncConnection) -> str:
        service = await _load_service(connection, company_id, request, now)
        customer_id = await resolve_customer(connection, company_id, request.customer)
        if request.time is None:
            if not service.walk_in:
                raise BookingRefusedError("no_walk_in")
            if not service.open_for_walk_ins(now):
                raise BookingRefusedError("service_closed")
            prefix, status, queue_at = service.prefix, "waiting", now
        else:
            rules = service.appointment
            if rules is None:
                raise TicketFieldError("serviceId", "no_appointments")
            if customer_id is None:
                raise TicketFieldError("customerId", "customer_required")
            if request.time <= now:
                raise TicketFieldError("time", "time_past")
            if not service.is_slot_start(request.time, now):
                raise BookingRefusedError("time_unavailable")
            if not await take_place(connection, service.id, request.time, rules.capacity):
                raise BookingRefusedError("slot_full")
            prefix, status, queue_at = rules.prefix, "upcoming", request.time
        day = queue_at.astimezone(service.zone).date()
        ticket_id = new_ticket_id()
        ticket = {
            "id": ticket_id,
            "company_id": company_id,
            "branch_id": service.branch_id,
            "group_id": service.group_id,
            "service_id": service.id,
            "customer_id": customer_id,
            "type": "sequential" if request.time is None else "appointment",
            "status": status,
            "prefix": prefix,
            "day": day,
            "service_day": day,
            "time": request.time,
            "queue_at": queue_at,
            "status_at": now,
            "booked_at": now,
            "options": request.options,
            "lat": request.location[0] if request.location else None,
            "lng": request.location[1] if request.location else None,
        }
        event = {
            "company_id": company_id,
            "ticket_id": ticket_id,
            "from_status": None,
            "to_status": status,
            "at": now,
            "actor_kind": actor.kind,
            "actor_id": actor.id,
            "source": actor.source,
        }
        try:
            await insert_numbered_ticket(connection, ticket, event)
        except IntegrityError as error:
            if is_duplicate_active(error):
                raise BookingRefusedError("duplicate_active") from None
            raise
        return ticket_id

    return await run_in_transaction(engine, work)
