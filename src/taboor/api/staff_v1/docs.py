"""The staff API's own documentation: its OpenAPI document and a Swagger UI page.

Both are public (no session: neither handler takes the ``staff`` dependency). The page
loads the Swagger UI files the External API already vendors and serves
(``/external/v1/docs/assets/…``, through that module's URL helper, which carries the
files' hashes), so nothing is copied and nothing is fetched from the internet.
"""

from __future__ import annotations

from functools import cache

import msgspec
from litestar import MediaType, Response, get
from litestar.handlers import HTTPRouteHandler

from taboor.api.external_v1.docs import _asset_url
from taboor.api.staff_v1.openapi_document import SERVER_URL, build_openapi_document

__all__ = ["docs_route_handlers"]

OPENAPI_URL = f"{SERVER_URL}/openapi.json"
_PAGE_CACHE_CONTROL = "no-cache"


@cache
def _openapi_json() -> bytes:
    return msgspec.json.encode(build_openapi_document())


@cache
def _docs_page() -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Taboor Staff API v1</title>
  <link rel="stylesheet" href="{_asset_url("swagger-ui.css")}">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{_asset_url("swagger-ui-bundle.js")}" charset="utf-8"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{OPENAPI_URL}",
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


@get("/openapi.json", sync_to_thread=False, include_in_schema=False)
def staff_openapi_document() -> Response[bytes]:
    """The OpenAPI 3.1 document of the staff API (built once, then served from memory)."""
    return Response(
        content=_openapi_json(),
        media_type=MediaType.JSON,
        headers={"Cache-Control": _PAGE_CACHE_CONTROL},
    )


@get("/docs", sync_to_thread=False, include_in_schema=False)
def staff_docs_page() -> Response[str]:
    """Interactive documentation (Swagger UI), served entirely from this server."""
    return Response(
        content=_docs_page(),
        media_type=MediaType.HTML,
        headers={"Cache-Control": _PAGE_CACHE_CONTROL},
    )


docs_route_handlers: list[HTTPRouteHandler] = [staff_openapi_document, staff_docs_page]
