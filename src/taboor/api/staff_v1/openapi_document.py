"""The OpenAPI 3.1 document of the staff API (``/staff/v1``), written by hand like the
External API's (``taboor.api.external_v1.openapi_document``), from the shared builders of
``taboor.api.openapi_common``, with every schema defined once under ``components``.

It describes what the handlers in this package answer, status by status: the success
envelope ``{message, data}``, the error envelope ``{message, error, code}`` (422: ``error``
maps each field to one message), and per operation exactly the 409 codes and 422 fields
it can give. ``tests/staff_api/test_staff_openapi.py`` drives the real app and checks
every body against this document.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from taboor.api.openapi_common import (
    COMPANY_ID_PATTERN,
    JSON,
    TICKET_NUMBER_PATTERN,
    array_of,
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

__all__ = ["OPERATION_ROUTES", "SERVER_URL", "build_openapi_document"]

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
SERVER_URL = "/staff/v1"

SESSION_SCHEME = "staffSession"
STAFF_ID_PATTERN = "^stf_[0-9a-f]{16}$"
SESSION_TOKEN_PATTERN = "^st_[A-Za-z0-9_-]{43}$"  # noqa: S105 - a pattern, not a credential
PREFIX_PATTERN = "^[A-Z]{1,3}$"
USERNAME_PATTERN = "^[a-z0-9._@-]{3,64}$"

CONFLICT_CODES: dict[str, str] = {
    "invalid_transition": "the ticket's status does not allow this move: `The ticket is "
    "{status}: this action is not allowed.`, with `error` `Current status: {status}.`; "
    "nothing changed",
    "counter_busy": "another staff user holds this counter: `Someone else holds this counter.`",
    "already_holding": "the caller already holds another counter: `You already hold counter "
    "{counterId}: close it first.`",
    "not_holding": "the caller does not hold this counter: `You do not hold this counter: "
    "open it first.`",
    "ticket_at_counter": "a ticket is still called or served at the counter: `Ticket "
    "{ticketId} is still at this counter: finish, requeue or mark it first.`",
    "duplicate_active": "the ticket's customer already has an active ticket for the target "
    "service that day: `The customer already has an active ticket for that service today.`",
}
ERROR_CODES = (
    "unauthorized",
    "forbidden",
    "not_found",
    "validation_failed",
    *CONFLICT_CODES,
    "rate_limited",
    "method_not_allowed",
    "internal",
)

# --------------------------------------------------------------------------------------
# components/schemas
# --------------------------------------------------------------------------------------


def _code_property(codes: tuple[str, ...] | None = None) -> dict[str, Any]:
    if codes is not None:
        return string("Stable, unlocalized machine code.", enum=list(codes))
    return string(
        "Stable, unlocalized machine code: branch on `code`, never on the localized prose. "
        "Values: " + ", ".join(f"`{code}`" for code in ERROR_CODES) + "; more may be added.",
        examples=["not_found"],
    )


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
            description="Body of every 200 response.",
        ),
        "ErrorEnvelope": object_schema(
            {
                "message": string("Localized error message.", examples=["Ticket not found."]),
                "error": nullable_string("Localized detail, or null."),
                "code": _code_property(),
            },
            required=["message", "error", "code"],
            description="Body of 403, 404, 429 and 500 responses.",
        ),
        "ConflictEnvelope": object_schema(
            {
                "message": string(
                    "Localized refusal.",
                    examples=["The ticket is served: this action is not allowed."],
                ),
                "error": nullable_string(
                    "`Current status: {status}.` for `invalid_transition`; null otherwise."
                ),
                "code": _code_property(tuple(CONFLICT_CODES)),
            },
            required=["message", "error", "code"],
            description="Body of 409 responses: the request was understood but refused by "
            "the state of a counter or ticket; nothing changed. Each operation lists the "
            "codes it can give.",
        ),
        "ValidationErrorEnvelope": object_schema(
            {
                "message": string(
                    "`The given data was invalid.` (localized).",
                    examples=["The given data was invalid."],
                ),
                "error": {
                    "type": "object",
                    "description": "Each offending field mapped to ONE localized message; "
                    "body-level problems (not JSON, not an object, wrong Content-Type) "
                    "use `body`.",
                    "additionalProperties": {"type": "string"},
                    "examples": [{"serviceIds": "This field is required."}],
                },
                "code": _code_property(("validation_failed",)),
            },
            required=["message", "error", "code"],
            description="Body of 422 responses.",
        ),
        "AuthErrorEnvelope": object_schema(
            {
                "message": string("`Unauthorized.` (localized).", examples=["Unauthorized."]),
                "error": string(
                    "Reason: `Missing bearer token.`, `Invalid or expired session.` or, on "
                    "login, `Invalid username or password.` (localized).",
                    examples=["Invalid or expired session."],
                ),
                "code": _code_property(("unauthorized",)),
            },
            required=["message", "error", "code"],
            description="Body of 401 responses.",
        ),
    }


def _staff_schemas() -> dict[str, Any]:
    staff_id = string("Staff user id.", pattern=STAFF_ID_PATTERN, examples=["stf_3f9a1c0d2e4b5a69"])
    return {
        "StaffUser": object_schema(
            {
                "id": staff_id,
                "username": string(
                    "Sign-in name, unique on the server.",
                    pattern=USERNAME_PATTERN,
                    examples=["amal"],
                ),
                "name": string("Display name.", examples=["Amal Haddad"]),
                "role": string(
                    "`agent`: works at the assigned branches, at the counter they hold. "
                    "`admin`: works anywhere in the company.",
                    enum=["admin", "agent"],
                ),
                "companyId": string(
                    "The staff user's company.", pattern=COMPANY_ID_PATTERN, examples=["cmp_demo01"]
                ),
                "branchIds": {
                    "type": "array",
                    "items": entity_id("Branch id."),
                    "description": "Branches the user is assigned to, sorted. An admin works "
                    "at every branch of the company whatever this lists.",
                },
            },
            required=["id", "username", "name", "role", "companyId", "branchIds"],
            description="A signed-in staff user.",
        ),
        "StaffSession": object_schema(
            {
                "token": string(
                    "The session token, shown once: send it as `Authorization: Bearer st_…`.",
                    pattern=SESSION_TOKEN_PATTERN,
                ),
                "expiresAt": timestamp("End of the session (12 hours after sign-in)."),
                "staff": ref("StaffUser"),
            },
            required=["token", "expiresAt", "staff"],
        ),
        "LoginRequest": object_schema(
            {
                "username": string(
                    "Sign-in name; case and surrounding spaces do not matter.", minLength=1
                ),
                "password": string("Password.", minLength=1, format="password"),
            },
            required=["username", "password"],
            description="Both required, non-empty strings (422 on the field otherwise). "
            "Unknown fields are ignored.",
        ),
    }


def _admin_schemas() -> dict[str, Any]:
    staff_id = string("Staff user id.", pattern=STAFF_ID_PATTERN)
    key_fields = {
        "id": string("API key id.", pattern="^key_[0-9a-f]{16}$"),
        "kind": string("`public` or `secret` (spec §1.1).", enum=["public", "secret"]),
        "name": nullable_string("A label for people."),
        "hint": string("The key's first characters, to tell keys apart."),
        "createdAt": timestamp("When it was made."),
        "revokedAt": timestamp("When it was revoked; null while it works.", nullable=True),
    }
    key_required = list(key_fields)
    return {
        "StaffAccount": object_schema(
            {
                "id": staff_id,
                "username": string("Sign-in name.", pattern=USERNAME_PATTERN),
                "name": string("Display name."),
                "role": string("`admin` or `agent`.", enum=["admin", "agent"]),
                "active": {"type": "boolean", "description": "False once deactivated."},
                "branchIds": {"type": "array", "items": entity_id("Branch id.")},
                "createdAt": timestamp("When it was made."),
            },
            required=["id", "username", "name", "role", "active", "branchIds", "createdAt"],
            description="A staff user of the company, as an admin manages it.",
        ),
        "ApiKey": object_schema(key_fields, required=key_required),
        "CreatedApiKey": object_schema(
            {**key_fields, "key": string("The key itself, shown this once: keep it.")},
            required=[*key_required, "key"],
        ),
        "CreateStaffRequest": object_schema(
            {
                "username": string("3–64 of a–z 0–9 . _ @ - (lower-cased), unique on the server."),
                "name": string("Display name."),
                "role": string("`admin` or `agent`.", enum=["admin", "agent"]),
                "password": string("8–256 characters.", format="password"),
                "branchIds": {
                    "type": "array",
                    "items": entity_id("Branch id."),
                    "description": "The company's branches an agent works at (at least one).",
                },
            },
            required=["username", "name", "role", "password"],
        ),
        "CreateKeyRequest": object_schema(
            {
                "kind": string("`public` or `secret`.", enum=["public", "secret"]),
                "name": string("An optional label."),
            },
            required=["kind"],
        ),
        "CompanyFileRequest": object_schema(
            {"companyFile": string("The company file (YAML text) of the admin's company.")},
            required=["companyFile"],
        ),
        "CompanyApplied": object_schema(
            {
                "changes": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": {"type": "integer", "minimum": 1},
                    },
                    "description": "Per kind of row, how many were created, updated, "
                    "deactivated or removed; empty when the file changed nothing.",
                }
            },
            required=["changes"],
        ),
    }


def _counter_schemas() -> dict[str, Any]:
    return {
        "StaffBranch": object_schema(
            {
                "id": entity_id("Branch id."),
                "name": string("Localized branch name.", examples=["Hall Branch"]),
                "timezone": string("IANA time zone of the branch.", examples=["Asia/Bahrain"]),
            },
            required=["id", "name", "timezone"],
        ),
        "CounterHolder": object_schema(
            {
                "id": string("Staff user id.", pattern=STAFF_ID_PATTERN),
                "name": string("The holder's display name."),
            },
            required=["id", "name"],
        ),
        "CounterService": object_schema(
            {
                "id": entity_id("Service id."),
                "enabled": {
                    "type": "boolean",
                    "description": "Chosen by the counter's holder (`PUT …/services`): "
                    "call-next takes tickets of enabled services only.",
                },
            },
            required=["id", "enabled"],
            description="A service the company file lets this counter serve.",
        ),
        "Counter": object_schema(
            {
                "id": entity_id("Counter id."),
                "branchId": entity_id("The counter's branch."),
                "name": string("Localized counter name.", examples=["Counter 1"]),
                "position": integer("Order in the branch.", 0),
                "open": {
                    "type": "boolean",
                    "description": "True while a staff user holds the counter.",
                },
                "heldBy": {
                    "anyOf": [ref("CounterHolder"), {"type": "null"}],
                    "description": "Who holds the counter; null when it is closed.",
                },
                "openedAt": timestamp(
                    "When the holder opened it; null when closed.", nullable=True
                ),
                "services": {
                    "type": "array",
                    "items": ref("CounterService"),
                    "description": "The services the counter may serve, by id.",
                },
            },
            required=[
                "id",
                "branchId",
                "name",
                "position",
                "open",
                "heldBy",
                "openedAt",
                "services",
            ],
        ),
        "QueuedTicket": {
            **object_schema(
                {
                    "id": entity_id("Ticket id."),
                    "ticketNumber": string(
                        "As on the Ticket.", pattern=TICKET_NUMBER_PATTERN, examples=["Q017"]
                    ),
                    "status": string(
                        "`waiting` in a service's queue; `called` or `serving` at a counter.",
                        enum=["waiting", "called", "serving"],
                    ),
                    "type": string(
                        "`sequential` (walk-in) or `appointment`.",
                        enum=["sequential", "appointment"],
                    ),
                    "time": timestamp("Appointment time; null for walk-ins.", nullable=True),
                    "queuedAt": timestamp(
                        "The queue key: the appointment time or the booking time (the "
                        "transfer time after a transfer)."
                    ),
                    "statusAt": timestamp("When the current status began."),
                    "serviceId": entity_id("The ticket's service."),
                    "customerName": nullable_string("The customer's name, if known."),
                    "queueSize": integer("Tickets ahead in this queue. Waiting only.", 0),
                    "waitingTime": integer(
                        "Estimated wait in whole minutes, from the recent service times and "
                        "the open counters taking the service. Waiting only.",
                        0,
                    ),
                    "counterId": entity_id("The counter it is at. Called or serving only."),
                },
                required=[
                    "id",
                    "ticketNumber",
                    "status",
                    "type",
                    "time",
                    "queuedAt",
                    "statusAt",
                    "serviceId",
                    "customerName",
                ],
                description="A ticket in the live queue: waiting tickets carry `queueSize` "
                "and `waitingTime`, tickets at a counter carry `counterId`.",
            ),
            "if": {"properties": {"status": {"const": "waiting"}}},
            "then": {"required": ["queueSize", "waitingTime"]},
            "else": {"required": ["counterId"]},
        },
        "ServiceQueue": object_schema(
            {
                "id": entity_id("Service id."),
                "name": string("Localized service name.", examples=["Queue One"]),
                "prefix": string("Walk-in ticket prefix.", pattern=PREFIX_PATTERN),
                "openCounters": integer(
                    "Open counters that have this service enabled (the `c` of the estimate).", 0
                ),
                "waitingCount": integer("Length of `waiting`.", 0),
                "waiting": {
                    "type": "array",
                    "items": ref("QueuedTicket"),
                    "description": "Waiting tickets in queue order (head first).",
                },
            },
            required=["id", "name", "prefix", "openCounters", "waitingCount", "waiting"],
        ),
        "QueueCounter": {
            "allOf": [
                ref("Counter"),
                object_schema(
                    {
                        "current": {
                            "type": "array",
                            "items": ref("QueuedTicket"),
                            "description": "The tickets called or being served at it.",
                        }
                    },
                    required=["current"],
                ),
            ],
            "description": "A counter of the branch and what it is doing now.",
        },
        "BranchQueue": object_schema(
            {
                "branchId": entity_id("The branch."),
                "services": {
                    "type": "array",
                    "items": ref("ServiceQueue"),
                    "description": "Every active service (of an active group) of the "
                    "branch, by group then service position.",
                },
                "counters": {
                    "type": "array",
                    "items": ref("QueueCounter"),
                    "description": "Every counter of the branch, in position order.",
                },
            },
            required=["branchId", "services", "counters"],
        ),
    }


def _today_schemas() -> dict[str, Any]:
    """The counter's day, for the staff console (``GET /counters/{counterId}/today``)."""
    return {
        "TodaysAppointment": object_schema(
            {
                "id": entity_id("Ticket id: check it in with `POST /tickets/{ticketId}/check-in`."),
                "ticketNumber": string(
                    "As on the Ticket.", pattern=TICKET_NUMBER_PATTERN, examples=["A004"]
                ),
                "time": timestamp("The appointment time."),
                "serviceId": entity_id("The appointment's service."),
                "customerName": nullable_string("The customer's name, if known."),
            },
            required=["id", "ticketNumber", "time", "serviceId", "customerName"],
            description="An appointment of today still to be checked in (`upcoming`).",
        ),
        "CounterDay": object_schema(
            {
                "counterId": entity_id("The counter."),
                "day": string(
                    "The branch's local date the figures are for.",
                    format="date",
                    examples=["2026-06-07"],
                ),
                "served": integer("Tickets finished (`served`) at the counter today.", 0),
                "noShows": integer("Tickets marked `no_show` at the counter today.", 0),
                "averageServiceMinutes": {
                    "type": ["number", "null"],
                    "minimum": 0,
                    "description": "Mean real service time (start to finish) of today's "
                    "served tickets, in minutes to one decimal; null before the first.",
                },
                "current": {
                    "type": "array",
                    "items": ref("QueuedTicket"),
                    "description": "The tickets called or being served at the counter now.",
                },
                "appointments": {
                    "type": "array",
                    "items": ref("TodaysAppointment"),
                    "description": "Today's appointments (the branch's local day) of the "
                    "services the counter may serve that are not checked in yet, by time.",
                },
            },
            required=[
                "counterId",
                "day",
                "served",
                "noShows",
                "averageServiceMinutes",
                "current",
                "appointments",
            ],
            description="The counter's day so far: a ticket counts for the counter it "
            "ended at, from the branch's local midnight.",
        ),
    }


