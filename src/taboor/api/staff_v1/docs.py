"""The staff API's own documentation: its OpenAPI document and a Swagger UI page.

Both are public (no session: neither handler takes the ``staff`` dependency). The page
loads the Swagger UI files the External API already vendors and serves
(``/external/v1/docs/assets/…``, through that module's page builder, whose asset URLs
carry the files' hashes), so nothing is copied and nothing is fetched from the internet.
"""

from __future__ import annotations

from functools import cache

import msgspec
from litestar import Response, get
from litestar.handlers import HTTPRouteHandler

from taboor.api.external_v1.docs import document_response, page_response, swagger_page
from taboor.api.staff_v1.openapi_document import SERVER_URL, build_openapi_document

__all__ = ["docs_route_handlers"]

OPENAPI_URL = f"{SERVER_URL}/openapi.json"


@cache
def _openapi_json() -> bytes:
    return msgspec.json.encode(build_openapi_document())


@cache
def _docs_page() -> str:
    return swagger_page("Taboor Staff API v1", OPENAPI_URL)


@get("/openapi.json", sync_to_thread=False, include_in_schema=False)
def staff_openapi_document() -> Response[bytes]:
    """The OpenAPI 3.1 document of the staff API (built once, then served from memory)."""
    return document_response(_openapi_json())


@get("/docs", sync_to_thread=False, include_in_schema=False)
def staff_docs_page() -> Response[str]:
    """Interactive documentation (Swagger UI), served entirely from this server."""
    return page_response(_docs_page())


docs_route_handlers: list[HTTPRouteHandler] = [staff_openapi_document, staff_docs_page]
