"""Free appointment slots of a service on a local day, with places remaining."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.db import tables as t
from taboor.tickets.services import BookableService

_sp = t.slot_places.c
_PLACES_TAKEN = select(_sp.starts_at, _sp.taken).where(
    _sp.service_id == bindparam("service_id"),
    _sp.starts_at.between(
        bindparam("first", type_=_sp.starts_at.type), bindparam("last", type_=_sp.starts_at.type)
    ),
)


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
    starts = service.bookable_starts(day, now)
    if rules is None or not starts:
        return []
    parameters = {"service_id": service.id, "first": starts[0], "last": starts[-1]}
    taken = dict((await connection.execute(_PLACES_TAKEN, parameters)).all())
    slots = (FreeSlot(start, rules.capacity - taken.get(start, 0)) for start in starts)
    return [slot for slot in slots if slot.remaining >= 1]
