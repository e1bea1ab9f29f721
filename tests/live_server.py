"""A real Taboor server in separate processes, for tests that attack invariants with
real concurrency (several worker processes, real sockets, a real database)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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


def serve_command(database_url: str, port: int, workers: int) -> list[str]:
    """``taboor serve`` on ``port`` with ``workers`` worker processes."""
    return [
        taboor_executable(),
        "--database-url",
        database_url,
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


@contextmanager
def server_process(
    database_url: str,
    workers: int = 2,
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start ``taboor serve --workers N`` (with ``env`` added to the environment) and
    yield its base URL and process once it answers; SIGTERM at the end. The server's
    output goes to ``log`` (a temporary file by default), never to a pipe: nobody reads
    a pipe while the server runs, and a server logging many errors would stop at its
    first write once the pipe was full."""
    port = free_port()
    with contextlib.ExitStack() as stack:
        if log is None:
            log = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "server.log"
        output = stack.enter_context(log.open("wb"))
        process = subprocess.Popen(
            serve_command(database_url, port, workers),
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "TABOOR_LOG_LEVEL": "warning", **(env or {})},
            start_new_session=True,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_answering(
                process, f"{base_url}/external/v1/openapi.json", output=log.read_text
            )
            yield base_url, process
        finally:
            stop_process_group(process)


def wait_until_answering(
    process: subprocess.Popen[bytes],
    url: str,
    *,
    output: Callable[[], str],
    ready: Callable[[], bool] = lambda: True,
    seconds: float = 30,
) -> None:
    """Poll ``url`` until it answers 200 (once ``ready()`` holds); fail with the
    server's ``output()`` if it exits first, or after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{output()}")
        if ready():
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=1).status_code == 200:
                    return
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not answer within {seconds:.0f} s")
        time.sleep(0.1)


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM to the server's process group (as systemd stops a service), SIGKILL if it
    is still there after ``timeout`` seconds."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def running_server(database_url: str, workers: int = 2) -> Iterator[str]:
    """Start ``taboor serve --workers N`` and yield its base URL once it answers."""
    with server_process(database_url, workers) as (base_url, _process):
        yield base_url
