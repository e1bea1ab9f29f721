"""CORS for the External API, per company (browser apps using a public key).

A company's file lists the origins its web apps are served from (``cors.origins``).

- **Preflight** (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``,
  which never carries ``Authorization``, so the key and its company are unknown): 204,
  with ``Access-Control-Allow-Origin: <origin>``, the allowed methods and headers and
  ``Access-Control-Max-Age`` when *any* company lists the origin; a 204 without them
  when none does (the browser then reports the missing header and sends nothing).
- **Actual request**: ``Access-Control-Allow-Origin`` only when the *key's* company
  lists the origin, with ``Access-Control-Expose-Headers`` naming the headers a script
  may read (rate limits, ``Retry-After``, ``X-Request-Id``, ``Idempotent-Replayed``).
  Another company's origin gets no CORS header, so the browser hides the response from
  the script. (The request itself has run by then, as with any CORS-checked request:
  CORS keeps other sites from *reading* with the key; the key decides what may be done.)
- Responses of a company that lists origins carry ``Vary: Origin``; so do preflights.

Only paths under ``/external/v1`` take part. No credentials mode: keys travel in the
``Authorization`` header, never in cookies, so ``Access-Control-Allow-Credentials`` is
never sent.
"""

from __future__ import annotations

import json

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db.uow import read_connection

PATH_PREFIX = "/external/v1"
ALLOW_METHODS = "GET, POST, PUT, DELETE"
ALLOW_HEADERS = "Authorization, Content-Type, X-Locale, Idempotency-Key, X-Request-Id"
EXPOSE_HEADERS = (
    "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, X-Request-Id, "
    "Idempotent-Replayed"
)
MAX_AGE_SECONDS = 3600
MAX_ORIGIN_LENGTH = 300  # longer than any origin a company file accepts

_ANY_COMPANY = {
    # JSONB containment; NULL (no origins) never matches.
    "postgresql": text(
        "SELECT 1 FROM companies WHERE cors_origins @> CAST(:origins AS jsonb) LIMIT 1"
    ),
    "sqlite": text(
        "SELECT 1 FROM companies, json_each(companies.cors_origins) AS origin "
        "WHERE companies.cors_origins IS NOT NULL AND origin.value = :origin LIMIT 1"
    ),
}


def response_headers(origin: str | None, allowed: frozenset[str]) -> list[tuple[str, str]]:
    """CORS headers of an actual request's response, for a company allowing ``allowed``."""
    if not allowed:
        return []  # a company without browser apps: the answer never depends on Origin
    headers = [("Vary", "Origin")]
    if origin is not None and origin in allowed:
        headers.append(("Access-Control-Allow-Origin", origin))
        headers.append(("Access-Control-Expose-Headers", EXPOSE_HEADERS))
    return headers


async def allowed_by_any_company(engine: AsyncEngine, origin: str) -> bool:
    if len(origin) > MAX_ORIGIN_LENGTH:
        return False
    statement = _ANY_COMPANY["postgresql" if engine.dialect.name == "postgresql" else "sqlite"]
    async with read_connection(engine) as connection:
        found = await connection.scalar(
            statement, {"origins": json.dumps([origin]), "origin": origin}
        )
    return found is not None


def _under_external_api(path: str) -> bool:
    return path == PATH_PREFIX or path.startswith(PATH_PREFIX + "/")


def _preflight_origin(scope: Scope) -> str | None:
    """The ``Origin`` of a CORS preflight to the External API, else None."""
    if scope["type"] != ScopeType.HTTP or scope["method"] != "OPTIONS":
        return None
    if not _under_external_api(scope["path"]):
        return None
    origin: str | None = None
    requested_method = False
    for name, value in scope["headers"]:
        if name == b"origin":
            origin = value.decode("latin-1")
        elif name == b"access-control-request-method":
            requested_method = True
    return origin if requested_method else None


def answer_preflights(app: ASGIApp) -> ASGIApp:
    """Litestar middleware: answers CORS preflights to ``/external/v1``; everything
    else passes through untouched."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        origin = _preflight_origin(scope)
        if origin is None:
            await app(scope, receive, send)
            return
        headers = [(b"vary", b"Origin")]
        if await allowed_by_any_company(scope["app"].state.engine, origin):
            headers += [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-methods", ALLOW_METHODS.encode()),
                (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                (b"access-control-max-age", str(MAX_AGE_SECONDS).encode()),
            ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return middleware
