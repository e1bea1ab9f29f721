"""Identifier shapes (spec §1.5). A malformed id cannot exist, so it is answered like
an unknown one without asking the database."""

from __future__ import annotations

import re

_ENTITY_ID = re.compile(r"[a-z0-9]{10}")
_CUSTOMER_ID = re.compile(r"[0-9a-f]{32}")


def is_entity_id(value: str) -> bool:
    return _ENTITY_ID.fullmatch(value) is not None


def is_customer_id(value: str) -> bool:
    return _CUSTOMER_ID.fullmatch(value) is not None
