"""``Idempotency-Key`` on every POST, PUT and DELETE of both APIs (spec §4).

A request carrying the header runs whole inside one database transaction: every unit of
work and read of the request joins it (``taboor.db.uow.joining``), its response is held
back, and a 2xx response is recorded in that same transaction before it commits. So the
effect and its record commit together or not at all: a crash can never leave one without
the other, and a retried request finds either nothing (and runs) or the record (and gets
the stored response again, with ``Idempotent-Replayed: true``).

- Keys are scoped to the credential (a hash of the bearer token): two API keys, or two
  staff sessions, never share keys.
- The same key with another request (method, path, query or body differ) within 24 h is
  a 422 ``idempotency_key_reused``; after 24 h the key is free again.
- A duplicate arriving while the first is still running: on PostgreSQL the first holds a
  transaction-scoped advisory lock on the key and the duplicate answers 409
  ``idempotency_in_progress`` at once. SQLite runs one writer at a time, so there the
  duplicate waits for the first to commit and then replays its response.
- Only 2xx responses are recorded: a refusal changed nothing, so trying again may
  rightly succeed later. Requests without the header are untouched.
- Only requests with a live credential (an active API key, a live staff session) take
  part: anything else goes straight to the API and gets its 401, so a revoked key or an
  ended session is never answered from a record.
- The two answers that hand out a secret shown once (``POST /staff/v1/login``: a session
  token; ``POST /staff/v1/keys``: an API key) are never recorded, so no secret is ever
  kept in clear: those requests simply run again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.api.envelopes import JSON_MEDIA_TYPE
from taboor.api.errors import unexpected_error
from taboor.clock import Clock
from taboor.db import tables as t
from taboor.db.engine import WRITE_OPTION
from taboor.db.uow import is_retryable, joining, read_connection, retry_when_safe
from taboor.i18n import resolve_locale, translate
from taboor.keys.service import authenticate
from taboor.staff.sessions import looks_like_token, resolve_session

# Plain ASGI shapes: this middleware only reads a few keys and passes the rest on.
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEADER = b"idempotency-key"
REPLAYED = (b"idempotent-replayed", b"true")
KEPT_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})
PREFIXES = ("/external/v1/", "/staff/v1/")
# Answers carrying a secret shown once: never recorded (see the module docstring).
HANDS_OUT_SECRETS = frozenset({("POST", "/staff/v1/login"), ("POST", "/staff/v1/keys")})

_ik = t.idempotency_keys.c
_RECORD = select(_ik.request_hash, _ik.status_code, _ik.response_body, _ik.created_at).where(
    _ik.scope == bindparam("scope"), _ik.key == bindparam("key")
)


@dataclass(frozen=True, slots=True)
class _Stored:
    request_hash: str
    status_code: int
    body: str
    created_at: datetime


class _Refusal(Exception):
    """Answer with this instead of running the request."""

    def __init__(self, status: int, message_key: str, code: str, field: str | None = None) -> None:
        super().__init__(code)
        self.status, self.message_key, self.code, self.field = status, message_key, code, field


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _credential_scope(scope: Scope) -> str:
    """Whose keys these are: the bearer token, hashed (a missing one is its own scope;
    such a request is refused by authentication anyway)."""
    authorization = _header(scope, b"authorization") or ""
    return hashlib.sha256(authorization.strip().encode()).hexdigest()


def _request_hash(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1")):
        digest.update(part.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class IdempotencyMiddleware:
    """ASGI middleware: only write requests with the header under the two APIs are
    touched."""

    def __init__(self, app: ASGIApp, engine: AsyncEngine, clock: Clock) -> None:
        self.app, self.engine, self.clock = app, engine, clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in WRITE_METHODS
            or not scope["path"].startswith(PREFIXES)
            or (scope["method"], scope["path"].rstrip("/")) in HANDS_OUT_SECRETS
        ):
            await self.app(scope, receive, send)
            return
        key = _header(scope, HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        locale = resolve_locale(_header(scope, b"x-locale"))
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
            await _send_error(send, 422, locale, "idempotency.bad_key", "validation_failed",
                              field="Idempotency-Key")  # fmt: skip
            return
        if not await self._credential_is_live(scope):
            await self.app(scope, receive, send)  # answered 401 by the API itself
            return
        body = await _read_body(receive)
        request = _Request(_credential_scope(scope), key, _request_hash(scope, body))
        try:
            await retry_when_safe(lambda: self._run_once(scope, body, request, send))
        except _Refusal as refusal:
            await _send_error(
                send, refusal.status, locale, refusal.message_key, refusal.code, refusal.field
            )

    async def _credential_is_live(self, scope: Scope) -> bool:
        scheme, _, token = (_header(scope, b"authorization") or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 200:
            return False
        async with read_connection(self.engine) as connection:
            if token.startswith(("pk_", "sk_")):
                return await authenticate(connection, token) is not None
            if looks_like_token(token):
                return await resolve_session(connection, token, self.clock()) is not None
        return False

    async def _run_once(self, scope: Scope, body: bytes, request: _Request, send: Send) -> None:
        """The whole request in one transaction; the response is sent after commit."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        delivered = False

        async def replay_body() -> Message:
            # The body was read before the transaction began; hand it over once.
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async with self.engine.connect() as connection:
            await connection.execution_options(**{WRITE_OPTION: True})
            transaction = await connection.begin()
            try:
                stored = await request.claim(connection, self.clock())
                if stored is not None:
                    await transaction.rollback()
                    await _send_stored(send, stored)
                    return
                unexpected_error.set(None)
                with joining(connection):
                    await self.app(scope, replay_body, hold)
                failure = unexpected_error.get()
                if isinstance(failure, DBAPIError) and is_retryable(failure):
                    raise failure  # rolled back below; retry_when_safe runs it all again
                status = next(m["status"] for m in held if m["type"] == "http.response.start")
                if 200 <= status < 300:
                    await request.record(connection, status, held, self.clock())
                    await transaction.commit()
                else:
                    await transaction.rollback()
            except BaseException:
                if transaction.is_active:
                    await transaction.rollback()
                raise
        for message in held:
            await send(message)


