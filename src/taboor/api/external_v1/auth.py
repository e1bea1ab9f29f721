"""Bearer-key authentication for the External API (spec §1.1).

The dependency ``call`` resolves the key to its company; handlers marked
``opt={"secret_only": True}`` refuse public keys with the spec's 401 reason. Once the
key is known, the call is also where the company's CORS origins (``taboor.api.cors``)
and rate limits (``taboor.api.rate_limits``) apply: a company that sets neither costs
nothing more than the key check. Headers decided here reach the response, error
responses included, through the ``add_call_headers`` hook.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.api import cors
from taboor.api.errors import AuthError, locale_of
from taboor.api.rate_limits import charges_of, client_address, rate_limit_headers, refusal
from taboor.clock import Clock
from taboor.db.uow import read_connection
from taboor.i18n import Locale, localized_name, translate
from taboor.keys.cache import KeyCache
from taboor.keys.service import Principal, authenticate, hash_key
from taboor.limits.counting import count_request
from taboor.tickets.eta import ServiceTimes

SECRET_ONLY = {"secret_only": True}
_CALL_HEADERS = "taboor.call_headers"


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


async def key_principal(request: Request[Any, Any, Any], token: str) -> Principal:
    """The live key ``token`` names (through the process's key cache), or a 401."""
    if not token.startswith(("pk_", "sk_")) or len(token) > 200:
        raise AuthError("auth.invalid_key")
    state = request.app.state
    cache: KeyCache = state.key_cache
    key_hash = hash_key(token)
    principal = cache.get(key_hash)
    if principal is None:
        generation = cache.generation
        async with read_connection(state.engine) as connection:
            principal = await authenticate(connection, token)
        if principal is not None:
            cache.put(key_hash, principal, generation)
    if principal is None:
        raise AuthError("auth.invalid_key")
    return principal


async def provide_call(request: Request[Any, Any, Any]) -> ExternalCall:
    token = bearer_token(request.headers.get("authorization"))
    principal = await key_principal(request, token)
    state = request.app.state
    engine: AsyncEngine = state.engine
    headers: list[tuple[str, str]] = []
    if principal.cors_origins:  # before the 401 below: a browser app may read that one
        headers += cors.response_headers(request.headers.get("origin"), principal.cors_origins)
        cast(dict[str, Any], request.scope)[_CALL_HEADERS] = headers
    if request.route_handler.opt.get("secret_only") and principal.kind != "secret":
        raise AuthError("auth.secret_required")  # not counted against the company
    if principal.rate_limited:
        charges = charges_of(principal, client_address(request))
        verdict = await count_request(engine, charges, state.clock())
        headers += rate_limit_headers(verdict)
        cast(dict[str, Any], request.scope)[_CALL_HEADERS] = headers
        if not verdict.admitted:
            raise refusal(verdict)
    return ExternalCall(principal, locale_of(request), engine, state.clock, state.service_times)


async def add_call_headers(message: Message, scope: Scope) -> None:
    """Litestar ``before_send`` hook: the headers the call decided (CORS, rate limits)
    on its response, whatever produced it (handler, error handler, replay)."""
    if message["type"] != "http.response.start":
        return
    extra: list[tuple[str, str]] | None = cast(dict[str, Any], scope).get(_CALL_HEADERS)
    if not extra:
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in extra:
        if name == "Vary":
            headers.add(name, value)
        else:
            headers[name] = value
