"""What the request middleware costs per request (metrics + JSON access line), measured
in process: the same app answers ``GET /healthz`` (no database) through ASGI in a loop,
with the middleware and without it, rounds alternating; the difference of the best
rounds (CPU time of the process) is the cost. The access line goes to /dev/null (a pipe
to a log collector costs a little more per write). Not a test: timings do not belong in
assertions.

    .venv/bin/python -m tests.ops.overhead                # metrics in process memory
    .venv/bin/python -m tests.ops.overhead --multiprocess  # as `taboor serve` runs them
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from typing import Any

SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/healthz",
    "raw_path": b"/healthz",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"bench")],
    "client": ("127.0.0.1", 1),
    "server": ("bench", 80),
}


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(_message: Any) -> None:
    return None


async def per_request(handler: Any, requests: int) -> float:
    # Process CPU time, not wall time: steadier on a shared machine (bench/request_cpu.py).
    started = time.process_time()
    for _ in range(requests):
        await handler(dict(SCOPE), receive, send)
    return (time.process_time() - started) / requests * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--multiprocess", action="store_true")
    args = parser.parse_args()
    if args.multiprocess:  # before prometheus_client is imported
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="taboor-overhead-")

    from taboor.app import create_app
    from taboor.db.engine import create_engine
    from taboor.settings import Settings

    devnull = open(os.devnull, "w")  # noqa: ASYNC230, SIM115 (once, for the whole run)
    sys.stderr, real_stderr = devnull, sys.stderr
    app = create_app(
        Settings(log_format="json", log_level="info"), engine=create_engine("sqlite://")
    )
    sys.stderr = real_stderr
    observed = app.asgi_handler
    bare = observed.app  # the handler Litestar built, without the middleware

    async def full(handler: Any) -> Any:
        # Through Litestar.__call__ (before_send hooks and all), with the given handler.
        app.asgi_handler = handler
        return app

    with_middleware, without = [], []
    for _ in range(args.rounds):
        with_middleware.append(await per_request(await full(observed), args.requests))
        without.append(await per_request(await full(bare), args.requests))
    best_with, best_without = min(with_middleware), min(without)
    mode = "multiprocess (mmap files)" if args.multiprocess else "in-process"
    print(
        f"GET /healthz, metrics {mode}: {best_without:.1f} µs without the middleware, "
        f"{best_with:.1f} µs with it: {best_with - best_without:.1f} µs per request "
        f"(best of {args.rounds} rounds of {args.requests})"
    )


if __name__ == "__main__":
    asyncio.run(main())
