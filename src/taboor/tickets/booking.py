"""Booking walk-in tickets and appointments (spec §2 POST /tickets/book).

Check the rules, take an appointment place, draw the day's next number, insert the
ticket and its first event, atomically: any refusal after a place or a number was
taken rolls both back, so neither ever leaks. The answer is built from what booking
read and wrote, without reading the ticket back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.customers.service import Locator, find_customer_name
from taboor.db.uow import (
    is_foreign_key_violation,
    is_unique_violation,
    read_connection,
    retry_when_safe,
    run_in_transaction_on,
)
from taboor.tickets.errors import BookingRefusedError, TicketFieldError
from taboor.tickets.eta import ServiceTimes, estimate_minutes
from taboor.tickets.events import Actor
from taboor.tickets.places import insert_numbered_ticket, insert_placed_ticket
from taboor.tickets.services import BookableService, load_bookable_service
from taboor.tickets.views import TicketView, format_ticket_number

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
) -> tuple[str, str | None] | None:
    """The customer's id and name, or None when none was named."""
    by_id = by_external = None
    if ref.id is not None:
        by_id = await find_customer_name(connection, company_id, Locator("id", ref.id))
        if by_id is None:
            raise TicketFieldError("customerId", "does_not_exist")
    if ref.external_id is not None:
        by_external = await find_customer_name(
            connection, company_id, Locator("externalId", ref.external_id)
        )
        if by_external is None:
            raise TicketFieldError("customerExternalId", "does_not_exist")
    if by_id is not None and by_external is not None and by_id[0] != by_external[0]:
        raise TicketFieldError("customerExternalId", "customer_conflict")
    return by_id or by_external


@dataclass(frozen=True, slots=True)
class _Decision:
    """Everything decided before anything is written."""

    service: BookableService
    customer: tuple[str, str | None] | None
    prefix: str
    status: str
    queue_at: datetime
    waiting_time: int | None  # a walk-in's estimate, from the queue it joins


async def _decide(
    connection: AsyncConnection,
    company_id: str,
    request: BookingRequest,
    now: datetime,
    service_times: ServiceTimes,
) -> _Decision:
    """Check every rule (reads only); refusals raise."""
    walk_in = request.time is None
    service = await load_bookable_service(
        connection, company_id, request.service_id, now, with_queue=walk_in
    )
    if service is None:
        raise TicketFieldError("serviceId", "does_not_exist")
    if service.group_id != request.group_id:
        raise TicketFieldError("groupOfServiceId", "group_mismatch")
    customer = await resolve_customer(connection, company_id, request.customer)
    if request.time is None:
        if not service.walk_in:
            raise BookingRefusedError("no_walk_in")
        if not service.open_for_walk_ins(now):
            raise BookingRefusedError("service_closed")
        assert service.queue is not None
        mean = await service_times.mean(connection, service.id, service.avg_service_minutes, now)
        estimate = estimate_minutes(service.queue.waiting, mean, service.queue.open_counters)
        return _Decision(service, customer, service.prefix, "waiting", now, estimate)
    rules = service.appointment
    if rules is None:
        raise TicketFieldError("serviceId", "no_appointments")
    if customer is None:
        raise TicketFieldError("customerId", "customer_required")
    if request.time <= now:
        raise TicketFieldError("time", "time_past")
    if not service.is_slot_start(request.time, now):
        raise BookingRefusedError("time_unavailable")
    return _Decision(service, customer, rules.prefix, "upcoming", request.time, None)


async def _write(
    connection: AsyncConnection,
    company_id: str,
    request: BookingRequest,
    decision: _Decision,
    ticket_id: str,
    actor: Actor,
    now: datetime,
) -> int:
    """Take the place (an appointment), draw the number, insert the ticket and its first
    event; the number."""
    service = decision.service
    day = decision.queue_at.astimezone(service.zone).date()
    ticket = {
        "id": ticket_id,
        "company_id": company_id,
        "branch_id": service.branch_id,
        "group_id": service.group_id,
        "service_id": service.id,
        "customer_id": decision.customer[0] if decision.customer else None,
        "type": "sequential" if request.time is None else "appointment",
        "status": decision.status,
        "prefix": decision.prefix,
        "day": day,
        "service_day": day,
        "time": request.time,
        "queue_at": decision.queue_at,
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
        "to_status": decision.status,
        "at": now,
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "source": actor.source,
    }
    try:
        if request.time is None:
            return await insert_numbered_ticket(connection, ticket, event)
        assert service.appointment is not None  # _decide checked it takes appointments
        capacity = service.appointment.capacity
        number = await insert_placed_ticket(connection, ticket, event, capacity)
        if number is None:
            raise BookingRefusedError("slot_full")
        return number
    except IntegrityError as error:
        if is_duplicate_active(error):
            raise BookingRefusedError("duplicate_active") from None
        if is_foreign_key_violation(error):
            # The customer (or the service, with its company) was deleted after we read
            # it: what the caller named no longer exists.
            field = "customerId" if decision.customer else "serviceId"
            raise TicketFieldError(field, "does_not_exist") from None
        raise


async def book_ticket(
    engine: AsyncEngine,
    company_id: str,
    request: BookingRequest,
    actor: Actor,
    now: datetime,
    service_times: ServiceTimes | None = None,
) -> TicketView:
    """Book and return the new ticket as callers see it, or raise a domain error
    (nothing written). One connection for the whole booking.

    On PostgreSQL a booking is decided from autocommit reads and then written by one
    statement (an appointment's place, number, ticket and event), which is a
    transaction by itself: no BEGIN/COMMIT round trips, and the slot's and the day's
    number rows are locked only while that statement runs. On SQLite the booking runs
    as one write transaction, decisions included."""
    times = service_times or ServiceTimes()
    ticket_id = new_ticket_id()

    async def whole(connection: AsyncConnection) -> tuple[_Decision, int]:
        decision = await _decide(connection, company_id, request, now, times)
        number = await _write(connection, company_id, request, decision, ticket_id, actor, now)
        return decision, number

    async with read_connection(engine) as connection:
        if connection.dialect.name == "postgresql":
            decision = await _decide(connection, company_id, request, now, times)
            number = await retry_when_safe(
                lambda: _write(connection, company_id, request, decision, ticket_id, actor, now)
            )
        else:
            decision, number = await run_in_transaction_on(connection, whole)
    return _view(ticket_id, number, request, decision, now)


def _view(
    ticket_id: str, number: int, request: BookingRequest, decision: _Decision, now: datetime
) -> TicketView:
    service = decision.service
    branch_names, group_names, service_names = service.names
    waiting = decision.status == "waiting"
    return TicketView(
        id=ticket_id,
        ticket_number=format_ticket_number(decision.prefix, number),
        status=decision.status,
        status_at=now,
        type="sequential" if request.time is None else "appointment",
        time=request.time,
        booked_at=now,
        branch=(service.branch_id, branch_names),
        service=(service.id, service_names),
        group=(service.group_id, group_names),
        customer=decision.customer,
        queue_size=service.queue.waiting if waiting and service.queue else None,
        waiting_time=decision.waiting_time if waiting else None,
    )
