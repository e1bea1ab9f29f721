"""Where the domain notes that it wrote a ticket event (``note_ticket_change``).

Free of imports on purpose: the ticket domain calls it from its hot path, and must not
pull in the live machinery (``taboor.live.wakeups`` reads the mark after the request).
"""

from __future__ import annotations

from contextvars import ContextVar


class ChangeMark:
    """Set when the request it belongs to wrote a ticket event."""

    __slots__ = ("changed",)

    def __init__(self) -> None:
        self.changed = False


current_mark: ContextVar[ChangeMark | None] = ContextVar("taboor_live_mark", default=None)


def note_ticket_change() -> None:
    """A ticket event was written in this request (it may still roll back: a wake-up
    for nothing costs an empty read). No I/O: a flag on the request."""
    mark = current_mark.get()
    if mark is not None:
        mark.changed = True
