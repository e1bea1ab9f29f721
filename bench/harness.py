"""What every benchmark script shares: a Taboor server started as in production, wrk and
pgbench runs with their figures parsed, psql, the walk-in queue's drain, and the peak
memory of a server's processes.

PostgreSQL tools (psql, pgbench) reach the database named by a URL through the libpq
environment (``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGPASSWORD``) built from it, so any
server and user work, not only a local ``postgres``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LUA = BENCH / "booking.lua"
WALK_IN_SQL = BENCH / "pgbench_walk_in.sql"
# The request's API-key check (keys/service.py, its own autocommit query), put in front
# of the walk-in's SQL for the "whole request" run; needs -D key_hash=….
KEY_CHECK_SQL = """\
SELECT api_keys.id, api_keys.company_id, api_keys.kind, companies.default_locale
  FROM api_keys JOIN companies ON companies.id = api_keys.company_id
 WHERE api_keys.key_hash = :key_hash::varchar AND api_keys.revoked_at IS NULL;
"""


def pgbench_scripts(directory: Path) -> dict[str, Path]:
    """The walk-in's SQL as it is, and with the key check in front (after the \\set)."""
    walk_in = WALK_IN_SQL.read_text(encoding="utf-8")
    set_line, _, statements = walk_in.partition("\n\\set tid")[2].partition("\n")
    request = directory / "pgbench_walk_in_request.sql"
    request.write_text(f"\\set tid{set_line}\n{KEY_CHECK_SQL}{statements}", encoding="utf-8")
    return {
        "walk-in booking SQL": WALK_IN_SQL,
        "walk-in request SQL, key check included": request,
    }


@dataclass
class Result:
    name: str
    rate: float
    p50_ms: float
    p99_ms: float
    outcome: str
    clients: int = 0
    requests: int = 0
    highest: int = 0  # booking.lua: the highest request number sent (0 without it)

    def row(self) -> str:
        return (
            f"| {self.name} | {self.rate:,.0f} | {self.p50_ms:.1f} | {self.p99_ms:.1f} "
            f"| {self.outcome} |"
        )


def milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(
    name: str,
    url: str,
    key: str | None,
    *,
    clients: int,
    seconds: float,
    lua_args: list[str] | None = None,
) -> Result:
    """``wrk --latency`` with ``clients`` connections on (at most) two threads; with
    ``lua_args``, driven by bench/booking.lua, which also counts the statuses."""
    threads = min(2, clients)
    # --timeout: wrk drops (and leaves out of its latencies) answers slower than this;
    # the default 2 s would cut the tail off an overloaded case's p99.
    command = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{max(1, round(seconds))}s"]
    command += ["--latency", "--timeout", "30s"]
    if key is not None:
        command += ["-H", f"Authorization: Bearer {key}"]
    if lua_args is not None:
        command += ["-s", str(LUA), url, "--", str(threads), *lua_args]
    else:
        command += [url]
    completed = subprocess.run(command, capture_output=True, text=True)
    output = completed.stdout
    if completed.returncode != 0 or "Requests/sec" not in output:
        raise RuntimeError(f"wrk failed for {name}:\n{output}\n{completed.stderr}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = milliseconds(re.search(r"50%\s+([\d.]+\w+)", output).group(1))  # type: ignore[union-attr]
    p99 = milliseconds(re.search(r"99%\s+([\d.]+\w+)", output).group(1))  # type: ignore[union-attr]
    statuses = re.search(r"statuses: (.*)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    outcome = statuses.group(1) if statuses else f"non-2xx={errors.group(1) if errors else 0}"
    if socket_errors:
        outcome += f"; socket errors: {socket_errors.group(1)}"
    # booking.lua shows the first answer of each refused status: what it said goes in.
    for status, body in re.findall(r"^sample (\d+) (.*)$", output, re.MULTILINE):
        outcome += f"; {status}: {_message(body)}"
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    highest = re.search(r"^highest (\d+)$", output, re.MULTILINE)
    return Result(
        name, rate, p50, p99, outcome, clients, requests, int(highest.group(1)) if highest else 0
    )


def _message(body: str) -> str:
    """The ``message`` (and ``error``) of a JSON envelope, else the body's start."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return body[:120]
    if not isinstance(envelope, dict):
        return body[:120]
    error = envelope.get("error")
    return f"{envelope.get('message')}" + (f" ({error})" if error else "")


def libpq_env(url: str) -> dict[str, str]:
    """The environment that points psql and pgbench at the server of ``url``."""
    parsed = make_url(url)
    env = dict(os.environ)
    for variable, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", parsed.port),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
    ):
        if value is not None:
            env[variable] = str(value)
    return env


def with_database(url: str, database: str) -> str:
    """``url`` naming another database of the same server."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def psql(url: str, sql: str, *, check: bool = False) -> str:
    """Run ``sql`` on the database ``url`` names; its output (tuples only)."""
    database = make_url(url).database or "postgres"
    completed = subprocess.run(
        ["psql", "-q", "-X", "-tA", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql],
        capture_output=True,
        text=True,
        env=libpq_env(url),
    )
    if check and completed.returncode != 0:
        raise RuntimeError(f"psql failed: {sql}\n{completed.stderr}")
    return completed.stdout.strip()


def pgbench(
    name: str,
    script: Path,
    url: str,
    variables: dict[str, str],
    *,
    clients: int,
    seconds: float,
) -> Result:
    """pgbench with a per-transaction log, for p50/p99 (pgbench itself reports means).

    More clients than the server has connections to spare would fail: then pgbench runs
    with as many as it has (less 5), and the outcome says so. (Taboor itself never holds
    more than its pools: 20 connections a worker.)"""
    database = make_url(url).database or "postgres"
    spare = int(
        psql(
            url,
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int - count(*)"
            " FROM pg_stat_activity",
            check=True,
        )
    )
    wanted, clients = clients, max(1, min(clients, spare - 5))
    with tempfile.TemporaryDirectory() as scratch:
        command = [
            "pgbench", "-n", "-M", "prepared", f"-c{clients}", f"-j{min(2, clients)}",
            f"-T{max(1, round(seconds))}", "-l", "--log-prefix", f"{scratch}/log",
            "-f", str(script),
        ]  # fmt: skip
        for variable, value in variables.items():
            command += ["-D", f"{variable}={value}"]
        completed = subprocess.run(
            [*command, database], capture_output=True, text=True, env=libpq_env(url)
        )
        if completed.returncode != 0:
            raise RuntimeError(f"pgbench failed:\n{completed.stdout}\n{completed.stderr}")
        latencies = [
            int(line.split()[2]) / 1000
            for log in Path(scratch).glob("log*")
            for line in log.read_text().splitlines()
        ]
    output = completed.stdout
    tps = float(re.search(r"tps = ([\d.]+) \(without", output).group(1))  # type: ignore[union-attr]
    failed = re.search(r"number of failed transactions: (\d+)", output)
    quantiles = statistics.quantiles(latencies, n=100)
    outcome = f"failed={failed.group(1) if failed else 0}"
    if clients < wanted:
        outcome += f"; {clients} connections (all the server had to spare)"
    return Result(name, tps, quantiles[49], quantiles[98], outcome, wanted)


# Counters at work: every 0.2 s the walk-ins waiting for more than a second are served,
# so the queue stays about a second of bookings long (a few hundred tickets) instead of
# growing by thousands, and each booking's queue count stays realistic. Runs alike
# during the HTTP walk-in case and the pgbench runs it is compared with.
DRAIN_SQL = (
    "UPDATE tickets SET status = 'served', serving_at = status_at, status_at = now() "
    "WHERE service_id = '{service}' AND status = 'waiting' "
    "AND queue_at < now() - interval '1 second' \\watch 0.2\n"
)


# Counters at work for call-next: every 0.2 s the tickets called more than a second ago
# at the given counters go back to the queue at their old place (what the staff requeue
# does), so each queue keeps its length through a call-next run instead of emptying.
# The services the counters serve lead the condition, so it is an index lookup a service
# (ix_tickets_service_id_status_status_at): by counter alone it scanned the whole index,
# 35-42 ms five times a second, a sixth of the statement time the case it measures logged.
REQUEUE_SQL = (
    "UPDATE tickets SET status = 'waiting', counter_id = NULL, status_at = now() "
    "WHERE service_id IN (SELECT service_id FROM counter_services "
    "WHERE counter_id IN ({counters})) "
    "AND status = 'called' AND counter_id IN ({counters}) "
    "AND status_at < now() - interval '1 second' \\watch 0.2\n"
)


@contextmanager
def draining(url: str, service: str, enabled: bool = True) -> Iterator[None]:
    """The walk-in queue of ``service`` kept about a second long (``DRAIN_SQL``)."""
    with watching(url, DRAIN_SQL.format(service=service), enabled):
        yield


@contextmanager
def requeueing(url: str, counters: list[str]) -> Iterator[None]:
    """Tickets called at ``counters`` put back in their queues (``REQUEUE_SQL``)."""
    listed = ", ".join(f"'{counter}'" for counter in counters)
    with watching(url, REQUEUE_SQL.format(counters=listed)):
        yield


@contextmanager
def watching(url: str, sql: str, enabled: bool = True) -> Iterator[None]:
    """``sql`` (a psql ``\\watch``) running in the background while the block runs."""
    if not enabled:
        yield
        return
    process = subprocess.Popen(
        ["psql", "-q", "-X", "-d", make_url(url).database or "postgres"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env=libpq_env(url),
    )
    assert process.stdin is not None
    process.stdin.write(sql)
    process.stdin.flush()
    try:
        yield
    finally:
        process.terminate()
        process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_answering(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server did not answer within 60 s")
        time.sleep(0.1)


@dataclass
class Server:
    base_url: str
    pid: int
    log: Path


@contextmanager
def serving(
    command: list[str], ready_path: str, log: Path, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """Start a server (``command`` with ``{port}`` filled in), its output to ``log``;
    yield once ``ready_path`` answers 200; stop its whole process group at the end."""
    port = free_port()
    with log.open("ab") as output:
        process = subprocess.Popen(
            [part.format(port=port) for part in command],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(process, base_url + ready_path, log)
        yield Server(base_url, process.pid, log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def taboor_server(url: str, log: Path, workers: int = 2) -> Iterator[Server]:
    """``taboor serve --workers N`` as in production: the server's own defaults (JSON
    logs at info, one access line per request, here written to ``log``), unless the
    caller's environment says otherwise."""
    executable = Path(sys.executable).parent / "taboor"
    command = [str(executable), "--database-url", url, "serve", "--port", "{port}"]
    with serving([*command, "--workers", str(workers)], "/readyz", log) as server:
        yield server


@dataclass(frozen=True)
class ProcessMemory:
    pid: int
    role: str
    peak_rss_mb: float  # VmHWM: the resident set's high-water mark over the process' life
    rss_mb: float


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def process_tree(pid: int) -> list[int]:
    pids, index = [pid], 0
    while index < len(pids):
        pids += _children(pids[index])
        index += 1
    return pids


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_memory(pid: int) -> list[ProcessMemory]:
    """VmHWM and VmRSS of the server's main process and every process under it."""
    memory = []
    for number, process in enumerate(process_tree(pid)):
        try:
            command = Path(f"/proc/{process}/cmdline").read_bytes().replace(b"\0", b" ")
            role = "main" if number == 0 else f"worker {number}"
            if b"resource_tracker" in command:
                role = "multiprocessing resource tracker"
            memory.append(
                ProcessMemory(
                    process, role, _status_mb(process, "VmHWM"), _status_mb(process, "VmRSS")
                )
            )
        except OSError:
            continue
    return memory


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def settle(pid: int, *, idle_share: float = 0.05, longest: float = 15.0) -> None:
    """Wait until the server under ``pid`` is idle (less than ``idle_share`` of a core
    over 0.5 s). wrk stops with requests still in flight; without this the next case's
    first requests would wait behind them."""
    deadline = time.monotonic() + longest
    pids = process_tree(pid)
    before = _cpu_seconds(pids)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        after = _cpu_seconds(pids)
        if after - before < idle_share * 0.5:
            return
        before = after
