"""Field-level validation with the contract's messages (spec §1.3, §1.4, §2).

Validators record at most one message per field and never stop early, so a caller
learns about every bad field in one 422.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import msgspec

from taboor.api.errors import Msg, ValidationFailed
from taboor.api.external_v1.ids import is_customer_id
from taboor.customers.service import Locator


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()
"""The field was not sent (distinct from null, which clears)."""

EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
MOBILE = re.compile(r"\+[0-9]{8,15}")
_json = msgspec.json.Encoder()


class FieldErrors:
    def __init__(self) -> None:
        self.fields: dict[str, Msg] = {}

    def add(self, field: str, key: str, **params: Any) -> None:
        self.fields.setdefault(field, Msg(key, params))

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationFailed(self.fields)


def optional_text(
    body: Mapping[str, Any], field: str, max_length: int, errors: FieldErrors
) -> str | _Unset | None:
    """A string field that null or "" clears; UNSET when absent or invalid."""
    if field not in body:
        return UNSET
    value = body[field]
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.add(field, "validation.string")
        return UNSET
    if len(value) > max_length:
        errors.add(field, "validation.max_length", max=max_length)
        return UNSET
    return value


def optional_email(body: Mapping[str, Any], errors: FieldErrors) -> str | _Unset | None:
    value = optional_text(body, "email", 254, errors)
    if isinstance(value, str) and not EMAIL.fullmatch(value):
        errors.add("email", "validation.email")
        return UNSET
    return value


def optional_mobile(body: Mapping[str, Any], errors: FieldErrors) -> str | _Unset | None:
    value = optional_text(body, "mobile", 16, errors)
    if isinstance(value, str) and not MOBILE.fullmatch(value):
        errors.add("mobile", "validation.mobile")
        return UNSET
    if "mobile" in errors.fields:
        errors.fields["mobile"] = Msg("validation.mobile")
    return value


def optional_metadata(
    body: Mapping[str, Any], errors: FieldErrors, *, max_keys: int = 50, max_bytes: int = 4096
) -> dict[str, Any] | _Unset | None:
    if "metadata" not in body:
        return UNSET
    value = body["metadata"]
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add("metadata", "validation.object")
        return UNSET
    if len(value) > max_keys:
        errors.add("metadata", "validation.metadata_keys", max=max_keys)
        return UNSET
    if len(_json.encode(value)) > max_bytes:
        errors.add("metadata", "validation.metadata_size", max=max_bytes)
        return UNSET
    return value


def query_int(
    query: Mapping[str, str],
    field: str,
    default: int,
    minimum: int,
    maximum: int | None,
    errors: FieldErrors,
) -> int:
    """An integer query parameter; out-of-range values are rejected, never clamped."""
    raw = query.get(field)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"[+-]?[0-9]{1,9}", raw.strip()):
        errors.add(field, "validation.integer")
        return default
    value = int(raw)
    if maximum is not None and not minimum <= value <= maximum:
        errors.add(field, "validation.between", min=minimum, max=maximum)
    elif value < minimum:
        errors.add(field, "validation.min", min=minimum)
    return value


def page_and_limit(query: Mapping[str, str], max_limit: int) -> tuple[int, int]:
    errors = FieldErrors()
    page = query_int(query, "page", 1, 1, None, errors)
    limit = query_int(query, "limit", 10, 1, max_limit, errors)
    errors.raise_if_any()
    return page, limit


def customer_locator(source: Mapping[str, Any]) -> Locator:
    """``id`` or ``externalId`` (id wins); neither → 422 ``error.id``."""
    customer_id = source.get("id")
    external_id = source.get("externalId")
    if customer_id not in (None, ""):
        if not isinstance(customer_id, str):
            raise ValidationFailed({"id": Msg("validation.string")})
        if not is_customer_id(customer_id):
            raise ValidationFailed({"id": Msg("validation.does_not_exist")})
        return Locator("id", customer_id)
    if external_id not in (None, ""):
        if not isinstance(external_id, str):
            raise ValidationFailed({"externalId": Msg("validation.string")})
        return Locator("externalId", external_id)
    raise ValidationFailed({"id": Msg("validation.provide_id")})
