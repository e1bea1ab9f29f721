"""The appointment slot grid: properties over random hours, zones and dates, hand-checked
daylight-saving days, and the edges of minimum notice and booking horizon.

The reference used by the property tests never calls the module: it walks every UTC
minute around the local day, records the first instant each wall-clock minute of that day
is shown, and lays the grid out from the interval starts by plain arithmetic.
"""

from __future__ import annotations

import functools
import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taboor.scheduling.hours import (
    DAY_NAMES,
    MINUTES_PER_DAY,
    Interval,
    WeeklyHours,
    parse_weekly_hours,
)
from taboor.scheduling.slots import (
    bookable_slot_starts,
    is_bookable_slot,
    last_bookable_day,
    local_today,
    slot_starts_on,
    wall_time_to_utc,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SANTIAGO = ZoneInfo("America/Santiago")
TEHRAN = ZoneInfo("Asia/Tehran")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
BAHRAIN = ZoneInfo("Asia/Bahrain")
KOLKATA = ZoneInfo("Asia/Kolkata")
KATHMANDU = ZoneInfo("Asia/Kathmandu")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")
UTC_ZONE = ZoneInfo("UTC")

ZONE_NAMES = (
    # daylight saving
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "America/Santiago",
    "Asia/Tehran",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    # fixed offsets
    "Asia/Bahrain",
    "Asia/Riyadh",
    "UTC",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
)
ZONES = tuple(ZoneInfo(name) for name in ZONE_NAMES)

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def utcs(*texts: str) -> list[datetime]:
    return [utc(text) for text in texts]


def every_day(*intervals: Interval) -> WeeklyHours:
    return WeeklyHours(tuple(tuple(intervals) for _ in DAY_NAMES))


def wall_minute(moment: datetime, zone: ZoneInfo) -> tuple[date, int]:
    local = moment.astimezone(zone)
    return local.date(), local.hour * 60 + local.minute


# --------------------------------------------------------------------------- reference


@functools.lru_cache(maxsize=4096)
def first_instants(day: date, zone: ZoneInfo) -> dict[int, datetime]:
    """Wall minute of ``day`` in ``zone`` → the first UTC instant the clock shows it.

    Brute force over every UTC minute from 15 h before to 13 h after the UTC day (offsets
    lie within −12 h … +14 h): the offset is read every 15 minutes, and minute by minute
    wherever it changed inside those 15 minutes. A minute missing from the map does not
    exist on the wall clock that day.
    """
    utc_midnight = datetime.combine(day, time(0), tzinfo=UTC)
    shown: dict[int, datetime] = {}

    def offset_minutes(minute: int) -> int:
        moment = utc_midnight + timedelta(minutes=minute)
        offset = moment.astimezone(zone).utcoffset()
        assert offset is not None
        return int(offset.total_seconds()) // 60

    for chunk in range(-15 * 60, (24 + 13) * 60, 15):
        first, last = offset_minutes(chunk), offset_minutes(chunk + 15)
        for minute in range(chunk, chunk + 15):
            offset = first if first == last else offset_minutes(minute)
            wall = minute + offset  # minutes after local midnight of ``day``
            if 0 <= wall < MINUTES_PER_DAY and wall not in shown:
                shown[wall] = utc_midnight + timedelta(minutes=minute)
    return shown


def reference_starts(
    day: date, zone: ZoneInfo, hours: WeeklyHours, slot_minutes: int
) -> list[datetime]:
    shown = first_instants(day, zone)
    starts: list[datetime] = []
    for start, end in hours.days[day.weekday()]:
        for wall in range(start, end - slot_minutes + 1, slot_minutes):
            if wall in shown:
                starts.append(shown[wall])
    return starts


def transition_days(zone: ZoneInfo, first_year: int, last_year: int) -> list[date]:
    """Days around a change of UTC offset (noon to noon), with their neighbours."""
    days: set[date] = set()
    day = date(first_year, 1, 1)
    previous = datetime.combine(day, time(12), tzinfo=zone).utcoffset()
    while day.year <= last_year:
        offset = datetime.combine(day, time(12), tzinfo=zone).utcoffset()
        if offset != previous:
            days.update(day + timedelta(days=shift) for shift in (-2, -1, 0))
        previous = offset
        day += timedelta(days=1)
    return sorted(days)


# Tehran kept daylight saving until 2022: its transitions come from those years.
TRANSITION_DAYS = {zone: transition_days(zone, 2019, 2030) for zone in ZONES}


def test_reference_sees_daylight_saving() -> None:
    """The reference itself: London loses an hour in March and repeats one in October."""
    assert len(first_instants(date(2026, 3, 29), LONDON)) == MINUTES_PER_DAY - 60
    assert len(first_instants(date(2026, 10, 25), LONDON)) == MINUTES_PER_DAY
    assert first_instants(date(2026, 10, 25), LONDON)[60] == utc("2026-10-25T00:00:00")
    assert date(2022, 3, 22) in TRANSITION_DAYS[TEHRAN]
    assert TRANSITION_DAYS[BAHRAIN] == []


# -------------------------------------------------------------------------- strategies

zones = st.sampled_from(ZONES)
slot_lengths = st.one_of(st.sampled_from([5, 15, 20, 30, 45, 60, 90]), st.integers(5, 240))
boundary_minutes = st.one_of(
    st.integers(0, 600),
    st.integers(0, 20).map(lambda n: n * 30),
    st.integers(0, 10).map(lambda n: n * 60),
)


@st.composite
def day_intervals(draw: st.DrawFn) -> tuple[Interval, ...]:
    """Sorted, non-overlapping ``[start, end)`` intervals inside one day (may touch)."""
    pieces = draw(
        st.lists(
            st.tuples(boundary_minutes, st.integers(1, 1440) | boundary_minutes),
            max_size=4,
        )
    )
    intervals: list[Interval] = []
    cursor = 0
    for gap, length in pieces:
        start = cursor + gap
        end = min(start + max(length, 1), MINUTES_PER_DAY)
        if start >= MINUTES_PER_DAY or end <= start:
            break
        intervals.append((start, end))
        cursor = end
    return tuple(intervals)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def weekly_hours(draw: st.DrawFn) -> WeeklyHours:
    days = tuple(draw(day_intervals()) for _ in DAY_NAMES)
    if draw(st.booleans()):
        # Through the company-file text form, listed in a shuffled order.
        text = {
            name: draw(st.permutations([f"{_clock(s)}-{_clock(e)}" for s, e in intervals]))
            for name, intervals in zip(DAY_NAMES, days, strict=True)
            if intervals
        }
        hours = parse_weekly_hours(text)
        assert hours.days == days
        return hours
    return WeeklyHours(days)


@st.composite
def zone_and_day(draw: st.DrawFn) -> tuple[ZoneInfo, date]:
    zone = draw(zones)
    near_change = TRANSITION_DAYS[zone]
    pick_a_change = draw(st.booleans())
    if near_change and pick_a_change:
        return zone, draw(st.sampled_from(near_change))
    return zone, draw(st.dates(date(2024, 1, 1), date(2030, 12, 31)))


@st.composite
def grid_case(draw: st.DrawFn) -> tuple[date, ZoneInfo, WeeklyHours, int]:
    zone, day = draw(zone_and_day())
    hours = draw(weekly_hours())
    if not hours.days[day.weekday()] and draw(st.booleans()):
        # Mostly look at an open day.
        days = list(hours.days)
        days[day.weekday()] = draw(day_intervals().filter(bool))
        hours = WeeklyHours(tuple(days))
    return day, zone, hours, draw(slot_lengths)


@st.composite
def booking_case(draw: st.DrawFn) -> dict[str, object]:
    day, zone, hours, slot_minutes = draw(grid_case())
    midnight = datetime.combine(day, time(0), tzinfo=UTC)
    now = midnight + timedelta(
        seconds=draw(st.integers(-4 * 86400, 2 * 86400)),
        microseconds=draw(st.sampled_from([0, 0, 1, 999_999])),
    )
    closures = draw(
        st.frozensets(st.integers(-2, 2).map(lambda shift: day + timedelta(days=shift)))
    )
    return {
        "day": day,
        "zone": zone,
        "hours": hours,
        "slot_minutes": slot_minutes,
        "closures": closures,
        "now": now,
        "min_notice_minutes": draw(st.sampled_from([0, 1, 30, 60, 1440]) | st.integers(0, 4000)),
        "horizon_days": draw(st.integers(0, 6)),
    }


def _bookable(case: dict[str, object], day: date | None = None) -> list[datetime]:
    return bookable_slot_starts(
        day or case["day"],  # type: ignore[arg-type]
        case["zone"],  # type: ignore[arg-type]
        case["hours"],  # type: ignore[arg-type]
        case["closures"],  # type: ignore[arg-type]
        case["slot_minutes"],  # type: ignore[arg-type]
        now=case["now"],  # type: ignore[arg-type]
        min_notice_minutes=case["min_notice_minutes"],  # type: ignore[arg-type]
        horizon_days=case["horizon_days"],  # type: ignore[arg-type]
    )


def _is_bookable(case: dict[str, object], start: datetime) -> bool:
    return is_bookable_slot(
        start,
        case["zone"],  # type: ignore[arg-type]
        case["hours"],  # type: ignore[arg-type]
        case["closures"],  # type: ignore[arg-type]
        case["slot_minutes"],  # type: ignore[arg-type]
        now=case["now"],  # type: ignore[arg-type]
        min_notice_minutes=case["min_notice_minutes"],  # type: ignore[arg-type]
        horizon_days=case["horizon_days"],  # type: ignore[arg-type]
    )


def _interval_of(wall: int, intervals: tuple[Interval, ...], slot_minutes: int) -> Interval:
    matches = [
        (start, end)
        for start, end in intervals
        if start <= wall and wall + slot_minutes <= end and (wall - start) % slot_minutes == 0
    ]
    assert len(matches) == 1, (wall, intervals, slot_minutes)
    return matches[0]


# ---------------------------------------------------------------------- property tests


@PROPERTY_SETTINGS
@given(grid_case())
def test_starts_are_strictly_ascending_aware_utc(
    case: tuple[date, ZoneInfo, WeeklyHours, int],
) -> None:
    day, zone, hours, slot_minutes = case
    starts = slot_starts_on(day, zone, hours, slot_minutes)
    for start in starts:
        assert start.tzinfo is not None
        assert start.utcoffset() == timedelta(0)
        assert start.second == 0 and start.microsecond == 0
    assert all(a < b for a, b in itertools.pairwise(starts))
    assert len(set(starts)) == len(starts)


@PROPERTY_SETTINGS
@given(grid_case())
def test_every_start_is_on_the_day_inside_an_interval_on_the_grid(
    case: tuple[date, ZoneInfo, WeeklyHours, int],
) -> None:
    day, zone, hours, slot_minutes = case
    intervals = hours.intervals_on(day)
    for start in slot_starts_on(day, zone, hours, slot_minutes):
        local_day, wall = wall_minute(start, zone)
        assert local_day == day
        interval_start, interval_end = _interval_of(wall, intervals, slot_minutes)
        assert wall + slot_minutes <= interval_end
        assert (wall - interval_start) % slot_minutes == 0


@PROPERTY_SETTINGS
@given(grid_case())
def test_every_start_is_an_existing_local_time_at_its_first_occurrence(
    case: tuple[date, ZoneInfo, WeeklyHours, int],
) -> None:
    day, zone, hours, slot_minutes = case
    for start in slot_starts_on(day, zone, hours, slot_minutes):
        local = start.astimezone(zone)
        naive = local.replace(tzinfo=None)
        # UTC → local → UTC gives the same instant back …
        assert naive.replace(tzinfo=zone, fold=local.fold).astimezone(UTC) == start
        # … and it is the first time the wall clock shows that minute.
        assert local.fold == 0
        assert naive.replace(tzinfo=zone, fold=0).astimezone(UTC) == start
        assert wall_time_to_utc(day, local.hour * 60 + local.minute, zone) == start


@PROPERTY_SETTINGS
@given(grid_case())
def test_slots_never_overlap_on_the_wall_clock(
    case: tuple[date, ZoneInfo, WeeklyHours, int],
) -> None:
    day, zone, hours, slot_minutes = case
    shown = first_instants(day, zone)
    intervals = hours.intervals_on(day)
    walls = [wall_minute(s, zone)[1] for s in slot_starts_on(day, zone, hours, slot_minutes)]
    for earlier, later in itertools.pairwise(walls):
        assert later >= earlier + slot_minutes
        if _interval_of(earlier, intervals, slot_minutes) == _interval_of(
            later, intervals, slot_minutes
        ):
            gap = later - earlier
            assert gap % slot_minutes == 0
            # More than one slot apart only across wall times that do not exist.
            skipped = range(earlier + slot_minutes, later, slot_minutes)
            assert all(wall not in shown for wall in skipped), (earlier, later)


@PROPERTY_SETTINGS
@given(grid_case())
def test_grid_is_complete_against_a_brute_force_reference(
    case: tuple[date, ZoneInfo, WeeklyHours, int],
) -> None:
    day, zone, hours, slot_minutes = case
    starts = slot_starts_on(day, zone, hours, slot_minutes)
    expected = reference_starts(day, zone, hours, slot_minutes)
    assert len(starts) == len(expected)
    assert starts == expected


@PROPERTY_SETTINGS
@given(booking_case())
def test_bookable_starts_are_the_grid_after_notice_inside_horizon_outside_closures(
    case: dict[str, object],
) -> None:
    day: date = case["day"]  # type: ignore[assignment]
    zone: ZoneInfo = case["zone"]  # type: ignore[assignment]
    now: datetime = case["now"]  # type: ignore[assignment]
    grid = slot_starts_on(day, zone, case["hours"], case["slot_minutes"])  # type: ignore[arg-type]
    bookable = _bookable(case)

    assert set(bookable) <= set(grid)
    assert bookable == [start for start in grid if start in set(bookable)]  # order kept

    today_there = now.astimezone(zone).date()
    last_day = today_there + timedelta(days=case["horizon_days"])  # type: ignore[arg-type]
    assert last_bookable_day(now, zone, case["horizon_days"]) == last_day  # type: ignore[arg-type]
    if day in case["closures"] or day > last_day:  # type: ignore[operator]
        assert bookable == []
    else:
        earliest = now + timedelta(minutes=case["min_notice_minutes"])  # type: ignore[arg-type]
        assert bookable == [start for start in grid if start > earliest]


@PROPERTY_SETTINGS
@given(booking_case())
def test_is_bookable_slot_agrees_with_the_bookable_list(case: dict[str, object]) -> None:
    day: date = case["day"]  # type: ignore[assignment]
    zone: ZoneInfo = case["zone"]  # type: ignore[assignment]
    grid = slot_starts_on(day, zone, case["hours"], case["slot_minutes"])  # type: ignore[arg-type]
    bookable = _bookable(case)
    around = {
        start for shift in (-1, 0, 1) for start in _bookable(case, day + timedelta(days=shift))
    }

    def sample(starts: list[datetime]) -> list[datetime]:
        # is_bookable_slot rebuilds the day's grid on every call: probe a spread of starts.
        return starts[:: max(1, len(starts) // 6)] + starts[-1:]

    for start in sample(bookable):
        assert _is_bookable(case, start)
        for nudge in (timedelta(minutes=-1), timedelta(minutes=1)):
            assert (start + nudge) not in around
            assert not _is_bookable(case, start + nudge)
        assert not _is_bookable(case, start + timedelta(seconds=1))
    for start in sample([start for start in grid if start not in bookable]):
        assert not _is_bookable(case, start)


# -------------------------------------------------------------- daylight-saving examples

SUNDAY_NIGHT = parse_weekly_hours({"sun": ["00:00-04:00"]})


def test_london_spring_forward_skips_the_missing_hour() -> None:
    starts = slot_starts_on(date(2026, 3, 29), LONDON, SUNDAY_NIGHT, 30)
    assert starts == utcs(
        "2026-03-29T00:00",  # 00:00 GMT
        "2026-03-29T00:30",  # 00:30 GMT
        "2026-03-29T01:00",  # 02:00 BST
        "2026-03-29T01:30",  # 02:30 BST
        "2026-03-29T02:00",  # 03:00 BST
        "2026-03-29T02:30",  # 03:30 BST
    )
    walls = [wall_minute(s, LONDON)[1] for s in starts]
    assert walls == [0, 30, 120, 150, 180, 210]


def test_london_fall_back_offers_the_repeated_hour_once() -> None:
    starts = slot_starts_on(date(2026, 10, 25), LONDON, SUNDAY_NIGHT, 30)
    assert starts == utcs(
        "2026-10-24T23:00",  # 00:00 BST
        "2026-10-24T23:30",  # 00:30 BST
        "2026-10-25T00:00",  # 01:00 BST (first of two)
        "2026-10-25T00:30",  # 01:30 BST (first of two)
        "2026-10-25T02:00",  # 02:00 GMT
        "2026-10-25T02:30",
        "2026-10-25T03:00",
        "2026-10-25T03:30",
    )
    assert utc("2026-10-25T01:00") not in starts  # 01:00 GMT, the second 01:00
    assert utc("2026-10-25T01:30") not in starts


def test_new_york_spring_forward() -> None:
    starts = slot_starts_on(date(2026, 3, 8), NEW_YORK, SUNDAY_NIGHT, 30)
    assert starts == utcs(
        "2026-03-08T05:00",  # 00:00 EST
        "2026-03-08T05:30",
        "2026-03-08T06:00",  # 01:00 EST
        "2026-03-08T06:30",  # 01:30 EST
        "2026-03-08T07:00",  # 03:00 EDT (02:00 and 02:30 do not exist)
        "2026-03-08T07:30",
    )


def test_new_york_fall_back() -> None:
    starts = slot_starts_on(date(2026, 11, 1), NEW_YORK, SUNDAY_NIGHT, 30)
    assert starts == utcs(
        "2026-11-01T04:00",  # 00:00 EDT
        "2026-11-01T04:30",
        "2026-11-01T05:00",  # 01:00 EDT (first of two)
        "2026-11-01T05:30",  # 01:30 EDT (first of two)
        "2026-11-01T07:00",  # 02:00 EST
        "2026-11-01T07:30",
        "2026-11-01T08:00",
        "2026-11-01T08:30",
    )


def test_santiago_midnight_gap_and_late_evening_repeat() -> None:
    # 2026-09-06: Sunday's clock goes from 00:00 straight to 01:00.
    sunday = parse_weekly_hours({"sun": ["00:00-03:00"]})
    assert slot_starts_on(date(2026, 9, 6), SANTIAGO, sunday, 30) == utcs(
        "2026-09-06T04:00",  # 01:00 −03
        "2026-09-06T04:30",
        "2026-09-06T05:00",
        "2026-09-06T05:30",
    )
    # 2026-04-04: Saturday 23:00–24:00 happens twice (−03, then −04).
    saturday = parse_weekly_hours({"sat": ["22:00-24:00"]})
    assert slot_starts_on(date(2026, 4, 4), SANTIAGO, saturday, 30) == utcs(
        "2026-04-05T01:00",  # 22:00 −03
        "2026-04-05T01:30",
        "2026-04-05T02:00",  # 23:00 −03 (first of two)
        "2026-04-05T02:30",
    )


def test_tehran_historic_midnight_transitions() -> None:
    # 2022-03-22 (Tuesday): 00:00–01:00 did not exist (+03:30 → +04:30).
    tuesday = parse_weekly_hours({"tue": ["00:00-02:00"]})
    assert slot_starts_on(date(2022, 3, 22), TEHRAN, tuesday, 30) == utcs(
        "2022-03-21T20:30",  # 01:00 +04:30
        "2022-03-21T21:00",
    )
    # 2022-09-21 (Wednesday): 23:00–24:00 happened twice.
    wednesday = parse_weekly_hours({"wed": ["22:00-24:00"]})
    assert slot_starts_on(date(2022, 9, 21), TEHRAN, wednesday, 60) == utcs(
        "2022-09-21T17:30",  # 22:00 +04:30
        "2022-09-21T18:30",  # 23:00 +04:30 (first of two)
    )


def test_lord_howe_half_hour_shift() -> None:
    sunday = parse_weekly_hours({"sun": ["01:00-03:30"]})
    # 2026-10-04: 02:00 → 02:30 (+10:30 → +11).
    assert slot_starts_on(date(2026, 10, 4), LORD_HOWE, sunday, 30) == utcs(
        "2026-10-03T14:30",  # 01:00 +10:30
        "2026-10-03T15:00",  # 01:30 +10:30
        "2026-10-03T15:30",  # 02:30 +11
        "2026-10-03T16:00",  # 03:00 +11
    )
    # 2026-04-05: 02:00 → 01:30 (+11 → +10:30); 01:30–02:00 repeats.
    assert slot_starts_on(date(2026, 4, 5), LORD_HOWE, sunday, 30) == utcs(
        "2026-04-04T14:00",  # 01:00 +11
        "2026-04-04T14:30",  # 01:30 +11 (first of two)
        "2026-04-04T15:30",  # 02:00 +10:30
        "2026-04-04T16:00",
        "2026-04-04T16:30",
    )


def test_slot_length_not_dividing_the_interval_drops_the_partial_slot() -> None:
    hours = parse_weekly_hours({"mon": ["08:00-12:00"]})  # 240 minutes, 45-minute slots
    assert slot_starts_on(date(2026, 6, 15), BAHRAIN, hours, 45) == utcs(
        "2026-06-15T05:00",  # 08:00 +03
        "2026-06-15T05:45",
        "2026-06-15T06:30",
        "2026-06-15T07:15",
        "2026-06-15T08:00",  # 11:00, ends 11:45; 11:45 would end 12:30
    )
    # A slot ending exactly at the interval end is offered.
    assert slot_starts_on(date(2026, 6, 15), BAHRAIN, hours, 60)[-1] == utc("2026-06-15T08:00")
    # A slot longer than the interval: nothing.
    assert slot_starts_on(date(2026, 6, 15), BAHRAIN, hours, 241) == []


def test_each_interval_restarts_the_grid() -> None:
    hours = parse_weekly_hours({"mon": ["13:10-14:00", "08:00-09:00"]})
    assert slot_starts_on(date(2026, 6, 15), KOLKATA, hours, 25) == utcs(
        "2026-06-15T02:30",  # 08:00 +05:30
        "2026-06-15T02:55",  # 08:25 (08:50 would end 09:15)
        "2026-06-15T07:40",  # 13:10
        "2026-06-15T08:05",  # 13:35
    )


def test_quarter_hour_offset_zone() -> None:
    hours = parse_weekly_hours({"mon": ["09:00-10:00"]})
    assert slot_starts_on(date(2026, 6, 15), KATHMANDU, hours, 20) == utcs(
        "2026-06-15T03:15",  # 09:00 +05:45
        "2026-06-15T03:35",
        "2026-06-15T03:55",
    )


def test_closed_weekday_has_no_slots() -> None:
    hours = parse_weekly_hours({"mon": ["08:00-12:00"]})
    assert slot_starts_on(date(2026, 6, 16), LONDON, hours, 30) == []  # a Tuesday


@pytest.mark.parametrize(
    ("zone", "day", "count"),
    [
        (LONDON, date(2026, 6, 15), 24),
        (LONDON, date(2026, 3, 29), 23),
        (LONDON, date(2026, 10, 25), 24),
        (NEW_YORK, date(2026, 3, 8), 23),
        (NEW_YORK, date(2026, 11, 1), 24),
        (SANTIAGO, date(2026, 9, 6), 23),
        (SANTIAGO, date(2026, 4, 4), 24),
        (UTC_ZONE, date(2026, 3, 29), 24),
    ],
)
def test_all_day_hours_hourly_slots(zone: ZoneInfo, day: date, count: int) -> None:
    starts = slot_starts_on(
        day, zone, parse_weekly_hours({n: ["00:00-24:00"] for n in DAY_NAMES}), 60
    )
    assert len(starts) == count
    assert all(a < b for a, b in itertools.pairwise(starts))
    walls = [wall_minute(s, zone) for s in starts]
    assert len(set(walls)) == count  # the repeated hour is offered once
    assert all(local_day == day for local_day, _ in walls)


def test_all_day_london_fall_back_hours_in_utc() -> None:
    hours = every_day((0, MINUTES_PER_DAY))
    starts = slot_starts_on(date(2026, 10, 25), LONDON, hours, 60)
    assert starts[:3] == utcs("2026-10-24T23:00", "2026-10-25T00:00", "2026-10-25T02:00")
    assert starts[-1] == utc("2026-10-25T23:00")


def test_wall_time_to_utc() -> None:
    assert wall_time_to_utc(date(2026, 3, 29), 90, LONDON) is None  # 01:30 does not exist
    assert wall_time_to_utc(date(2026, 3, 29), 120, LONDON) == utc("2026-03-29T01:00")
    assert wall_time_to_utc(date(2026, 10, 25), 90, LONDON) == utc("2026-10-25T00:30")
    assert wall_time_to_utc(date(2026, 9, 6), 0, SANTIAGO) is None
    assert wall_time_to_utc(date(2026, 6, 15), 0, KIRITIMATI) == utc("2026-06-14T10:00")


# ----------------------------------------------------------------- notice and horizon

ALL_DAY = every_day((0, MINUTES_PER_DAY))


def bookable(
    day: date,
    zone: ZoneInfo,
    now: datetime,
    *,
    notice: int = 0,
    horizon: int = 30,
    slot_minutes: int = 60,
    closures: frozenset[date] = frozenset(),
    hours: WeeklyHours = ALL_DAY,
) -> list[datetime]:
    return bookable_slot_starts(
        day,
        zone,
        hours,
        closures,
        slot_minutes,
        now=now,
        min_notice_minutes=notice,
        horizon_days=horizon,
    )


def bookable_at(
    start: datetime,
    zone: ZoneInfo,
    now: datetime,
    *,
    notice: int = 0,
    horizon: int = 30,
    slot_minutes: int = 60,
    closures: frozenset[date] = frozenset(),
    hours: WeeklyHours = ALL_DAY,
) -> bool:
    return is_bookable_slot(
        start,
        zone,
        hours,
        closures,
        slot_minutes,
        now=now,
        min_notice_minutes=notice,
        horizon_days=horizon,
    )


def test_slot_exactly_at_now_plus_notice_is_not_bookable() -> None:
    day = date(2026, 6, 15)
    now = utc("2026-06-15T08:00")
    starts = bookable(day, UTC_ZONE, now, notice=60)
    assert starts[0] == utc("2026-06-15T10:00")
    assert not bookable_at(utc("2026-06-15T09:00"), UTC_ZONE, now, notice=60)
    assert bookable_at(utc("2026-06-15T10:00"), UTC_ZONE, now, notice=60)


def test_slot_a_minute_past_now_plus_notice_is_bookable() -> None:
    day = date(2026, 6, 15)
    now = utc("2026-06-15T07:59")
    assert bookable(day, UTC_ZONE, now, notice=60)[0] == utc("2026-06-15T09:00")
    assert bookable_at(utc("2026-06-15T09:00"), UTC_ZONE, now, notice=60)
    # One-minute slots: 09:00 is now + 60 (out), 09:01 is now + 61 (in).
    now = utc("2026-06-15T08:00")
    assert bookable(day, UTC_ZONE, now, notice=60, slot_minutes=1)[0] == utc("2026-06-15T09:01")
    # Sub-minute "now": a microsecond short of the boundary still lets 09:00 in.
    now = utc("2026-06-15T07:59:59.999999")
    assert bookable(day, UTC_ZONE, now, notice=60)[0] == utc("2026-06-15T09:00")


def test_zero_notice_still_excludes_a_slot_starting_now() -> None:
    now = utc("2026-06-15T08:00")
    assert bookable(date(2026, 6, 15), UTC_ZONE, now)[0] == utc("2026-06-15T09:00")
    assert not bookable_at(now, UTC_ZONE, now)


def test_notice_longer_than_the_day_empties_it() -> None:
    now = utc("2026-06-15T00:30")
    assert bookable(date(2026, 6, 15), UTC_ZONE, now, notice=1440) == []
    assert bookable(date(2026, 6, 16), UTC_ZONE, now, notice=1440)[0] == utc("2026-06-16T01:00")


def test_past_days_offer_nothing() -> None:
    assert bookable(date(2026, 6, 14), UTC_ZONE, utc("2026-06-15T08:00")) == []


def test_closure_dates_offer_nothing() -> None:
    now = utc("2026-06-10T08:00")
    closed = frozenset({date(2026, 6, 15)})
    assert bookable(date(2026, 6, 15), BAHRAIN, now, closures=closed) == []
    assert len(bookable(date(2026, 6, 16), BAHRAIN, now, closures=closed)) == 24
    assert not bookable_at(utc("2026-06-15T09:00"), BAHRAIN, now, closures=closed)


def test_horizon_zero_is_today_only() -> None:
    now = utc("2026-06-15T08:00")
    assert last_bookable_day(now, UTC_ZONE, 0) == date(2026, 6, 15)
    assert len(bookable(date(2026, 6, 15), UTC_ZONE, now, horizon=0)) == 15  # 09:00 … 23:00
    assert bookable(date(2026, 6, 16), UTC_ZONE, now, horizon=0) == []


def test_horizon_n_makes_today_plus_n_the_last_day() -> None:
    now = utc("2026-06-15T08:00")
    assert last_bookable_day(now, UTC_ZONE, 3) == date(2026, 6, 18)
    assert len(bookable(date(2026, 6, 18), UTC_ZONE, now, horizon=3)) == 24
    assert bookable(date(2026, 6, 19), UTC_ZONE, now, horizon=3) == []
    assert bookable_at(utc("2026-06-18T23:00"), UTC_ZONE, now, horizon=3)
    assert not bookable_at(utc("2026-06-19T00:00"), UTC_ZONE, now, horizon=3)


def test_horizon_counts_local_days_east_of_utc() -> None:
    # Kiritimati is +14: at 10:30 UTC on the 15th it is 00:30 on the 16th there.
    now = utc("2026-06-15T10:30")
    assert local_today(now, KIRITIMATI) == date(2026, 6, 16)
    assert last_bookable_day(now, KIRITIMATI, 0) == date(2026, 6, 16)
    assert last_bookable_day(now, KIRITIMATI, 2) == date(2026, 6, 18)
    today = bookable(date(2026, 6, 16), KIRITIMATI, now, horizon=0)
    assert today[0] == utc("2026-06-15T11:00")  # 01:00 local
    assert len(today) == 23
    assert bookable(date(2026, 6, 17), KIRITIMATI, now, horizon=0) == []
    assert bookable(date(2026, 6, 15), KIRITIMATI, now, horizon=0) == []  # yesterday there
    last = bookable(date(2026, 6, 18), KIRITIMATI, now, horizon=2)
    assert len(last) == 24
    assert last[-1] == utc("2026-06-18T09:00")  # 23:00 on the 18th local
    assert bookable(date(2026, 6, 19), KIRITIMATI, now, horizon=2) == []


def test_horizon_rolls_over_at_local_midnight_east_of_utc() -> None:
    before = utc("2026-06-15T09:59")  # 23:59 on the 15th in Kiritimati
    after = utc("2026-06-15T10:00")  # 00:00 on the 16th
    assert bookable(date(2026, 6, 16), KIRITIMATI, before, horizon=0) == []
    assert not bookable_at(utc("2026-06-15T11:00"), KIRITIMATI, before, horizon=0)
    assert len(bookable(date(2026, 6, 16), KIRITIMATI, after, horizon=0)) == 23
    assert bookable_at(utc("2026-06-15T11:00"), KIRITIMATI, after, horizon=0)


def test_horizon_counts_local_days_west_of_utc() -> None:
    # Pago Pago is −11: at 10:30 UTC on the 15th it is 23:30 on the 14th there.
    now = utc("2026-06-15T10:30")
    assert local_today(now, PAGO_PAGO) == date(2026, 6, 14)
    assert last_bookable_day(now, PAGO_PAGO, 0) == date(2026, 6, 14)
    assert bookable(date(2026, 6, 15), PAGO_PAGO, now, horizon=0) == []
    assert not bookable_at(utc("2026-06-15T12:00"), PAGO_PAGO, now, horizon=0)
    assert bookable(date(2026, 6, 14), PAGO_PAGO, now, horizon=0) == []  # 23:00 has passed
    tomorrow = bookable(date(2026, 6, 15), PAGO_PAGO, now, horizon=1)
    assert len(tomorrow) == 24
    assert tomorrow[0] == utc("2026-06-15T11:00")  # 00:00 on the 15th local
    # Half an hour later the 15th is today there.
    later = utc("2026-06-15T11:00")
    assert last_bookable_day(later, PAGO_PAGO, 0) == date(2026, 6, 15)
    assert len(bookable(date(2026, 6, 15), PAGO_PAGO, later, horizon=0)) == 23


# ------------------------------------------------------------------ is_bookable_slot


def test_is_bookable_slot_rejects_the_second_occurrence_and_off_grid_times() -> None:
    now = utc("2026-10-20T00:00")
    day_hours = SUNDAY_NIGHT
    for start in slot_starts_on(date(2026, 10, 25), LONDON, day_hours, 30):
        assert bookable_at(start, LONDON, now, slot_minutes=30, hours=day_hours)
    # 01:00 GMT is the second 01:00 that morning: not a slot.
    assert not bookable_at(utc("2026-10-25T01:00"), LONDON, now, slot_minutes=30, hours=day_hours)
    assert not bookable_at(utc("2026-10-25T01:30"), LONDON, now, slot_minutes=30, hours=day_hours)
    assert not bookable_at(utc("2026-10-25T00:15"), LONDON, now, slot_minutes=30, hours=day_hours)
    assert not bookable_at(utc("2026-10-25T04:00"), LONDON, now, slot_minutes=30, hours=day_hours)


def test_is_bookable_slot_accepts_the_utc_instant_in_any_representation() -> None:
    now = utc("2026-06-10T00:00")
    start = utc("2026-06-15T05:00")  # 08:00 in Bahrain
    assert bookable_at(start, BAHRAIN, now)
    assert bookable_at(start.astimezone(BAHRAIN), BAHRAIN, now)
    assert bookable_at(start.astimezone(KOLKATA), BAHRAIN, now)


def test_is_bookable_slot_accepts_a_zone_local_start_in_the_repeated_hour() -> None:
    now = utc("2026-10-20T00:00")
    local_start = datetime(2026, 10, 25, 1, 0, tzinfo=LONDON)  # fold=0: 01:00 BST
    assert local_start.astimezone(UTC) == utc("2026-10-25T00:00")
    assert utc("2026-10-25T00:00") in slot_starts_on(date(2026, 10, 25), LONDON, SUNDAY_NIGHT, 30)
    assert bookable_at(local_start, LONDON, now, slot_minutes=30, hours=SUNDAY_NIGHT)
