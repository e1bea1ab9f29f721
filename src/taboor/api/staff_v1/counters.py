"""Branches, counters and the live queue on the staff side."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy import select

from taboor.api.body import json_object_body
from taboor.api.envelopes import success
from taboor.api.errors import field_error
from taboor.api.external_v1.representations import ticket_json, utc_timestamp
from taboor.api.staff_v1.access import (
    STAFF_DOMAIN_ERRORS,
    company_branch,
    company_counter,
    transition_error,
)
from taboor.api.staff_v1.auth import StaffCall
from taboor.counters.queue import QueuedTicket, live_queue
from taboor.counters.service import (
    CounterState,
    call_next_at_counter,
    choose_services,
    close_counter,
    list_counters,
    open_counter,
)
from taboor.db import tables as t
from taboor.db.uow import read_connection

AnyRequest = Request[Any, Any, Any]
_b = t.branches.c


def counter_json(counter: CounterState, call: StaffCall) -> dict[str, Any]:
    return {
        "id": counter.id,
        "branchId": counter.branch_id,
        "name": call.name(counter.name),
        "position": counter.position,
        "open": counter.is_open,
        "heldBy": (
            {"id": counter.held_by, "name": counter.holder_name} if counter.held_by else None
        ),
        "openedAt": utc_timestamp(counter.opened_at) if counter.opened_at else None,
        "services": [
            {"id": service.service_id, "enabled": service.enabled} for service in counter.services
        ],
    }


async def _counter_body(call: StaffCall, counter_id: str) -> dict[str, Any]:
    async with read_connection(call.engine) as connection:
        branch_id = await company_counter(connection, call, counter_id)
        (counter,) = await list_counters(connection, call.company_id, branch_id, counter_id)
    return counter_json(counter, call)


async def _checked_counter(call: StaffCall, counter_id: str) -> None:
    async with read_connection(call.engine) as connection:
        await company_counter(connection, call, counter_id)


def _holder(call: StaffCall) -> str | None:
    """Whose counter an operation may touch: the caller's own; an admin's, any."""
    return None if call.principal.is_admin else call.principal.staff_id


@get("/branches")
async def list_staff_branches(staff: NamedDependency[StaffCall]) -> Response[bytes]:
    """The branches the caller may work at."""
    query = select(_b.id, _b.name, _b.timezone).where(
        _b.company_id == staff.company_id, _b.active.is_(True)
    )
    async with read_connection(staff.engine) as connection:
        rows = (await connection.execute(query.order_by(_b.position, _b.id))).all()
    data = [
        {"id": row.id, "name": staff.name(row.name), "timezone": row.timezone}
        for row in rows
        if staff.principal.may_work_at(row.id)
    ]
    return success(staff.text("staff.branches.fetched"), data)


@get("/branches/{branch_id:str}/counters")
async def list_branch_counters(
    branch_id: FromPath[str], staff: NamedDependency[StaffCall]
) -> Response[bytes]:
    async with read_connection(staff.engine) as connection:
        await company_branch(connection, staff, branch_id)
        counters = await list_counters(connection, staff.company_id, branch_id)
    data = [counter_json(counter, staff) for counter in counters]
    return success(staff.text("staff.counters.fetched"), data)


@post("/counters/{counter_id:str}/open", status_code=200)
async def open_staff_counter(
    counter_id: FromPath[str], staff: NamedDependency[StaffCall]
) -> Response[bytes]:
    await _checked_counter(staff, counter_id)
    try:
        await open_counter(
            staff.engine, staff.company_id, counter_id, staff.principal.staff_id, staff.clock()
        )
    except STAFF_DOMAIN_ERRORS as error:
        raise transition_error(error) from None
    return success(staff.text("staff.counter.opened"), await _counter_body(staff, counter_id))


@post("/counters/{counter_id:str}/close", status_code=200)
async def close_staff_counter(
    counter_id: FromPath[str], staff: NamedDependency[StaffCall]
) -> Response[bytes]:
    await _checked_counter(staff, counter_id)
    try:
        await close_counter(staff.engine, staff.company_id, counter_id, _holder(staff))
    except STAFF_DOMAIN_ERRORS as error:
        raise transition_error(error) from None
    return success(staff.text("staff.counter.closed"), await _counter_body(staff, counter_id))


@put("/counters/{counter_id:str}/services")
async def set_counter_services(
    counter_id: FromPath[str], request: AnyRequest, staff: NamedDependency[StaffCall]
) -> Response[bytes]:
    body = await json_object_body(request)
    service_ids = body.get("serviceIds")
    if service_ids is None:
        raise field_error("serviceIds", "validation.required")
    if not isinstance(service_ids, list) or not all(isinstance(s, str) for s in service_ids):
        raise field_error("serviceIds", "staff.validation.string_list")
    await _checked_counter(staff, counter_id)
    try:
        await choose_services(
            staff.engine, staff.company_id, counter_id, service_ids, _holder(staff)
        )
    except STAFF_DOMAIN_ERRORS as error:
        raise transition_error(error) from None
    return success(staff.text("staff.counter.services_set"), await _counter_body(staff, counter_id))


@post("/counters/{counter_id:str}/call-next", status_code=200)
async def call_next_ticket(
    counter_id: FromPath[str], staff: NamedDependency[StaffCall]
) -> Response[bytes]:
    try:  # the counter's company, branch and holder are checked by the call itself
        view = await call_next_at_counter(
            staff.engine,
            staff.company_id,
            counter_id,
            staff.actor,
            staff.principal.branch_scope,
            staff.clock(),
            staff.service_times,
        )
    except STAFF_DOMAIN_ERRORS as error:
        raise transition_error(error) from None
    if view is None:
        return success(staff.text("staff.call_next.empty"), None)
    ticket = ticket_json(view, staff)
    return success(staff.text("staff.call_next.called", number=ticket["ticketNumber"]), ticket)


def queued_json(ticket: QueuedTicket) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": ticket.id,
        "ticketNumber": ticket.ticket_number,
        "status": ticket.status,
        "type": ticket.type,
        "time": utc_timestamp(ticket.time) if ticket.time else None,
        "queuedAt": utc_timestamp(ticket.queue_at),
        "statusAt": utc_timestamp(ticket.status_at),
        "serviceId": ticket.service_id,
        "customerName": ticket.customer_name,
    }
    if ticket.status == "waiting":
        body["queueSize"] = ticket.queue_size
        body["waitingTime"] = ticket.waiting_time
    else:
        body["counterId"] = ticket.counter_id
    return body


@get("/branches/{branch_id:str}/queue")
async def branch_queue(
    branch_id: FromPath[str], staff: NamedDependency[StaffCall]
) -> Response[bytes]:
    async with read_connection(staff.engine) as connection:
        await company_branch(connection, staff, branch_id)
        queue = await live_queue(
            connection, staff.company_id, branch_id, staff.clock(), staff.service_times
        )
    data = {
        "branchId": branch_id,
        "services": [
            {
                "id": service.id,
                "name": staff.name(service.name),
                "prefix": service.prefix,
                "openCounters": service.open_counters,
                "waitingCount": len(service.waiting),
                "waiting": [queued_json(ticket) for ticket in service.waiting],
            }
            for service in queue.services
        ],
        "counters": [
            {
                **counter_json(counter, staff),
                "current": [
                    queued_json(ticket) for ticket in queue.at_counters.get(counter.id, [])
                ],
            }
            for counter in queue.counters
        ],
    }
    return success(staff.text("staff.queue.fetched"), data)


counter_handlers = [
    list_staff_branches,
    list_branch_counters,
    open_staff_counter,
    close_staff_counter,
    set_counter_services,
    call_next_ticket,
    branch_queue,
]
