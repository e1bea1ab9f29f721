"""Reading an id-ordered log whose ids become visible out of order.

On PostgreSQL ``ticket_events.id`` comes from a sequence when a row is inserted, but
rows become visible when their transaction commits: event 11 may be visible while event
10 is still in flight. A tail that jumped to 11 would never send 10 (a gap), and a
client that resumed from 11 would never get it either. So the cursor only moves over a
*settled* prefix: a missing id (a hole) is waited for until it is either visible or
known never to come (its transaction rolled back, or the row was deleted).

A hole is known to be settled once every transaction that was in flight when the hole
was seen has finished: the hole's id was drawn before an id we could already see, so
its transaction had started (and, having written rows, had a transaction id) by then.
PostgreSQL lists the transaction ids in flight in ``pg_stat_activity.backend_xid``;
only those of our database count (a cluster's other databases may run long
transactions that have nothing to do with us). A hole older than
``HOLE_TIMEOUT_SECONDS`` is skipped anyway (a safety net, logged). On SQLite writers
run one at a time and an id is visible as soon as it exists, so a hole is always
settled at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

HOLE_TIMEOUT_SECONDS = 10.0


class HasId(Protocol):
    @property
    def id(self) -> int: ...


Row = TypeVar("Row", bound=HasId)


@dataclass(frozen=True, slots=True)
class HoleWatch:
    """What we knew when a hole below ``covers`` was first seen: the transactions then
    in flight (one of them drew the hole's id) and when."""

    covers: int
    in_flight: frozenset[int]
    since: float

    def settled_by(self, in_flight_now: frozenset[int] | None, monotonic: float) -> bool:
        if monotonic - self.since >= HOLE_TIMEOUT_SECONDS:
            return True
        return in_flight_now is not None and not (self.in_flight & in_flight_now)


def settled_prefix(
    rows: Sequence[Row], cursor: int, hole_settled: Callable[[int], bool]
) -> tuple[list[Row], int, bool]:
    """The rows (in id order, all above ``cursor``) that can be delivered now, the new
    cursor, and whether a hole stopped us. ``hole_settled(next_id)`` says whether the
    ids missing just below ``next_id`` will never come."""
    delivered: list[Row] = []
    for row in rows:
        if row.id > cursor + 1 and not hole_settled(row.id):
            return delivered, cursor, True
        delivered.append(row)
        cursor = row.id
    return delivered, cursor, False
