"""Reading JSON request bodies ourselves, so every failure is the contract's 422 on
``error.body`` (spec §1.3) rather than a framework error."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from taboor.api.errors import field_error

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
    return document
