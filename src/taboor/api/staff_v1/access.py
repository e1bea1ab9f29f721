"""Who may touch what on the staff side, and the domain's refusals as HTTP answers.

Every lookup is scoped by the caller's company first (another company's branch,
counter or ticket, or an inactive branch, is simply not found: 404 for an id in the
path, 422 for one in the body); then an agent must be assigned to the branch (403).
Moving a ticket that is at a counter (called or serving) needs that counter: judged
inside the move's transaction (``transitions``' ``holder``), so a ticket called
elsewhere meanwhile is refused too. Admins may act anywhere in their company, but
call tickets only to a counter they hold, as everyone does.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.api.errors import (
    ApiError,
    ConflictError,
    ForbiddenError,
    Msg,
    NotFoundError,
    field_error,
)
from taboor.api.staff_v1.auth import StaffCall
from taboor.counters.service import CounterError
from taboor.db import tables as t
from taboor.tickets.errors import TicketFieldError
from taboor.tickets.transitions import (
    CounterNotHeldError,
    DuplicateActiveTicketError,
    TransitionRefusedError,
)

_b, _c, _tk = t.branches.c, t.counters.c, t.tickets.c


def require_branch_access(call: StaffCall, branch_id: str) -> None:
    if not call.principal.may_work_at(branch_id):
        raise ForbiddenError(Msg("staff.branch_forbidden"))


async def company_branch(connection: AsyncConnection, call: StaffCall, branch_id: str) -> None:
    """The branch must be the company's and the caller must work there."""
    found = await connection.scalar(
        select(_b.id).where(
            _b.id == branch_id, _b.company_id == call.company_id, _b.active.is_(True)
        )
    )
    if found is None:
        raise NotFoundError(Msg("not_found.branch"))
    require_branch_access(call, branch_id)


async def company_counter(connection: AsyncConnection, call: StaffCall, counter_id: str) -> str:
    """The counter's branch, after the same checks as ``company_branch``."""
    branch_id = await connection.scalar(
        select(_c.branch_id)
        .join(t.branches, _b.id == _c.branch_id)
        .where(_c.id == counter_id, _c.company_id == call.company_id, _b.active.is_(True))
    )
    if branch_id is None:
        raise NotFoundError(Msg("not_found.counter"))
    require_branch_access(call, str(branch_id))
    return str(branch_id)


async def company_ticket(connection: AsyncConnection, call: StaffCall, ticket_id: str) -> None:
    """The ticket must be the company's, at a branch the caller works at."""
    branch_id = await connection.scalar(
        select(_tk.branch_id).where(_tk.id == ticket_id, _tk.company_id == call.company_id)
    )
    if branch_id is None:
        raise NotFoundError(Msg("not_found.ticket"))
    require_branch_access(call, str(branch_id))


COUNTER_REFUSALS = {
    "counter_busy": "staff.counter_busy",
    "already_holding": "staff.already_holding",
    "not_holding": "staff.not_holding",
    "ticket_at_counter": "staff.ticket_at_counter",
}


def counter_error(error: CounterError) -> ApiError:
    if error.reason == "unknown_counter":
        return NotFoundError(Msg("not_found.counter"))
    if error.reason == "branch_forbidden":
        return ForbiddenError(Msg("staff.branch_forbidden"))
    if error.reason == "unknown_service":
        return field_error("serviceIds", "staff.not_counter_service", **error.details)
    key = COUNTER_REFUSALS[error.reason]
    if error.reason == "already_holding" and not error.details.get("counter_id"):
        key = "staff.already_holding_one"  # released again before we could say which
    return ConflictError(Msg(key, dict(error.details)), code=error.reason)


def transition_error(error: Exception) -> ApiError:
    """A refused ticket move: 409 naming the ticket's current status (design.md §2)."""
    if isinstance(error, DuplicateActiveTicketError):
        return ConflictError(Msg("staff.transfer_duplicate"), code="duplicate_active")
    if isinstance(error, TransitionRefusedError):
        status = Msg(f"status.{error.current_status}")
        return ConflictError(
            Msg("staff.invalid_transition", {"status": status}),
            Msg("staff.current_status", {"status": status}),
            code="invalid_transition",
        )
    if isinstance(error, CounterNotHeldError):
        return ForbiddenError(Msg("staff.not_your_counter"))
    if isinstance(error, TicketFieldError):
        if error.field == "id":
            return NotFoundError(Msg("not_found.ticket"))
        return field_error(error.field, "validation.does_not_exist")
    if isinstance(error, CounterError):
        return counter_error(error)
    raise error


STAFF_DOMAIN_ERRORS = (TransitionRefusedError, TicketFieldError, CounterError, CounterNotHeldError)
