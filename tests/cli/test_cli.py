"""The `taboor` command line, run in-process with click's CliRunner on both databases."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.cli import main
from taboor.db import tables as t
from taboor.db.engine import create_engine
from taboor.db.migrate import current_revision, head_revision
from taboor.setup.loader import load_company_file
from taboor.setup.schema import CompanyFileError
from tests.db.snapshots import BANK_COUNTS, empty_counts, row_counts, snapshot
from tests.support import company_file, wipe

T = TypeVar("T")
PUBLIC_KEY = re.compile(r"^pk_[A-Za-z0-9_-]{43}$")
SECRET_KEY = re.compile(r"^sk_[A-Za-z0-9_-]{43}$")


def on_database(url: str, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run ``work`` with a short-lived engine of its own (CLI tests are synchronous)."""

    async def run() -> T:
        engine = create_engine(url, pool_size=1)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture
def url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, unmigrated SQLite file per test, or the PostgreSQL leg's database wiped."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'cli.db'}"
        return
    on_database(database_url, wipe)
    yield database_url


def taboor(url: str | None, *args: str, env: dict[str, str] | None = None) -> Result:
    prefix = ["--database-url", url] if url is not None else []
    return CliRunner().invoke(main, [*prefix, *args], env=env)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result


@pytest.fixture
def migrated(url: str) -> str:
    ok(taboor(url, "migrate"))
    return url


@pytest.fixture
def bank(migrated: str) -> str:
    ok(taboor(migrated, "apply", str(company_file("bank"))))
    return migrated


def create_key(url: str, kind: str = "public", company: str = "cmp_bank01") -> tuple[str, str]:
    """(key id, key text) printed by `keys create`."""
    result = ok(taboor(url, "keys", "create", "--company", company, "--kind", kind))
    first, key = result.stdout.strip().splitlines()
    key_id, printed_kind = first.split()
    assert printed_kind == kind
    return key_id, key


def api_key_rows(url: str) -> list[dict[str, Any]]:
    async def read(engine: AsyncEngine) -> list[dict[str, Any]]:
        async with engine.connect() as connection:
            return [dict(row) for row in (await connection.execute(select(t.api_keys))).mappings()]

    return on_database(url, read)


def normalized(text: str) -> str:
    return " ".join(text.split())


# --- migrate -----------------------------------------------------------------------------


def test_migrate_brings_the_database_to_head(url: str) -> None:
    """`taboor migrate` creates the schema at the newest revision, and can run again."""
    result = ok(taboor(url, "migrate"))
    assert "database is up to date" in result.stdout
    assert on_database(url, current_revision) == head_revision()
    assert on_database(url, row_counts) == empty_counts()
    ok(taboor(url, "migrate"))
    assert on_database(url, current_revision) == head_revision()


# --- apply -------------------------------------------------------------------------------


def test_apply_of_a_bad_file_lists_every_problem_and_writes_nothing(migrated: str) -> None:
    """A bad file exits 1, prints each problem with its path on stderr, writes no row."""
    with pytest.raises(CompanyFileError) as caught:
        load_company_file(company_file("broken"))
    problems = caught.value.problems
    assert len(problems) > 15
    result = taboor(migrated, "apply", str(company_file("broken")))
    assert result.exit_code == 1
    assert "applied" not in result.stdout
    stderr = normalized(result.stderr)
    assert f"rejected ({len(problems)} problems); nothing was written" in stderr
    for problem in problems:
        assert normalized(f"{problem.path}: {problem.message}") in stderr
    assert on_database(migrated, row_counts) == empty_counts()


def test_each_problem_is_printed_on_one_line(migrated: str) -> None:
    """Every problem is one whole 'path: message' line, so the output can be grepped."""
    with pytest.raises(CompanyFileError) as caught:
        load_company_file(company_file("broken"))
    result = taboor(migrated, "apply", str(company_file("broken")))
    lines = [line.strip() for line in result.stderr.splitlines()]
    for problem in caught.value.problems:
        assert str(problem) in lines


def test_apply_of_an_id_owned_by_another_company_exits_1_and_writes_nothing(
    bank: str, tmp_path: Path
) -> None:
    """A valid file whose branch id is the bank's is refused whole by the database check."""
    doc = yaml.safe_load(company_file("rival").read_text(encoding="utf-8"))
    doc["branches"][0]["id"] = "zallaq0001"
    path = tmp_path / "thief.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    before = on_database(bank, snapshot)
    result = taboor(bank, "apply", str(path))
    assert result.exit_code == 1
    assert "branch: id zallaq0001 belongs to another company" in result.stderr
    assert on_database(bank, snapshot) == before


def test_apply_twice_says_nothing_changed(migrated: str) -> None:
    """The first apply creates the rows; the second prints 'nothing changed'."""
    first = ok(taboor(migrated, "apply", str(company_file("bank"))))
    assert "applied cmp_bank01:" in first.stdout
    assert "company: 1 created" in first.stdout
    assert "services: 9 created" in first.stdout
    assert "nothing changed" not in first.stdout
    before = on_database(migrated, snapshot)
    second = ok(taboor(migrated, "apply", str(company_file("bank"))))
    assert second.stdout.splitlines() == ["applied cmp_bank01:", "  nothing changed"]
    assert on_database(migrated, snapshot) == before
    assert on_database(migrated, row_counts) == BANK_COUNTS


