"""`taboor staff …` on both databases: create (password from stdin or typed twice),
every refusal as one line with exit 1 (usage errors exit 2), list, deactivate,
set-password."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.cli import main
from taboor.db import tables as t
from taboor.db.uow import write_transaction
from taboor.staff.passwords import verify_password
from taboor.staff.sessions import create_session, resolve_session
from tests.cli.test_cli import ok, on_database, taboor
from tests.support import company_file, wipe

STAFF_ID = re.compile(r"^stf_[0-9a-f]{16}$")
PASSWORD = "correct horse battery"


@pytest.fixture
def url(database_url: str, tmp_path: Path) -> Iterator[str]:
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'cli.db'}"
        return
    on_database(database_url, wipe)
    yield database_url


@pytest.fixture
def bank(url: str) -> str:
    ok(taboor(url, "apply", str(company_file("bank"))))
    ok(taboor(url, "apply", str(company_file("rival"))))
    return url


def staff_create(url: str, *args: str, password: str = PASSWORD) -> Result:
    """`staff create ARGS --password-stdin`."""
    return taboor_input(url, f"{password}\n", "staff", "create", *args, "--password-stdin")


def taboor_input(url: str, text: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--database-url", url, *args], input=text)


AGENT = ("--company", "cmp_bank01", "--username", "Amal", "--name", "Amal Haddad")


def users(url: str) -> list[dict[str, Any]]:
    async def read(engine: AsyncEngine) -> list[dict[str, Any]]:
        async with engine.connect() as connection:
            rows = (await connection.execute(select(t.staff_users))).mappings().all()
            assigned = (await connection.execute(select(t.staff_branches))).all()
        return [
            {
                **row,
                "branches": sorted(b for staff_id, b in assigned if staff_id == row["id"]),
            }
            for row in rows
        ]

    return on_database(url, read)


def refused(result: Result, message: str, code: int = 1) -> None:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr == f"error: {message}\n"


# --- create --------------------------------------------------------------------------------


def test_create_with_password_stdin_prints_the_id(bank: str) -> None:
    result = ok(
        staff_create(
            bank, *AGENT, "--role", "agent", "--branch", "zallaq0001", "--branch", "amwaj00001"
        )
    )
    staff_id = result.stdout.strip()
    assert STAFF_ID.match(staff_id), result.stdout
    [user] = users(bank)
    assert (user["id"], user["username"], user["name"]) == (staff_id, "amal", "Amal Haddad")
    assert (user["company_id"], user["role"], user["active"]) == ("cmp_bank01", "agent", True)
    assert user["branches"] == ["amwaj00001", "zallaq0001"]
    assert verify_password(user["password_hash"], PASSWORD)
    assert PASSWORD not in result.output


def test_password_stdin_keeps_spaces_and_drops_only_the_line_end(bank: str) -> None:
    ok(staff_create(bank, *AGENT, "--role", "admin", password="  spaced out  \r"))
    [user] = users(bank)
    assert verify_password(user["password_hash"], "  spaced out  ")


def test_create_prompts_twice_without_echo(bank: str) -> None:
    result = ok(
        taboor_input(
            bank,
            # too short (asked again), then a mismatch (asked again), then agreed
            f"short\n{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n",
            "staff",
            "create",
            *AGENT,
            "--role",
            "admin",
        )
    )
    # Nothing typed is echoed: only the prompts, the two complaints and the id.
    assert result.stdout.splitlines()[:-1] == [
        "Password: ",
        "Error: the password must have at least 8 characters",
        "Password: ",
        "Repeat for confirmation: ",
        "Error: The two entered values do not match.",
        "Password: ",
        "Repeat for confirmation: ",
    ]
    [user] = users(bank)
    assert verify_password(user["password_hash"], PASSWORD)
    assert STAFF_ID.match(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (("--company", "cmp_nobody1"), PASSWORD, "no company 'cmp_nobody1'"),
        (("--branch", "rivalbr001"), PASSWORD, "no branch rivalbr001 in company 'cmp_bank01'"),
        (
            ("--username", "a b"),
            PASSWORD,
            "the username may contain only letters a-z, digits and . _ @ -",
        ),
        (("--username", "ab"), PASSWORD, "the username must have 3 to 64 characters"),
        (("--name", " "), PASSWORD, "the name must have 1 to 120 characters"),
        ((), "short", "the password must have at least 8 characters"),
        ((), "x" * 257, "the password must have at most 256 characters"),
    ],
)
def test_refusals_are_one_line_and_exit_1(
    bank: str, args: tuple[str, ...], password: str, message: str
) -> None:
    base = dict(zip(AGENT[::2], AGENT[1::2], strict=True)) | {"--branch": "zallaq0001"}
    base |= dict(zip(args[::2], args[1::2], strict=True))
    flat = [part for pair in base.items() for part in pair]
    refused(staff_create(bank, *flat, "--role", "agent", password=password), message)
    assert users(bank) == []


def test_an_agent_without_a_branch_is_refused(bank: str) -> None:
    refused(
        staff_create(bank, *AGENT, "--role", "agent"),
        "an agent must be assigned to at least one branch",
    )
    assert users(bank) == []


def test_a_taken_username_is_refused(bank: str) -> None:
    ok(staff_create(bank, *AGENT, "--role", "admin"))
    refused(
        staff_create(
            bank,
            "--company",
            "cmp_rival1",
            "--username",
            "AMAL",
            "--name",
            "Other",
            "--role",
            "admin",
        ),
        "the username 'amal' is already taken",
    )
    assert len(users(bank)) == 1


def test_a_bad_username_is_refused_before_the_password_is_asked(bank: str) -> None:
    result = taboor_input(
        bank,
        "",
        "staff",
        "create",
        *AGENT[:2],
        "--username",
        "no way",
        "--name",
        "X",
        "--role",
        "admin",
    )
    refused(result, "the username may contain only letters a-z, digits and . _ @ -")
    assert "Password" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("--role", "owner"),  # not a role
        (),  # no --role
    ],
)
def test_usage_errors_exit_2(bank: str, args: tuple[str, ...]) -> None:
    result = staff_create(bank, *AGENT, *args)
    assert result.exit_code == 2
    assert users(bank) == []


# --- list ----------------------------------------------------------------------------------


def test_list_is_tab_separated_and_filters_by_company(bank: str) -> None:
    amal = ok(
        staff_create(
            bank, *AGENT, "--role", "agent", "--branch", "zallaq0001", "--branch", "amwaj00001"
        )
    ).stdout.strip()
    boss = ok(
        staff_create(
            bank,
            "--company",
            "cmp_bank01",
            "--username",
            "boss",
            "--name",
            "The Boss",
            "--role",
            "admin",
        )
    ).stdout.strip()
    rival = ok(
        staff_create(
            bank,
            "--company",
            "cmp_rival1",
            "--username",
            "rashid",
            "--name",
            "راشد",
            "--role",
            "agent",
            "--branch",
            "rivalbr001",
        )
    ).stdout.strip()
    ok(taboor(bank, "staff", "deactivate", "boss"))
    header = "id\tcompany\tusername\tname\trole\tbranches\tactive"
    listing = ok(taboor(bank, "staff", "list")).stdout.splitlines()
    assert listing == [
        header,
        f"{amal}\tcmp_bank01\tamal\tAmal Haddad\tagent\tamwaj00001,zallaq0001\tyes",
        f"{boss}\tcmp_bank01\tboss\tThe Boss\tadmin\t\tno",
        f"{rival}\tcmp_rival1\trashid\tراشد\tagent\trivalbr001\tyes",
    ]
    assert ok(taboor(bank, "staff", "list", "--company", "cmp_rival1")).stdout.splitlines() == [
        header,
        listing[3],
    ]
    assert ok(taboor(bank, "staff", "list", "--company", "cmp_nobody1")).stdout == header + "\n"


# --- deactivate, set-password --------------------------------------------------------------


def sessions(url: str, username: str, count: int) -> list[str]:
    async def work(engine: AsyncEngine) -> list[str]:
        now = datetime.now(UTC)
        async with write_transaction(engine) as connection:
            staff_id = await connection.scalar(
                select(t.staff_users.c.id).where(t.staff_users.c.username == username)
            )
            assert staff_id is not None
            return [await create_session(connection, staff_id, now) for _ in range(count)]

    return on_database(url, work)


def live(url: str, token: str) -> bool:
    async def work(engine: AsyncEngine) -> bool:
        async with engine.connect() as connection:
            moment = datetime.now(UTC) + timedelta(seconds=1)
            return await resolve_session(connection, token, moment) is not None

    return on_database(url, work)


def test_deactivate_ends_sessions_and_says_so(bank: str) -> None:
    ok(staff_create(bank, *AGENT, "--role", "admin"))
    tokens = sessions(bank, "amal", 2)
    assert all(live(bank, token) for token in tokens)
    result = ok(taboor(bank, "staff", "deactivate", "AMAL"))
    assert result.stdout == "amal deactivated (2 sessions ended)\n"
    assert not any(live(bank, token) for token in tokens)
    assert users(bank)[0]["active"] is False
    again = ok(taboor(bank, "staff", "deactivate", "amal"))
    assert again.stdout == "amal was already inactive (0 sessions ended)\n"


def test_deactivate_nobody_exits_1(bank: str) -> None:
    refused(taboor(bank, "staff", "deactivate", "ghost"), "no staff user 'ghost'")


def test_set_password_from_stdin_and_by_prompt(bank: str) -> None:
    ok(staff_create(bank, *AGENT, "--role", "admin"))
    [token] = sessions(bank, "amal", 1)
    result = ok(
        taboor_input(bank, "another secret\n", "staff", "set-password", "amal", "--password-stdin")
    )
    assert result.stdout == "password set for amal (1 sessions ended)\n"
    assert verify_password(users(bank)[0]["password_hash"], "another secret")
    assert not live(bank, token)
    ok(taboor_input(bank, "third secret\nthird secret\n", "staff", "set-password", "Amal"))
    assert verify_password(users(bank)[0]["password_hash"], "third secret")
    refused(
        taboor_input(bank, "short\n", "staff", "set-password", "amal", "--password-stdin"),
        "the password must have at least 8 characters",
    )
    refused(
        taboor_input(bank, "long enough\n", "staff", "set-password", "ghost", "--password-stdin"),
        "no staff user 'ghost'",
    )
    assert verify_password(users(bank)[0]["password_hash"], "third secret")
