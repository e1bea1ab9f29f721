"""Staff accounts on both databases: creation and every refusal, the server-wide unique
username (also under concurrent creation), listing, deactivation, password changes."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.db.engine import create_engine
from taboor.db.uow import write_transaction
from taboor.staff import accounts
from taboor.staff.accounts import (
    AgentNeedsBranchError,
    InvalidNameError,
    InvalidRoleError,
    InvalidUsernameError,
    StaffAccountError,
    UnknownBranchError,
    UnknownCompanyError,
    UnknownStaffError,
    UsernameTakenError,
    create_staff,
    deactivate_staff,
    list_staff,
    set_password,
)
from taboor.staff.passwords import PasswordRuleError, verify_password
from taboor.staff.sessions import create_session, resolve_session
from tests.conftest import CompanyKeys
from tests.staff.helpers import NOW, PASSWORD, make_staff, staff_row


async def counts(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as connection:
        users = await connection.scalar(select(func.count()).select_from(t.staff_users))
        assigned = await connection.scalar(select(func.count()).select_from(t.staff_branches))
    return int(users or 0), int(assigned or 0)


async def branches_of(engine: AsyncEngine, staff_id: str) -> list[str]:
    async with engine.connect() as connection:
        return sorted(
            (
                await connection.scalars(
                    select(t.staff_branches.c.branch_id).where(
                        t.staff_branches.c.staff_id == staff_id
                    )
                )
            ).all()
        )


# --- creation ------------------------------------------------------------------------------


async def test_create_an_agent_with_branches(engine: AsyncEngine, bank: CompanyKeys) -> None:
    staff_id = await create_staff(
        engine,
        "cmp_bank01",
        "  Amal.Haddad@Bank ",
        " Amal Haddad ",
        "agent",
        PASSWORD,
        ["amwaj00001", "zallaq0001", "amwaj00001"],
        NOW,
    )
    assert staff_id.startswith("stf_") and len(staff_id) == 20
    row = await staff_row(engine, "amal.haddad@bank")
    assert row is not None
    assert {k: v for k, v in row.items() if k != "password_hash"} == {
        "id": staff_id,
        "company_id": "cmp_bank01",
        "username": "amal.haddad@bank",
        "name": "Amal Haddad",
        "role": "agent",
        "active": True,
        "created_at": NOW,
    }
    stored = str(row["password_hash"])
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert await branches_of(engine, staff_id) == ["amwaj00001", "zallaq0001"]


async def test_an_admin_needs_no_branch(engine: AsyncEngine, bank: CompanyKeys) -> None:
    staff_id = await make_staff(engine, "boss", role="admin", branches=())
    assert await branches_of(engine, staff_id) == []
    assert await counts(engine) == (1, 0)


async def test_ids_differ(engine: AsyncEngine, bank: CompanyKeys) -> None:
    assert await make_staff(engine, "one") != await make_staff(engine, "two")


@pytest.mark.parametrize("username", ["abc", "a" * 64, "a.b_c@d-e", "0123"])
async def test_usernames_that_are_accepted(
    engine: AsyncEngine, bank: CompanyKeys, username: str
) -> None:
    await make_staff(engine, username)
    assert await staff_row(engine, username) is not None


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("ab", "3 to 64 characters"),
        ("   ", "3 to 64 characters"),
        ("a" * 65, "3 to 64 characters"),
        ("amal haddad", "only letters a-z"),
        ("amal+1", "only letters a-z"),
        ("أمل", "only letters a-z"),
        ("amal/x", "only letters a-z"),
    ],
)
async def test_usernames_that_are_refused(
    engine: AsyncEngine, bank: CompanyKeys, username: str, message: str
) -> None:
    with pytest.raises(InvalidUsernameError, match=message):
        await make_staff(engine, username)
    assert await counts(engine) == (0, 0)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"name": "   "}, InvalidNameError, "1 to 120 characters"),
        ({"name": "x" * 121}, InvalidNameError, "1 to 120 characters"),
        ({"role": "owner"}, InvalidRoleError, "admin, agent"),
        ({"branches": ()}, AgentNeedsBranchError, "at least one branch"),
        ({"company_id": "cmp_nobody1"}, UnknownCompanyError, "no company 'cmp_nobody1'"),
        (
            {"branches": ("zallaq0001", "nowhere001")},
            UnknownBranchError,
            "no branch nowhere001 in company 'cmp_bank01'",
        ),
        # A branch of another company is as unknown as one that does not exist.
        (
            {"branches": ("rivalbr001",)},
            UnknownBranchError,
            "no branch rivalbr001 in company 'cmp_bank01'",
        ),
        ({"password": "short"}, PasswordRuleError, "at least 8 characters"),
        ({"password": "x" * 257}, PasswordRuleError, "at most 256 characters"),
    ],
)
async def test_each_refusal_writes_nothing(
    engine: AsyncEngine,
    bank: CompanyKeys,
    rival: CompanyKeys,
    change: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        await make_staff(engine, **change)  # type: ignore[arg-type]
    assert await counts(engine) == (0, 0)


async def test_a_taken_username_is_refused_across_companies_and_case(
    engine: AsyncEngine, bank: CompanyKeys, rival: CompanyKeys
) -> None:
    await make_staff(engine, "amal")
    for company, branch in (("cmp_bank01", "zallaq0001"), ("cmp_rival1", "rivalbr001")):
        with pytest.raises(UsernameTakenError, match="'amal' is already taken"):
            await make_staff(engine, " AMAL", company_id=company, branches=(branch,))
    assert await counts(engine) == (1, 1)


def test_every_account_error_is_one_kind() -> None:
    """The CLI catches StaffAccountError; each refusal above must be one."""
    for error in (
        InvalidUsernameError,
        InvalidNameError,
        InvalidRoleError,
        AgentNeedsBranchError,
        UnknownCompanyError,
        UnknownBranchError,
        UsernameTakenError,
        UnknownStaffError,
    ):
        assert issubclass(error, StaffAccountError)


async def test_concurrent_creations_of_one_username_give_one_user(
    database_url: str, engine: AsyncEngine, bank: CompanyKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twelve creations of one username at once, each on its own connection: exactly
    one wins, every other gets UsernameTakenError (from the UNIQUE constraint: there
    is no look-first), and no branch row of a loser survives."""
    # A fast stand-in for argon2, so the creations reach the database together.
    monkeypatch.setattr(accounts, "hash_password", lambda password: "$fake$" + password)
    contenders = 12
    racing = create_engine(database_url, pool_size=contenders)
    try:
        async with racing.connect() as warm:  # open connections before the start
            await warm.execute(select(1))
        for round_number in range(5):
            results = await asyncio.gather(
                *(
                    create_staff(
                        racing,
                        "cmp_bank01",
                        f"racer{round_number}",
                        f"Racer {n}",
                        "agent",
                        PASSWORD,
                        ["zallaq0001", "amwaj00001"],
                        NOW,
                    )
                    for n in range(contenders)
                ),
                return_exceptions=True,
            )
            kinds = Counter(type(result).__name__ for result in results)
            assert kinds == {"str": 1, "UsernameTakenError": contenders - 1}, results
    finally:
        await racing.dispose()
    assert await counts(engine) == (5, 10)