def test_apply_migrates_a_fresh_database_first(url: str) -> None:
    """`apply` on a database nobody migrated brings the schema up and applies."""
    ok(taboor(url, "apply", str(company_file("bank"))))
    assert on_database(url, current_revision) == head_revision()
    assert on_database(url, row_counts) == BANK_COUNTS


def test_apply_of_a_missing_file_is_a_usage_error(migrated: str, tmp_path: Path) -> None:
    """A file that does not exist is refused by click (exit 2) before anything runs."""
    result = taboor(migrated, "apply", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


# --- keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "shape"), [("public", PUBLIC_KEY), ("secret", SECRET_KEY)])
def test_keys_create_prints_a_key_and_stores_only_its_hash(
    bank: str, kind: str, shape: re.Pattern[str]
) -> None:
    """The printed key has the spec's shape; the row keeps its SHA-256 and nowhere its text."""
    key_id, key = create_key(bank, kind)
    assert shape.match(key), key
    [row] = api_key_rows(bank)
    assert row["id"] == key_id
    assert (row["company_id"], row["kind"], row["revoked_at"]) == ("cmp_bank01", kind, None)
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    every_value = [
        str(value)
        for rows in on_database(bank, snapshot).values()
        for r in rows
        for value in r.values()
    ]
    assert not any(key in value for value in every_value)
    assert not any(key[3:] in value for value in every_value)  # not even without its prefix


def test_keys_create_gives_distinct_keys(bank: str) -> None:
    """Two keys created in a row differ in id, text and hash."""
    first, second = create_key(bank), create_key(bank)
    assert first[0] != second[0] and first[1] != second[1]
    assert len({row["key_hash"] for row in api_key_rows(bank)}) == 2


def test_keys_create_for_an_unknown_company_exits_1(bank: str) -> None:
    """No key is made for a company that does not exist."""
    result = taboor(bank, "keys", "create", "--company", "cmp_nobody1", "--kind", "public")
    assert result.exit_code == 1
    assert "no company 'cmp_nobody1'" in result.stderr
    assert not PUBLIC_KEY.search(result.stdout)
    assert api_key_rows(bank) == []


def test_keys_create_rejects_an_unknown_kind(bank: str) -> None:
    """--kind admin is a usage error."""
    result = taboor(bank, "keys", "create", "--company", "cmp_bank01", "--kind", "admin")
    assert result.exit_code == 2
    assert api_key_rows(bank) == []


def test_keys_list_never_prints_key_text(bank: str) -> None:
    """`keys list` shows each key's hint but never the key itself."""
    _, public = create_key(bank, "public")
    _, secret = create_key(bank, "secret")
    result = ok(taboor(bank, "keys", "list"))
    output = result.stdout + result.stderr
    for key in (public, secret):
        assert key not in output
        assert key[3:20] not in output
        assert key[:7] in output  # the hint
    assert "public" in output and "secret" in output


def test_keys_list_shows_whole_key_ids(bank: str) -> None:
    """The id printed by `keys list` is the whole id that `keys revoke` takes."""
    key_id, _ = create_key(bank)
    result = ok(taboor(bank, "keys", "list"))
    assert key_id in result.stdout


def test_keys_revoke_works_once(bank: str) -> None:
    """Revoking stamps revoked_at; revoking again, or an unknown id, exits 1."""
    key_id, _ = create_key(bank)
    other_id, _ = create_key(bank, "secret")
    result = ok(taboor(bank, "keys", "revoke", key_id))
    assert f"revoked {key_id}" in result.stdout
    rows = {row["id"]: row for row in api_key_rows(bank)}
    assert rows[key_id]["revoked_at"] is not None
    assert rows[other_id]["revoked_at"] is None
    again = taboor(bank, "keys", "revoke", key_id)
    assert again.exit_code == 1
    assert f"no active key '{key_id}'" in again.stderr
    assert {row["id"]: row for row in api_key_rows(bank)}[key_id] == rows[key_id]
    assert taboor(bank, "keys", "revoke", "key_0000000000000000").exit_code == 1


# --- choosing the database ---------------------------------------------------------------


def test_database_url_from_the_environment(migrated: str) -> None:
    """TABOOR_DATABASE_URL alone selects the database."""
    ok(taboor(None, "apply", str(company_file("bank")), env={"TABOOR_DATABASE_URL": migrated}))
    assert on_database(migrated, row_counts) == BANK_COUNTS
    key_id, _ = create_key(migrated)
    listed = ok(taboor(None, "keys", "list", env={"TABOOR_DATABASE_URL": migrated}))
    assert "public" in listed.stdout
    ok(taboor(None, "keys", "revoke", key_id, env={"TABOOR_DATABASE_URL": migrated}))


def test_database_url_option_beats_the_environment(migrated: str, tmp_path: Path) -> None:
    """--database-url wins over TABOOR_DATABASE_URL; the other database is not touched."""
    decoy = tmp_path / "decoy.db"
    ok(
        taboor(
            migrated,
            "apply",
            str(company_file("bank")),
            env={"TABOOR_DATABASE_URL": f"sqlite:///{decoy}"},
        )
    )
    assert on_database(migrated, row_counts) == BANK_COUNTS
    assert not decoy.exists()
