"""Errors as the contract shapes them, and the handlers that render them.

Code raises ``ApiError`` subclasses carrying message *keys*; rendering localizes them
for the caller, so no handler ever formats prose itself.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException

from taboor.api.envelopes import json_response
from taboor.api.request_ids import request_id_of
from taboor.i18n import Locale, resolve_locale, translate

logger = logging.getLogger("taboor.api")


@dataclass(frozen=True, slots=True)
class Msg:
    """A message key and its placeholders, translated at render time."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, locale: Locale) -> str:
        # A placeholder may itself be a message (a ticket status, say): in the same locale.
        params = {
            name: value.render(locale) if isinstance(value, Msg) else value
            for name, value in self.params.items()
        }
        return translate(self.key, locale, **params)


class ApiError(Exception):
    status_code = 500
    code = "internal"

    def __init__(
        self,
        message: Msg,
        error: Msg | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message.key)
        self.message = message
        self.error = error
        self.headers = headers or {}
        if code is not None:
            self.code = code

    def body(self, locale: Locale) -> dict[str, Any]:
        return {
            "message": self.message.render(locale),
            "error": self.error.render(locale) if self.error else None,
            "code": self.code,
        }


class BadRequestError(ApiError):
    status_code = 400
    code = "bad_request"


class NotFoundError(ApiError):
    status_code = 404
    code = "not_found"


class ConflictError(ApiError):
    status_code = 409
    code = "conflict"


class ForbiddenError(ApiError):
    status_code = 403
    code = "forbidden"


class TooManyRequestsError(ApiError):
    """429 with ``Retry-After`` (whole seconds, at least 1)."""

    status_code = 429
    code = "rate_limited"  # the code the External API's contract gives a 429

    def __init__(self, message: Msg, retry_after_seconds: float) -> None:
        seconds = max(1, int(retry_after_seconds + 0.999))
        super().__init__(message, headers={"Retry-After": str(seconds)})
        self.retry_after_seconds = seconds


class AuthError(ApiError):
    status_code = 401
    code = "unauthorized"

    def __init__(self, reason_key: str) -> None:
        super().__init__(Msg("auth.unauthorized"), Msg(reason_key))


class ValidationFailed(ApiError):
    """422: ``error`` maps each offending field to one message (spec §1.3)."""

    status_code = 422
    code = "validation_failed"

    def __init__(self, fields: dict[str, Msg], *, code: str | None = None) -> None:
        super().__init__(Msg("error.invalid_data"), code=code)
        self.fields = fields

    def body(self, locale: Locale) -> dict[str, Any]:
        return {
            "message": self.message.render(locale),
            "error": {name: msg.render(locale) for name, msg in self.fields.items()},
            "code": self.code,
        }


def field_error(field_name: str, key: str, **params: Any) -> ValidationFailed:
    return ValidationFailed({field_name: Msg(key, params)})


def locale_of(request: Request[Any, Any, Any]) -> Locale:
    return resolve_locale(request.headers.get("x-locale"))


def handle_api_error(request: Request[Any, Any, Any], error: ApiError) -> Response[bytes]:
    return json_response(error.body(locale_of(request)), error.status_code, error.headers or None)


_HTTP_MESSAGES = {404: "error.route_not_found", 405: "error.method_not_allowed"}
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def handle_http_exception(request: Request[Any, Any, Any], error: HTTPException) -> Response[bytes]:
    """Framework-raised errors (unknown route, wrong method, …) in our envelope."""
    status = error.status_code
    if status >= 500:
        return handle_unexpected(request, error)
    key = _HTTP_MESSAGES.get(status, "error.bad_request")
    body = {
        "message": translate(key, locale_of(request)),
        "error": None,
        "code": _HTTP_CODES.get(status, "bad_request"),
    }
    return json_response(body, status, headers=dict(error.headers or {}))


# The error behind the latest 500 of this request, for whoever runs the request whole and
# may run it again (the Idempotency-Key middleware retries a deadlocked request).
unexpected_error: ContextVar[Exception | None] = ContextVar("taboor_unexpected", default=None)


def handle_unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    """A 500 says nothing of internals; the request id ties the log line to it."""
    unexpected_error.set(error)
    logger.error(
        "unhandled error", exc_info=error, extra={"request_id": request_id_of(request.scope)}
    )
    body = {
        "message": translate("error.internal", locale_of(request)),
        "error": None,
        "code": "internal",
    }
    return json_response(body, 500)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ApiError: handle_api_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
