"""Several `taboor apply` processes at once: one copy of everything, no mixed variants."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.db import tables as t
from taboor.db.engine import WRITE_OPTION
from tests.db.snapshots import BANK_COUNTS, row_counts, snapshot
from tests.support import company_file

PROCESSES = 4
TABOOR = Path(sys.executable).parent / "taboor"


async def run_together(
    engine: AsyncEngine, database_url: str, files: list[Path], gate: str = "branches"
) -> list[subprocess.CompletedProcess[str]]:
    """Run one `taboor apply` per file, released at the same moment.

    The processes start while this test holds a lock they all need (an exclusive lock on
    the ``gate`` table on PostgreSQL, the write lock on SQLite); once all of them wait on
    it, the lock goes and they race for real instead of being staggered by start-up.
    """
    assert TABOOR.exists(), f"no taboor executable next to {sys.executable}"
    async with engine.connect() as connection:
        await connection.execution_options(**{WRITE_OPTION: True})
        async with connection.begin():
            if connection.dialect.name == "postgresql":
                await connection.execute(text(f"LOCK TABLE {gate} IN ACCESS EXCLUSIVE MODE"))
            running = [
                subprocess.Popen(  # noqa: ASYNC220 - starting them is the point; none blocks
                    [str(TABOOR), "--database-url", database_url, "apply", str(file)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for file in files
            ]
            await _wait_until_blocked(connection, gate, len(files), running)
    finished = []
    for process in running:
        stdout, stderr = process.communicate(timeout=180)
        finished.append(
            subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        )
    return finished


async def _wait_until_blocked(
    connection: AsyncConnection, gate: str, count: int, running: list[subprocess.Popen[str]]
) -> None:
    if connection.dialect.name != "postgresql":
        # SQLite has no lock view; start-up takes about a second, the busy timeout is 10 s.
        await asyncio.sleep(3)
        return
    waiting = 0
    for _ in range(300):
        assert all(process.poll() is None for process in running), "a process ended early"
        # A process waits either on the gate or, behind the one that holds the
        # company's apply lock, on that advisory lock: both count as "arrived".
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE NOT granted"
                " AND (relation = CAST(:gate AS regclass) OR locktype = 'advisory')"
            ),
            {"gate": gate},
        )
        if waiting == count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"only {waiting} of {count} processes reached the lock")


def assert_all_succeeded(results: list[subprocess.CompletedProcess[str]]) -> None:
    for result in results:
        assert result.returncode == 0, f"{result.args} failed:\n{result.stdout}\n{result.stderr}"
        assert "applied cmp_bank01:" in result.stdout


def variant(
    tmp_path: Path, label: str, *, group_name: str | None, service_name: str | None
) -> Path:
    """bank.yaml with the Tellers group and/or its Withdrawal service renamed (English)."""
    doc: dict[str, Any] = yaml.safe_load(company_file("bank").read_text(encoding="utf-8"))
    group = doc["branches"][0]["groups"][0]
    service = group["services"][0]
    assert (group["id"], service["id"]) == ("ztellers01", "zwithdraw1")
    if group_name is not None:
        group["name"]["en"] = group_name
    if service_name is not None:
        service["name"]["en"] = service_name
    path = tmp_path / f"bank-{label}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


async def names(engine: AsyncEngine) -> tuple[str, str]:
    """English names of the Tellers group and of the Withdrawal service."""
    async with engine.connect() as connection:
        group = await connection.scalar(
            select(t.service_groups.c.name).where(t.service_groups.c.id == "ztellers01")
        )
        service = await connection.scalar(
            select(t.services.c.name).where(t.services.c.id == "zwithdraw1")
        )
    assert group["ar"] == "الصرافون" and service["ar"] == "سحب"
    return group["en"], service["en"]


async def test_same_file_applied_by_four_processes_at_once(
    engine: AsyncEngine, database_url: str
) -> None:
    """Four simultaneous applies of bank.yaml all succeed and leave one copy of each row."""
    results = await run_together(engine, database_url, [company_file("bank")] * PROCESSES)
    assert_all_succeeded(results)
    assert await row_counts(engine) == BANK_COUNTS
    # And the result is what one apply in-process would have produced.
    before = await snapshot(engine)
    again = await run_together(engine, database_url, [company_file("bank")])
    assert_all_succeeded(again)
    assert "nothing changed" in again[0].stdout
    assert await snapshot(engine) == before


async def test_competing_variants_leave_one_whole_variant(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    """Four processes applying different renames end with one variant's names in both tables."""
    assert_all_succeeded(await run_together(engine, database_url, [company_file("bank")]))
    files = [
        variant(tmp_path, f"v{i}", group_name=f"Tellers v{i}", service_name=f"Withdrawal v{i}")
        for i in range(PROCESSES)
    ]
    results = await run_together(engine, database_url, files)
    assert_all_succeeded(results)
    assert await row_counts(engine) == BANK_COUNTS
    group, service = await names(engine)
    assert (group, service) in {(f"Tellers v{i}", f"Withdrawal v{i}") for i in range(PROCESSES)}


async def test_concurrent_applies_never_mix_two_files(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    """File A renames only the group, file B only the service: the end state is A's or B's."""
    assert_all_succeeded(await run_together(engine, database_url, [company_file("bank")]))
    a = variant(tmp_path, "a", group_name="Tellers A", service_name=None)
    b = variant(tmp_path, "b", group_name=None, service_name="Withdrawal B")
    # counter_services is the last table apply reads: held there, both processes have
    # read every other table and written their one change, and neither has committed.
    gate = "counter_services"
    assert_all_succeeded(await run_together(engine, database_url, [a, b], gate=gate))
    assert await names(engine) in {("Tellers A", "Withdrawal"), ("Tellers", "Withdrawal B")}


async def test_only_one_concurrent_apply_reports_creating_the_company(
    engine: AsyncEngine, database_url: str
) -> None:
    """Of four simultaneous first applies, one creates; the others find the rows there."""
    # Held at the companies table: all of them then look for the company at once.
    files = [company_file("bank")] * PROCESSES
    results = await run_together(engine, database_url, files, gate="companies")
    assert_all_succeeded(results)
    assert sum("company: 1 created" in result.stdout for result in results) == 1
