"""A real Taboor server in separate processes, for tests that attack invariants with
real concurrency (several worker processes, real sockets, a real database)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def taboor_executable() -> str:
    beside_python = Path(sys.executable).parent / "taboor"
    return str(beside_python) if beside_python.exists() else shutil.which("taboor") or "taboor"


@contextmanager
def server_process(
    database_url: str, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start ``taboor serve --workers N`` (with ``env`` added to the environment) and
    yield its base URL and process once it answers; SIGTERM at the end."""
    port = free_port()
    process = subprocess.Popen(
        [
            taboor_executable(),
            "--database-url",
            database_url,
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "TABOOR_LOG_LEVEL": "warning", **(env or {})},
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                raise RuntimeError(f"server exited early:\n{output}")
            try:
                if httpx.get(f"{base_url}/external/v1/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer within 30 s")
            time.sleep(0.1)
        yield base_url, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def running_server(database_url: str, workers: int = 2) -> Iterator[str]:
    """Start ``taboor serve --workers N`` and yield its base URL once it answers."""
    with server_process(database_url, workers) as (base_url, _process):
        yield base_url
