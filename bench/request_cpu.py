"""CPU per request, in process: the app called through ASGI in a loop (no server, no
network client), against the bench company that ``booking.py`` seeds. Process CPU time
(not wall time) per request is what a worker spends in Python for it, so the figure is
steady even on a busy machine; ``--profile`` writes a cProfile of the loop.

    TABOOR_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/taboor_bench_booking \\
      .venv/bin/python bench/request_cpu.py --requests 2000

Run ``booking.py`` once first (it seeds the database and the key this reads).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import time
from typing import Any

import msgspec

from taboor.app import create_app
from taboor.db.engine import create_engine
from taboor.keys.service import create_key
from taboor.settings import Settings

COMPANY, GROUP, WALK_IN = "cmp_bench1", "benchgrp01", "benchwalk1"


async def call(app: Any, method: str, path: str, key: str, body: bytes = b"") -> tuple[int, bytes]:
    headers = [
        (b"host", b"bench"),
        (b"authorization", f"Bearer {key}".encode()),
        (b"content-type", b"application/json"),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }
    sent = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", metavar="FILE")
    args = parser.parse_args()
    url = os.environ.get(
        "TABOOR_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/taboor_bench_booking"
    )
    engine = create_engine(url, pool_size=4)
    key = (await create_key(engine, COMPANY, "public", "cpu-bench")).key
    app = create_app(Settings.from_env(), engine=engine)
    booking = msgspec.json.encode({"serviceId": WALK_IN, "groupOfServiceId": GROUP})
    status, body = await call(app, "POST", "/external/v1/tickets/book", key, booking)
    assert status == 201, body
    ticket_id = msgspec.json.decode(body)["data"]["id"]
    cases = {
        "walk-in POST /tickets/book": ("POST", "/external/v1/tickets/book", booking, 201),
        "GET /tickets/{id}": ("GET", f"/external/v1/tickets/{ticket_id}", b"", 200),
    }
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    for name, (method, path, payload, expected) in cases.items():
        for _ in range(100):  # warm up: statement caches, pool
            await call(app, method, path, key, payload)
        if profiler:
            profiler.enable()
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        for _ in range(args.requests):
            status, body = await call(app, method, path, key, payload)
            assert status == expected, body
        cpu = (time.process_time() - started_cpu) / args.requests * 1e6
        wall = (time.perf_counter() - started_wall) / args.requests * 1e6
        if profiler:
            profiler.disable()
        print(f"{name}: {cpu:.0f} µs CPU per request ({wall:.0f} µs wall, one at a time)")
    await engine.dispose()
    if profiler and args.profile:
        profiler.dump_stats(args.profile)
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    asyncio.run(main())
