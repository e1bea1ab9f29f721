"""Who may watch a branch: an API key of its company (public or secret), or a staff
session of a user who works there.

Displays and consoles are browsers: an ``EventSource`` cannot send headers, so the
credential may also come as the ``access_token`` query parameter (the access log
writes route templates, never query strings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request
from sqlalchemy import select

from taboor.api.errors import AuthError, ForbiddenError, Msg, NotFoundError
from taboor.api.external_v1.auth import bearer_token, key_principal
from taboor.api.external_v1.ids import is_entity_id
from taboor.db import tables as t
from taboor.db.uow import read_connection
from taboor.staff.sessions import StaffPrincipal, looks_like_token, resolve_session

AnyRequest = Request[Any, Any, Any]
_b = t.branches.c


@dataclass(frozen=True, slots=True)
class WatchedBranch:
    id: str
    company_id: str
    names: dict[str, str]
    zone: ZoneInfo
    default_locale: str


def _credential(request: AnyRequest) -> str:
    header = request.headers.get("authorization")
    token: str | None = request.query_params.get("access_token")
    if header is None and token:
        return token.strip()
    return bearer_token(header)


async def _viewer(request: AnyRequest) -> tuple[str, StaffPrincipal | None]:
    """The caller's company, and the staff user when it is one."""
    token = _credential(request)
    if looks_like_token(token):
        state = request.app.state
        async with read_connection(state.engine) as connection:
            staff = await resolve_session(connection, token, state.clock())
        if staff is None:
            raise AuthError("auth.invalid_session")
        return staff.company_id, staff
    return (await key_principal(request, token)).company_id, None


_BRANCH = select(_b.name, _b.timezone, t.companies.c.default_locale).join(
    t.companies, t.companies.c.id == _b.company_id
)


async def watched_branch(request: AnyRequest, branch_id: str) -> WatchedBranch:
    """The branch, once the caller may watch it: 401 without a live credential, 404
    for a branch that is not its company's (or inactive), 403 for a staff user who
    does not work there (as on the staff API)."""
    company_id, staff = await _viewer(request)
    row = None
    if is_entity_id(branch_id):
        async with read_connection(request.app.state.engine) as connection:
            query = _BRANCH.where(
                _b.id == branch_id, _b.company_id == company_id, _b.active.is_(True)
            )
            row = (await connection.execute(query)).first()
    if row is None:
        raise NotFoundError(Msg("not_found.branch"))
    if staff is not None and not staff.may_work_at(branch_id):
        raise ForbiddenError(Msg("staff.branch_forbidden"))
    return WatchedBranch(branch_id, company_id, row.name, ZoneInfo(row.timezone), row[2])
