"""The OpenAPI 3.1 document of External API v1, written from the contract, not generated.

The External API is wire-compatible with an existing product, so its document must describe
the contract (``spec/external-api-v1.md``) exactly — envelopes, every status, the quirks —
rather than whatever a framework infers from handler signatures. It is therefore built by
hand here, from small helpers, with every schema defined once under ``components`` and
referenced with ``$ref``.

Operations that are not served yet stay in the document (an integrator sees the whole
contract) but carry ``"x-taboor-status": "planned"``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from taboor.api.openapi_common import (
    COMPANY_ID_PATTERN,
    JSON,
    array_of,
    customer_id,
    entity_id,
    integer,
    locale_parameter,
    nullable_string,
    object_schema,
    path_parameter,
    ref,
    request_id_header,
    string,
    success_envelope,
    ticket_schemas,
    timestamp,
)

__all__ = ["ALL_OPERATION_IDS", "OPERATION_ROUTES", "build_openapi_document"]

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
SERVER_URL = "/external/v1"

REQUEST_TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3})?Z$"
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MOBILE_PATTERN = r"^\+[0-9]{8,15}$"

PUBLIC_SCHEME = "publicKey"
SECRET_SCHEME = "secretKey"  # noqa: S105 - a scheme name, not a credential

# --------------------------------------------------------------------------------------
# Small builders. Each call returns a fresh dict, so no part of the document is shared.
# The generic ones are in taboor.api.openapi_common, shared with the staff API's document.
# --------------------------------------------------------------------------------------


def _request_time(description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "format": "date-time",
        "pattern": REQUEST_TIME_PATTERN,
        "description": (
            f"{description} ISO-8601 in UTC with a trailing `Z`; milliseconds optional "
            "(`2026-06-23T11:00:00Z` or `2026-06-23T11:00:00.000Z`). Anything else is a 422 "
            "on `time`."
        ),
        "examples": ["2026-06-23T11:00:00.000Z"],
    }


def _code_property() -> dict[str, Any]:
    return string(
        "Stable, unlocalized machine code. Integrators branch on `code`, never on prose. "
        "Known values: `validation_failed`, `not_found`, `not_cancellable`, `slot_full`, "
        "`service_closed`, `no_walk_in`, `time_unavailable`, `duplicate_active`, "
        "`unauthorized`, `method_not_allowed`, `rate_limited`, `internal`, "
        "`idempotency_key_reused`, `idempotency_in_progress`; more may be added.",
        examples=["not_found"],
    )


def _paginated_envelope(item_schema: str) -> dict[str, Any]:
    return {
        "allOf": [
            ref("PaginatedEnvelope"),
            object_schema({"data": array_of(item_schema)}, required=["data"]),
        ]
    }


# --------------------------------------------------------------------------------------
# components/schemas — spec §1.3 and §3
# --------------------------------------------------------------------------------------


def _envelope_schemas() -> dict[str, Any]:
    return {
        "SuccessEnvelope": object_schema(
            {
                "message": string("Localized success message (`X-Locale`)."),
                "data": {
                    "type": ["object", "array", "null"],
                    "description": "The payload; its shape depends on the operation.",
                },
            },
            required=["message", "data"],
            description="Body of every 200/201 response that is not a paginated list.",
        ),
        "PaginatedEnvelope": object_schema(
            {
                "message": string("Localized success message (`X-Locale`)."),
                "data": {"type": "array", "description": "The items of the requested page."},
                "pagination": ref("Pagination"),
            },
            required=["message", "data", "pagination"],
            description="Body of paginated list responses. A page past the end has `data: []`.",
        ),
        "Pagination": object_schema(
            {
                "total": integer("Total number of items.", 0),
                "page": integer("The current page (1-based).", 1),
                "limit": integer("Items per page.", 1),
                "totalPages": integer("Number of pages.", 0),
                "hasNextPage": {"type": "boolean"},
                "hasPrevPage": {"type": "boolean"},
            },
            required=["total", "page", "limit", "totalPages", "hasNextPage", "hasPrevPage"],
        ),
        "ErrorEnvelope": object_schema(
            {
                "message": string("Localized error message.", examples=["Ticket not found."]),
                "error": nullable_string("Localized detail, or null."),
                "code": _code_property(),
            },
            required=["message", "error"],
            description="Body of 400, 404, 409, 429 and 500 responses.",
        ),
        "ValidationErrorEnvelope": object_schema(
            {
                "message": string(
                    "`The given data was invalid.` (localized).",
                    examples=["The given data was invalid."],
                ),
                "error": {
                    "type": "object",
                    "description": (
                        "Each offending field mapped to ONE localized message. Nested fields "
                        "use dotted keys (`location.lat`); body-level problems use `body`."
                    ),
                    "additionalProperties": {"type": "string"},
                    "examples": [{"id": "This value does not exist."}],
                },
                "code": _code_property(),
            },
            required=["message", "error"],
            description="Body of 422 responses.",
        ),
        "AuthErrorEnvelope": object_schema(
            {
                "message": string("`Unauthorized.` (localized).", examples=["Unauthorized."]),
                "error": string(
                    "Reason: `Missing bearer token.`, `Invalid API key.` or "
                    "`A secret key is required for this endpoint.` (localized).",
                    examples=["Invalid API key."],
                ),
                "code": _code_property(),
            },
            required=["message", "error"],
            description="Body of 401 responses.",
        ),
    }


def _catalog_schemas() -> dict[str, Any]:
    return {
        "Location": object_schema(
            {
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lng": {"type": "number", "minimum": -180, "maximum": 180},
            },
            required=["lat", "lng"],
            description="A WGS-84 position; both coordinates are required.",
        ),
        "Branch": object_schema(
            {
                "id": entity_id("Branch id."),
                "name": string("Localized branch name.", examples=["Seef Mall Branch"]),
                "address": string("Localized address; omitted when the branch has none."),
                "location": ref("Location"),
                "timezone": string("IANA time zone of the branch.", examples=["Asia/Bahrain"]),
                "branchStatus": ref("BranchStatus"),
            },
            required=["id", "name", "timezone", "branchStatus"],
        ),
        "BranchStatus": object_schema(
            {
                "isBranchOpen": {
                    "type": "boolean",
                    "description": "Computed live from opening hours and closures, in the "
                    "branch's time zone.",
                }
            },
            required=["isBranchOpen"],
        ),
        "BranchTreeGroup": object_schema(
            {
                "id": entity_id("Group-of-service id."),
                "name": string("Localized group name.", examples=["Teller Services"]),
                "type": string("Always `service`.", enum=["service"]),
                "services": array_of("BranchTreeService"),
            },
            required=["id", "name", "type", "services"],
            description="An active service group with at least one active service.",
        ),
        "BranchTreeService": object_schema(
            {
                "id": entity_id("Service id."),
                "name": string("Localized service name.", examples=["Cash Withdrawal"]),
                "isOpen": {
                    "type": "boolean",
                    "description": "Walk-in tickets can be taken right now (branch open, "
                    "service within its walk-in hours, walk-in enabled).",
                },
                "isAppointment": {
                    "type": "boolean",
                    "description": "Appointment booking is enabled for this service.",
                },
            },
            required=["id", "name", "isOpen", "isAppointment"],
        ),
        "Slot": object_schema(
            {
                "time": timestamp("Start of the slot."),
                "remaining": integer("Places left in this slot (always ≥ 1 here).", 1),
            },
            required=["time", "remaining"],
        ),
    }


def _customer_field_schemas(*, nullable: bool) -> dict[str, Any]:
    build = nullable_string if nullable else string
    metadata: dict[str, Any] = {
        "type": ["object", "null"] if nullable else "object",
        "maxProperties": 50,
        "description": "Free-form object: at most 50 keys and 4 KB as JSON.",
    }
    return {
        "externalId": build("Your own unique id for the customer.", maxLength=64),
        "name": build("Full name.", maxLength=120),
        "email": build("A valid e-mail address.", format="email", maxLength=254),
        "mobile": build(
            "E.164: `+` and 8–15 digits.", pattern=MOBILE_PATTERN, examples=["+97333123456"]
        ),
        "metadata": metadata,
    }


def _customer_schemas() -> dict[str, Any]:
    customer_fields = _customer_field_schemas(nullable=False)
    write_fields = _customer_field_schemas(nullable=True)
    update_fields = _customer_field_schemas(nullable=True)
    update_fields["externalId"]["description"] = (
        "Locates the customer when `id` is absent; when the customer is located by `id`, "
        'sets a new unique external id (`null` or `""` removes it).'
    )
    return {
        "Customer": object_schema(
            {
                "_id": customer_id("Customer id."),
                "externalId": customer_fields["externalId"],
                "companyId": string(
                    "The owning company.", pattern=COMPANY_ID_PATTERN, examples=["cmp_demo01"]
                ),
                "name": customer_fields["name"],
                "email": customer_fields["email"],
                "mobile": customer_fields["mobile"],
                "metadata": customer_fields["metadata"],
                "createdAt": timestamp("Creation time."),
                "updatedAt": timestamp("Last change."),
            },
            required=["_id", "companyId", "createdAt", "updatedAt"],
            description="A customer of the company's directory. Absent fields are omitted, "
            "never null.",
        ),
        "CustomerWriteRequest": object_schema(
            write_fields,
            description="All fields optional. Empty strings and nulls are not stored. A "
            "duplicate `externalId` is a 422 on `externalId` (`This value is already taken.`). "
            "Unknown fields are ignored.",
        ),
        "CustomerUpdateRequest": {
            **object_schema(
                {
                    "id": customer_id("Locates the customer; wins over `externalId`."),
                    **update_fields,
                },
                description="Locate by `id` or `externalId` (`id` wins), then change only "
                'the fields sent; `null` or `""` removes a field; `metadata` replaces the '
                "whole object. Neither locator → 422 `error.id` `Provide id or externalId.`",
            ),
            "anyOf": [{"required": ["id"]}, {"required": ["externalId"]}],
        },
    }


def _request_schemas() -> dict[str, Any]:
    return {
        "BookTicketRequest": object_schema(
            {
                "serviceId": entity_id("The service to book."),
                "groupOfServiceId": entity_id("The service's group (must match)."),
                "time": _request_time(
                    "Appointment start; must be in the future and the start of a free slot. "
                    "Absent: a walk-in ticket."
                ),
                "customerId": customer_id("The customer (required for appointments)."),
                "customerExternalId": string(
                    "The customer by external id; if `customerId` is also sent they must name "
                    "the same customer.",
                    maxLength=64,
                ),
                "options": {
                    "type": "object",
                    "maxProperties": 20,
                    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                    "description": "At most 20 keys with scalar values; stored on the ticket.",
                },
                "location": ref("Location"),
            },
            required=["serviceId", "groupOfServiceId"],
            description="Unknown fields are ignored.",
        ),
        "ChangeTimeRequest": {
            **object_schema(
                {
                    "time": _request_time("The new appointment start; same rules as booking."),
                    "customerId": customer_id("Must be the ticket's customer."),
                    "customerExternalId": string("Must be the ticket's customer.", maxLength=64),
                },
                required=["time"],
                description="`customerId` or `customerExternalId` is required (422 "
                "`error.customerId` otherwise).",
            ),
            "anyOf": [{"required": ["customerId"]}, {"required": ["customerExternalId"]}],
        },
    }


def _response_schemas() -> dict[str, Any]:
    return {
        "BranchListResponse": success_envelope(array_of("Branch")),
        "BranchTreeResponse": success_envelope(array_of("BranchTreeGroup")),
        "SlotListResponse": success_envelope(array_of("Slot")),
        "TicketResponse": success_envelope(ref("Ticket")),
        "TicketPageResponse": _paginated_envelope("Ticket"),
        "CustomerResponse": success_envelope(ref("Customer")),
        "CustomerPageResponse": _paginated_envelope("Customer"),
        "EmptyResponse": success_envelope({"type": "null"}),
        "TicketEventStream": _ticket_event_stream(),
    }


EVENT_STREAM = "text/event-stream"


def _ticket_event_stream() -> dict[str, Any]:
    """A server-sent event stream: OpenAPI 3.1 describes its body as text; the JSON in
    each message's ``data:`` line is the ``TicketEvent`` schema."""
    final = "`served`, `cancelled` or `no_show`"
    return string(
        "Server-sent events. Each message: `id: <event id>` (the resumption point; absent "
        "on a message caused by no ticket event, e.g. a counter opening), `event: ticket`, "
        "`data: <TicketEvent as JSON>`. A comment line `: ping` comes every ~15 s. The "
        f"stream ends after the message with a final status ({final}).",
        contentMediaType=EVENT_STREAM,
        contentSchema=ref("TicketEvent"),
        examples=[
            'retry: 2000\n\nid: 4711\nevent: ticket\ndata: {"ticketId": "k3j9x0p2qa", '
            '"ticketNumber": "Q017", "status": "waiting", "statusAt": '
            '"2026-06-23T11:08:41.000Z", "queueSize": 3, "waitingTime": 15, '
            '"counterId": null}\n\n'
        ],
    )


