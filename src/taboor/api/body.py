"""Reading JSON request bodies ourselves, so every failure is the contract's 422 on
``error.body`` (spec §1.3) rather than a framework error."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from taboor.api.errors import Msg, NotFoundError, field_error
from taboor.text_safety import NUL, nul_path

_decoder = msgspec.json.Decoder()


def _is_json_content_type(value: str | None) -> bool:
    if not value:
        return False
    media_type = value.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


async def json_object_body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The body as a JSON object; unknown fields are the caller's business (ignored)."""
    if not _is_json_content_type(request.headers.get("content-type")):
        raise field_error("body", "body.wrong_content_type")
    raw = await request.body()
    try:
        document = _decoder.decode(raw)
    except msgspec.DecodeError:
        raise field_error("body", "body.invalid_json") from None
    if not isinstance(document, dict):
        raise field_error("body", "body.not_object")
    return NulCheckedBody(document)


class NulCheckedBody(dict[str, Any]):
    """A request body whose fields are checked for U+0000 as the handler reads them.

    Checking on read rather than on arrival keeps a NUL in a field the operation ignores
    (unknown fields are the caller's business) from becoming a 422 on a field the
    operation's documented errors cannot name; a field that is read is refused, on its
    own name, before its value reaches any SQL."""

    def __getitem__(self, field: str) -> Any:
        return _refuse_nul(field, super().__getitem__(field))

    def get(self, field: str, default: Any = None) -> Any:
        return _refuse_nul(field, super().get(field, default))


def _refuse_nul(field: str, value: Any) -> Any:
    if nul_path(value) is not None:
        raise field_error(field, "validation.no_nul")
    return value


async def refuse_nul_in_query(request: Request[Any, Any, Any]) -> None:
    """A ``before_request`` hook: a query parameter holding a NUL is a 422 on it; an id
    in the path holding one names nothing (404; the External API's own id checks turn
    such ids into its 422 before they reach here). Async although it never waits:
    Litestar runs a sync hook in a worker thread, a thread hop on every request."""
    if NUL in request.scope["path"]:
        raise NotFoundError(Msg("error.route_not_found"))
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            raise field_error(name.replace(NUL, ""), "validation.no_nul")