def _request_schemas() -> dict[str, Any]:
    return {
        "CounterServicesRequest": object_schema(
            {
                "serviceIds": {
                    "type": "array",
                    "items": entity_id("Service id."),
                    "description": "Exactly the services to take from now on (the others are "
                    "disabled); each must be one the counter may serve. `[]` disables all.",
                }
            },
            required=["serviceIds"],
        ),
        "CallTicketRequest": object_schema(
            {"counterId": entity_id("A counter of the ticket's branch that the caller holds.")},
            required=["counterId"],
        ),
        "TransferTicketRequest": object_schema(
            {
                "serviceId": entity_id(
                    "An active service of the ticket's branch (its own: back of its queue)."
                )
            },
            required=["serviceId"],
        ),
    }


def _response_schemas() -> dict[str, Any]:
    return {
        "LoginResponse": success_envelope(ref("StaffSession")),
        "StaffUserResponse": success_envelope(ref("StaffUser")),
        "StaffBranchListResponse": success_envelope(array_of("StaffBranch")),
        "CounterListResponse": success_envelope(array_of("Counter")),
        "CounterResponse": success_envelope(ref("Counter")),
        "BranchQueueResponse": success_envelope(ref("BranchQueue")),
        "CounterDayResponse": success_envelope(ref("CounterDay")),
        "TicketResponse": success_envelope(ref("Ticket")),
        "CallNextResponse": success_envelope(
            {
                "anyOf": [ref("Ticket"), {"type": "null"}],
                "description": "The called ticket; null when nothing is waiting for the "
                "counter's enabled services.",
            }
        ),
        "EmptyResponse": success_envelope({"type": "null"}),
        "StaffAccountListResponse": success_envelope(array_of("StaffAccount")),
        "StaffAccountResponse": success_envelope(ref("StaffAccount")),
        "ApiKeyListResponse": success_envelope(array_of("ApiKey")),
        "ApiKeyResponse": success_envelope(ref("ApiKey")),
        "CreatedApiKeyResponse": success_envelope(ref("CreatedApiKey")),
        "CompanyAppliedResponse": success_envelope(ref("CompanyApplied")),
    }