# --- listing -------------------------------------------------------------------------------


async def test_list_staff_by_company_then_username(
    engine: AsyncEngine, bank: CompanyKeys, rival: CompanyKeys
) -> None:
    zed = await make_staff(engine, "zed", branches=("zallaq0001", "amwaj00001"))
    boss = await make_staff(engine, "boss", role="admin", branches=())
    other = await make_staff(
        engine, "aaron", company_id="cmp_rival1", branches=("rivalbr001",), name="Aaron"
    )
    await deactivate_staff(engine, "zed", NOW)
    everyone = await list_staff(engine)
    assert [(s.company_id, s.username) for s in everyone] == [
        ("cmp_bank01", "boss"),
        ("cmp_bank01", "zed"),
        ("cmp_rival1", "aaron"),
    ]
    by_id = {s.id: s for s in everyone}
    assert by_id[zed].branch_ids == ("amwaj00001", "zallaq0001")
    assert by_id[zed].active is False
    assert (by_id[boss].role, by_id[boss].branch_ids, by_id[boss].active) == ("admin", (), True)
    assert (by_id[other].name, by_id[other].branch_ids) == ("Aaron", ("rivalbr001",))
    assert by_id[other].created_at == NOW
    rival_only = await list_staff(engine, "cmp_rival1")
    assert [s.id for s in rival_only] == [other]
    assert rival_only[0].branch_ids == ("rivalbr001",)
    assert await list_staff(engine, "cmp_nobody1") == []


