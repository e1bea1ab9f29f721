"""Free appointment slots of a service on a local day, with places remaining."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.db import tables as t
from taboor.scheduling.slots import bookable_slot_starts
from taboor.tickets.services import BookableService


@dataclass(frozen=True, slots=True)
class FreeSlot:
    time: datetime
    remaining: int


async def free_slots(
    connection: AsyncConnection, service: BookableService, day: date, now: datetime
) -> list[FreeSlot]:
    """Bookable slots of ``day`` (branch-local) with at least one place left. The grid is
    computed; places taken come from one range query on ``slot_places``."""
    rules = service.appointment
    if rules is None:
        return []
    starts = bookable_slot_starts(
        day,
        service.zone,
        rules.hours,
        service.closures,
        rules.slot_minutes,
        now=now,
        min_notice_minutes=rules.min_notice_minutes,
        horizon_days=rules.horizon_days,
    )
    if not starts:
        return []
    sp = t.slot_places.c
    taken = dict(
        (
            await connection.execute(
                select(sp.starts_at, sp.taken).where(
                    sp.service_id == service.id, sp.starts_at.between(starts[0], starts[-1])
                )
            )
        ).all()
    )
    slots = (FreeSlot(start, rules.capacity - taken.get(start, 0)) for start in starts)
    return [slot for slot in slots if slot.remaining >= 1]
