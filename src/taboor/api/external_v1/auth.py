"""Bearer-key authentication for the External API (spec §1.1).

The dependency ``principal`` resolves the key to its company; handlers marked
``opt={"secret_only": True}`` refuse public keys with the spec's 401 reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.api.errors import AuthError, locale_of
from taboor.clock import Clock
from taboor.db.uow import read_connection
from taboor.i18n import Locale, localized_name, translate
from taboor.keys.cache import KeyCache
from taboor.keys.service import Principal, authenticate, hash_key
from taboor.tickets.eta import ServiceTimes

SECRET_ONLY = {"secret_only": True}


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("auth.missing_token")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthError("auth.missing_token")
    return token


@dataclass(frozen=True, slots=True)
class ExternalCall:
    """Everything a handler needs about the call: who, in which language, and the
    engine and clock of this app."""

    principal: Principal
    locale: Locale
    engine: AsyncEngine
    clock: Clock
    service_times: ServiceTimes

    @property
    def company_id(self) -> str:
        return self.principal.company_id

    def text(self, key: str, **params: object) -> str:
        return translate(key, self.locale, **params)

    def name(self, names: dict[str, str]) -> str:
        return localized_name(names, self.locale, self.principal.default_locale)


async def provide_call(request: Request[Any, Any, Any]) -> ExternalCall:
    token = bearer_token(request.headers.get("authorization"))
    if not token.startswith(("pk_", "sk_")) or len(token) > 200:
        raise AuthError("auth.invalid_key")
    state = request.app.state
    engine: AsyncEngine = state.engine
    cache: KeyCache = state.key_cache
    key_hash = hash_key(token)
    principal = cache.get(key_hash)
    if principal is None:
        generation = cache.generation
        async with read_connection(engine) as connection:
            principal = await authenticate(connection, token)
        if principal is not None:
            cache.put(key_hash, principal, generation)
    if principal is None:
        raise AuthError("auth.invalid_key")
    if request.route_handler.opt.get("secret_only") and principal.kind != "secret":
        raise AuthError("auth.secret_required")
    return ExternalCall(principal, locale_of(request), engine, state.clock, state.service_times)
