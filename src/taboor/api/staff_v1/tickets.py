"""Ticket moves at the counter (design.md §2), each one transition of
``taboor.tickets.transitions``: the state machine, its compare-and-swap and its event
live there; this module checks who may act and shapes the answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from taboor.api.body import json_object_body
from taboor.api.envelopes import success
from taboor.api.errors import ConflictError, Msg, NotFoundError, field_error
from taboor.api.external_v1.representations import ticket_json
from taboor.api.staff_v1.access import (
    STAFF_DOMAIN_ERRORS,
    company_ticket,
    transition_error,
)
from taboor.api.staff_v1.auth import StaffCall
from taboor.db.uow import read_connection
from taboor.tickets import transitions
from taboor.tickets.transitions import CounterNotHeldError
from taboor.tickets.views import ticket_view

AnyRequest = Request[Any, Any, Any]
Move = Callable[..., Awaitable[None]]


async def ticket_body(staff: StaffCall, ticket_id: str) -> dict[str, Any]:
    async with read_connection(staff.engine) as connection:
        view = await ticket_view(
            connection, staff.company_id, ticket_id, staff.clock(), staff.service_times
        )
    if view is None:  # deleted since the move (its company or branch went away)
        raise NotFoundError(Msg("not_found.ticket"))
    return ticket_json(view, staff)


async def _move(staff: StaffCall, ticket_id: str, move: Callable[[], Awaitable[None]]) -> Any:
    async with read_connection(staff.engine) as connection:
        await company_ticket(connection, staff, ticket_id)
    try:
        await move()
    except STAFF_DOMAIN_ERRORS as error:
        raise transition_error(error) from None
    return success(staff.text("staff.ticket.moved"), await ticket_body(staff, ticket_id))


def _holder(staff: StaffCall) -> str | None:
    """Whose counter a ticket at a counter must be at for this caller to move it
    (nobody's in particular for an admin)."""
    return None if staff.principal.is_admin else staff.principal.staff_id


def _simple_move(path: str, operation: Move, name: str) -> Any:
    async def handler(ticket_id: FromPath[str], staff: NamedDependency[StaffCall]) -> Any:
        return await _move(
            staff,
            ticket_id,
            lambda: operation(
                staff.engine,
                staff.company_id,
                ticket_id,
                staff.actor,
                staff.clock(),
                holder=_holder(staff),
            ),
        )

    handler.__name__ = handler.__qualname__ = name
    return post(path, status_code=200, name=name)(handler)


check_in = _simple_move("/tickets/{ticket_id:str}/check-in", transitions.check_in, "check_in")
recall = _simple_move("/tickets/{ticket_id:str}/recall", transitions.recall, "recall")
requeue = _simple_move("/tickets/{ticket_id:str}/requeue", transitions.requeue, "requeue")
start = _simple_move("/tickets/{ticket_id:str}/start", transitions.start_serving, "start")
finish = _simple_move("/tickets/{ticket_id:str}/finish", transitions.finish, "finish")
no_show = _simple_move("/tickets/{ticket_id:str}/no-show", transitions.mark_no_show, "no_show")
cancel = _simple_move("/tickets/{ticket_id:str}/cancel", transitions.cancel, "cancel_ticket")


def _required_id(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if value is None:
        raise field_error(field, "validation.required")
    if not isinstance(value, str):
        raise field_error(field, "validation.string")
    return value


@post("/tickets/{ticket_id:str}/call", status_code=200)
async def call(
    ticket_id: FromPath[str], request: AnyRequest, staff: NamedDependency[StaffCall]
) -> Response[bytes]:
    """Call this ticket (out of queue order) to a counter the caller holds (admins
    too: a ticket is called to whoever works the counter). Whether the caller holds it
    is judged inside the move, with the counter's row locked against a close."""
    counter_id = _required_id(await json_object_body(request), "counterId")

    async def move() -> None:
        try:
            await transitions.call_ticket(
                staff.engine,
                staff.company_id,
                ticket_id,
                counter_id,
                staff.actor,
                staff.clock(),
                holder=staff.principal.staff_id,
            )
        except CounterNotHeldError:
            raise ConflictError(Msg("staff.not_holding"), code="not_holding") from None

    response: Response[bytes] = await _move(staff, ticket_id, move)
    return response


@post("/tickets/{ticket_id:str}/transfer", status_code=200)
async def transfer(
    ticket_id: FromPath[str], request: AnyRequest, staff: NamedDependency[StaffCall]
) -> Response[bytes]:
    """To the back of another service's queue in the same branch, keeping the number."""
    service_id = _required_id(await json_object_body(request), "serviceId")
    response: Response[bytes] = await _move(
        staff,
        ticket_id,
        lambda: transitions.transfer(
            staff.engine,
            staff.company_id,
            ticket_id,
            service_id,
            staff.actor,
            staff.clock(),
            holder=_holder(staff),
        ),
    )
    return response


@get("/tickets/{ticket_id:str}")
async def get_staff_ticket(
    ticket_id: FromPath[str], staff: NamedDependency[StaffCall]
) -> Response[bytes]:
    async with read_connection(staff.engine) as connection:
        await company_ticket(connection, staff, ticket_id)
    return success(staff.text("ticket.fetched"), await ticket_body(staff, ticket_id))


ticket_handlers = [
    get_staff_ticket,
    check_in,
    call,
    recall,
    requeue,
    start,
    finish,
    no_show,
    transfer,
    cancel,
]
