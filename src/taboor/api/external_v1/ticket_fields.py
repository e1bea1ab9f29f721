"""Parsing the ticket endpoints' inputs into domain requests, collecting every field
problem into one 422 (spec §2 tickets, slots; §1.5 times)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from taboor.api.external_v1.fields import FieldErrors
from taboor.api.external_v1.ids import is_entity_id
from taboor.tickets.booking import BookingRequest, CustomerRef

# [0-9], not \d, which would also accept Arabic-Indic and other digits.
UTC_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_OPTION_KEYS = 20


def parse_utc_time(raw: object) -> datetime | None:
    """ISO-8601 UTC with a trailing ``Z``; milliseconds optional. None when malformed."""
    if not isinstance(raw, str) or not UTC_TIME.fullmatch(raw):
        return None
    try:
        return datetime.fromisoformat(raw[:-1]).replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_date(raw: str) -> date | None:
    if not ISO_DATE.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def required_id(body: Mapping[str, Any], field: str, errors: FieldErrors) -> str:
    value = body.get(field)
    if value is None or value == "":
        errors.add(field, "validation.required")
        return ""
    if not isinstance(value, str):
        errors.add(field, "validation.string")
        return ""
    if not is_entity_id(value):
        errors.add(field, "validation.does_not_exist")
    return value


def optional_string(body: Mapping[str, Any], field: str, errors: FieldErrors) -> str | None:
    value = body.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.add(field, "validation.string")
        return None
    return value


def customer_ref(body: Mapping[str, Any], errors: FieldErrors) -> CustomerRef:
    return CustomerRef(
        id=optional_string(body, "customerId", errors),
        external_id=optional_string(body, "customerExternalId", errors),
    )


def booking_time(
    body: Mapping[str, Any], errors: FieldErrors, *, required: bool
) -> datetime | None:
    raw = body.get("time")
    if raw is None:
        if required:
            errors.add("time", "validation.required")
        return None
    parsed = parse_utc_time(raw)
    if parsed is None:
        errors.add("time", "validation.time_format")
    return parsed


def _options(body: Mapping[str, Any], errors: FieldErrors) -> dict[str, Any] | None:
    value = body.get("options")
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add("options", "validation.object")
        return None
    if len(value) > MAX_OPTION_KEYS:
        errors.add("options", "validation.options_keys", max=MAX_OPTION_KEYS)
        return None
    if not all(
        item is None or isinstance(item, str | int | float | bool) for item in value.values()
    ):
        errors.add("options", "validation.options_scalar")
        return None
    return value


def _coordinate(
    location: Mapping[str, Any], name: str, bound: int, errors: FieldErrors
) -> float | None:
    field = f"location.{name}"
    value = location.get(name)
    if value is None:
        errors.add(field, "validation.required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.add(field, "validation.number")
        return None
    if not -bound <= value <= bound:
        errors.add(field, "validation.between", min=-bound, max=bound)
        return None
    return float(value)


def _location(body: Mapping[str, Any], errors: FieldErrors) -> tuple[float, float] | None:
    value = body.get("location")
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add("location", "validation.object")
        return None
    lat = _coordinate(value, "lat", 90, errors)
    lng = _coordinate(value, "lng", 180, errors)
    return (lat, lng) if lat is not None and lng is not None else None


def booking_request(body: Mapping[str, Any]) -> BookingRequest:
    errors = FieldErrors()
    request = BookingRequest(
        service_id=required_id(body, "serviceId", errors),
        group_id=required_id(body, "groupOfServiceId", errors),
        time=booking_time(body, errors, required=False),
        customer=customer_ref(body, errors),
        options=_options(body, errors),
        location=_location(body, errors),
    )
    errors.raise_if_any()
    return request
