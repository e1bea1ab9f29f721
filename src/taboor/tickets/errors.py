"""Why the ticket domain refuses something. The API layer maps each reason to the
contract's status code, field and message; nothing here knows HTTP."""

from __future__ import annotations

from typing import Literal

RefusalReason = Literal[
    "service_closed", "no_walk_in", "time_unavailable", "slot_full", "duplicate_active"
]
FieldReason = Literal[
    "does_not_exist",
    "no_appointments",
    "customer_required",
    "customer_conflict",
    "customer_mismatch",
    "group_mismatch",
    "time_past",
    "only_appointments",
    "not_reschedulable",
]


class BookingRefusedError(Exception):
    """A well-formed request the rules turn down (spec: 400)."""

    def __init__(self, reason: RefusalReason) -> None:
        super().__init__(reason)
        self.reason: RefusalReason = reason


class TicketFieldError(Exception):
    """A field names something that does not exist or does not fit (spec: 422)."""

    def __init__(self, field: str, reason: FieldReason) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason: FieldReason = reason


class NotCancellableError(Exception):
    """The ticket's status no longer allows cancelling (spec: 409)."""


class TicketVanishedError(Exception):
    """The ticket existed at validation and was gone at use (spec §1.6: 404)."""
