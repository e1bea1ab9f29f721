"""What a customer may type at the kiosk for the number on their appointment slip."""

from __future__ import annotations

import pytest

from taboor.kiosk.service import parse_ticket_number


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("A001", ("A", 1)),
        ("a1", ("A", 1)),
        (" A 007 ", ("A", 7)),
        ("A-007", ("A", 7)),
        ("abc123456", ("ABC", 123456)),
        ("A1000", ("A", 1000)),
        ("A٠٠٧", ("A", 7)),  # Arabic-Indic digits
        ("A۰۱۲", ("A", 12)),  # Eastern Arabic-Indic digits
    ],
)
def test_ticket_numbers(typed: str, parsed: tuple[str, int]) -> None:
    assert parse_ticket_number(typed) == parsed


@pytest.mark.parametrize(
    "typed", ["", "7", "A", "A0", "A000", "ABCD1", "A1234567", "1A", "A1B", "Ä1", "A¹"]
)
def test_not_ticket_numbers(typed: str) -> None:
    assert parse_ticket_number(typed) is None
