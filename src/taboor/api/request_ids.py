"""``X-Request-Id`` on every response, generated unless the caller sent a sane one."""

from __future__ import annotations

import re
import uuid
from typing import Any, cast

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

HEADER = "x-request-id"
_SCOPE_KEY = "taboor.request_id"
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(scope: Scope) -> str:
    """The request's id, fixed on first use so logs and the response header agree."""
    state = cast(dict[str, Any], scope)
    existing = state.get(_SCOPE_KEY)
    if isinstance(existing, str):
        return existing
    inbound = next(
        (
            value.decode("latin-1")
            for name, value in scope.get("headers", ())
            if name == b"x-request-id"
        ),
        "",
    )
    request_id = inbound if _ACCEPTABLE.fullmatch(inbound) else uuid.uuid4().hex
    state[_SCOPE_KEY] = request_id
    return request_id


async def add_request_id_header(message: Message, scope: Scope) -> None:
    """Litestar ``before_send`` hook: runs for every response, errors and 404s included."""
    if message["type"] == "http.response.start":
        MutableScopeHeaders.from_message(message)[HEADER] = request_id_of(scope)