def _ticket_event_schema() -> dict[str, Any]:
    nullable_int = {"type": ["integer", "null"], "minimum": 0}
    return object_schema(
        {
            "ticketId": entity_id("Ticket id."),
            "ticketNumber": string("As in the Ticket, e.g. `Q017`."),
            "status": string("As in the Ticket; accept unknown values."),
            "statusAt": timestamp("When the status began."),
            "queueSize": {
                **nullable_int,
                "description": "Tickets ahead (while `waiting`), else null.",
            },
            "waitingTime": {
                **nullable_int,
                "description": "Estimated minutes (while `waiting`), else null.",
            },
            "counterId": {
                **nullable_string("The counter it is called to or served at, else null."),
            },
        },
        required=[
            "ticketId",
            "ticketNumber",
            "status",
            "statusAt",
            "queueSize",
            "waitingTime",
            "counterId",
        ],
        description=(
            "One message of a ticket's event stream. A replayed past transition (after "
            "`Last-Event-ID`) has `queueSize`, `waitingTime` and `counterId` null; the "
            "current state follows it."
        ),
    )


def _schemas() -> dict[str, Any]:
    return {
        **_envelope_schemas(),
        **_catalog_schemas(),
        **ticket_schemas(),
        **_customer_schemas(),
        **_request_schemas(),
        **_response_schemas(),
        "TicketEvent": _ticket_event_schema(),
    }


