"""The screens' pages and assets as the server sends them: language and direction from
the first byte, every screen text in both languages, nothing loaded from elsewhere, no
inline script, ids from the address never echoed into the page, and only the shipped
files served."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from taboor.i18n.catalog import MESSAGES
from taboor.web.assets import asset_names

PAGES = ["/console", "/display/zallaq0001", "/kiosk/zallaq0001", "/follow/abcdefghij"]


@pytest.mark.parametrize("path", PAGES)
async def test_pages_are_served_in_either_language(client: httpx.AsyncClient, path: str) -> None:
    english = await client.get(path)
    assert english.status_code == 200
    assert english.headers["content-type"].startswith("text/html")
    assert '<html lang="en" dir="ltr" data-chosen="false">' in english.text
    arabic = await client.get(path, params={"lang": "ar"})
    assert '<html lang="ar" dir="rtl" data-chosen="true">' in arabic.text
    csp = arabic.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert arabic.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("path", PAGES)
async def test_pages_load_only_local_files(client: httpx.AsyncClient, path: str) -> None:
    page = (await client.get(path)).text
    assert "http://" not in page and "https://" not in page
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    # The texts block is data, not code; the one script is a module from this server.
    assert [attrs for attrs, body in scripts if body.strip()] == [
        ' type="application/json" id="texts"'
    ]
    links = re.findall(r'(?:src|href)="(/[^"]*)"', page)
    assert len(links) == 2
    for link in links:
        assert link.startswith("/screens/assets/"), link
        asset = await client.get(link)
        assert asset.status_code == 200, link


async def test_the_texts_block_has_every_screen_text_in_both_languages(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/kiosk/zallaq0001")).text
    block = re.search(r'<script type="application/json" id="texts">(.*?)</script>', page, re.S)
    assert block is not None
    texts = json.loads(block.group(1))
    keys = {key for key in MESSAGES if key.startswith("screen.")}
    assert set(texts) == {"en", "ar"}
    assert set(texts["en"]) == set(texts["ar"]) == keys
    assert texts["ar"]["screen.kiosk.title"] == "أهلًا وسهلًا"


async def test_ids_in_the_address_are_not_echoed(client: httpx.AsyncClient) -> None:
    page = await client.get("/display/%22%3E%3Cscript%3Ealert(1)")
    assert page.status_code == 200
    assert "alert(1)" not in page.text


async def test_assets(client: httpx.AsyncClient) -> None:
    assert asset_names() >= {
        "css/screens.css",
        "js/common.js",
        "js/sse.js",
        "js/console.js",
        "js/display.js",
        "js/kiosk.js",
        "js/follow.js",
    }
    script = await client.get("/screens/assets/js/sse.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "no-cache"
    again = await client.get(
        "/screens/assets/js/sse.js", headers={"If-None-Match": script.headers["etag"]}
    )
    assert (again.status_code, again.content) == (304, b"")
    style = await client.get("/screens/assets/css/screens.css")
    assert style.headers["content-type"].startswith("text/css")
    for missing in ("js/nope.js", "pages/console.html", "../assets.py", "js"):
        assert (await client.get(f"/screens/assets/{missing}")).status_code == 404, missing
