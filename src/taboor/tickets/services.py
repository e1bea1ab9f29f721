"""What booking needs to know about a service, in one query, scoped by company."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, bindparam, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.catalog.branches import hours_from_column, zone
from taboor.db import tables as t
from taboor.scheduling.hours import WeeklyHours, is_open_at
from taboor.scheduling.slots import bookable_slot_starts
from taboor.tickets.eta import open_counters_of


@dataclass(frozen=True, slots=True)
class AppointmentRules:
    prefix: str
    slot_minutes: int
    capacity: int
    horizon_days: int
    min_notice_minutes: int
    hours: WeeklyHours


Names = dict[str, str]


@dataclass(frozen=True, slots=True)
class QueueNow:
    """The service's queue as booking found it, for the new ticket's estimate: the
    waiting tickets queued up to that moment (all ahead of a walk-in booked now) and the
    open counters taking the service."""

    waiting: int
    open_counters: int


@dataclass(frozen=True, slots=True)
class BookableService:
    id: str
    group_id: str
    branch_id: str
    zone: ZoneInfo
    prefix: str
    walk_in: bool
    branch_hours: WeeklyHours
    walk_in_hours: WeeklyHours | None
    appointment: AppointmentRules | None
    closures: frozenset[date]
    names: tuple[Names, Names, Names]  # branch, group, service
    avg_service_minutes: int
    queue: QueueNow | None = None

    def open_for_walk_ins(self, now: datetime) -> bool:
        if not is_open_at(now, self.zone, self.branch_hours, self.closures):
            return False
        return self.walk_in_hours is None or is_open_at(
            now, self.zone, self.walk_in_hours, self.closures
        )

    def bookable_starts(self, day: date, now: datetime) -> list[datetime]:
        """The appointment slots of a local day that can be booked at ``now``, capacity
        aside (none for a service without appointments)."""
        rules = self.appointment
        if rules is None:
            return []
        return bookable_slot_starts(
            day,
            self.zone,
            rules.hours,
            self.closures,
            rules.slot_minutes,
            now=now,
            min_notice_minutes=rules.min_notice_minutes,
            horizon_days=rules.horizon_days,
        )

    def is_slot_start(self, start: datetime, now: datetime) -> bool:
        start = start.astimezone(UTC)
        try:
            day = start.astimezone(self.zone).date()
        except OverflowError:  # a local date past year 9999: no slot starts there
            return False
        return start in self.bookable_starts(day, now)


_s, _g, _b, _bc = t.services.c, t.service_groups.c, t.branches.c, t.branch_closures.c
_tk = t.tickets.c
# Built once (statement construction is a measurable share of a booking's CPU).
# The branch's closures from a given day on, as "YYYY-MM-DD,…" in the same row: one
# round trip brings everything booking needs to know.
_CLOSURES_FROM = (
    select(func.aggregate_strings(cast(_bc.day, String), ","))
    .where(_bc.branch_id == _s.branch_id, _bc.day >= bindparam("since", type_=_bc.day.type))
    .scalar_subquery()
)
# With the queue: the waiting tickets queued up to now (one range of the queue index)
# and the open counters taking the service (design.md §2's ``c``).
_WAITING_UP_TO_NOW = (
    select(func.count())
    .where(
        _tk.service_id == _s.id,
        _tk.status == t.WAITING,
        _tk.queue_at <= bindparam("now", type_=_tk.queue_at.type),
    )
    .scalar_subquery()
)


def _bookable_service(*, with_queue: bool) -> Any:
    columns = [
        _s.id,
        _s.group_id,
        _s.branch_id,
        _s.prefix,
        _s.walk_in,
        _s.walk_in_hours,
        _s.appointment_prefix,
        _s.slot_minutes,
        _s.slot_capacity,
        _s.horizon_days,
        _s.min_notice_minutes,
        _s.appointment_hours,
        _s.avg_service_minutes,
        _b.timezone,
        _b.hours,
        _b.name.label("branch_name"),
        _g.name.label("group_name"),
        _s.name.label("service_name"),
        _CLOSURES_FROM.label("closures"),
    ]
    if with_queue:
        columns += [
            _WAITING_UP_TO_NOW.label("waiting"),
            open_counters_of(_s.id).label("open_counters"),
        ]
    return (
        select(*columns)
        .join(t.service_groups, _g.id == _s.group_id)
        .join(t.branches, _b.id == _s.branch_id)
        .where(
            _s.id == bindparam("service_id"),
            _s.company_id == bindparam("company_id"),
            _s.active.is_(True),
            _g.active.is_(True),
            _b.active.is_(True),
        )
    )


_BOOKABLE_SERVICE = _bookable_service(with_queue=False)
_BOOKABLE_SERVICE_AND_QUEUE = _bookable_service(with_queue=True)


async def load_bookable_service(
    connection: AsyncConnection,
    company_id: str,
    service_id: str,
    now: datetime,
    *,
    with_queue: bool = False,
) -> BookableService | None:
    """The active service (in an active group of an active branch) of this company,
    with the branch's closures from yesterday (UTC) on: past ones never matter; and,
    when asked, its queue at ``now`` (in the same round trip)."""
    parameters: dict[str, Any] = {
        "service_id": service_id,
        "company_id": company_id,
        "since": now.date() - timedelta(days=1),
    }
    statement = _BOOKABLE_SERVICE
    if with_queue:
        statement = _BOOKABLE_SERVICE_AND_QUEUE
        parameters["now"] = now
    row = (await connection.execute(statement, parameters)).first()
    if row is None:
        return None
    closures = frozenset(date.fromisoformat(day) for day in (row.closures or "").split(",") if day)
    branch_hours = hours_from_column(row.hours)
    appointment = None
    if row.appointment_prefix is not None:
        appointment = AppointmentRules(
            prefix=row.appointment_prefix,
            slot_minutes=row.slot_minutes,
            capacity=row.slot_capacity,
            horizon_days=row.horizon_days,
            min_notice_minutes=row.min_notice_minutes,
            hours=(
                hours_from_column(row.appointment_hours)
                if row.appointment_hours is not None
                else branch_hours
            ),
        )
    return BookableService(
        id=row.id,
        group_id=row.group_id,
        branch_id=row.branch_id,
        zone=zone(row.timezone),
        prefix=row.prefix,
        walk_in=row.walk_in,
        branch_hours=branch_hours,
        walk_in_hours=hours_from_column(row.walk_in_hours) if row.walk_in_hours else None,
        appointment=appointment,
        closures=closures,
        names=(row.branch_name, row.group_name, row.service_name),
        avg_service_minutes=row.avg_service_minutes,
        queue=QueueNow(int(row.waiting), int(row.open_counters)) if with_queue else None,
    )
