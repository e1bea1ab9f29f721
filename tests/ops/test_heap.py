"""A server process freezes what its startup built (taboor.ops.heap), so full garbage
collections under load walk only what it made since; a test app never does."""

from __future__ import annotations

import gc

import pytest

from taboor.app import create_app, create_server_app


async def test_a_server_app_freezes_its_startup_heap_and_a_test_app_does_not(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TABOOR_DATABASE_URL", database_url)
    monkeypatch.setenv("TABOOR_NO_SHOW_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("TABOOR_HOUSEKEEPING_INTERVAL_SECONDS", "0")
    gc.unfreeze()
    try:
        async with create_app().lifespan():
            assert gc.get_freeze_count() == 0
        server_app = create_server_app()
        async with server_app.lifespan():
            frozen = gc.get_freeze_count()
        # Everything startup left alive: modules, the app's routes and handlers.
        assert frozen > 10_000
    finally:
        gc.unfreeze()  # the test runner's own objects stay collectable