# --- deactivation and passwords ------------------------------------------------------------


async def sessions_for(engine: AsyncEngine, staff_id: str, n: int) -> list[str]:
    async with write_transaction(engine) as connection:
        return [await create_session(connection, staff_id, NOW) for _ in range(n)]


async def live(engine: AsyncEngine, token: str) -> bool:
    async with engine.connect() as connection:
        return await resolve_session(connection, token, NOW + timedelta(minutes=1)) is not None


async def test_deactivation_ends_the_users_sessions_and_only_theirs(
    engine: AsyncEngine, bank: CompanyKeys
) -> None:
    amal = await make_staff(engine, "amal")
    other = await make_staff(engine, "other")
    amal_tokens = await sessions_for(engine, amal, 2)
    [other_token] = await sessions_for(engine, other, 1)
    done = await deactivate_staff(engine, " Amal ", NOW + timedelta(minutes=1))
    assert (done.staff_id, done.was_active, done.sessions_ended) == (amal, True, 2)
    assert (await staff_row(engine, "amal") or {})["active"] is False
    assert [await live(engine, token) for token in amal_tokens] == [False, False]
    assert await live(engine, other_token)
    async with engine.connect() as connection:
        revoked = (
            await connection.scalars(
                select(t.staff_sessions.c.revoked_at).where(t.staff_sessions.c.staff_id == amal)
            )
        ).all()
    assert revoked == [NOW + timedelta(minutes=1)] * 2

    again = await deactivate_staff(engine, "amal", NOW)
    assert (again.was_active, again.sessions_ended) == (False, 0)


async def test_deactivating_nobody_is_an_error(engine: AsyncEngine, bank: CompanyKeys) -> None:
    with pytest.raises(UnknownStaffError, match="no staff user 'ghost'"):
        await deactivate_staff(engine, "ghost", NOW)


async def test_set_password_replaces_the_hash_and_ends_sessions(
    engine: AsyncEngine, bank: CompanyKeys
) -> None:
    amal = await make_staff(engine, "amal")
    [token] = await sessions_for(engine, amal, 1)
    assert await set_password(engine, "AMAL", "a brand new secret", NOW) == 1
    stored = str((await staff_row(engine, "amal") or {})["password_hash"])
    assert verify_password(stored, "a brand new secret")
    assert not verify_password(stored, PASSWORD)
    assert not await live(engine, token)


async def test_set_password_refusals(engine: AsyncEngine, bank: CompanyKeys) -> None:
    await make_staff(engine, "amal")
    before = (await staff_row(engine, "amal") or {})["password_hash"]
    with pytest.raises(PasswordRuleError):
        await set_password(engine, "amal", "short", NOW)
    with pytest.raises(UnknownStaffError):
        await set_password(engine, "ghost", "long enough secret", NOW)
    assert (await staff_row(engine, "amal") or {})["password_hash"] == before
