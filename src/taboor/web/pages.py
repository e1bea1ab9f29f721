"""The screens' HTML pages: ``/console``, ``/display/{branchId}``, ``/kiosk/{branchId}``
and ``/follow/{ticketId}``.

Each page is a small template with its language (``?lang=ar`` or ``en``: ``<html lang
dir>`` are right from the first paint), its text in both languages as a JSON block, and
the URLs of its CSS and script. Ids in the path are never written into the page: the
scripts read them from the address, so nothing a visitor types is echoed back as HTML.
Keys never travel in the address either: devices get the company's public key in the
fragment (``#key=pk_…``), which browsers do not send.
"""

from __future__ import annotations

import html
from functools import cache
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.params import FromPath

from taboor.i18n import SUPPORTED_LOCALES, Locale, resolve_locale
from taboor.i18n.catalog import MESSAGES
from taboor.web.assets import asset_url, page_template

# Scripts and styles only from this server, no inline script; QR codes are data: URIs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
TITLES = {
    "console": "screen.console.title",
    "display": "screen.display.title",
    "kiosk": "screen.kiosk.title",
    "follow": "screen.follow.title",
}

AnyRequest = Request[Any, Any, Any]


@cache
def _texts_json() -> str:
    """Every ``screen.*`` text in both languages, safe inside a ``<script>`` element."""
    texts = {
        locale: {key: value[locale] for key, value in MESSAGES.items() if key.startswith("screen.")}
        for locale in SUPPORTED_LOCALES
    }
    return msgspec.json.encode(texts).decode().replace("</", "<\\/")


def page_locale(request: AnyRequest) -> Locale | None:
    """The language asked for in ``?lang=``, or None (the page's script then picks one)."""
    asked = request.query_params.get("lang")
    return resolve_locale(asked) if asked else None


@cache
def render_page(screen: str, locale: Locale, chosen: bool) -> str:
    values = {
        "lang": locale,
        "dir": "rtl" if locale == "ar" else "ltr",
        "chosen": "true" if chosen else "false",
        "title": html.escape(MESSAGES[TITLES[screen]][locale]),
        "texts": _texts_json(),
        "css": asset_url("css/screens.css"),
        "script": asset_url(f"js/{screen}.js"),
    }
    # One layout (the head every screen shares) around the screen's own body.
    page = page_template("layout.html").replace("{{body}}", page_template(f"{screen}.html"))
    for name, value in values.items():
        page = page.replace("{{" + name + "}}", value)
    return page


def _page(screen: str, request: AnyRequest) -> Response[str]:
    asked = page_locale(request)
    content = render_page(screen, asked or "en", asked is not None)
    return Response(content=content, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@get("/console", sync_to_thread=False, include_in_schema=False)
def console_page(request: AnyRequest) -> Response[str]:
    """The staff console: sign in, pick a counter, work the queue."""
    return _page("console", request)


@get("/display/{branch_id:str}", sync_to_thread=False, include_in_schema=False)
def display_page(branch_id: FromPath[str], request: AnyRequest) -> Response[str]:
    """The hall display of a branch (``#key=pk_…``)."""
    del branch_id  # read by the page's script from the address
    return _page("display", request)


@get("/kiosk/{branch_id:str}", sync_to_thread=False, include_in_schema=False)
def kiosk_page(branch_id: FromPath[str], request: AnyRequest) -> Response[str]:
    """The kiosk at a branch's door (``#key=pk_…``)."""
    del branch_id
    return _page("kiosk", request)


@get("/follow/{ticket_id:str}", sync_to_thread=False, include_in_schema=False)
def follow_page(ticket_id: FromPath[str], request: AnyRequest) -> Response[str]:
    """A customer follows their ticket on their phone (the kiosk's QR code)."""
    del ticket_id
    return _page("follow", request)


page_handlers = [console_page, display_page, kiosk_page, follow_page]
