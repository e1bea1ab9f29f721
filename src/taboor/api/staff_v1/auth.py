"""Session-token authentication for the staff API.

The dependency ``staff`` resolves ``Authorization: Bearer st_…`` to a signed-in staff
user (``taboor.staff.sessions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.api.errors import AuthError, locale_of
from taboor.api.external_v1.auth import bearer_token
from taboor.clock import Clock
from taboor.db.uow import read_connection
from taboor.i18n import Locale, localized_name, translate
from taboor.staff.sessions import StaffPrincipal, looks_like_token, resolve_session
from taboor.tickets.eta import ServiceTimes
from taboor.tickets.events import Actor


@dataclass(frozen=True, slots=True)
class StaffCall:
    """Everything a staff handler needs: who, in which language, the app's engine and
    clock, and the session token itself (logout revokes it)."""

    principal: StaffPrincipal
    token: str
    locale: Locale
    engine: AsyncEngine
    clock: Clock
    service_times: ServiceTimes

    @property
    def company_id(self) -> str:
        return self.principal.company_id

    @property
    def actor(self) -> Actor:
        return Actor(kind="staff", id=self.principal.staff_id, source="staff")

    def text(self, key: str, **params: object) -> str:
        return translate(key, self.locale, **params)

    def name(self, names: dict[str, str]) -> str:
        return localized_name(names, self.locale, self.principal.default_locale)


async def provide_staff(request: Request[Any, Any, Any]) -> StaffCall:
    token = bearer_token(request.headers.get("authorization"))
    if not looks_like_token(token):
        raise AuthError("auth.invalid_session")
    state = request.app.state
    async with read_connection(state.engine) as connection:
        principal = await resolve_session(connection, token, state.clock())
    if principal is None:
        raise AuthError("auth.invalid_session")
    return StaffCall(
        principal, token, locale_of(request), state.engine, state.clock, state.service_times
    )
