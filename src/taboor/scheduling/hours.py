"""Weekly opening hours.

A company file writes hours as ``{mon: ["08:00-12:00", "13:00-17:00"], …}``: a missing
day is closed, ``"00:00-24:00"`` is all day. Intervals are half-open ``[start, end)`` in
minutes after local midnight, so "open at 12:00" is false for ``08:00-12:00``.

Everything is evaluated on the branch's local wall clock: on a daylight-saving day the
hour that does not exist simply never comes, and the hour that repeats is open (or
closed) both times, as a person reading the sign on the door would expect.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60

# [0-9], not \d: \d also matches Arabic-Indic and other digits.
_INTERVAL = re.compile(r"^([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})$")

Interval = tuple[int, int]


class HoursError(ValueError):
    """Bad hours; ``problems`` lists (relative path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Open intervals per weekday (0 = Monday), sorted and non-overlapping."""

    days: tuple[tuple[Interval, ...], ...]

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        return self.days[day.weekday()]

    def is_open_at_minute(self, day: date, minute: int) -> bool:
        return any(start <= minute < end for start, end in self.intervals_on(day))

    def to_json(self) -> dict[str, list[list[int]]]:
        """Storage form: minutes, keyed by day name; closed days left out."""
        return {
            name: [[start, end] for start, end in intervals]
            for name, intervals in zip(DAY_NAMES, self.days, strict=True)
            if intervals
        }

    def to_text(self) -> dict[str, list[str]]:
        """The company-file form, for showing hours back to people."""
        return {
            name: [f"{_clock(start)}-{_clock(end)}" for start, end in intervals]
            for name, intervals in zip(DAY_NAMES, self.days, strict=True)
            if intervals
        }

    @classmethod
    def from_json(cls, stored: Mapping[str, Sequence[Sequence[int]]]) -> WeeklyHours:
        return cls(
            tuple(
                tuple((int(start), int(end)) for start, end in stored.get(name, ()))
                for name in DAY_NAMES
            )
        )


ALWAYS_CLOSED = WeeklyHours(((),) * 7)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _parse_interval(text: str) -> Interval:
    match = _INTERVAL.match(text.strip())
    if not match:
        raise ValueError(f'{text!r} is not an interval like "08:00-14:00"')
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m):
        raise ValueError(f"{text!r} is not a valid time of day")
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if end <= start:
        raise ValueError(f"{text!r} ends before it starts (use 00:00-24:00 for all day)")
    return start, end


def parse_weekly_hours(raw: object) -> WeeklyHours:
    """The company-file form to ``WeeklyHours``, or ``HoursError`` listing every problem."""
    if not isinstance(raw, Mapping):
        raise HoursError([("", "must be a mapping of day names (mon … sun) to interval lists")])
    problems: list[tuple[str, str]] = []
    days: list[tuple[Interval, ...]] = []
    for key in raw:
        if key not in DAY_NAMES:
            problems.append((str(key), f"unknown day; use one of {', '.join(DAY_NAMES)}"))
    for name in DAY_NAMES:
        entries = raw.get(name)
        if entries is None:
            days.append(())
            continue
        if not isinstance(entries, list) or not all(isinstance(item, str) for item in entries):
            problems.append((name, 'must be a list of intervals like "08:00-14:00"'))
            days.append(())
            continue
        intervals: list[Interval] = []
        for index, entry in enumerate(entries):
            try:
                intervals.append(_parse_interval(entry))
            except ValueError as error:
                problems.append((f"{name}[{index}]", str(error)))
        intervals.sort()
        for (_, previous_end), (start, _) in itertools.pairwise(intervals):
            if start < previous_end:
                problems.append((name, "intervals overlap"))
                break
        days.append(tuple(intervals))
    if problems:
        raise HoursError(problems)
    return WeeklyHours(tuple(days))


def local_minute(moment: datetime, zone: ZoneInfo) -> tuple[date, int]:
    """The branch-local calendar day and minute of the day of an aware instant."""
    local = moment.astimezone(zone)
    return local.date(), local.hour * 60 + local.minute


def is_open_at(
    moment: datetime,
    zone: ZoneInfo,
    hours: WeeklyHours,
    closures: Collection[date],
) -> bool:
    """Is a place with these hours and closure dates open at ``moment`` (aware)?"""
    day, minute = local_minute(moment, zone)
    return day not in closures and hours.is_open_at_minute(day, minute)