@dataclass(frozen=True, slots=True)
class _Request:
    scope: str
    key: str
    request_hash: str

    async def claim(self, connection: AsyncConnection, now: datetime) -> _Stored | None:
        """Inside the request's transaction: the stored response to replay, or None
        when this request is to run (refusals raise)."""
        if connection.dialect.name == "postgresql":
            locked = await connection.scalar(
                select(func.pg_try_advisory_xact_lock(func.hashtextextended(
                    f"{self.scope}:{self.key}", 0
                )))
            )  # fmt: skip
            if not locked:
                raise _Refusal(409, "idempotency.in_progress", "idempotency_in_progress")
        row = (await connection.execute(_RECORD, {"scope": self.scope, "key": self.key})).first()
        if row is None:
            return None
        stored = _Stored(*row)
        if stored.created_at <= now - KEPT_FOR:
            await connection.execute(
                delete(t.idempotency_keys).where(_ik.scope == self.scope, _ik.key == self.key)
            )
            return None
        if stored.request_hash != self.request_hash:
            raise _Refusal(
                422, "idempotency.key_reused", "idempotency_key_reused", field="Idempotency-Key"
            )
        return stored

    async def record(
        self, connection: AsyncConnection, status: int, held: list[Message], now: datetime
    ) -> None:
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        await connection.execute(
            insert(t.idempotency_keys).values(
                scope=self.scope,
                key=self.key,
                request_hash=self.request_hash,
                status_code=status,
                response_body=body.decode(),
                created_at=now,
            )
        )


async def _send_stored(send: Send, stored: _Stored) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": stored.status_code,
            "headers": [(b"content-type", JSON_MEDIA_TYPE.encode()), REPLAYED],
        }
    )
    await send({"type": "http.response.body", "body": stored.body.encode()})


async def _send_error(
    send: Send, status: int, locale: Any, message_key: str, code: str, field: str | None = None
) -> None:
    message = translate(message_key, locale)
    error: Any = {field: message} if field else None
    body = {
        "message": translate("error.invalid_data", locale) if field else message,
        "error": error,
        "code": code,
    }
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", JSON_MEDIA_TYPE.encode())],
        }
    )
    await send({"type": "http.response.body", "body": msgspec.json.encode(body)})


def idempotency_middleware(engine: AsyncEngine, clock: Clock) -> Any:
    """The middleware factory Litestar takes (``middleware=[...]``)."""

    def factory(app: ASGIApp) -> ASGIApp:
        return IdempotencyMiddleware(app, engine, clock)

    return factory