def _schemas() -> dict[str, Any]:
    return {
        **_envelope_schemas(),
        **_staff_schemas(),
        **_admin_schemas(),
        **_counter_schemas(),
        **_today_schemas(),
        **ticket_schemas(),
        **_request_schemas(),
        **_response_schemas(),
    }


# --------------------------------------------------------------------------------------
# components/parameters, headers, securitySchemes
# --------------------------------------------------------------------------------------


def _parameters() -> dict[str, Any]:
    unknown = "Unknown, or another company's: 404."
    return {
        "XLocale": locale_parameter(),
        "BranchId": path_parameter("branchId", entity_id("Branch id."), f"Branch id. {unknown}"),
        "CounterId": path_parameter(
            "counterId", entity_id("Counter id."), f"Counter id. {unknown}"
        ),
        "TicketId": path_parameter("ticketId", entity_id("Ticket id."), f"Ticket id. {unknown}"),
        "StaffId": path_parameter(
            "staffId", string("Staff user id.", pattern=STAFF_ID_PATTERN), f"Staff id. {unknown}"
        ),
        "KeyId": path_parameter("keyId", string("API key id."), f"API key id. {unknown}"),
    }


def _headers() -> dict[str, Any]:
    return {
        "XRequestId": request_id_header(),
        "RetryAfter": {
            "description": "Whole seconds to wait before the next sign-in attempt (at least 1).",
            "schema": {"type": "integer", "minimum": 1},
        },
    }


