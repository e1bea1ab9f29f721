"""A small closed-loop HTTP load generator: N clients, each sending its next request as
soon as the previous one answers, for a fixed time. Reports req/s and p50/p99."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import httpx


@dataclass
class LoadResult:
    name: str
    clients: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: Counter[int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        return (
            f"{self.name:<40} clients={self.clients:<4} {self.rate:8.0f} req/s  "
            f"p50={self.p50_ms:7.2f} ms  p99={self.p99_ms:7.2f} ms  statuses={dict(self.statuses)}"
        )


async def run_load(
    name: str,
    base_url: str,
    make_request: Callable[[int], tuple[str, str, dict[str, str]]],
    *,
    clients: int = 32,
    seconds: float = 10.0,
) -> LoadResult:
    """``make_request(i)`` returns (method, path, headers) for the i-th request."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    counter = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal counter
            while time.perf_counter() < deadline:
                counter += 1
                method, path, headers = make_request(counter)
                started = time.perf_counter()
                response = await client.request(method, path, headers=headers)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[response.status_code] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100)
    return LoadResult(
        name, clients, len(latencies), elapsed, quantiles[49], quantiles[98], statuses
    )


def run_wrk(
    name: str, url: str, headers: dict[str, str], *, clients: int = 32, seconds: float = 10.0
) -> str:
    """The same measurement with wrk (Debian package ``wrk``), whose C client does not
    compete with the server for the CPU the way a Python client does."""
    import re
    import shutil
    import subprocess

    if shutil.which("wrk") is None:
        return f"{name:<40} (wrk not installed: apt-get install wrk)"
    command = ["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency"]
    for header, value in headers.items():
        command += ["-H", f"{header}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"50%\s+([\d.]+\w+)", output)
    p99 = re.search(r"99%\s+([\d.]+\w+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return (
        f"{name:<40} clients={clients:<4} {float(rate.group(1)) if rate else 0:8.0f} req/s  "
        f"p50={p50.group(1) if p50 else '?':>9}  p99={p99.group(1) if p99 else '?':>9}  "
        f"non-2xx={errors.group(1) if errors else 0}  (wrk)"
    )
