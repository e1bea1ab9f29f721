"""Live-stream test helpers: an SSE reader, the app served over a real socket (an
in-process ASGI transport buffers whole responses, so it cannot stream), and a real
``taboor serve`` whose workers can be told apart."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from litestar import Litestar

from tests.live_server import free_port, server_process


@dataclass
class Message:
    id: int | None
    event: str | None
    data: dict[str, Any] | None
    comments: list[str] = field(default_factory=list)


class SseReader:
    """Reads one stream message by message (comments such as pings are collected in
    ``comments``). A task reads the socket, so a wait that times out loses nothing."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.comments: list[str] = []
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    async def next(self, within: float = 5.0) -> Message | None:
        """The next message; None when the stream has ended."""
        return await asyncio.wait_for(self._queue.get(), within)

    async def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            async for line in self.response.aiter_lines():
                if line == "":
                    if "event" in fields or "data" in fields:
                        await self._queue.put(
                            Message(
                                int(fields["id"]) if "id" in fields else None,
                                fields.get("event"),
                                json.loads(fields["data"]) if "data" in fields else None,
                            )
                        )
                    fields = {}
                elif line.startswith(":"):
                    self.comments.append(line[1:].strip())
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
        except httpx.HTTPError:
            pass
        finally:
            await self._queue.put(None)

    async def ended(self, within: float = 5.0) -> bool:
        """The stream ends within ``within`` seconds (messages before that are skipped)."""
        while (message := await self.next(within)) is not None:
            del message
        return True

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def messages(self, count: int, within: float = 5.0) -> list[Message]:
        found = []
        for _ in range(count):
            message = await self.next(within)
            assert message is not None, f"the stream ended after {found}"
            found.append(message)
        return found

    async def silent_for(self, seconds: float) -> bool:
        """No message within ``seconds`` (the stream stays open)."""
        try:
            message = await self.next(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected message {message}")


@asynccontextmanager
async def stream(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> AsyncIterator[SseReader]:
    async with client.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = SseReader(response)
        try:
            yield reader
        finally:
            await reader.close()


@asynccontextmanager
async def served(app: Litestar) -> AsyncIterator[str]:
    """``app`` on a real socket (uvicorn in this event loop); its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def worker_of(self, client_port: int) -> int | None:
        """The worker process holding the server end of the connection from
        ``client_port`` (Linux /proc)."""
        inode = _server_socket_inode(int(self.base_url.rsplit(":", 1)[1]), client_port)
        for pid in self.worker_pids():
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
                except OSError:
                    continue
        return None


def _server_socket_inode(server_port: int, client_port: int) -> str | None:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        local, remote, inode = parts[1], parts[2], parts[9]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            return inode
    return None


@contextmanager
def taboor_serve(database_url: str, workers: int = 2, **env: str) -> Iterator[Server]:
    """``taboor serve --workers N`` with extra environment; stopped with SIGTERM."""
    with server_process(database_url, workers, env) as (base_url, process):
        yield Server(base_url, process)


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Wait until ``condition()`` holds; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.02)
