"""What booking needs to know about a service, in one query, scoped by company."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, bindparam, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.catalog.branches import hours_from_column, zone
from taboor.db import tables as t
from taboor.scheduling.hours import WeeklyHours, is_open_at
from taboor.scheduling.slots import bookable_slot_starts


@dataclass(frozen=True, slots=True)
class AppointmentRules:
    prefix: str
    slot_minutes: int
    capacity: int
    horizon_days: int
    min_notice_minutes: int
    hours: WeeklyHours


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
        return start in self.bookable_starts(start.astimezone(self.zone).date(), now)


_s, _g, _b, _bc = t.services.c, t.service_groups.c, t.branches.c, t.branch_closures.c
# Built once (statement construction is a measurable share of a booking's CPU).
# The branch's closures from a given day on, as "YYYY-MM-DD,…" in the same row: one
# round trip brings everything booking needs to know.
_CLOSURES_FROM = (
    select(func.aggregate_strings(cast(_bc.day, String), ","))
    .where(_bc.branch_id == _s.branch_id, _bc.day >= bindparam("since", type_=_bc.day.type))
    .scalar_subquery()
)
_BOOKABLE_SERVICE = (
    select(
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
        _b.timezone,
        _b.hours,
        _CLOSURES_FROM.label("closures"),
    )
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


async def load_bookable_service(
    connection: AsyncConnection, company_id: str, service_id: str, now: datetime
) -> BookableService | None:
    """The active service (in an active group of an active branch) of this company,
    with the branch's closures from yesterday (UTC) on: past ones never matter."""
    parameters = {
        "service_id": service_id,
        "company_id": company_id,
        "since": now.date() - timedelta(days=1),
    }
    row = (await connection.execute(_BOOKABLE_SERVICE, parameters)).first()
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
    )
