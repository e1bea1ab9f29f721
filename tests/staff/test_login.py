"""``login`` on both databases: what a session carries, the one error for every bad
credential, and the rehash of an old-parameter hash."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.db.uow import write_transaction
from taboor.staff.accounts import deactivate_staff
from taboor.staff.login import InvalidCredentialsError, login
from taboor.staff.passwords import needs_rehash, verify_password
from taboor.staff.sessions import SESSION_HOURS, resolve_session
from tests.conftest import CompanyKeys
from tests.staff.helpers import NOW, PASSWORD, WRONG, make_staff, staff_row

ADDRESS = "192.0.2.10"


async def test_a_login_starts_a_session_for_the_user(
    engine: AsyncEngine, bank: CompanyKeys
) -> None:
    staff_id = await make_staff(engine, "amal", branches=("zallaq0001", "amwaj00001"))
    result = await login(engine, "  AMAL ", PASSWORD, ADDRESS, NOW)
    assert result.token.startswith("st_")
    assert result.expires_at == NOW + timedelta(hours=SESSION_HOURS)
    principal = result.staff
    assert (principal.staff_id, principal.username, principal.role) == (staff_id, "amal", "agent")
    assert (principal.company_id, principal.name) == ("cmp_bank01", "Amal Haddad")
    assert principal.branch_ids == {"zallaq0001", "amwaj00001"}
    async with engine.connect() as connection:
        assert await resolve_session(connection, result.token, NOW) == principal


async def test_two_logins_give_two_sessions(engine: AsyncEngine, bank: CompanyKeys) -> None:
    await make_staff(engine, "amal")
    first = await login(engine, "amal", PASSWORD, ADDRESS, NOW)
    second = await login(engine, "amal", PASSWORD, ADDRESS, NOW)
    assert first.token != second.token


@pytest.mark.parametrize("case", ["wrong password", "unknown user", "inactive user"])
async def test_every_bad_credential_is_one_error_after_one_password_check(
    engine: AsyncEngine, bank: CompanyKeys, checks: list[tuple[str, str]], case: str
) -> None:
    await make_staff(engine, "amal")
    if case == "inactive user":
        await deactivate_staff(engine, "amal", NOW)
    username, password = {
        "wrong password": ("amal", WRONG),
        "unknown user": ("ghost", PASSWORD),
        "inactive user": ("amal", PASSWORD),  # the right password, and still no
    }[case]
    with pytest.raises(InvalidCredentialsError) as caught:
        await login(engine, username, password, ADDRESS, NOW)
    assert str(caught.value) == ""
    assert checks == [("dummy" if case == "unknown user" else "real", password)]


async def test_a_hash_with_old_parameters_is_replaced_at_login(
    engine: AsyncEngine, bank: CompanyKeys
) -> None:
    await make_staff(engine, "amal")
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    async with write_transaction(engine) as connection:
        await connection.execute(update(t.staff_users).values(password_hash=old))
    with pytest.raises(InvalidCredentialsError):  # a wrong password changes nothing
        await login(engine, "amal", WRONG, ADDRESS, NOW)
    assert (await staff_row(engine, "amal") or {})["password_hash"] == old

    await login(engine, "amal", PASSWORD, ADDRESS, NOW)
    fresh = str((await staff_row(engine, "amal") or {})["password_hash"])
    assert fresh != old and not needs_rehash(fresh) and verify_password(fresh, PASSWORD)
    await login(engine, "amal", PASSWORD, ADDRESS, NOW)  # and the new hash works
    assert (await staff_row(engine, "amal") or {})["password_hash"] == fresh


async def test_a_current_hash_is_left_alone(engine: AsyncEngine, bank: CompanyKeys) -> None:
    await make_staff(engine, "amal")
    before = (await staff_row(engine, "amal") or {})["password_hash"]
    await login(engine, "amal", PASSWORD, ADDRESS, NOW)
    assert (await staff_row(engine, "amal") or {})["password_hash"] == before
