"""Password hashing: argon2id, verification that never raises, rehash detection, the
dummy hash that makes an unknown username cost a verification, and the length rules."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from taboor.staff import passwords
from taboor.staff.passwords import (
    PasswordRuleError,
    check_password,
    hash_password,
    needs_rehash,
    verify_dummy,
    verify_password,
)


def test_a_hash_is_argon2id_salted_and_never_the_password() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("$argon2id$")
    assert first != second  # a fresh salt each time
    assert "correct horse" not in first


def test_verify_accepts_the_password_and_refuses_others() -> None:
    stored = hash_password("correct horse")
    assert verify_password(stored, "correct horse") is True
    assert verify_password(stored, "correct hors") is False
    assert verify_password(stored, "Correct horse") is False
    assert verify_password(stored, "") is False


@pytest.mark.parametrize("garbage", ["", "not-a-hash", "$argon2id$v=19$m=1,t=1,p=1$broken"])
def test_verify_against_a_broken_hash_is_false_not_an_exception(garbage: str) -> None:
    assert verify_password(garbage, "correct horse") is False


def test_needs_rehash_only_for_other_parameters() -> None:
    assert needs_rehash(hash_password("correct horse")) is False
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    old = weaker.hash("correct horse")
    assert needs_rehash(old) is True
    assert verify_password(old, "correct horse") is True  # old hashes still verify
    assert needs_rehash("not-a-hash") is True


def test_the_dummy_hash_costs_what_a_real_one_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same parameters as today's hashes (so the same time), and it really verifies."""
    dummy = passwords._dummy_hash()
    assert dummy.startswith("$argon2id$")
    assert needs_rehash(dummy) is False
    assert dummy.split("$")[3] == hash_password("x" * 8).split("$")[3]  # m=…,t=…,p=…
    calls: list[tuple[str, str]] = []
    real = passwords.verify_password

    def spy(stored: str, password: str) -> bool:
        calls.append((stored, password))
        return real(stored, password)

    monkeypatch.setattr(passwords, "verify_password", spy)
    verify_dummy("guess")
    assert calls == [(dummy, "guess")]


@pytest.mark.parametrize("password", ["12345678", "x" * 256, "كلمةسر٨حروف", "        "])
def test_passwords_of_8_to_256_characters_are_accepted(password: str) -> None:
    check_password(password)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "at least 8 characters"),
        ("1234567", "at least 8 characters"),
        ("x" * 257, "at most 256 characters"),
    ],
)
def test_passwords_outside_8_to_256_characters_are_refused(password: str, message: str) -> None:
    with pytest.raises(PasswordRuleError, match=message):
        check_password(password)
