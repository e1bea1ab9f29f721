"""Kiosk endpoints: the open walk-in services of a branch, a walk-in ticket, an
appointment's check-in by its number, and the QR code printed on the ticket.

Answers use the External API's envelopes and locales. A branch that is not the key's
company's active branch is a 404 (the id is in the path); a bad field is a 422 naming
it, in the caller's language, and changes nothing. Tickets booked and appointments
checked in here are logged with the source ``kiosk``.
"""

from __future__ import annotations

from typing import Any

import segno
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy import select

from taboor.api.body import json_object_body
from taboor.api.envelopes import success
from taboor.api.errors import ConflictError, Msg, NotFoundError, field_error
from taboor.api.external_v1.auth import ExternalCall
from taboor.api.external_v1.representations import ticket_json
from taboor.api.external_v1.tickets import DOMAIN_ERRORS, domain_error
from taboor.db import tables as t
from taboor.db.uow import read_connection
from taboor.kiosk.service import (
    KioskBranch,
    kiosk_branch,
    parse_ticket_number,
    todays_appointment,
    walk_in_services,
)
from taboor.tickets.booking import BookingRequest, book_ticket
from taboor.tickets.events import Actor
from taboor.tickets.transitions import TransitionRefusedError, check_in
from taboor.tickets.views import ticket_view

AnyRequest = Request[Any, Any, Any]
QR_TEXT_MAX = 512
AT_BRANCH = frozenset({"waiting", "called", "serving"})  # checked in already
_s = t.services.c


def _actor(call: ExternalCall) -> Actor:
    return Actor(kind="api_key", id=call.principal.key_id, source="kiosk")


async def _branch(call: ExternalCall, branch_id: str) -> KioskBranch:
    async with read_connection(call.engine) as connection:
        branch = await kiosk_branch(connection, call.company_id, branch_id)
    if branch is None:
        raise NotFoundError(Msg("not_found.branch"))
    return branch


def _string_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise field_error(name, "validation.required")
    if not isinstance(value, str):
        raise field_error(name, "validation.string")
    return value


@get("/branches/{branch_id:str}/services")
async def list_kiosk_services(
    branch_id: FromPath[str], call: NamedDependency[ExternalCall]
) -> Response[bytes]:
    branch = await _branch(call, branch_id)
    async with read_connection(call.engine) as connection:
        services = await walk_in_services(
            connection, call.company_id, branch.id, call.clock(), call.service_times
        )
    data = {
        "branch": {
            "id": branch.id,
            "name": call.name(branch.name),
            "timezone": branch.timezone,
            "locale": branch.default_locale,
        },
        "services": [
            {
                "id": service.id,
                "groupOfServiceId": service.group_id,
                "name": call.name(service.name),
                "groupName": call.name(service.group_name),
                "isOpen": service.is_open,
                "waiting": service.waiting,
                "waitingTime": service.waiting_time,
            }
            for service in services
        ],
    }
    return success(call.text("kiosk.services.fetched"), data)


@post("/branches/{branch_id:str}/tickets", status_code=201)
async def book_kiosk_ticket(
    branch_id: FromPath[str], request: AnyRequest, call: NamedDependency[ExternalCall]
) -> Response[bytes]:
    """A walk-in ticket for one of the branch's services, booked by the ticket domain
    like any other (numbering, hours, queue estimate), its event naming the kiosk."""
    body = await json_object_body(request)
    branch = await _branch(call, branch_id)
    service_id = _string_field(body, "serviceId")
    async with read_connection(call.engine) as connection:
        group_id = await connection.scalar(
            select(_s.group_id).where(
                _s.id == service_id, _s.company_id == call.company_id, _s.branch_id == branch.id
            )
        )
    if group_id is None:  # another branch's service is not this kiosk's to book
        raise field_error("serviceId", "validation.does_not_exist")
    try:
        ticket = await book_ticket(
            call.engine,
            call.company_id,
            BookingRequest(service_id=service_id, group_id=str(group_id)),
            _actor(call),
            call.clock(),
            call.service_times,
        )
    except DOMAIN_ERRORS as error:
        raise domain_error(error) from None
    return success(call.text("ticket.booked"), ticket_json(ticket, call), 201)


def _check_in_refusal(status: str) -> ConflictError:
    if status in AT_BRANCH:
        return ConflictError(Msg("kiosk.already_checked_in"), code="already_checked_in")
    return ConflictError(
        Msg("kiosk.appointment_over", {"status": Msg(f"status.{status}")}),
        code="invalid_transition",
    )


@post("/branches/{branch_id:str}/check-in", status_code=200)
async def check_in_appointment(
    branch_id: FromPath[str], request: AnyRequest, call: NamedDependency[ExternalCall]
) -> Response[bytes]:
    """``{"number": "A001"}``: today's appointment of the branch with that number goes
    from ``upcoming`` to ``waiting`` through the ticket domain's check-in."""
    body = await json_object_body(request)
    branch = await _branch(call, branch_id)
    parsed = parse_ticket_number(_string_field(body, "number"))
    if parsed is None:
        raise field_error("number", "kiosk.validation.ticket_number")
    now = call.clock()
    async with read_connection(call.engine) as connection:
        found = await todays_appointment(connection, call.company_id, branch, *parsed, now)
    if found is None:
        raise field_error("number", "kiosk.validation.no_appointment_today")
    if found.status != "upcoming":
        raise _check_in_refusal(found.status)
    try:
        await check_in(call.engine, call.company_id, found.id, _actor(call), now)
    except TransitionRefusedError as error:  # checked in (or over) a moment ago
        raise _check_in_refusal(error.current_status) from None
    async with read_connection(call.engine) as connection:
        view = await ticket_view(
            connection, call.company_id, found.id, call.clock(), call.service_times
        )
    if view is None:
        raise NotFoundError(Msg("not_found.ticket"))
    return success(call.text("kiosk.checked_in"), ticket_json(view, call))


@post("/qr", status_code=200)
async def make_qr(request: AnyRequest, call: NamedDependency[ExternalCall]) -> Response[bytes]:
    """``{"text"}`` → ``{"svg": "data:image/svg+xml,…"}``: the QR code the kiosk prints
    on a ticket (the follow-my-ticket link). Made here because the screens fetch nothing
    from elsewhere and a QR encoder in the browser would be a vendored library more."""
    text = _string_field(await json_object_body(request), "text")
    if len(text) > QR_TEXT_MAX:
        raise field_error("text", "kiosk.validation.qr_text", max=QR_TEXT_MAX)
    svg = segno.make(text, error="m").svg_data_uri(scale=4, border=2)
    return success(call.text("kiosk.qr.made"), {"svg": svg})


kiosk_handlers = [list_kiosk_services, book_kiosk_ticket, check_in_appointment, make_qr]