def _security_schemes() -> dict[str, Any]:
    return {
        SESSION_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "st_…",
            "description": "The session token `st_…` from `POST /login`. It lasts one shift "
            "(12 hours) and ends at once on `POST /logout` or when the user is deactivated.",
        }
    }


# --------------------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------------------


class _Op(NamedTuple):
    operation_id: str
    method: str
    path: str
    tag: str
    summary: str
    description: str
    who: str
    success_schema: str
    success_message: str
    parameters: tuple[str, ...] = ()  # names under components/parameters
    request_body: str | None = None
    invalid: tuple[str, ...] = ()  # the 422 `error` keys this operation can give
    forbidden: str | None = None  # what a 403 means here; None: never
    not_found: str | None = None  # what a 404 means here; None: never
    conflicts: tuple[str, ...] = ()
    session: bool = True
    throttled: bool = False
    success_status: str = "200"


_AGENT_BRANCH = "An agent: at a branch they are assigned to. An admin: anywhere in the company."
_AGENT_TICKET = (
    "An agent: a ticket of a branch they are assigned to and, when it is called or being "
    "served, at the counter they hold. An admin: any ticket of the company."
)
_FORBIDDEN_BRANCH = "An agent not assigned to the branch: `You are not assigned to this branch.`"
_FORBIDDEN_TICKET = (
    "An agent not assigned to the ticket's branch (`You are not assigned to this branch.`), "
    "or the ticket is called or served at a counter the agent does not hold (`This ticket "
    "is at a counter you do not hold.`)."
)
_BRANCH_404 = "`Branch not found.`: no such active branch in the caller's company."
_COUNTER_404 = "`Counter not found.`: no such counter at an active branch of the caller's company."
_FORBIDDEN_TICKET_BRANCH = (
    "An agent not assigned to the ticket's branch: `You are not assigned to this branch.`"
)
_TICKET_404 = "`Ticket not found.`: no such ticket in the caller's company."


