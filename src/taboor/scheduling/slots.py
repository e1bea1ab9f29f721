"""The appointment slot grid: pure functions of the date, the zone, the hours and "now".

A local day's hours are cut into slots of ``slot_minutes`` from the start of each
interval; a slot must end by its interval's end. Slots are laid out on the wall clock,
as a clinic's paper diary would be, then turned into UTC instants:

- a wall time that does not exist that day (the hour skipped at spring-forward) is not
  offered;
- a wall time that happens twice (the hour repeated at fall-back) is offered once, at
  its first occurrence (``fold=0``).

So every slot is an existing local time, ascending, and none is offered twice.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from taboor.scheduling.hours import Interval, WeeklyHours


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def wall_time_to_utc(day: date, minute: int, zone: ZoneInfo) -> datetime | None:
    """The instant a wall clock in ``zone`` shows ``day`` + ``minute``, or None when
    that wall time does not exist (a daylight-saving gap)."""
    naive = datetime.combine(day, time(minute // 60, minute % 60))
    instant = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != naive:
        return None
    return instant


def slot_starts_on(
    day: date, zone: ZoneInfo, hours: WeeklyHours, slot_minutes: int
) -> list[datetime]:
    """UTC starts of every slot of a local day, ascending (no closures, no "now")."""
    return list(_slot_starts(day, zone, hours.intervals_on(day), slot_minutes))


# A pure function of its arguments, asked again and again for the same few days of the
# same services (every slots request and appointment booking): remembered. Turning
# each wall time into UTC took a third of a slots request's CPU (profiled, 96 slots).
# 512 days of grids of up to a few hundred instants: a few MB at most.
@lru_cache(maxsize=512)
def _slot_starts(
    day: date, zone: ZoneInfo, intervals: tuple[Interval, ...], slot_minutes: int
) -> tuple[datetime, ...]:
    starts: list[datetime] = []
    for interval_start, interval_end in intervals:
        minute = interval_start
        while minute + slot_minutes <= interval_end:
            instant = wall_time_to_utc(day, minute, zone)
            if instant is not None and (not starts or instant > starts[-1]):
                starts.append(instant)
            minute += slot_minutes
    return tuple(starts)


def last_bookable_day(now: datetime, zone: ZoneInfo, horizon_days: int) -> date:
    """Appointments can be booked up to ``horizon_days`` local days after today."""
    return local_today(now, zone) + timedelta(days=horizon_days)


def bookable_slot_starts(
    day: date,
    zone: ZoneInfo,
    hours: WeeklyHours,
    closures: Collection[date],
    slot_minutes: int,
    *,
    now: datetime,
    min_notice_minutes: int,
    horizon_days: int,
) -> list[datetime]:
    """The slots of ``day`` that can be booked at ``now`` (capacity aside): outside
    closures, inside the horizon, starting after now + the minimum notice."""
    if day in closures or day > last_bookable_day(now, zone, horizon_days):
        return []
    earliest = now + timedelta(minutes=min_notice_minutes)
    return [start for start in slot_starts_on(day, zone, hours, slot_minutes) if start > earliest]


def is_bookable_slot(
    start: datetime,
    zone: ZoneInfo,
    hours: WeeklyHours,
    closures: Collection[date],
    slot_minutes: int,
    *,
    now: datetime,
    min_notice_minutes: int,
    horizon_days: int,
) -> bool:
    """Is ``start`` (aware) exactly the start of a bookable slot?"""
    # Compare in UTC: a zone-local datetime in a repeated (fall-back) hour never equals
    # a datetime of another zone, even for the same instant (PEP 495).
    start = start.astimezone(UTC)
    day = start.astimezone(zone).date()
    return start in bookable_slot_starts(
        day,
        zone,
        hours,
        closures,
        slot_minutes,
        now=now,
        min_notice_minutes=min_notice_minutes,
        horizon_days=horizon_days,
    )
