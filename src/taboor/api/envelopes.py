"""JSON responses in the contract's envelopes (spec §1.3), encoded with msgspec."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response

JSON_MEDIA_TYPE = "application/json; charset=utf-8"
_encoder = msgspec.json.Encoder()


def json_response(
    body: dict[str, Any], status_code: int = 200, headers: dict[str, str] | None = None
) -> Response[bytes]:
    return Response(
        content=_encoder.encode(body),
        status_code=status_code,
        media_type=JSON_MEDIA_TYPE,
        headers=headers,
    )


def success(message: str, data: Any, status_code: int = 200) -> Response[bytes]:
    return json_response({"message": message, "data": data}, status_code)


def pagination(total: int, page: int, limit: int) -> dict[str, Any]:
    total_pages = (total + limit - 1) // limit
    return {
        "total": total,
        "page": page,
        "limit": limit,
        "totalPages": total_pages,
        "hasNextPage": page < total_pages,
        "hasPrevPage": page > 1,
    }


def paginated(message: str, data: list[Any], total: int, page: int, limit: int) -> Response[bytes]:
    return json_response(
        {"message": message, "data": data, "pagination": pagination(total, page, limit)}
    )