# --------------------------------------------------------------------------------------
# components/parameters, headers, securitySchemes — spec §1.1, §1.2, §1.4, §4
# --------------------------------------------------------------------------------------


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _page_limit(maximum: int) -> dict[str, Any]:
    return _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": maximum, "default": 10},
        f"Items per page, 1–{maximum}. Not an integer or out of range: 422 on `limit` "
        "(rejected, never clamped).",
    )


def _parameters() -> dict[str, Any]:
    return {
        "XLocale": locale_parameter(),
        "IdempotencyKey": {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Optional. The same key with the same body within 24 h replays the "
            "stored response (header `Idempotent-Replayed: true`); the same key with a "
            "different body → 422 `idempotency_key_reused`; a concurrent duplicate still in "
            "flight → 409 `idempotency_in_progress`.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        },
        "Page": _query(
            "page",
            {"type": "integer", "minimum": 1, "default": 1},
            "Page number, ≥ 1. Not an integer or < 1: 422 on `page`. A page past the end "
            "is a 200 with `data: []`.",
        ),
        "CustomerIdQuery": _query(
            "id", customer_id("Customer id."), "Customer id; wins over `externalId`."
        ),
        "CustomerExternalIdQuery": _query(
            "externalId",
            string(maxLength=64),
            "Customer external id; used when `id` is absent.",
        ),
    }


_RATE_LIMIT_SENT = (
    "Sent when the key's company sets rate limits, on every response to a request that "
    "passed the key check (not on 401s, nor on replays of an `Idempotency-Key`)."
)
RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def _headers() -> dict[str, Any]:
    return {
        "XRequestId": request_id_header(),
        "IdempotentReplayed": {
            "description": "`true` when this response is a replay of a stored response for "
            "the same `Idempotency-Key`.",
            "schema": {"type": "string", "enum": ["true"]},
        },
        "RetryAfter": {
            "description": "Whole seconds until a request can succeed again: the end of the "
            "one-minute window of every spent budget (1-60).",
            "schema": {"type": "integer", "minimum": 1, "maximum": 60},
        },
        "RateLimitLimit": {
            "description": _RATE_LIMIT_SENT + " Requests per minute the reported budget "
            "allows (the tighter of the per-key and per-address budgets).",
            "schema": {"type": "integer", "minimum": 1},
        },
        "RateLimitRemaining": {
            "description": _RATE_LIMIT_SENT + " Requests left in the reported budget's "
            "window, this one counted.",
            "schema": {"type": "integer", "minimum": 0},
        },
        "RateLimitReset": {
            "description": _RATE_LIMIT_SENT + " Whole seconds until the reported budget's "
            "window ends (1-60).",
            "schema": {"type": "integer", "minimum": 1, "maximum": 60},
        },
    }


def _security_schemes() -> dict[str, Any]:
    return {
        PUBLIC_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "description": "Public key `pk_…`, safe to ship in a mobile app. Not accepted on "
            "secret-only operations (401).",
        },
        SECRET_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "description": "Secret key `sk_…`, server-to-server only. Accepted everywhere.",
        },
    }


