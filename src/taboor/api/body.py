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
    where = nul_path(document)
    if where is not None:
        # Reported on the top-level field that holds it (the field the caller sent).
        raise field_error(where.split(".")[0].split("[")[0] or "body", "validation.no_nul")
    return document


def refuse_nul_in_query(request: Request[Any, Any, Any]) -> None:
    """A ``before_request`` hook: a query parameter holding a NUL is a 422 on it; an id
    in the path holding one names nothing (404; the External API's own id checks turn
    such ids into its 422 before they reach here)."""
    if NUL in request.scope["path"]:
        raise NotFoundError(Msg("error.route_not_found"))
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            raise field_error(name.replace(NUL, ""), "validation.no_nul")