def _move(
    operation_id: str,
    action: str,
    summary: str,
    description: str,
    *,
    body: str | None = None,
    invalid: tuple[str, ...] = (),
    conflicts: tuple[str, ...] = ("invalid_transition",),
    not_found: str = _TICKET_404,
    who: str = _AGENT_TICKET,
    forbidden: str = _FORBIDDEN_TICKET,
) -> _Op:
    return _Op(
        operation_id=operation_id,
        method="POST",
        path=f"/tickets/{{ticketId}}/{action}",
        tag="Tickets",
        summary=summary,
        description=description
        + ("" if body else " No request body (one sent is ignored).")
        + " Answers the moved Ticket; the move is logged as a ticket event naming the staff "
        "user.",
        who=who,
        success_schema="TicketResponse",
        success_message="Ticket updated.",
        parameters=("TicketId",),
        request_body=body,
        invalid=invalid,
        forbidden=forbidden,
        not_found=not_found,
        conflicts=conflicts,
    )


_ADMIN_ONLY = "An admin, for their own company."
_FORBIDDEN_AGENT = "An agent: `Only an admin may do this.`"


def _admin_operations() -> tuple[_Op, ...]:
    def admin(**fields: Any) -> _Op:
        return _Op(tag="Administration", who=_ADMIN_ONLY, forbidden=_FORBIDDEN_AGENT, **fields)

    return (
        admin(
            operation_id="listStaffAccounts",
            method="GET",
            path="/staff",
            summary="List the company's staff users",
            description="Every staff user of the admin's company, active or not.",
            success_schema="StaffAccountListResponse",
            success_message="Staff users fetched.",
        ),
        admin(
            operation_id="createStaffAccount",
            method="POST",
            path="/staff",
            summary="Create a staff user",
            description="An admin or an agent of the admin's company, with a password "
            "(hashed with argon2). A username already taken anywhere on the server is a "
            "422 on `username`.",
            success_schema="StaffAccountResponse",
            success_message="Staff user created.",
            success_status="201",
            request_body="CreateStaffRequest",
            invalid=("body", "username", "name", "role", "password", "branchIds"),
        ),
        admin(
            operation_id="deactivateStaffAccount",
            method="POST",
            path="/staff/{staffId}/deactivate",
            summary="Deactivate a staff user",
            description="The user can no longer sign in and their sessions end at once. "
            "Deactivating an inactive user changes nothing. No request body.",
            success_schema="StaffAccountResponse",
            success_message="Staff user deactivated.",
            parameters=("StaffId",),
            not_found="`Staff user not found.`: no such staff user in the caller's company.",
        ),
        admin(
            operation_id="listApiKeys",
            method="GET",
            path="/keys",
            summary="List the company's API keys",
            description="The company's External API keys, newest last; never the keys themselves.",
            success_schema="ApiKeyListResponse",
            success_message="API keys fetched.",
        ),
        admin(
            operation_id="createApiKey",
            method="POST",
            path="/keys",
            summary="Create an API key",
            description="A public or secret External API key; the key is in the answer "
            "once and never again.",
            success_schema="CreatedApiKeyResponse",
            success_message="API key created.",
            success_status="201",
            request_body="CreateKeyRequest",
            invalid=("body", "kind", "name"),
        ),
        admin(
            operation_id="revokeApiKey",
            method="POST",
            path="/keys/{keyId}/revoke",
            summary="Revoke an API key",
            description="The key stops working at once on every server process. Revoking a "
            "revoked key changes nothing. No request body.",
            success_schema="ApiKeyResponse",
            success_message="API key revoked.",
            parameters=("KeyId",),
            not_found="`API key not found.`: no such key in the caller's company.",
        ),
        admin(
            operation_id="applyCompanyFile",
            method="PUT",
            path="/company",
            summary="Apply the company file",
            description="Creates or updates everything the company file describes, all or "
            "nothing (docs/company-file.md), for the admin's own company. A file with "
            "problems is a 422 on `companyFile` listing every problem with its place in the "
            "file; so is a file describing another company.",
            success_schema="CompanyAppliedResponse",
            success_message="Company file applied.",
            request_body="CompanyFileRequest",
            invalid=("body", "companyFile"),
        ),
    )