# --------------------------------------------------------------------------------------
# Operations — spec §2
# --------------------------------------------------------------------------------------


class _Op(NamedTuple):
    operation_id: str
    method: str
    path: str
    tag: str
    summary: str
    description: str
    success_status: str
    success_schema: str
    success_message: str
    secret_only: bool = False
    parameters: tuple[dict[str, Any], ...] = ()
    request_body: str | None = None
    bad_request: str | None = None
    not_found: bool = True
    conflict: str | None = None
    success_media: str = JSON


_LOCATE_CUSTOMER = (
    "`id` or `externalId` is required (422 `error.id` `Provide id or externalId.`); `id` "
    "wins when both are sent."
)
_BOOKING_400 = (
    "Booking rule broken: `This service is currently closed.` (code `service_closed`), "
    "`This service does not accept walk-in tickets.` (code `no_walk_in`), `The selected "
    "time is not available.` (code `time_unavailable`), `This time slot is fully booked.` "
    "(code `slot_full`), `You already have an active ticket for this service.` (code "
    "`duplicate_active`)."
)


def _operations() -> tuple[_Op, ...]:
    def ticket_id() -> dict[str, Any]:
        return path_parameter(
            "id",
            entity_id("Ticket id."),
            "Ticket id. Unknown (or another company's): 422 `error.id` `This value does not "
            "exist.`",
        )

    def customer_locators() -> tuple[dict[str, Any], ...]:
        return (
            ref("CustomerIdQuery", "parameters"),
            ref("CustomerExternalIdQuery", "parameters"),
        )

    return (
        _Op(
            operation_id="listBranches",
            method="GET",
            path="/branches",
            tag="Branches",
            summary="List branches",
            description="Every active branch of the company, ordered by name (not paginated).",
            success_status="200",
            success_schema="BranchListResponse",
            success_message="Branches fetched successfully.",
            not_found=False,
        ),
        _Op(
            operation_id="getBranchTree",
            method="GET",
            path="/branches/{branchId}/tree",
            tag="Branches",
            summary="Service groups and services of a branch",
            description=(
                "Active service groups of the branch, each with its active services (a group "
                "with no active service is omitted), ordered by position, then name."
            ),
            success_status="200",
            success_schema="BranchTreeResponse",
            success_message="Branch tree fetched successfully.",
            parameters=(
                path_parameter(
                    "branchId",
                    entity_id("Branch id."),
                    "Branch id. Unknown (or another company's): 422 "
                    "`error.branchId` `This value does not exist.`",
                ),
            ),
        ),
        _Op(
            operation_id="listSlots",
            method="GET",
            path="/services/{id}/slots",
            tag="Tickets",
            summary="Free appointment slots",
            description=(
                "Free slots of a day in ascending time: after now + minimum notice, inside the "
                "booking horizon and opening hours, outside closures, with `remaining ≥ 1`. A "
                "service without appointments → 422 `error.id`."
            ),
            success_status="200",
            success_schema="SlotListResponse",
            success_message="Slots fetched successfully.",
            parameters=(
                path_parameter(
                    "id", entity_id("Service id."), "Service id. Unknown: 422 `error.id`."
                ),
                _query(
                    "date",
                    string(format="date", pattern=DATE_PATTERN),
                    "Day to list, `YYYY-MM-DD`; default today in the branch's time zone. "
                    "Malformed or in the past: 422 `error.date`.",
                ),
            ),
        ),
        _Op(
            operation_id="bookTicket",
            method="POST",
            path="/tickets/book",
            tag="Tickets",
            summary="Book a ticket",
            description=(
                "Without `time`: a walk-in ticket (`Ticket booked successfully.`, status "
                "`waiting`, type `sequential`). With `time`: an appointment (`Appointment booked "
                "successfully.`, status `upcoming`, type `appointment`; a customer is required). "
                "The response is the full Ticket."
            ),
            success_status="201",
            success_schema="TicketResponse",
            success_message="Ticket booked successfully. / Appointment booked successfully.",
            request_body="BookTicketRequest",
            bad_request=_BOOKING_400,
            not_found=False,
        ),
        _Op(
            operation_id="getTicket",
            method="GET",
            path="/tickets/{id}",
            tag="Tickets",
            summary="Fetch a ticket",
            description="The Ticket; cheap enough to poll.",
            success_status="200",
            success_schema="TicketResponse",
            success_message="Ticket fetched successfully.",
            parameters=(ticket_id(),),
        ),
        _Op(
            operation_id="streamTicketEvents",
            method="GET",
            path="/tickets/{id}/events",
            tag="Tickets",
            summary="Follow a ticket (server-sent events)",
            description=(
                "Beyond the original contract (additive). A `text/event-stream` of the "
                "ticket's status, place in the queue (`queueSize`), estimate "
                "(`waitingTime`) and counter: the current state first, then a message "
                "whenever one of them changes (its own moves, and tickets ahead being "
                "called, cancelled or transferred). Ends after a final status. Resume "
                "with `Last-Event-ID` (or `lastEventId`): the ticket's own transitions "
                "after that id come first, then its current state. Errors (401, 422 for "
                "an unknown ticket) are JSON, before the stream starts."
            ),
            success_status="200",
            success_schema="TicketEventStream",
            success_message="The event stream.",
            success_media=EVENT_STREAM,
            parameters=(
                ticket_id(),
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "required": False,
                    "description": "The `id` of the last message received (browsers send "
                    "it when they reconnect).",
                    "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                },
                _query(
                    "lastEventId",
                    {"type": "string", "pattern": "^[0-9]{1,18}$"},
                    "As `Last-Event-ID`, for clients that cannot set headers; the header wins.",
                ),
            ),
        ),
        _Op(
            operation_id="cancelTicket",
            method="POST",
            path="/tickets/{id}/cancel",
            tag="Tickets",
            summary="Cancel a ticket",
            description=(
                "Empty body. Only `waiting` or `upcoming` tickets become `cancelled`; the slot "
                "place is freed at once. Returns the cancelled Ticket."
            ),
            success_status="200",
            success_schema="TicketResponse",
            success_message="Ticket cancelled successfully.",
            parameters=(ticket_id(),),
            conflict="`This ticket can no longer be cancelled.` (code `not_cancellable`)",
        ),
        _Op(
            operation_id="changeTicketTime",
            method="POST",
            path="/tickets/{id}/change-time",
            tag="Tickets",
            summary="Reschedule an appointment",
            description=(
                "Moves an `upcoming` or `waiting` appointment atomically (old place freed and new "
                "one taken together, or nothing changes). Status, `statusAt` and the ticket "
                "number are kept. A walk-in → 422 `error.id` `Only appointment tickets can be "
                "rescheduled.`; another status → 422 `error.id` `This ticket can no longer be "
                "rescheduled.`"
            ),
            success_status="200",
            success_schema="TicketResponse",
            success_message="Ticket updated successfully.",
            parameters=(ticket_id(),),
            request_body="ChangeTimeRequest",
            bad_request=_BOOKING_400,
        ),
        _Op(
            operation_id="createCustomer",
            method="POST",
            path="/customers/create",
            tag="Customers",
            summary="Create a customer",
            description="Creates a directory entry. Secret key only.",
            success_status="201",
            success_schema="CustomerResponse",
            success_message="Customer created successfully.",
            secret_only=True,
            request_body="CustomerWriteRequest",
            not_found=False,
        ),
        _Op(
            operation_id="listCustomers",
            method="GET",
            path="/customers/getAll",
            tag="Customers",
            summary="List customers",
            description="Paginated, newest first. Secret key only.",
            success_status="200",
            success_schema="CustomerPageResponse",
            success_message="Customers fetched successfully.",
            secret_only=True,
            not_found=False,
            parameters=(ref("Page", "parameters"), _page_limit(100)),
        ),
        _Op(
            operation_id="getCustomer",
            method="GET",
            path="/customers/getOne",
            tag="Customers",
            summary="Fetch a customer",
            description=f"{_LOCATE_CUSTOMER} Secret key only.",
            success_status="200",
            success_schema="CustomerResponse",
            success_message="Customer fetched successfully.",
            secret_only=True,
            parameters=customer_locators(),
        ),
        _Op(
            operation_id="updateCustomer",
            method="PUT",
            path="/customers/update",
            tag="Customers",
            summary="Update a customer",
            description=(
                'Only sent fields change; `null` or `""` removes a field; `updatedAt` moves. '
                "Secret key only."
            ),
            success_status="200",
            success_schema="CustomerResponse",
            success_message="Customer updated successfully.",
            secret_only=True,
            request_body="CustomerUpdateRequest",
        ),
        _Op(
            operation_id="deleteCustomer",
            method="DELETE",
            path="/customers/delete",
            tag="Customers",
            summary="Delete a customer",
            description=(
                f"Permanent; the customer's tickets stay with `customer: null`. {_LOCATE_CUSTOMER} "
                "Secret key only."
            ),
            success_status="200",
            success_schema="EmptyResponse",
            success_message="Customer deleted successfully.",
            secret_only=True,
            parameters=customer_locators(),
        ),
        _Op(
            operation_id="listCustomerTickets",
            method="GET",
            path="/customers/tickets",
            tag="Customers",
            summary="A customer's tickets",
            description=f"Full Tickets, newest booking first. {_LOCATE_CUSTOMER}",
            success_status="200",
            success_schema="TicketPageResponse",
            success_message="Customer tickets fetched successfully.",
            parameters=(*customer_locators(), ref("Page", "parameters"), _page_limit(10)),
        ),
    )


