"""Weekly opening hours: parsing, problems by path, and open/closed across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taboor.scheduling.hours import (
    ALWAYS_CLOSED,
    DAY_NAMES,
    HoursError,
    WeeklyHours,
    is_open_at,
    parse_weekly_hours,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def only(day: str, *intervals: tuple[int, int]) -> WeeklyHours:
    days: list[tuple[tuple[int, int], ...]] = [() for _ in DAY_NAMES]
    days[DAY_NAMES.index(day)] = tuple(intervals)
    return WeeklyHours(tuple(days))


def problems_of(raw: object) -> list[tuple[str, str]]:
    with pytest.raises(HoursError) as caught:
        parse_weekly_hours(raw)
    return caught.value.problems


def paths_of(raw: object) -> list[str]:
    return [path for path, _ in problems_of(raw)]


# --- parsing: valid forms -------------------------------------------------------------


def test_empty_mapping_is_closed_all_week() -> None:
    """No days at all means closed every day."""
    assert parse_weekly_hours({}) == ALWAYS_CLOSED


def test_single_interval_becomes_minutes_on_its_weekday() -> None:
    """'08:00-14:00' on sun is minutes 480..840 on weekday 6 and nothing elsewhere."""
    hours = parse_weekly_hours({"sun": ["08:00-14:00"]})
    assert hours == only("sun", (480, 840))
    assert hours.intervals_on(date(2026, 6, 7)) == ((480, 840),)  # a Sunday
    assert hours.intervals_on(date(2026, 6, 8)) == ()  # a Monday


def test_all_day_is_zero_to_1440() -> None:
    """'00:00-24:00' is the whole day, including its last minute."""
    hours = parse_weekly_hours({"mon": ["00:00-24:00"]})
    assert hours == only("mon", (0, 1440))
    monday = date(2026, 6, 8)
    assert hours.is_open_at_minute(monday, 0)
    assert hours.is_open_at_minute(monday, 1439)


def test_several_intervals_are_sorted_by_start() -> None:
    """Intervals written out of order come back sorted."""
    hours = parse_weekly_hours({"thu": ["16:00-19:00", "07:30-12:00", "13:00-14:15"]})
    assert hours.days[3] == ((450, 720), (780, 855), (960, 1140))


def test_touching_intervals_are_not_an_overlap() -> None:
    """'08:00-12:00' and '12:00-13:00' share only a boundary, which is allowed."""
    hours = parse_weekly_hours({"tue": ["12:00-13:00", "08:00-12:00"]})
    assert hours.days[1] == ((480, 720), (720, 780))


def test_null_and_empty_day_are_closed() -> None:
    """A day given as null or [] is closed, the same as a missing day."""
    assert parse_weekly_hours({"mon": None, "tue": []}) == ALWAYS_CLOSED


def test_surrounding_spaces_are_ignored() -> None:
    """' 09:00-10:00 ' parses like '09:00-10:00'."""
    assert parse_weekly_hours({"fri": [" 09:00-10:00 "]}) == only("fri", (540, 600))


def test_intervals_are_half_open() -> None:
    """An interval ending at 12:00 is closed at 12:00 and open at 11:59."""
    hours = parse_weekly_hours({"mon": ["08:00-12:00"]})
    monday = date(2026, 6, 8)
    assert not hours.is_open_at_minute(monday, 479)
    assert hours.is_open_at_minute(monday, 480)
    assert hours.is_open_at_minute(monday, 719)
    assert not hours.is_open_at_minute(monday, 720)


# --- parsing: problems by path ----------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "8:00-12:00",  # one-digit hour
        "08:00 - 12:00",  # spaces inside
        "08:00-12",  # missing minutes
        "0800-1200",  # no colons
        "08.00-12.00",  # wrong separator
        "",  # empty
        "open",  # words
        "08:00-12:00-13:00",  # three times
    ],
)
def test_malformed_interval_reports_its_index(bad: str) -> None:
    """A malformed interval is reported at mon[1], not at the day or the mapping."""
    problems = problems_of({"mon": ["07:00-08:00", bad]})
    assert problems == [("mon[1]", f'{bad!r} is not an interval like "08:00-14:00"')]


@pytest.mark.parametrize(
    "bad",
    [
        "24:00-24:00",  # start hour 24
        "25:00-26:00",  # hour out of range
        "09:60-10:00",  # start minute 60
        "09:00-10:60",  # end minute 60
        "22:00-24:30",  # past midnight
        "23:00-25:00",  # end hour 25
    ],
)
def test_impossible_time_of_day_reports_its_index(bad: str) -> None:
    """Times that do not exist on a clock are reported at their index."""
    assert problems_of({"wed": ["01:00-02:00", "03:00-04:00", bad]}) == [
        ("wed[2]", f"{bad!r} is not a valid time of day")
    ]


@pytest.mark.parametrize("bad", ["12:00-08:00", "10:00-10:00", "00:00-00:00"])
def test_backwards_or_empty_interval_reports_its_index(bad: str) -> None:
    """An interval that ends at or before its start is reported at its index."""
    [(path, message)] = problems_of({"sat": [bad]})
    assert path == "sat[0]"
    assert "ends before it starts" in message


@pytest.mark.parametrize("value", ["08:00-12:00", 8, {"from": "08:00"}, True])
def test_day_that_is_not_a_list_is_reported_at_the_day(value: object) -> None:
    """A day whose value is not a list of strings is reported at the day name."""
    assert paths_of({"sun": value}) == ["sun"]


def test_non_string_entry_is_reported_at_the_day() -> None:
    """A list holding a non-string makes the whole day wrong."""
    assert paths_of({"sun": ["08:00-12:00", 1300]}) == ["sun"]


@pytest.mark.parametrize("value", [["mon"], "mon: 08:00-12:00", None, 42])
def test_not_a_mapping_is_reported_at_the_root(value: object) -> None:
    """Hours that are not a mapping at all are reported with an empty path."""
    assert paths_of(value) == [""]


@pytest.mark.parametrize(
    "intervals",
    [
        ["08:00-12:00", "11:00-13:00"],  # partial
        ["08:00-17:00", "09:00-10:00"],  # contained
        ["13:00-14:00", "08:00-13:30"],  # out of order
        ["09:00-10:00", "09:00-10:00"],  # identical
    ],
)
def test_overlapping_intervals_are_reported_at_the_day(intervals: list[str]) -> None:
    """Overlap is a day-level problem, reported once, whatever the written order."""
    assert problems_of({"thu": intervals}) == [("thu", "intervals overlap")]


@pytest.mark.parametrize("name", ["monday", "Mon", "MON", "mo", "weekday", "7"])
def test_unknown_day_name_is_reported_by_its_key(name: str) -> None:
    """Only mon … sun are day names; anything else is reported under its own key."""
    [(path, message)] = problems_of({name: ["08:00-12:00"], "mon": ["08:00-12:00"]})
    assert path == name
    assert "unknown day" in message


def test_non_string_day_key_is_reported() -> None:
    """A numeric key (YAML 1: …) is an unknown day too."""
    assert paths_of({1: ["08:00-12:00"]}) == ["1"]


def test_every_problem_is_reported_at_once() -> None:
    """One parse reports problems on several days, several indexes and unknown keys."""
    problems = problems_of(
        {
            "mon": ["08:00-12:00", "8-12", "13:00-12:00"],
            "tue": ["08:00-12:00", "10:00-14:00"],
            "wed": "all day",
            "thu": ["25:00-26:00"],
            "fri": ["09:00-17:00"],  # fine
            "funday": ["09:00-10:00"],
        }
    )
    assert sorted(path for path, _ in problems) == sorted(
        ["funday", "mon[1]", "mon[2]", "tue", "wed", "thu[0]"]
    )
    assert ("tue", "intervals overlap") in problems


def test_hours_error_message_lists_every_path() -> None:
    """The exception text names each problem with its path."""
    with pytest.raises(HoursError) as caught:
        parse_weekly_hours({"mon": ["x"], "tue": ["09:00-08:00"]})
    assert str(caught.value).startswith("mon[0]: ")
    assert "; tue[0]: " in str(caught.value)


# --- is_open_at across daylight-saving changes -------------------------------------------


def open_minutes(
    hours: WeeklyHours,
    zone: ZoneInfo,
    start: datetime,
    minutes: int,
    closures: frozenset[date] | set[date] = frozenset(),
) -> list[int]:
    """Which minutes after ``start`` (UTC) are open."""
    return [
        offset
        for offset in range(minutes)
        if is_open_at(start + timedelta(minutes=offset), zone, hours, closures)
    ]


def test_london_spring_forward_hour_never_comes() -> None:
    """On 2026-03-29 London jumps 01:00→02:00: hours of 01:00-02:00 are never open."""
    hours = parse_weekly_hours({"sun": ["01:00-02:00"]})
    assert open_minutes(hours, LONDON, utc("2026-03-28T22:00"), 6 * 60) == []


def test_london_spring_forward_day_is_open_by_local_clock() -> None:
    """After the jump, 09:00 local is 08:00 UTC; before it, 00:30 local is 00:30 UTC."""
    hours = parse_weekly_hours({"sun": ["00:00-01:00", "09:00-10:00"]})
    assert is_open_at(utc("2026-03-29T00:30"), LONDON, hours, ())
    assert not is_open_at(utc("2026-03-29T01:00"), LONDON, hours, ())  # 02:00 BST
    assert not is_open_at(utc("2026-03-29T07:59"), LONDON, hours, ())  # 08:59 BST
    assert is_open_at(utc("2026-03-29T08:00"), LONDON, hours, ())  # 09:00 BST
    assert not is_open_at(utc("2026-03-29T09:00"), LONDON, hours, ())  # 10:00 BST


def test_london_fall_back_hour_is_open_twice() -> None:
    """On 2026-10-25 London repeats 01:00-02:00: those hours are open 120 real minutes."""
    hours = parse_weekly_hours({"sun": ["01:00-02:00"]})
    start = utc("2026-10-24T22:00")
    opened = open_minutes(hours, LONDON, start, 6 * 60)
    # 00:00-01:00 UTC is 01:00-02:00 BST, 01:00-02:00 UTC is 01:00-02:00 GMT.
    assert opened == list(range(120, 240))


def test_london_weekday_hours_follow_summer_time() -> None:
    """09:00 local is 09:00 UTC in winter and 08:00 UTC in summer."""
    hours = parse_weekly_hours({"mon": ["09:00-17:00"]})
    assert not is_open_at(utc("2026-03-23T08:59"), LONDON, hours, ())
    assert is_open_at(utc("2026-03-23T09:00"), LONDON, hours, ())
    assert is_open_at(utc("2026-03-30T08:00"), LONDON, hours, ())
    assert not is_open_at(utc("2026-03-30T16:00"), LONDON, hours, ())  # 17:00 BST
    assert is_open_at(utc("2026-10-26T16:59"), LONDON, hours, ())  # 16:59 GMT


def test_new_york_spring_forward_hour_never_comes() -> None:
    """On 2026-03-08 New York jumps 02:00→03:00: hours of 02:00-03:00 are never open."""
    hours = parse_weekly_hours({"sun": ["02:00-03:00"]})
    assert open_minutes(hours, NEW_YORK, utc("2026-03-08T04:00"), 6 * 60) == []


def test_new_york_fall_back_hour_is_open_twice() -> None:
    """On 2026-11-01 New York repeats 01:00-02:00: open 05:00-07:00 UTC."""
    hours = parse_weekly_hours({"sun": ["01:00-02:00"]})
    opened = open_minutes(hours, NEW_YORK, utc("2026-11-01T03:00"), 6 * 60)
    assert opened == list(range(120, 240))


def test_closure_applies_to_the_local_date_not_the_utc_date() -> None:
    """23:30 UTC on the 24th is already the 25th in London: closed by a 25th closure."""
    hours = parse_weekly_hours({"sat": ["00:00-24:00"], "sun": ["00:00-24:00"]})
    closed = {date(2026, 10, 25)}
    assert is_open_at(utc("2026-10-24T22:30"), LONDON, hours, closed)  # Sat 23:30 BST
    assert not is_open_at(utc("2026-10-24T23:30"), LONDON, hours, closed)  # Sun 00:30 BST
    assert not is_open_at(utc("2026-10-25T01:30"), LONDON, hours, closed)  # repeated hour
    assert is_open_at(utc("2026-10-25T01:30"), LONDON, hours, ())


def test_new_york_closure_covers_the_whole_long_local_day() -> None:
    """A closure on the 25-hour 2026-11-01 lasts from 04:00 UTC to 05:00 UTC next day."""
    hours = parse_weekly_hours({name: ["00:00-24:00"] for name in DAY_NAMES})
    closed = {date(2026, 11, 1)}
    opened = open_minutes(hours, NEW_YORK, utc("2026-11-01T00:00"), 36 * 60, closed)
    assert opened == list(range(0, 4 * 60)) + list(range(29 * 60, 36 * 60))
    assert len(open_minutes(hours, NEW_YORK, utc("2026-11-01T00:00"), 36 * 60)) == 36 * 60
    assert not is_open_at(utc("2026-11-02T04:59"), NEW_YORK, hours, closed)  # 23:59 EST
    assert is_open_at(utc("2026-11-02T05:00"), NEW_YORK, hours, closed)


def test_closure_of_another_day_changes_nothing() -> None:
    """A closure on a different date does not close today."""
    hours = parse_weekly_hours({"mon": ["09:00-17:00"]})
    assert is_open_at(utc("2026-06-08T10:00"), LONDON, hours, {date(2026, 6, 9)})


# --- property: agreement with an independent reference ----------------------------------

ZONES = [
    "UTC",
    "Europe/London",
    "America/New_York",
    "Asia/Bahrain",
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # 30-minute DST
    "America/St_Johns",  # -03:30 with DST
    "Pacific/Apia",  # skipped a whole day in 2011
]

# Each day: sorted distinct cut points; each segment between neighbours is open or not,
# so consecutive open segments give touching intervals like 08:00-09:00, 09:00-10:00.
day_segments = st.lists(
    st.integers(min_value=0, max_value=1440), min_size=0, max_size=8, unique=True
).flatmap(
    lambda cuts: st.tuples(
        st.just(sorted(cuts)),
        st.lists(st.booleans(), min_size=max(len(cuts) - 1, 0), max_size=max(len(cuts) - 1, 0)),
    )
)


def segments_to_intervals(cuts: list[int], flags: list[bool]) -> list[tuple[int, int]]:
    return [(cuts[i], cuts[i + 1]) for i, flag in enumerate(flags) if flag]


def clock_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def weekly_text(draw: st.DrawFn) -> tuple[dict[str, list[str]], list[set[int]]]:
    """Company-file hours in shuffled order, and the open minutes of each weekday."""
    raw: dict[str, list[str]] = {}
    grid: list[set[int]] = []
    for name in DAY_NAMES:
        cuts, flags = draw(day_segments)
        intervals = segments_to_intervals(cuts, flags)
        grid.append({minute for start, end in intervals for minute in range(start, end)})
        if intervals or draw(st.booleans()):
            texts = [f"{clock_text(s)}-{clock_text(e)}" for s, e in intervals]
            raw[name] = draw(st.permutations(texts))
    return raw, grid


def reference_is_open(
    moment: datetime, zone: ZoneInfo, grid: list[set[int]], closures: set[date]
) -> bool:
    # Wall time by way of the POSIX timestamp, a different path from astimezone().
    local = datetime.fromtimestamp(moment.timestamp(), tz=zone)
    if local.date() in closures:
        return False
    return local.hour * 60 + local.minute in grid[local.weekday()]


instants = st.datetimes(
    min_value=datetime(2005, 1, 1),
    max_value=datetime(2040, 12, 31),
    timezones=st.just(UTC),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    hours=weekly_text(),
    zone_name=st.sampled_from(ZONES),
    moment=instants,
    close_local_day=st.booleans(),
    other_closures=st.sets(st.dates(date(2004, 12, 30), date(2041, 1, 2)), max_size=5),
)
def test_is_open_at_agrees_with_reference(
    hours: tuple[dict[str, list[str]], list[set[int]]],
    zone_name: str,
    moment: datetime,
    close_local_day: bool,
    other_closures: set[date],
) -> None:
    """For random hours, zones, instants and closures, is_open_at matches a brute force."""
    raw, grid = hours
    zone = ZoneInfo(zone_name)
    parsed = parse_weekly_hours(raw)
    closures = set(other_closures)
    if close_local_day:
        closures.add(datetime.fromtimestamp(moment.timestamp(), tz=zone).date())
    assert is_open_at(moment, zone, parsed, closures) == reference_is_open(
        moment, zone, grid, closures
    )


@settings(max_examples=300)
@given(hours=weekly_text())
def test_parsed_hours_match_the_written_intervals(
    hours: tuple[dict[str, list[str]], list[set[int]]],
) -> None:
    """Every minute of every weekday is open exactly when a written interval covers it."""
    raw, grid = hours
    parsed = parse_weekly_hours(raw)
    monday = date(2026, 6, 8)
    for weekday in range(7):
        day = monday + timedelta(days=weekday)
        opened = {m for m in range(1440) if parsed.is_open_at_minute(day, m)}
        assert opened == grid[weekday]


@settings(max_examples=300)
@given(hours=weekly_text())
def test_storage_and_text_forms_round_trip(
    hours: tuple[dict[str, list[str]], list[set[int]]],
) -> None:
    """from_json(to_json(h)) == h and parse_weekly_hours(to_text(h)) == h."""
    parsed = parse_weekly_hours(hours[0])
    assert WeeklyHours.from_json(parsed.to_json()) == parsed
    assert parse_weekly_hours(parsed.to_text()) == parsed
    assert set(parsed.to_json()) == {
        name for name, day in zip(DAY_NAMES, parsed.days, strict=True) if day
    }
