"""Compare-and-swap retries shared by every ticket transition (design.md §3).

A transition reads the ticket, decides, then updates it ``WHERE`` it is still what was
read. Zero rows means another transaction changed it in between: the unit reads again
(in READ COMMITTED the new read sees what the winner committed) and decides again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")
CAS_ATTEMPTS = 5


class LostRaceError(Exception):
    """The compare-and-swap touched no row."""


async def retry_lost_races(
    connection: AsyncConnection,
    attempt: Callable[[AsyncConnection], Awaitable[T]],
    exhausted: Callable[[AsyncConnection], Awaitable[Exception]],
) -> T:
    """Run ``attempt`` until it does not lose a race; after ``CAS_ATTEMPTS`` losses,
    raise what ``exhausted`` says about the ticket as it stands now."""
    for _ in range(CAS_ATTEMPTS):
        try:
            return await attempt(connection)
        except LostRaceError:
            continue
    raise await exhausted(connection)
