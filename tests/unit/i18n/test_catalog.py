"""The message catalog: every key in both languages, and every message string of the
External API contract present word for word."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from taboor.i18n import resolve_locale, translate
from taboor.i18n.catalog import MESSAGES, SUPPORTED_LOCALES

SPEC = Path(__file__).resolve().parents[4] / "shared" / "spec" / "external-api-v1.md"
ARABIC = re.compile(r"[\u0600-\u06FF]")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_key_has_english_and_arabic(key: str) -> None:
    texts = MESSAGES[key]
    assert set(texts) == set(SUPPORTED_LOCALES)
    assert texts["en"].strip() and texts["ar"].strip()
    assert ARABIC.search(texts["ar"]), f"{key}: the Arabic text has no Arabic in it"
    assert texts["ar"] != texts["en"]
    # Both languages take the same placeholders, so neither can fail to format.
    assert set(PLACEHOLDER.findall(texts["en"])) == set(PLACEHOLDER.findall(texts["ar"]))


def spec_messages() -> set[str]:
    """Backticked or quoted sentences of the spec: capitalized, ending in a period."""
    text = SPEC.read_text(encoding="utf-8")
    # Endpoint headings carry the success message: ### GET /branches — "Branches …"
    candidates = re.findall(r'— "([^"]+)"', text)
    for snippet in re.findall(r"`([^`]+)`", text):
        # A backticked JSON body: take the strings inside it; else the snippet itself.
        candidates.extend(re.findall(r'"([^"]+)"', snippet) or [snippet])
    return {piece for piece in candidates if re.fullmatch(r"[A-Z][^{}]*\.", piece)}


def test_every_spec_message_is_in_the_catalog() -> None:
    if not SPEC.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SPEC} must exist in CI")
        pytest.skip("the shared spec is not beside this checkout")
    english = {texts["en"] for texts in MESSAGES.values()}
    messages = spec_messages()
    assert len(messages) > 30, "the spec scan found too few messages to be trusted"
    missing = sorted(message for message in messages if message not in english)
    # "...not found." is the spec's pattern for 404 messages, not a literal message.
    assert [m for m in missing if not m.startswith("...")] == []


def test_translate_formats_placeholders_in_both_languages() -> None:
    assert translate("validation.max_length", "en", max=64) == (
        "This field must not be longer than 64 characters."
    )
    assert "64" in translate("validation.max_length", "ar", max=64)


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "en"),
        ("", "en"),
        ("ar", "ar"),
        ("AR-bh", "ar"),
        ("ar_SA", "ar"),
        ("en-US", "en"),
        ("de", "en"),
        ("arabic", "en"),
        (" ar ", "ar"),
        ("ar;q=1", "ar"),
    ],
)
def test_resolve_locale(header: str | None, locale: str) -> None:
    assert resolve_locale(header) == locale
