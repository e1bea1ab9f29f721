"""Building blocks shared by Taboor's hand-written OpenAPI 3.1 documents (the External
API's and the staff API's).

Each builder returns a fresh dict, so no part of a document is shared with another part
or with the other document. The Ticket schemas live here because both APIs answer the
same Ticket (``taboor.api.external_v1.representations.ticket_json``).
"""

from __future__ import annotations

from typing import Any

JSON = "application/json"

ENTITY_ID_PATTERN = "^[a-z0-9]{10}$"
CUSTOMER_ID_PATTERN = "^[0-9a-f]{32}$"
COMPANY_ID_PATTERN = "^cmp_[a-z0-9]{6,}$"
RESPONSE_TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"
TICKET_NUMBER_PATTERN = "^[A-Z]{1,3}[0-9]{3,}$"
TICKET_STATUSES = ("upcoming", "waiting", "called", "serving", "served", "cancelled", "no_show")


def ref(name: str, kind: str = "schemas") -> dict[str, Any]:
    return {"$ref": f"#/components/{kind}/{name}"}


def string(description: str | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", **extra}
    if description:
        schema["description"] = description
    return schema


def nullable_string(description: str | None = None, **extra: Any) -> dict[str, Any]:
    schema = string(description, **extra)
    schema["type"] = ["string", "null"]
    return schema


def integer(description: str, minimum: int | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "description": description, **extra}
    if minimum is not None:
        schema["minimum"] = minimum
    return schema


def timestamp(description: str, *, nullable: bool = False) -> dict[str, Any]:
    return {
        "type": ["string", "null"] if nullable else "string",
        "format": "date-time",
        "pattern": RESPONSE_TIME_PATTERN,
        "description": (
            f"{description} UTC ISO-8601 with milliseconds and a trailing `Z`, "
            "e.g. `2026-06-23T11:08:41.000Z`."
        ),
        "examples": ["2026-06-23T11:08:41.000Z"],
    }


def entity_id(description: str) -> dict[str, Any]:
    return string(description, pattern=ENTITY_ID_PATTERN, examples=["6fe8fb8b12"])


def customer_id(description: str, *, nullable: bool = False) -> dict[str, Any]:
    build = nullable_string if nullable else string
    example = "9f1c0d2e3b4a59687766554433221100"
    return build(description, pattern=CUSTOMER_ID_PATTERN, examples=[example])


def object_schema(
    properties: dict[str, Any], required: list[str] | None = None, description: str | None = None
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if description:
        schema["description"] = description
    return schema


def array_of(item_schema: str) -> dict[str, Any]:
    return {"type": "array", "items": ref(item_schema)}


def success_envelope(data: dict[str, Any]) -> dict[str, Any]:
    """``{message, data}`` with ``data`` of the given schema."""
    return {
        "allOf": [
            ref("SuccessEnvelope"),
            object_schema({"data": data}, required=["data"]),
        ]
    }


def path_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def locale_parameter() -> dict[str, Any]:
    """The ``X-Locale`` request header (``components/parameters/XLocale``)."""
    return {
        "name": "X-Locale",
        "in": "header",
        "required": False,
        "description": "Response language. `en` (default) or `ar`; a region tag such as "
        "`ar-BH` counts as `ar`; empty, absent or unknown values fall back to `en`.",
        "schema": {"type": "string", "enum": ["en", "ar"], "default": "en"},
    }


def request_id_header() -> dict[str, Any]:
    """The ``X-Request-Id`` response header (``components/headers/XRequestId``)."""
    return {
        "description": "Id of this request, echoed in the server logs. Quote it when "
        "reporting a problem.",
        "schema": {"type": "string"},
    }


def ticket_schemas() -> dict[str, Any]:
    """``NamedEntity``, ``TicketCustomer``, ``TicketStatus`` and ``Ticket``."""
    return {
        "NamedEntity": object_schema(
            {"id": entity_id("Id."), "name": string("Localized name.")},
            required=["id", "name"],
        ),
        "TicketCustomer": object_schema(
            {
                "id": customer_id("Customer id."),
                "name": nullable_string("The customer's name, if known."),
            },
            required=["id"],
        ),
        "TicketStatus": string(
            "`upcoming` → `waiting` → `called` → `serving` → `served`; also `cancelled` and "
            "`no_show`. Open enumeration: clients must accept values not listed here.",
            enum=list(TICKET_STATUSES),
        ),
        "Ticket": object_schema(
            {
                "id": entity_id("Ticket id."),
                "ticketNumber": string(
                    "Service prefix + a number zero-padded to 3 digits, per branch, prefix "
                    "and local day; restarts at 001 each day.",
                    pattern=TICKET_NUMBER_PATTERN,
                    examples=["Q017", "A042", "Q1000"],
                ),
                "status": ref("TicketStatus"),
                "statusAt": timestamp("When the current status began."),
                "type": string(
                    "`sequential` (walk-in) or `appointment`.",
                    enum=["sequential", "appointment"],
                ),
                "time": timestamp("Appointment time; null for walk-in tickets.", nullable=True),
                "branch": ref("NamedEntity"),
                "service": ref("NamedEntity"),
                "groupOfService": ref("NamedEntity"),
                "customer": {
                    "anyOf": [ref("TicketCustomer"), {"type": "null"}],
                    "description": "Null for anonymous tickets and after the customer was deleted.",
                },
                "bookedAt": timestamp("When the ticket was created."),
                "queueSize": integer(
                    "Tickets ahead in the same service queue at the branch. Present only "
                    "while `status` is `waiting`.",
                    0,
                ),
                "waitingTime": integer(
                    "Estimated wait in whole minutes. Present only while `status` is `waiting`.",
                    0,
                ),
            },
            required=[
                "id",
                "ticketNumber",
                "status",
                "statusAt",
                "type",
                "time",
                "branch",
                "service",
                "groupOfService",
                "customer",
                "bookedAt",
            ],
        ),
    }
