"""Slots and tickets (spec §2): availability, booking, fetch, cancel, change-time."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from taboor.api.body import json_object_body
from taboor.api.envelopes import success
from taboor.api.errors import (
    ApiError,
    BadRequestError,
    ConflictError,
    Msg,
    NotFoundError,
    field_error,
)
from taboor.api.external_v1.auth import ExternalCall
from taboor.api.external_v1.fields import FieldErrors
from taboor.api.external_v1.ids import is_entity_id
from taboor.api.external_v1.representations import ticket_json, utc_timestamp
from taboor.api.external_v1.ticket_fields import (
    booking_request,
    booking_time,
    customer_ref,
    parse_date,
)
from taboor.db.uow import read_connection
from taboor.scheduling.slots import local_today
from taboor.tickets.booking import book_ticket
from taboor.tickets.errors import (
    BookingRefusedError,
    NotCancellableError,
    TicketFieldError,
    TicketVanishedError,
)
from taboor.tickets.events import Actor
from taboor.tickets.lifecycle import cancel_ticket, change_time, ticket_exists
from taboor.tickets.services import load_bookable_service
from taboor.tickets.slots import free_slots
from taboor.tickets.views import TicketView, ticket_view

AnyRequest = Request[Any, Any, Any]

FIELD_MESSAGES = {
    "does_not_exist": "validation.does_not_exist",
    "no_appointments": "validation.no_appointments",
    "customer_required": "validation.customer_required",
    "customer_conflict": "validation.customer_conflict",
    "customer_mismatch": "validation.customer_mismatch",
    "group_mismatch": "validation.group_mismatch",
    "time_past": "validation.time_future",
    "only_appointments": "validation.only_appointments",
    "not_reschedulable": "validation.not_reschedulable",
}
REFUSAL_MESSAGES = {
    "service_closed": "booking.service_closed",
    "no_walk_in": "booking.no_walk_in",
    "time_unavailable": "booking.time_unavailable",
    "slot_full": "booking.slot_full",
    "duplicate_active": "booking.duplicate_active",
}


def domain_error(error: Exception) -> ApiError:
    """The contract's answer to a refusal of the ticket domain."""
    if isinstance(error, TicketFieldError):
        return field_error(error.field, FIELD_MESSAGES[error.reason])
    if isinstance(error, BookingRefusedError):
        return BadRequestError(Msg(REFUSAL_MESSAGES[error.reason]), code=error.reason)
    if isinstance(error, NotCancellableError):
        return ConflictError(Msg("ticket.not_cancellable"), code="not_cancellable")
    if isinstance(error, TicketVanishedError):
        return NotFoundError(Msg("not_found.ticket"))
    raise error


DOMAIN_ERRORS = (TicketFieldError, BookingRefusedError, NotCancellableError, TicketVanishedError)


def _actor(call: ExternalCall) -> Actor:
    return Actor(kind="api_key", id=call.principal.key_id, source="external_api")


async def _ticket_body(call: ExternalCall, ticket_id: str) -> dict[str, Any]:
    async with read_connection(call.engine) as connection:
        view: TicketView | None = await ticket_view(
            connection, call.company_id, ticket_id, call.clock(), call.service_times
        )
    if view is None:  # deleted between the write and this read: the race of §1.6
        raise NotFoundError(Msg("not_found.ticket"))
    return ticket_json(view, call)


def _require_ticket_id(ticket_id: str) -> None:
    if not is_entity_id(ticket_id):
        raise field_error("id", "validation.does_not_exist")


@get("/services/{service_id:str}/slots")
async def list_slots(
    service_id: FromPath[str], request: AnyRequest, call: NamedDependency[ExternalCall]
) -> Response[bytes]:
    now = call.clock()
    errors = FieldErrors()
    raw_date = request.query_params.get("date")
    async with read_connection(call.engine) as connection:
        service = (
            await load_bookable_service(connection, call.company_id, service_id, now)
            if is_entity_id(service_id)
            else None
        )
        if service is None:
            errors.add("id", "validation.does_not_exist")
        elif service.appointment is None:
            errors.add("id", "validation.no_appointments")
        day = None
        if raw_date not in (None, ""):
            day = parse_date(raw_date)
            if day is None:
                errors.add("date", "validation.date_format")
        if service is not None and day is not None and day < local_today(now, service.zone):
            errors.add("date", "validation.date_past")
        errors.raise_if_any()
        assert service is not None
        slots = await free_slots(connection, service, day or local_today(now, service.zone), now)
    data = [{"time": utc_timestamp(slot.time), "remaining": slot.remaining} for slot in slots]
    return success(call.text("slots.fetched"), data)


@post("/tickets/book", status_code=201)
async def book(request: AnyRequest, call: NamedDependency[ExternalCall]) -> Response[bytes]:
    booking = booking_request(await json_object_body(request))
    try:
        ticket = await book_ticket(
            call.engine, call.company_id, booking, _actor(call), call.clock(), call.service_times
        )
    except DOMAIN_ERRORS as error:
        raise domain_error(error) from None
    message = "ticket.booked" if booking.time is None else "appointment.booked"
    return success(call.text(message), ticket_json(ticket, call), 201)


@get("/tickets/{ticket_id:str}")
async def get_ticket(
    ticket_id: FromPath[str], call: NamedDependency[ExternalCall]
) -> Response[bytes]:
    _require_ticket_id(ticket_id)
    async with read_connection(call.engine) as connection:
        view = await ticket_view(
            connection, call.company_id, ticket_id, call.clock(), call.service_times
        )
    if view is None:
        raise field_error("id", "validation.does_not_exist")
    return success(call.text("ticket.fetched"), ticket_json(view, call))


@post("/tickets/{ticket_id:str}/cancel", status_code=200)
async def cancel(ticket_id: FromPath[str], call: NamedDependency[ExternalCall]) -> Response[bytes]:
    _require_ticket_id(ticket_id)
    # Validation first (spec §1.6): an unknown id is a 422; a ticket that vanishes
    # between this check and the cancel itself is the race's 404.
    async with read_connection(call.engine) as connection:
        exists = await ticket_exists(connection, call.company_id, ticket_id)
    if not exists:
        raise field_error("id", "validation.does_not_exist")
    try:
        await cancel_ticket(call.engine, call.company_id, ticket_id, _actor(call), call.clock())
    except DOMAIN_ERRORS as error:
        raise domain_error(error) from None
    return success(call.text("ticket.cancelled"), await _ticket_body(call, ticket_id))


@post("/tickets/{ticket_id:str}/change-time", status_code=200)
async def reschedule(
    ticket_id: FromPath[str], request: AnyRequest, call: NamedDependency[ExternalCall]
) -> Response[bytes]:
    body = await json_object_body(request)
    errors = FieldErrors()
    if not is_entity_id(ticket_id):
        errors.add("id", "validation.does_not_exist")
    new_time = booking_time(body, errors, required=True)
    customer = customer_ref(body, errors)
    if not customer.given and "customerId" not in errors.fields:
        errors.add("customerId", "validation.required")
    errors.raise_if_any()
    assert new_time is not None
    try:
        await change_time(call.engine, call.company_id, ticket_id, new_time, customer, call.clock())
    except DOMAIN_ERRORS as error:
        raise domain_error(error) from None
    return success(call.text("ticket.updated"), await _ticket_body(call, ticket_id))


ticket_handlers = [list_slots, book, get_ticket, cancel, reschedule]
