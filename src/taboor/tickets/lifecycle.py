"""Cancelling and rescheduling through the External API. Every change is a
compare-and-swap on the ticket's status (design.md §3): 0 rows means someone else got
there first, and the caller learns why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.db import tables as t
from taboor.db.uow import run_in_transaction
from taboor.tickets import transitions
from taboor.tickets.booking import CustomerRef, is_duplicate_active, resolve_customer
from taboor.tickets.cas import LostRaceError, retry_lost_races
from taboor.tickets.errors import (
    BookingRefusedError,
    NotCancellableError,
    TicketFieldError,
    TicketVanishedError,
)
from taboor.tickets.events import Actor
from taboor.tickets.places import free_place, take_place
from taboor.tickets.services import load_bookable_service

tk = t.tickets.c
RESCHEDULABLE = ("upcoming", "waiting")


@dataclass(frozen=True, slots=True)
class _Current:
    status: str
    type: str
    service_id: str
    customer_id: str | None
    time: datetime | None
    queue_at: datetime


async def _current(connection: AsyncConnection, company_id: str, ticket_id: str) -> _Current | None:
    row = (
        await connection.execute(
            select(tk.status, tk.type, tk.service_id, tk.customer_id, tk.time, tk.queue_at).where(
                tk.id == ticket_id, tk.company_id == company_id
            )
        )
    ).first()
    return _Current(*row) if row else None


async def ticket_exists(connection: AsyncConnection, company_id: str, ticket_id: str) -> bool:
    return await _current(connection, company_id, ticket_id) is not None


async def cancel_ticket(
    engine: AsyncEngine, company_id: str, ticket_id: str, actor: Actor, now: datetime
) -> None:
    """The External API's cancel: the one cancel transition, with the contract's
    refusals. The caller has already checked the ticket exists, so one missing now
    vanished in between (spec §1.6)."""
    try:
        await transitions.cancel(engine, company_id, ticket_id, actor, now)
    except transitions.TransitionRefusedError:
        raise NotCancellableError from None
    except TicketFieldError:
        raise TicketVanishedError from None


async def change_time(
    engine: AsyncEngine,
    company_id: str,
    ticket_id: str,
    new_time: datetime,
    customer: CustomerRef,
    now: datetime,
) -> None:
    """Move an appointment: free the old place and take the new one, atomically. The
    status, ``statusAt`` and the ticket number stay as they are."""

    async def attempt(connection: AsyncConnection) -> None:
        current = await _current(connection, company_id, ticket_id)
        if current is None:
            raise TicketFieldError("id", "does_not_exist")
        if current.type != "appointment" or current.time is None:
            raise TicketFieldError("id", "only_appointments")
        if current.status not in RESCHEDULABLE or current.queue_at != current.time:
            # A transferred appointment holds no place any more (transitions.transfer).
            raise TicketFieldError("id", "not_reschedulable")
        try:
            named = await resolve_customer(connection, company_id, customer)
        except TicketFieldError:
            named = None
        if named is None or named[0] != current.customer_id:
            raise TicketFieldError("customerId", "customer_mismatch")
        if new_time <= now:
            raise TicketFieldError("time", "time_past")
        service = await load_bookable_service(connection, company_id, current.service_id, now)
        if service is None or service.appointment is None:
            raise BookingRefusedError("time_unavailable")
        if new_time == current.time:
            return
        if not service.is_slot_start(new_time, now):
            raise BookingRefusedError("time_unavailable")
        try:
            moved = await connection.execute(
                update(t.tickets)
                .where(tk.id == ticket_id, tk.status == current.status, tk.time == current.time)
                .values(
                    time=new_time,
                    queue_at=new_time,
                    service_day=new_time.astimezone(service.zone).date(),
                )
            )
        except IntegrityError as error:
            if is_duplicate_active(error):
                raise BookingRefusedError("duplicate_active") from None
            raise
        if moved.rowcount != 1:
            raise LostRaceError
        if not await take_place(connection, service.id, new_time, service.appointment.capacity):
            raise BookingRefusedError("slot_full")
        await free_place(connection, service.id, current.time)

    async def exhausted(_connection: AsyncConnection) -> Exception:
        return TicketFieldError("id", "not_reschedulable")

    await run_in_transaction(engine, lambda c: retry_lost_races(c, attempt, exhausted))
