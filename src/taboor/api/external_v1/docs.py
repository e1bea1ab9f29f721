"""The External API's own documentation: the OpenAPI document and an offline Swagger UI.

These routes are public (no API key) and are mounted by the app under the ``/external/v1``
router. Swagger UI is vendored in ``static/swagger-ui/`` and read with ``importlib.resources``
so the page works from an installed wheel with no internet access: no CDN, no validator
badge, nothing fetched from elsewhere.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

import msgspec
from litestar import MediaType, Response, get
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from taboor.api.external_v1.implemented import IMPLEMENTED_OPERATIONS
from taboor.api.external_v1.openapi_document import SERVER_URL, build_openapi_document

__all__ = [
    "ASSET_CONTENT_TYPES",
    "docs_route_handlers",
    "document_response",
    "page_response",
    "swagger_page",
]

ASSETS_URL = f"{SERVER_URL}/docs/assets"
OPENAPI_URL = f"{SERVER_URL}/openapi.json"

# The only files served from static/swagger-ui/; anything else is a 404.
ASSET_CONTENT_TYPES: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
}
# Asset URLs carry a hash of the file, so a new vendored version is a new URL and the
# assets can be cached for a year.
_ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
_PAGE_CACHE_CONTROL = "no-cache"


@cache
def _openapi_json(implemented: frozenset[str]) -> bytes:
    return msgspec.json.encode(build_openapi_document(implemented))


@cache
def _asset(name: str) -> bytes:
    package = resources.files("taboor.api.external_v1")
    return package.joinpath("static", "swagger-ui", name).read_bytes()


@cache
def _asset_url(name: str) -> str:
    digest = hashlib.sha256(_asset(name)).hexdigest()[:12]
    return f"{ASSETS_URL}/{name}?v={digest}"


def swagger_page(title: str, openapi_url: str) -> str:
    """A Swagger UI page for the document at ``openapi_url``, with the vendored assets."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="stylesheet" href="{_asset_url("swagger-ui.css")}">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{_asset_url("swagger-ui-bundle.js")}" charset="utf-8"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{openapi_url}",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    }});
  </script>
</body>
</html>
"""


def document_response(content: bytes) -> Response[bytes]:
    return Response(
        content=content, media_type=MediaType.JSON, headers={"Cache-Control": _PAGE_CACHE_CONTROL}
    )


def page_response(html: str) -> Response[str]:
    return Response(
        content=html, media_type=MediaType.HTML, headers={"Cache-Control": _PAGE_CACHE_CONTROL}
    )


@cache
def _docs_page() -> str:
    return swagger_page("Taboor External API v1", OPENAPI_URL)


@get("/openapi.json", sync_to_thread=False, include_in_schema=False)
def openapi_document() -> Response[bytes]:
    """The OpenAPI 3.1 document of External API v1 (built once, then served from memory)."""
    return document_response(_openapi_json(IMPLEMENTED_OPERATIONS))


@get("/docs", sync_to_thread=False, include_in_schema=False)
def docs_page() -> Response[str]:
    """Interactive documentation (Swagger UI), served entirely from this server."""
    return page_response(_docs_page())


@get("/docs/assets/{name:str}", sync_to_thread=False, include_in_schema=False)
def docs_asset(name: FromPath[str]) -> Response[bytes]:
    """One of the vendored Swagger UI files; any other name is a 404."""
    content_type = ASSET_CONTENT_TYPES.get(name)
    if content_type is None:
        raise NotFoundException()
    return Response(
        content=_asset(name),
        media_type=content_type,
        headers={"Cache-Control": _ASSET_CACHE_CONTROL},
    )


docs_route_handlers: list[HTTPRouteHandler] = [openapi_document, docs_page, docs_asset]