def _operations() -> tuple[_Op, ...]:
    return (
        _Op(
            operation_id="login",
            method="POST",
            path="/login",
            tag="Session",
            summary="Sign in",
            description="Checks the username and password and starts a session. Failed "
            "attempts are counted per username and per client address; at the limit every "
            "attempt is refused with a 429 until the window ends, before any password check.",
            who="Anyone (no session needed).",
            success_schema="LoginResponse",
            success_message="Signed in successfully.",
            request_body="LoginRequest",
            invalid=("body", "username", "password"),
            session=False,
            throttled=True,
        ),
        _Op(
            operation_id="logout",
            method="POST",
            path="/logout",
            tag="Session",
            summary="Sign out",
            description="Revokes the session of the token sent: it is refused (401) from now "
            "on. No request body.",
            who="Any signed-in staff user.",
            success_schema="EmptyResponse",
            success_message="Signed out successfully.",
        ),
        _Op(
            operation_id="getMe",
            method="GET",
            path="/me",
            tag="Session",
            summary="Who am I",
            description="The staff user the token belongs to.",
            who="Any signed-in staff user.",
            success_schema="StaffUserResponse",
            success_message="Staff user fetched successfully.",
        ),
        _Op(
            operation_id="listStaffBranches",
            method="GET",
            path="/branches",
            tag="Counters",
            summary="Branches I work at",
            description="The company's active branches the caller may work at, in position order.",
            who="An agent: their assigned branches. An admin: every branch of the company.",
            success_schema="StaffBranchListResponse",
            success_message="Branches fetched.",
        ),
        _Op(
            operation_id="listBranchCounters",
            method="GET",
            path="/branches/{branchId}/counters",
            tag="Counters",
            summary="Counters of a branch",
            description="Every counter of the branch in position order, open or closed, with "
            "its holder and its services.",
            who=_AGENT_BRANCH,
            success_schema="CounterListResponse",
            success_message="Counters fetched.",
            parameters=("BranchId",),
            forbidden=_FORBIDDEN_BRANCH,
            not_found=_BRANCH_404,
        ),
        _Op(
            operation_id="getBranchQueue",
            method="GET",
            path="/branches/{branchId}/queue",
            tag="Queue",
            summary="Live queue of a branch",
            description="Per service the waiting tickets in queue order with their estimates "
            "(`queueSize`, `waitingTime`); per counter its holder and the tickets called or "
            "served at it.",
            who=_AGENT_BRANCH,
            success_schema="BranchQueueResponse",
            success_message="Queue fetched.",
            parameters=("BranchId",),
            forbidden=_FORBIDDEN_BRANCH,
            not_found=_BRANCH_404,
        ),
        _Op(
            operation_id="openCounter",
            method="POST",
            path="/counters/{counterId}/open",
            tag="Counters",
            summary="Open (hold) a counter",
            description="The caller holds the counter from now on. A staff user holds one "
            "counter at a time and a counter has one holder. Opening the counter one already "
            "holds changes nothing (200). Answers the Counter. No request body.",
            who=_AGENT_BRANCH + " Either way the caller becomes the holder.",
            success_schema="CounterResponse",
            success_message="Counter opened.",
            parameters=("CounterId",),
            forbidden=_FORBIDDEN_BRANCH,
            not_found=_COUNTER_404,
            conflicts=("counter_busy", "already_holding"),
        ),
        _Op(
            operation_id="closeCounter",
            method="POST",
            path="/counters/{counterId}/close",
            tag="Counters",
            summary="Close a counter",
            description="Releases the counter. Refused while a ticket is called or served at "
            "it (finish, requeue or mark it first). Answers the Counter. No request body.",
            who="An agent: the counter they hold. An admin: any open counter of the company.",
            success_schema="CounterResponse",
            success_message="Counter closed.",
            parameters=("CounterId",),
            forbidden=_FORBIDDEN_BRANCH,
            not_found=_COUNTER_404,
            conflicts=("not_holding", "ticket_at_counter"),
        ),
        _Op(
            operation_id="setCounterServices",
            method="PUT",
            path="/counters/{counterId}/services",
            tag="Counters",
            summary="Choose the services a counter takes",
            description="Enables exactly `serviceIds` among the services the company file "
            "lets the counter serve and disables the others; call-next takes only enabled "
            "services. A service the counter may not serve is a 422 on `serviceIds` "
            "(`Service {id} is not one this counter serves.`) and changes nothing. Answers "
            "the Counter.",
            who="An agent: the counter they hold. An admin: any counter of the company, open "
            "or closed.",
            success_schema="CounterResponse",
            success_message="Counter services updated.",
            parameters=("CounterId",),
            request_body="CounterServicesRequest",
            invalid=("body", "serviceIds"),
            forbidden=_FORBIDDEN_BRANCH,
            not_found=_COUNTER_404,
            conflicts=("not_holding",),
        ),
        _Op(
            operation_id="callNextTicket",
            method="POST",
            path="/counters/{counterId}/call-next",
            tag="Counters",
            summary="Call the next ticket",
            description="Calls the head of the merged queue of the counter's enabled services "
            "(by queue time, then number) to the counter: `Ticket {number} called.` with the "
            "Ticket, or `No ticket is waiting for this counter.` with `data: null`. Two "
            "counters calling at once never get the same ticket. No request body.",
            who="The holder of the counter only, whatever the role (an admin opens the "
            "counter first).",
            success_schema="CallNextResponse",
            success_message="Ticket {number} called. / No ticket is waiting for this counter.",
            parameters=("CounterId",),
            forbidden=_FORBIDDEN_BRANCH,
            not_found=_COUNTER_404,
            conflicts=("not_holding",),
        ),
        _Op(
            operation_id="getCounterToday",
            method="GET",
            path="/counters/{counterId}/today",
            tag="Counters",
            summary="The counter's day",
            description="Today's figures at the counter (tickets served, no-shows, mean "
            "service minutes), the tickets at it now, and today's appointments of its "
            "services still to be checked in. Days are the branch's local days.",
            who=_AGENT_BRANCH,
            success_schema="CounterDayResponse",
            success_message="Counter figures fetched successfully.",
            parameters=("CounterId",),
            forbidden=_FORBIDDEN_BRANCH,
            not_found=_COUNTER_404,
        ),
        _Op(
            operation_id="getTicket",
            method="GET",
            path="/tickets/{ticketId}",
            tag="Tickets",
            summary="Fetch a ticket",
            description="The Ticket, the same shape as the External API's.",
            who="An agent: a ticket of a branch they are assigned to (wherever it is in "
            "the branch, as the live queue shows it). An admin: any ticket of the company.",
            success_schema="TicketResponse",
            success_message="Ticket fetched successfully.",
            parameters=("TicketId",),
            forbidden=_FORBIDDEN_TICKET_BRANCH,
            not_found=_TICKET_404,
        ),
        _move(
            "checkInTicket",
            "check-in",
            "Check in an appointment",
            "`upcoming` → `waiting`, at the place its appointment time earns in the queue.",
        ),
        _move(
            "callTicket",
            "call",
            "Call a specific ticket",
            "`waiting` → `called` at `counterId`, out of queue order. The counter must be in "
            "the ticket's branch (it need not serve the ticket's service).",
            body="CallTicketRequest",
            invalid=("body", "counterId"),
            conflicts=("not_holding", "invalid_transition"),
            who=_AGENT_TICKET + " The counter must be one the caller holds, admins included "
            "(`not_holding` otherwise); a `counterId` that is not a counter of the ticket's "
            "branch in the caller's company is a 422 on `counterId`.",
            forbidden=_FORBIDDEN_TICKET_BRANCH,
        ),
        _move(
            "recallTicket",
            "recall",
            "Call a ticket again",
            "`called` → `called`: calls the customer again (a fresh `statusAt`).",
        ),
        _move(
            "requeueTicket",
            "requeue",
            "Send a called ticket back to the queue",
            "`called` → `waiting`, at the place it had; no longer at any counter.",
        ),
        _move("startTicket", "start", "Start serving", "`called` → `serving`."),
        _move("finishTicket", "finish", "Finish serving", "`serving` → `served` (terminal)."),
        _move(
            "markNoShow",
            "no-show",
            "Mark a no-show",
            "`called` or `upcoming` → `no_show` (terminal).",
        ),
        _move(
            "transferTicket",
            "transfer",
            "Transfer to another service",
            "`waiting`, `called` or `serving` → `waiting` at the back of `serviceId`'s queue "
            "in the same branch, keeping its number. A `serviceId` that is not an active "
            "service of the ticket's branch is a 422 on `serviceId` (`This value does not "
            "exist.`).",
            body="TransferTicketRequest",
            invalid=("body", "serviceId"),
            conflicts=("invalid_transition", "duplicate_active"),
        ),
        _move(
            "cancelTicket",
            "cancel",
            "Cancel a ticket",
            "`upcoming` or `waiting` → `cancelled` (terminal); an appointment's place is "
            "given back.",
        ),
        *_admin_operations(),
    )


