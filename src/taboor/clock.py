"""The one place that reads the wall clock, so tests can pin "now"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current moment as an aware UTC datetime."""


def system_clock() -> datetime:
    return datetime.now(UTC)


def fixed_clock(moment: datetime) -> Clock:
    """A clock that always says ``moment`` (which must be aware)."""
    if moment.tzinfo is None:
        raise ValueError("fixed_clock needs an aware datetime")
    pinned = moment.astimezone(UTC)
    return lambda: pinned
