"""Fixtures of the staff tests."""

from __future__ import annotations

import pytest

from taboor.staff import login as login_module


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every password check ``login`` makes, in order: ("real", password) against a
    user's hash, ("dummy", password) against the dummy hash."""
    seen: list[tuple[str, str]] = []
    real_verify, real_dummy = login_module.verify_password, login_module.verify_dummy

    def verify(stored: str, password: str) -> bool:
        seen.append(("real", password))
        return real_verify(stored, password)

    def dummy(password: str) -> None:
        seen.append(("dummy", password))
        real_dummy(password)

    monkeypatch.setattr(login_module, "verify_password", verify)
    monkeypatch.setattr(login_module, "verify_dummy", dummy)
    return seen