def _response(
    description: str,
    schema: str,
    *,
    idempotent: bool,
    counted: bool = True,
    extra_headers: tuple[str, ...] = (),
    media: str = JSON,
) -> dict[str, Any]:
    """``counted``: answered after the key check, so it carries the RateLimit headers
    when the key's company sets limits."""
    headers: dict[str, Any] = {"X-Request-Id": ref("XRequestId", "headers")}
    if idempotent:
        headers["Idempotent-Replayed"] = ref("IdempotentReplayed", "headers")
    for name in (*extra_headers, *(RATE_LIMIT_HEADERS if counted else ())):
        headers[name] = ref(name.replace("-", ""), "headers")
    return {
        "description": description,
        "headers": headers,
        "content": {media: {"schema": ref(schema)}},
    }


def _responses(op: _Op, planned: bool) -> dict[str, Any]:
    writes = op.method in {"POST", "PUT", "DELETE"}

    # Responses an Idempotency-Key replay can reproduce carry `Idempotent-Replayed`; auth
    # failures, rate limiting and crashes are answered before/without the stored response.
    def error(
        description: str,
        schema: str = "ErrorEnvelope",
        *,
        replayable: bool = True,
        counted: bool = True,
    ) -> dict[str, Any]:
        return _response(description, schema, idempotent=writes and replayable, counted=counted)

    responses: dict[str, Any] = {
        op.success_status: _response(
            op.success_message, op.success_schema, idempotent=writes, media=op.success_media
        )
    }
    if op.bad_request:
        responses["400"] = error(op.bad_request)
    responses["401"] = error(
        "Missing or malformed bearer token, unknown or revoked key"
        + (", or a public key on this secret-only operation." if op.secret_only else "."),
        "AuthErrorEnvelope",
        replayable=False,
        counted=False,
    )
    if op.not_found or planned:
        text = "The record vanished between validation and use (race): `… not found.`"
        if planned:
            text = "Planned operation: the server currently answers 404 here."
        responses["404"] = error(text, replayable=not planned, counted=not planned)
    conflicts = [c for c in (op.conflict,) if c]
    if writes:
        conflicts.append(
            "a request with the same `Idempotency-Key` is still in flight "
            "(code `idempotency_in_progress`)"
        )
    if conflicts:
        responses["409"] = error("Conflict: " + "; ".join(conflicts) + ".")
    responses["422"] = error(
        "The given data was invalid: one message per offending field. Unknown ids (or ids of "
        "another company) are reported here as `This value does not exist.`"
        + (
            " Malformed JSON, a non-object body or a wrong Content-Type → `error.body`."
            if op.request_body
            else ""
        )
        + (
            " `Idempotency-Key` reused with a different body → code `idempotency_key_reused`."
            if writes
            else ""
        ),
        "ValidationErrorEnvelope",
    )
    responses["429"] = _response(
        "Over a rate limit of the key's company: requests per minute per API key, or per "
        "client address (code `rate_limited`, message `Too many requests.`). Refused "
        "requests count too. `Retry-After` says when a request can succeed again.",
        "ErrorEnvelope",
        idempotent=False,
        extra_headers=("Retry-After",),
    )
    responses["500"] = error(
        'Unexpected failure; never leaks internals: `{"message": "Something went wrong.", '
        '"error": null, "code": "internal"}`. Quote `X-Request-Id`.',
        replayable=False,
    )
    return responses


