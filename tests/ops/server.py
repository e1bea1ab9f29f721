"""A real ``taboor serve`` (granian, worker processes) whose output, signals and exit
code the operations tests look at: its stdout and stderr go to files, and the test
stops it itself."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.live_server import free_port, serve_command, wait_until_answering


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    stdout_path: Path
    stderr_path: Path

    def terminate(self) -> None:
        """SIGTERM to the server's process group, as systemd sends it to a service."""
        os.killpg(self.process.pid, signal.SIGTERM)

    def wait(self, timeout: float = 30) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> int:
        self.terminate()
        return self.wait()

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8")


def every_worker_started(server: Server, workers: int) -> bool:
    """Each worker has said it serves. A SIGTERM that reaches a worker still starting up
    is lost by granian (2.x): that worker then serves on until the kill timeout, so a
    test stops the server only once all of them run."""
    log = server.stderr()
    return all(f"Started worker-{number}" in log for number in range(1, workers + 1))


@contextmanager
def serving(
    database_url: str, directory: Path, *, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """``taboor serve --workers N`` on a free port, once it answers ``/healthz``. Killed
    at the end if the test has not stopped it."""
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = directory / "stdout.txt", directory / "stderr.txt"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TABOOR_LOG", "PROMETHEUS_MULTIPROC"))
    }
    environment.update(env or {})
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            serve_command(database_url, port, workers),
            stdout=stdout,
            stderr=stderr,
            env=environment,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", stdout_path, stderr_path)
    try:
        wait_until_answering(
            process,
            f"{server.base_url}/healthz",
            output=lambda: f"{server.stdout()}\n{server.stderr()}",
            ready=lambda: every_worker_started(server, workers),
        )
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
