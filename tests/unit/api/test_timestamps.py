"""The contract's timestamp text (spec §1.5: UTC, milliseconds, ``Z``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from taboor.api.external_v1.representations import utc_timestamp


def test_a_local_time_is_written_in_utc_with_milliseconds_truncated() -> None:
    bahrain = timezone(timedelta(hours=3))
    moment = datetime(2026, 6, 23, 14, 8, 41, 999_999, tzinfo=bahrain)
    assert utc_timestamp(moment) == "2026-06-23T11:08:41.999Z"


def test_every_field_is_zero_padded() -> None:
    assert utc_timestamp(datetime(7, 2, 3, 4, 5, 6, 7_000, tzinfo=UTC)) == (
        "0007-02-03T04:05:06.007Z"
    )


@given(st.datetimes(timezones=st.just(UTC), min_value=datetime(1000, 1, 1)))
def test_it_is_isoformat_at_millisecond_precision(moment: datetime) -> None:
    expected = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert utc_timestamp(moment) == expected