def _operation(op: _Op, implemented: frozenset[str]) -> dict[str, Any]:
    planned = op.operation_id not in implemented
    description = op.description
    if planned:
        description = (
            "**Planned** — not implemented yet; the server currently answers 404 for this "
            "route.\n\n" + description
        )
    parameters: list[dict[str, Any]] = [*op.parameters, ref("XLocale", "parameters")]
    if op.method in {"POST", "PUT", "DELETE"}:
        parameters.append(ref("IdempotencyKey", "parameters"))
    security: list[dict[str, list[str]]] = [{SECRET_SCHEME: []}]
    if not op.secret_only:
        security.insert(0, {PUBLIC_SCHEME: []})
    operation: dict[str, Any] = {
        "operationId": op.operation_id,
        "tags": [op.tag],
        "summary": op.summary,
        "description": description,
        "security": security,
        "parameters": parameters,
    }
    if op.request_body:
        operation["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": ref(op.request_body)}},
        }
    operation["responses"] = _responses(op, planned)
    operation["x-taboor-status"] = "planned" if planned else "implemented"
    operation["x-taboor-secret-only"] = op.secret_only
    return operation


_DESCRIPTION = """\
The integrator-facing API of Taboor, wire-compatible with the "External API v1" of the
commercial product it replaces. Operations marked `x-taboor-status: planned` are part of the
contract but not served yet (the server answers 404).

**Authentication.** `Authorization: Bearer <key>`. Public keys (`pk_…`) work on every
operation except the five secret-only customer operations (create, list, fetch one, update,
delete), which need a secret key (`sk_…`). A key sees only its own company: another
company's record is treated exactly like one that does not exist.

**Locale.** `X-Locale: en` (default) or `ar`; `ar-BH` counts as `ar`; empty, absent or
unknown values fall back to `en` — never an error. Messages, error texts and branch, group
and service names are localized (a missing translation falls back to the default-language
name).

**Errors.** Every error body may carry `code`, a stable, unlocalized machine code
(`validation_failed`, `not_found`, `not_cancellable`, `slot_full`, `service_closed`,
`no_walk_in`, `time_unavailable`, `duplicate_active`, `unauthorized`,
`method_not_allowed`, `rate_limited`, `internal`, `idempotency_key_reused`,
`idempotency_in_progress`, …). Branch on `code`, never on the localized prose. A 422 maps
each offending field to one message (nested fields as dotted keys, e.g. `location.lat`).
An id that does not exist — or belongs to another company — is a **422** on that field
(`This value does not exist.`), for path ids too (`error.id`, `error.branchId`); a 404 only
means the record vanished between validation and use. Malformed JSON, a non-object body or a
wrong Content-Type on a body endpoint is a 422 on `error.body`; unknown body fields are
ignored. A 500 never leaks internals. Every response carries `X-Request-Id`.

**Pagination.** `page` ≥ 1 (default 1), `limit` default 10, at most 100 on
`/customers/getAll` and 10 on `/customers/tickets`. Non-integers and out-of-range values
are rejected with a 422 (never clamped); a page past the end is a 200 with `data: []`.

**Times.** Every timestamp in a response is UTC with milliseconds and `Z`
(`2026-06-23T11:08:41.000Z`). An input `time` must be ISO-8601 UTC ending in `Z`
(milliseconds optional). Days, hours and slots are computed in the branch's time zone.

**Additions** (invisible to existing clients): `Idempotency-Key` on POST/PUT/DELETE;
rate limits; CORS for browser apps; a ticket's live event stream
(`GET /tickets/{id}/events`, server-sent events); this document at
`/external/v1/openapi.json` and offline docs at `/external/v1/docs`.

**Rate limits.** A company may limit requests per minute per API key and per client
address. Every request that passes the key check is counted (401s are not), in fixed
one-minute windows starting at a budget's first request, shared by every server process.
Over a budget: 429 (code `rate_limited`) with `Retry-After`. Every counted response
carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds) for the
tighter budget. A company without limits sends none of them.

**CORS.** A company lists the origins of its web apps. A preflight (`OPTIONS` with
`Origin` and `Access-Control-Request-Method`) is answered 204; it carries
`Access-Control-Allow-Origin` (and the allowed methods, headers — `Authorization`,
`Content-Type`, `X-Locale`, `Idempotency-Key`, `X-Request-Id` — and
`Access-Control-Max-Age`) when any company lists the origin, and no CORS headers
otherwise. An actual response carries `Access-Control-Allow-Origin` only when the key's
own company lists the `Origin`, with `Access-Control-Expose-Headers` naming the
`RateLimit-*`, `Retry-After`, `X-Request-Id` and `Idempotent-Replayed` headers; responses
of a company that lists origins carry `Vary: Origin`.
"""


_OPERATIONS = _operations()

ALL_OPERATION_IDS: frozenset[str] = frozenset(op.operation_id for op in _OPERATIONS)
OPERATION_ROUTES: dict[str, tuple[str, str]] = {
    op.operation_id: (op.method, op.path) for op in _OPERATIONS
}


def build_openapi_document(implemented: frozenset[str]) -> dict[str, Any]:
    """Return the complete OpenAPI 3.1 document; ``implemented`` holds served operationIds."""
    paths: dict[str, dict[str, Any]] = {}
    for op in _OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, implemented)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Taboor External API",
            "version": API_VERSION,
            "description": _DESCRIPTION,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": SERVER_URL}],
        "security": [{PUBLIC_SCHEME: []}, {SECRET_SCHEME: []}],
        "tags": [
            {"name": "Branches", "description": "Branches and their services."},
            {"name": "Tickets", "description": "Slots, booking and ticket life cycle."},
            {"name": "Customers", "description": "The company's customer directory."},
        ],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "parameters": _parameters(),
            "headers": _headers(),
            "securitySchemes": _security_schemes(),
        },
    }
