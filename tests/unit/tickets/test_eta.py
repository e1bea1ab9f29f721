"""The waiting-time formula of design.md §2: round(queueSize × m / c), c at least 1."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taboor.tickets.eta import estimate_minutes


@pytest.mark.parametrize(
    ("queue_size", "mean", "counters", "minutes"),
    [
        (0, 5.0, 1, 0),  # first in line: no wait
        (0, 5.0, 0, 0),
        (1, 5.0, 1, 5),
        (2, 5.0, 1, 10),
        (3, 5.0, 2, 8),  # 7.5: halves go to the even neighbour
        (1, 5.0, 2, 2),  # 2.5 → 2
        (3, 5.0, 3, 5),
        (4, 7.5, 3, 10),
        (1, 0.4, 1, 0),  # a very quick service rounds down to nothing
        (10, 6.2, 4, 16),  # 15.5 → 16
    ],
)
def test_estimate(queue_size: int, mean: float, counters: int, minutes: int) -> None:
    assert estimate_minutes(queue_size, mean, counters) == minutes


@pytest.mark.parametrize("counters", [0, -1])
def test_no_open_counter_counts_as_one(counters: int) -> None:
    """With nobody serving, the estimate is as for one counter, never a division by
    zero or a negative wait."""
    assert estimate_minutes(3, 5.0, counters) == estimate_minutes(3, 5.0, 1) == 15


@given(
    queue_size=st.integers(min_value=0, max_value=10_000),
    mean=st.floats(min_value=0, max_value=600, allow_nan=False),
    counters=st.integers(min_value=1, max_value=100),
)
def test_more_counters_never_lengthen_the_wait(queue_size: int, mean: float, counters: int) -> None:
    """Monotone: one more open counter or one fewer person ahead never adds minutes,
    and the estimate is within half a minute of the exact quotient."""
    minutes = estimate_minutes(queue_size, mean, counters)
    assert minutes >= 0
    assert abs(minutes - queue_size * mean / counters) <= 0.5
    assert estimate_minutes(queue_size, mean, counters + 1) <= minutes
    if queue_size:
        assert estimate_minutes(queue_size - 1, mean, counters) <= minutes
