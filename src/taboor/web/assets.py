"""The screens' files (``static/``), read from the installed package with
``importlib.resources`` so an installed wheel serves them with no internet access.

Only files that exist under ``static/css`` and ``static/js`` are served, by name; any
other name is a 404. They are small and change with each release, so browsers revalidate
them (``no-cache`` with an ``ETag``) rather than keep a stale copy of a page's code.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

ASSETS_URL = "/screens/assets"
CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
SERVED_FOLDERS = ("css", "js")

AnyRequest = Request[Any, Any, Any]


def _static() -> resources.abc.Traversable:
    return resources.files("taboor.web").joinpath("static")


@cache
def asset_names() -> frozenset[str]:
    """``folder/name`` of every file the screens may load."""
    names = set()
    for folder in SERVED_FOLDERS:
        for entry in _static().joinpath(folder).iterdir():
            suffix = "." + entry.name.rsplit(".", 1)[-1]
            if entry.is_file() and suffix in CONTENT_TYPES:
                names.add(f"{folder}/{entry.name}")
    return frozenset(names)


@cache
def asset_bytes(name: str) -> bytes:
    return _static().joinpath(name).read_bytes()


@cache
def _etag(name: str) -> str:
    return '"' + hashlib.sha256(asset_bytes(name)).hexdigest()[:16] + '"'


def asset_url(name: str) -> str:
    """The URL of an asset, with its hash: a page always names the files it was built
    with."""
    return f"{ASSETS_URL}/{name}?v={_etag(name).strip(chr(34))[:10]}"


@cache
def page_template(name: str) -> str:
    return _static().joinpath("pages", name).read_text(encoding="utf-8")


@get(f"{ASSETS_URL}/{{name:path}}", sync_to_thread=False, include_in_schema=False)
def screen_asset(name: FromPath[str], request: AnyRequest) -> Response[bytes]:
    name = name.lstrip("/")
    if name not in asset_names():
        raise NotFoundException()
    etag = _etag(name)
    headers = {"Cache-Control": "no-cache", "ETag": etag, "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == etag:
        return Response(content=b"", status_code=304, headers=headers)
    content_type = CONTENT_TYPES["." + name.rsplit(".", 1)[-1]]
    return Response(content=asset_bytes(name), media_type=content_type, headers=headers)
