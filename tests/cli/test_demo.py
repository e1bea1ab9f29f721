"""`taboor demo` end to end: a real process serves the demo company, and the keys and
staff passwords it writes to `taboor-demo-keys.env` work; a second run gives the demo
staff new passwords (the old ones stop working) and keeps one database (both legs)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.live_server import free_port, stop_process_group, taboor_executable


def _run_demo(database_url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [taboor_executable(), "--database-url", database_url, "demo", "--port", str(port)],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "TABOOR_LOG_LEVEL": "warning"},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if httpx.get(f"{base}/external/v1/openapi.json", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("demo did not answer")


def _stop(process: subprocess.Popen[bytes]) -> str:
    """Stop the demo; what it printed."""
    stop_process_group(process, timeout=20)
    return process.stdout.read().decode() if process.stdout else ""


def _screen_addresses(printed: str) -> list[str]:
    return re.findall(r"(http://\S+/(?:console|display/\S+|kiosk/\S+))", printed)


def _written(workdir: Path) -> dict[str, str]:
    text = (workdir / "taboor-demo-keys.env").read_text(encoding="utf-8")
    return dict(line.split("=", 1) for line in text.splitlines())


def _login(base: str, username: str, password: str) -> int:
    body = {"username": username, "password": password}
    return httpx.post(f"{base}/staff/v1/login", json=body, timeout=10).status_code


def test_demo_serves_with_working_keys_and_staff(database_url: str, tmp_path: Path) -> None:
    process, base = _run_demo(database_url, tmp_path)
    try:
        first = _written(tmp_path)
        branches = httpx.get(
            f"{base}/external/v1/branches",
            headers={"Authorization": f"Bearer {first['TABOOR_SECRET_KEY']}"},
        )
        assert branches.status_code == 200 and len(branches.json()["data"]) == 3
        assert _login(base, "demo-admin", first["TABOOR_DEMO_ADMIN_PASSWORD"]) == 200
        assert _login(base, "demo-agent", first["TABOOR_DEMO_AGENT_PASSWORD"]) == 200
    finally:
        printed = _stop(process)
    # The console, and a display and a kiosk per branch, carrying the public key.
    screens = _screen_addresses(printed)
    assert len(screens) == 1 + 2 * 3, printed
    assert all(
        address.endswith(f"#key={first['TABOOR_PUBLIC_KEY']}")
        for address in screens
        if "/console" not in address
    ), screens
    process, base = _run_demo(database_url, tmp_path)
    try:
        second = _written(tmp_path)
        assert second["TABOOR_DEMO_AGENT_PASSWORD"] != first["TABOOR_DEMO_AGENT_PASSWORD"]
        assert _login(base, "demo-agent", second["TABOOR_DEMO_AGENT_PASSWORD"]) == 200
        assert _login(base, "demo-agent", first["TABOOR_DEMO_AGENT_PASSWORD"]) == 401
        for address in screens:  # the pages are served (their key is the new run's)
            page = httpx.get(base + urlsplit(address).path, timeout=10)
            assert page.status_code == 200 and "<html" in page.text, address
    finally:
        _stop(process)
