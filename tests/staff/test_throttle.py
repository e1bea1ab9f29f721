"""Login throttling on both databases, through ``login`` itself: the per-account and
per-address limits, refusal before any password check, the window's reset, what a
success clears, and that the counting statement itself loses nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.db.uow import run_in_transaction
from taboor.staff import throttle
from taboor.staff.login import InvalidCredentialsError, LoginThrottledError, login
from taboor.staff.throttle import DEFAULT_LIMITS, Admission, ThrottleLimits, admit
from tests.conftest import CompanyKeys
from tests.staff.helpers import NOW, PASSWORD, WRONG, failures_of, make_staff

ADDRESS = "192.0.2.10"
OTHER_ADDRESS = "198.51.100.7"


def test_the_default_limits() -> None:
    limits = (DEFAULT_LIMITS.account, DEFAULT_LIMITS.address, DEFAULT_LIMITS.window)
    assert limits == (5, 20, timedelta(minutes=15))


async def test_the_account_limit_refuses_before_any_password_check(
    engine: AsyncEngine, bank: CompanyKeys, checks: list[tuple[str, str]]
) -> None:
    await make_staff(engine, "amal")
    for minute in range(5):
        with pytest.raises(InvalidCredentialsError):
            await login(engine, "amal", WRONG, ADDRESS, NOW + timedelta(minutes=minute))
    assert await failures_of(engine, "account", "amal") == 5
    assert len(checks) == 5

    # Ten minutes after the first failure: five minutes of the window are left.
    with pytest.raises(LoginThrottledError) as refused:
        await login(engine, "amal", WRONG, ADDRESS, NOW + timedelta(minutes=10))
    assert refused.value.retry_after_seconds == 300
    # The right password is refused too, unchecked, from any address.
    with pytest.raises(LoginThrottledError):
        await login(engine, "amal", PASSWORD, OTHER_ADDRESS, NOW + timedelta(minutes=14))
    assert len(checks) == 5
    # Refusals count nowhere: not against the account, not against either address.
    assert await failures_of(engine, "account", "amal") == 5
    assert await failures_of(engine, "address", ADDRESS) == 5
    assert await failures_of(engine, "address", OTHER_ADDRESS) == 0


async def test_the_window_ends_and_counting_starts_again(
    engine: AsyncEngine, bank: CompanyKeys
) -> None:
    await make_staff(engine, "amal")
    for _ in range(5):
        with pytest.raises(InvalidCredentialsError):
            await login(engine, "amal", WRONG, ADDRESS, NOW)
    with pytest.raises(LoginThrottledError) as refused:
        await login(engine, "amal", PASSWORD, ADDRESS, NOW + timedelta(minutes=15, seconds=-1))
    assert refused.value.retry_after_seconds == 1
    later = NOW + timedelta(minutes=15)
    with pytest.raises(InvalidCredentialsError):
        await login(engine, "amal", WRONG, ADDRESS, later)
    assert await failures_of(engine, "account", "amal") == 1
    assert await failures_of(engine, "address", ADDRESS) == 1
    # The new window started at `later`: four more failures fit, the fifth is refused.
    for _ in range(4):
        with pytest.raises(InvalidCredentialsError):
            await login(engine, "amal", WRONG, ADDRESS, later + timedelta(minutes=14))
    with pytest.raises(LoginThrottledError) as refused:
        await login(engine, "amal", PASSWORD, ADDRESS, later + timedelta(minutes=14))
    assert refused.value.retry_after_seconds == 60


async def test_a_success_clears_the_account_but_not_the_address(
    engine: AsyncEngine, bank: CompanyKeys
) -> None:
    await make_staff(engine, "amal")
    for _ in range(4):
        with pytest.raises(InvalidCredentialsError):
            await login(engine, "amal", WRONG, ADDRESS, NOW)
    await login(engine, "amal", PASSWORD, ADDRESS, NOW)
    assert await failures_of(engine, "account", "amal") == 0
    # The address keeps its four failures and is not charged for the success.
    assert await failures_of(engine, "address", ADDRESS) == 4
    # A full budget of five again for the account.
    for _ in range(5):
        with pytest.raises(InvalidCredentialsError):
            await login(engine, "amal", WRONG, ADDRESS, NOW)
    with pytest.raises(LoginThrottledError):
        await login(engine, "amal", PASSWORD, ADDRESS, NOW)
    assert await failures_of(engine, "address", ADDRESS) == 9


async def test_the_address_budget_spans_usernames(
    engine: AsyncEngine, bank: CompanyKeys, checks: list[tuple[str, str]]
) -> None:
    """Spraying one guess at many usernames from one address hits the address limit
    (small limits here; the defaults are asserted above)."""
    limits = ThrottleLimits(account=5, address=4, window=timedelta(minutes=15))
    await make_staff(engine, "amal")
    for username in ("ghost1", "ghost2", "amal", "ghost3"):
        with pytest.raises(InvalidCredentialsError):
            await login(engine, username, WRONG, ADDRESS, NOW, limits=limits)
    with pytest.raises(LoginThrottledError) as refused:
        await login(engine, "amal", PASSWORD, ADDRESS, NOW + timedelta(minutes=3), limits=limits)
    assert refused.value.retry_after_seconds == 12 * 60
    assert len(checks) == 4
    # The refusal charged no account; the same user from elsewhere signs in.
    assert await failures_of(engine, "account", "amal") == 1
    result = await login(engine, "amal", PASSWORD, OTHER_ADDRESS, NOW, limits=limits)
    assert result.staff.username == "amal"


async def test_unknown_and_malformed_usernames_are_counted_like_real_ones(
    engine: AsyncEngine, bank: CompanyKeys, checks: list[tuple[str, str]]
) -> None:
    """An unknown username has an account budget like a real one (so the throttle does
    not tell them apart); a username no account could have counts against the address
    only (it is never stored), and still costs a password check."""
    for _ in range(5):
        with pytest.raises(InvalidCredentialsError):
            await login(engine, "ghost", WRONG, ADDRESS, NOW)
    with pytest.raises(LoginThrottledError):
        await login(engine, "ghost", WRONG, ADDRESS, NOW)
    malformed = "x" * 500
    with pytest.raises(InvalidCredentialsError):
        await login(engine, malformed, WRONG, OTHER_ADDRESS, NOW)
    assert await failures_of(engine, "account", malformed) == 0
    assert await failures_of(engine, "address", OTHER_ADDRESS) == 1
    assert len(checks) == 6


async def test_concurrent_charges_all_count_and_stop_at_the_limit(
    engine: AsyncEngine,
) -> None:
    """Thirty admissions of one account at once (no password involved): exactly the
    limit get through, the counter says exactly that, the rest are refused."""
    limits = ThrottleLimits(account=5, address=1000, window=timedelta(minutes=15))

    async def attempt(n: int) -> bool:
        async def work(connection: AsyncConnection) -> Admission:
            return await admit(connection, "amal", f"10.0.0.{n}", NOW, limits)

        try:
            await run_in_transaction(engine, work)
        except LoginThrottledError:
            return False
        return True

    outcomes = await asyncio.gather(*(attempt(n) for n in range(30)))
    assert outcomes.count(True) == 5
    assert await failures_of(engine, "account", "amal") == 5
    # Refused attempts were rolled back whole: their addresses were not charged.
    charged = [await failures_of(engine, "address", f"10.0.0.{n}") for n in range(30)]
    assert charged == [1 if admitted else 0 for admitted in outcomes]


async def test_retry_after_never_exceeds_the_window(engine: AsyncEngine) -> None:
    """Attempts read the clock before they reach the database, so one that read it
    earlier can find a window started "after" its now; it waits one window at most."""
    limits = ThrottleLimits(account=1, address=10, window=timedelta(minutes=15))

    async def attempt(moment: datetime) -> None:
        async def work(connection: AsyncConnection) -> Admission:
            return await admit(connection, "amal", ADDRESS, moment, limits)

        await run_in_transaction(engine, work)

    await attempt(NOW + timedelta(seconds=2))
    with pytest.raises(LoginThrottledError) as refused:
        await attempt(NOW)
    assert refused.value.retry_after_seconds == 900


async def test_failures_reads_zero_for_a_subject_never_seen(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await throttle.failures(connection, "account", "nobody") == 0