def _response(description: str, schema: dict[str, Any], *headers: str) -> dict[str, Any]:
    response_headers = {"X-Request-Id": ref("XRequestId", "headers")}
    for name in headers:
        response_headers[name] = ref(name.replace("-", ""), "headers")
    return {
        "description": description,
        "headers": response_headers,
        "content": {JSON: {"schema": schema}},
    }


def _narrowed(envelope: str, properties: dict[str, Any]) -> dict[str, Any]:
    """The envelope, with this operation's own limits on some of its properties."""
    return {"allOf": [ref(envelope), {"properties": properties}]}


def _responses(op: _Op) -> dict[str, Any]:
    responses: dict[str, Any] = {
        op.success_status: _response(op.success_message, ref(op.success_schema)),
    }
    if op.session:
        auth = (
            "No `Authorization: Bearer st_…` (`Missing bearer token.`), or a token that is "
            "unknown, expired, revoked or of a deactivated user (`Invalid or expired session.`)."
        )
    else:
        auth = (
            "`Invalid username or password.`: unknown username, wrong password or "
            "deactivated user, deliberately alike."
        )
    responses["401"] = _response(auth, ref("AuthErrorEnvelope"))
    if op.forbidden:
        responses["403"] = _response(f"{op.forbidden} (code `forbidden`)", ref("ErrorEnvelope"))
    if op.not_found:
        responses["404"] = _response(f"{op.not_found} (code `not_found`)", ref("ErrorEnvelope"))
    if op.conflicts:
        responses["409"] = _response(
            "Refused, nothing changed: "
            + "; ".join(f"`{code}`: {CONFLICT_CODES[code]}" for code in op.conflicts)
            + ".",
            _narrowed("ConflictEnvelope", {"code": {"enum": list(op.conflicts)}}),
        )
    if op.invalid:
        fields = ", ".join(f"`{name}`" for name in op.invalid)
        responses["422"] = _response(
            f"The given data was invalid; `error` names the offending fields among {fields} "
            "(`body`: not JSON, not an object, or not sent as application/json).",
            _narrowed(
                "ValidationErrorEnvelope", {"error": {"propertyNames": {"enum": list(op.invalid)}}}
            ),
        )
    if op.throttled:
        responses["429"] = _response(
            "Too many failed sign-ins for this username or from this address: `Too many "
            "failed sign-in attempts. Try again in {seconds} seconds.` (code "
            "`rate_limited`).",
            ref("ErrorEnvelope"),
            "Retry-After",
        )
    responses["500"] = _response(
        'Unexpected failure; never leaks internals: `{"message": "Something went wrong.", '
        '"error": null, "code": "internal"}`. Quote `X-Request-Id`.',
        ref("ErrorEnvelope"),
    )
    return responses


