"""Domain objects in the contract's JSON shapes (spec §3)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from taboor.customers.service import Customer
from taboor.tickets.views import TicketView


class Namer(Protocol):
    """Who picks a localized name for the caller (an External API or a staff call)."""

    def name(self, names: dict[str, str]) -> str: ...


def utc_timestamp(moment: datetime) -> str:
    """``2026-06-23T11:08:41.000Z``: UTC, milliseconds, ``Z`` (spec §1.5)."""
    # Fields formatted directly: strftime was the largest single cost of a slots answer
    # (96 timestamps; bench/README.md).
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond // 1000:03d}Z"
    )


def customer_json(customer: Customer) -> dict[str, Any]:
    """Absent fields are omitted, not null."""
    body: dict[str, Any] = {"_id": customer.id}
    if customer.external_id is not None:
        body["externalId"] = customer.external_id
    body["companyId"] = customer.company_id
    for key, value in (
        ("name", customer.name),
        ("email", customer.email),
        ("mobile", customer.mobile),
        ("metadata", customer.metadata),
    ):
        if value is not None:
            body[key] = value
    body["createdAt"] = utc_timestamp(customer.created_at)
    body["updatedAt"] = utc_timestamp(customer.updated_at)
    return body


def ticket_json(ticket: TicketView, call: Namer) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": ticket.id,
        "ticketNumber": ticket.ticket_number,
        "status": ticket.status,
        "statusAt": utc_timestamp(ticket.status_at),
        "type": ticket.type,
        "time": utc_timestamp(ticket.time) if ticket.time else None,
        "branch": {"id": ticket.branch[0], "name": call.name(ticket.branch[1])},
        "service": {"id": ticket.service[0], "name": call.name(ticket.service[1])},
        "groupOfService": {"id": ticket.group[0], "name": call.name(ticket.group[1])},
        "customer": (
            {"id": ticket.customer[0], "name": ticket.customer[1]} if ticket.customer else None
        ),
        "bookedAt": utc_timestamp(ticket.booked_at),
    }
    if ticket.status == "waiting":
        body["queueSize"] = ticket.queue_size
        body["waitingTime"] = ticket.waiting_time
    return body