def _operation(op: _Op) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": op.operation_id,
        "tags": [op.tag],
        "summary": op.summary,
        "description": f"{op.description}\n\n**Who:** {op.who}",
        "security": [{SESSION_SCHEME: []}] if op.session else [],
        "parameters": [
            *(ref(name, "parameters") for name in op.parameters),
            ref("XLocale", "parameters"),
        ],
    }
    if op.request_body:
        operation["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": ref(op.request_body)}},
        }
    operation["responses"] = _responses(op)
    return operation


_DESCRIPTION = """\
The API of the people at the counters: sign in, hold a counter, choose the services it
takes, call the next ticket, move tickets through their life cycle, and watch a branch's
live queue. Same envelopes and locales as the External API.

**Authentication.** `POST /login` with a username and a password answers a session token
`st_…` that lasts one shift (12 hours) or until `POST /logout`. Every other operation needs
it as `Authorization: Bearer st_…`: without one → 401 `Missing bearer token.`; unknown,
expired or revoked → 401 `Invalid or expired session.` This document
(`/staff/v1/openapi.json`) and its page (`/staff/v1/docs`) need no session.

**Who may do what.** A staff user is an `agent` or an `admin` of one company. Every id is
looked up in the caller's company first: another company's branch, counter or ticket is a
404, like one that does not exist. An agent works at the branches they are assigned to
(403 otherwise), on the counter they hold, and acts on a called or serving ticket only at
that counter (403). An admin works anywhere in the company: any branch, closing any
counter, choosing any counter's services, moving any ticket. Calling the next ticket always
needs holding the counter.

**Locale.** `X-Locale: en` (default) or `ar`; `ar-BH` counts as `ar`; anything else falls
back to `en`. Messages, errors and branch, counter and service names are localized.

**Errors.** Every error body is `{"message", "error", "code"}` with a stable `code`. 401
`unauthorized`, 403 `forbidden`, 404 `not_found` (unknown ids in the path are 404 here, not
the External API's 422), 422 `validation_failed` (`error` maps each offending field to one
message; `body` for a body that is not a JSON object sent as application/json), 429
`rate_limited` (sign-in only, with `Retry-After`), 500 `internal`. A 409 refuses a
move or a counter operation and changes nothing; its codes: `invalid_transition` (with
`error` `Current status: {status}.`), `counter_busy`, `already_holding`, `not_holding`,
`ticket_at_counter`, `duplicate_active`. Every response carries `X-Request-Id`.

**Times.** Every timestamp is UTC with milliseconds and `Z` (`2026-06-23T11:08:41.000Z`).
"""


_OPERATIONS = _operations()

OPERATION_ROUTES: dict[str, tuple[str, str]] = {
    op.operation_id: (op.method, op.path) for op in _OPERATIONS
}


def build_openapi_document() -> dict[str, Any]:
    """The complete OpenAPI 3.1 document of the staff API."""
    paths: dict[str, dict[str, Any]] = {}
    for op in _OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Taboor Staff API",
            "version": API_VERSION,
            "description": _DESCRIPTION,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": SERVER_URL}],
        "security": [{SESSION_SCHEME: []}],
        "tags": [
            {"name": "Session", "description": "Sign in, sign out, who am I."},
            {"name": "Counters", "description": "Branches, counters and calling the next ticket."},
            {"name": "Queue", "description": "A branch's live queue."},
            {"name": "Tickets", "description": "Ticket moves at the counter."},
        ],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "parameters": _parameters(),
            "headers": _headers(),
            "securitySchemes": _security_schemes(),
        },
    }
