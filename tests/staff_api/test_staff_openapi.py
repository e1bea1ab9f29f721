"""The staff API's OpenAPI document: valid OpenAPI 3.1, exactly the mounted routes,
served without a session, and true to the wire: a realistic session through the real
app (both databases) in which every response body, success or error, is checked against
the schema the document gives for its operation and status."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.api.external_v1.implemented import IMPLEMENTED_OPERATIONS
from taboor.api.external_v1.openapi_document import (
    build_openapi_document as build_external_document,
)
from taboor.api.staff_v1.openapi_document import OPERATION_ROUTES, build_openapi_document
from taboor.api.staff_v1.router import staff_router
from taboor.customers.service import create_customer
from taboor.db import tables as t
from taboor.db.uow import write_transaction
from taboor.staff.passwords import hash_password
from taboor.staff.throttle import ACCOUNT_LIMIT
from tests.staff_api.helpers import Staff, add_staff
from tests.support import MutableClock, apply_fixture, insert_ticket

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
CONFLICT_CODES = {
    "invalid_transition",
    "counter_busy",
    "already_holding",
    "not_holding",
    "ticket_at_counter",
    "duplicate_active",
}
# Written out again on purpose: the document must match the handlers, not itself.
EXPECTED_ROUTES = {
    "login": ("POST", "/login"),
    "logout": ("POST", "/logout"),
    "getMe": ("GET", "/me"),
    "listStaffBranches": ("GET", "/branches"),
    "listBranchCounters": ("GET", "/branches/{branchId}/counters"),
    "getBranchQueue": ("GET", "/branches/{branchId}/queue"),
    "openCounter": ("POST", "/counters/{counterId}/open"),
    "closeCounter": ("POST", "/counters/{counterId}/close"),
    "setCounterServices": ("PUT", "/counters/{counterId}/services"),
    "callNextTicket": ("POST", "/counters/{counterId}/call-next"),
    "getCounterToday": ("GET", "/counters/{counterId}/today"),
    "getTicket": ("GET", "/tickets/{ticketId}"),
    "checkInTicket": ("POST", "/tickets/{ticketId}/check-in"),
    "callTicket": ("POST", "/tickets/{ticketId}/call"),
    "recallTicket": ("POST", "/tickets/{ticketId}/recall"),
    "requeueTicket": ("POST", "/tickets/{ticketId}/requeue"),
    "startTicket": ("POST", "/tickets/{ticketId}/start"),
    "finishTicket": ("POST", "/tickets/{ticketId}/finish"),
    "markNoShow": ("POST", "/tickets/{ticketId}/no-show"),
    "transferTicket": ("POST", "/tickets/{ticketId}/transfer"),
    "cancelTicket": ("POST", "/tickets/{ticketId}/cancel"),
    "listStaffAccounts": ("GET", "/staff"),
    "createStaffAccount": ("POST", "/staff"),
    "deactivateStaffAccount": ("POST", "/staff/{staffId}/deactivate"),
    "listApiKeys": ("GET", "/keys"),
    "createApiKey": ("POST", "/keys"),
    "revokeApiKey": ("POST", "/keys/{keyId}/revoke"),
    "applyCompanyFile": ("PUT", "/company"),
}
# Exercised by tests/staff_api/test_admin_api.py against this same document.
ADMIN_OPERATIONS = {
    op for op, (_, path) in EXPECTED_ROUTES.items() if path in ("/staff", "/keys", "/company")
} | {"deactivateStaffAccount", "revokeApiKey"}
MOVES = [
    op
    for op, (_, path) in EXPECTED_ROUTES.items()
    if re.fullmatch(r"/tickets/\{ticketId\}/.+", path)
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_openapi_document()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def _by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {operation["operationId"]: operation for _, _, operation in _operations(document)}


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = document
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


# --- the document as a whole -----------------------------------------------------------


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(document).validate()


def test_document_is_plain_json(document: dict[str, Any]) -> None:
    assert json.loads(json.dumps(document)) == document


def test_server_paths_and_operation_ids(document: dict[str, Any]) -> None:
    assert document["servers"] == [{"url": "/staff/v1"}]
    documented = {
        operation["operationId"]: (method.upper(), path)
        for method, path, operation in _operations(document)
    }
    assert documented == OPERATION_ROUTES == EXPECTED_ROUTES


def test_every_ref_resolves_and_every_component_is_used(document: dict[str, Any]) -> None:
    refs = set(_refs(document))
    for ref in refs:
        assert _resolve(document, {"$ref": ref}) is not None, ref
    for kind, components in document["components"].items():
        if kind == "securitySchemes":
            continue
        for name in components:
            assert f"#/components/{kind}/{name}" in refs, f"{kind}/{name} is never referenced"


def test_named_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in (
        "SuccessEnvelope", "ErrorEnvelope", "ConflictEnvelope", "ValidationErrorEnvelope",
        "AuthErrorEnvelope", "StaffUser", "StaffSession", "LoginRequest", "LoginResponse",
        "Counter", "QueuedTicket", "BranchQueue", "Ticket",
    ):  # fmt: skip
        assert name in schemas, name
    assert set(schemas["ConflictEnvelope"]["properties"]["code"]["enum"]) == CONFLICT_CODES


def test_ticket_is_the_external_apis_ticket(document: dict[str, Any]) -> None:
    external = build_external_document(IMPLEMENTED_OPERATIONS)["components"]["schemas"]
    for name in ("Ticket", "NamedEntity", "TicketCustomer", "TicketStatus"):
        assert document["components"]["schemas"][name] == external[name], name


def test_every_operation_documents_locale_request_id_auth_and_500(
    document: dict[str, Any],
) -> None:
    scheme = document["components"]["securitySchemes"]["staffSession"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for _, path, operation in _operations(document):
        op_id = operation["operationId"]
        params = [_resolve(document, p) for p in operation["parameters"]]
        locale = [p for p in params if (p["name"], p["in"]) == ("X-Locale", "header")]
        assert len(locale) == 1 and locale[0]["schema"]["enum"] == ["en", "ar"], op_id
        in_path = set(re.findall(r"\{(\w+)\}", path))
        assert {p["name"] for p in params if p["in"] == "path"} == in_path, op_id
        assert all(p["required"] for p in params if p["in"] == "path"), op_id
        responses = operation["responses"]
        assert {"401", "500"} <= set(responses), op_id
        success = {"createStaffAccount", "createApiKey"}  # the two that make something
        assert ("201" if op_id in success else "200") in responses, op_id
        for status, response in responses.items():
            assert "X-Request-Id" in response["headers"], (op_id, status)
        expected_security = [] if op_id == "login" else [{"staffSession": []}]
        assert operation["security"] == expected_security, op_id


def test_conflict_codes_per_operation(document: dict[str, Any]) -> None:
    codes: dict[str, set[str]] = {}
    for op_id, operation in _by_id(document).items():
        conflict = operation["responses"].get("409")
        if conflict:
            narrowed = conflict["content"]["application/json"]["schema"]["allOf"][1]
            codes[op_id] = set(narrowed["properties"]["code"]["enum"])
    assert codes == {
        "openCounter": {"counter_busy", "already_holding"},
        "closeCounter": {"not_holding", "ticket_at_counter"},
        "setCounterServices": {"not_holding"},
        "callNextTicket": {"not_holding"},
        "callTicket": {"not_holding", "invalid_transition"},
        "transferTicket": {"invalid_transition", "duplicate_active"},
        **{
            op: {"invalid_transition"} for op in MOVES if op not in ("callTicket", "transferTicket")
        },
    }
    assert set().union(*codes.values()) == CONFLICT_CODES


def test_request_bodies(document: dict[str, Any]) -> None:
    expected = {
        "login": "LoginRequest",
        "setCounterServices": "CounterServicesRequest",
        "callTicket": "CallTicketRequest",
        "transferTicket": "TransferTicketRequest",
        "createStaffAccount": "CreateStaffRequest",
        "createApiKey": "CreateKeyRequest",
        "applyCompanyFile": "CompanyFileRequest",
    }
    for op_id, operation in _by_id(document).items():
        body = operation.get("requestBody")
        if op_id not in expected:
            assert body is None, op_id
            continue
        assert body["required"] is True
        assert body["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{expected[op_id]}"
        }
        assert "422" in operation["responses"], op_id


# --- the document against the router ---------------------------------------------------


def _normalize(path: str) -> str:
    # Litestar writes "{ticket_id:str}"; the document writes "{ticketId}".
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_mounted_routes_are_exactly_the_documented_operations() -> None:
    mounted: set[tuple[str, str]] = set()
    docs: set[tuple[str, str]] = set()
    for route in staff_router().routes:
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method == "OPTIONS":  # Litestar's automatic CORS preflight answer
                    continue
                key = (method, _normalize(route.path.removeprefix("/staff/v1")))
                (docs if handler.include_in_schema is False else mounted).add(key)
    documented = {(method, _normalize(path)) for method, path in OPERATION_ROUTES.values()}
    assert mounted == documented
    assert docs == {("GET", "/openapi.json"), ("GET", "/docs")}


# --- served without a session ------------------------------------------------------------


async def test_document_and_page_are_served_without_a_session(
    client: httpx.AsyncClient,
) -> None:
    served = await client.get("/staff/v1/openapi.json")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/json")
    assert served.json() == build_openapi_document()
    page = await client.get("/staff/v1/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "http://" not in html and "https://" not in html
    assert "//cdn" not in html and "unpkg" not in html and "jsdelivr" not in html
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(links) == 2
    for link in links:
        assert link.startswith("/external/v1/docs/assets/"), link
        assert (await client.get(link)).status_code == 200, link
    spec_url = re.search(r'url: "([^"]+)"', html)
    assert spec_url is not None and spec_url.group(1) == "/staff/v1/openapi.json"


# --- conformance: real responses against the document ------------------------------------


def _strict(node: Any, *, member: bool = False) -> Any:
    """The schema with ``unevaluatedProperties: false`` wherever an object schema is used
    (not where it is one part of an ``allOf``): a body with a field the document does not
    name fails too."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    strict: dict[str, Any] = {}
    for key, value in node.items():
        if key == "allOf":
            strict[key] = [_strict(part, member=True) for part in value]
        elif key in ("if", "then", "else", "not", "propertyNames"):
            strict[key] = _strict(value, member=True)  # conditions, not shapes
        elif key in ("examples", "enum", "required", "const"):
            strict[key] = value
        else:
            strict[key] = _strict(value)
    if not member and ({"$ref", "properties", "allOf"} & node.keys()):
        strict["unevaluatedProperties"] = False
    return strict


class Conformance:
    """Checks each response against the document and remembers what was seen."""

    def __init__(self, document: dict[str, Any], client: httpx.AsyncClient | None = None) -> None:
        self.document = document
        self.client = client
        self.operations = _by_id(document)
        self.schemas = {
            name: _strict(schema, member=True)
            for name, schema in document["components"]["schemas"].items()
        }
        self.seen: set[tuple[str, str]] = set()
        self.conflicts: set[tuple[str, str]] = set()
        self._validators: dict[tuple[str, str], OAS31Validator] = {}

    def validator(self, op_id: str, status: str) -> OAS31Validator:
        if (op_id, status) not in self._validators:
            responses = self.operations[op_id]["responses"]
            assert status in responses, f"{op_id} answered {status}, which is not documented"
            schema = responses[status]["content"]["application/json"]["schema"]
            root = {**_strict(schema), "components": {"schemas": self.schemas}}
            self._validators[(op_id, status)] = OAS31Validator(root)
        return self._validators[(op_id, status)]

    def check(self, op_id: str, response: httpx.Response) -> Any:
        status = str(response.status_code)
        assert response.headers.get("x-request-id"), (op_id, status)
        assert response.headers["content-type"].startswith("application/json"), (op_id, status)
        body = response.json()
        errors = sorted(self.validator(op_id, status).iter_errors(body), key=lambda e: list(e.path))
        assert not errors, f"{op_id} {status}: {[e.message for e in errors]}\n{body}"
        self.seen.add((op_id, status))
        if status == "409":
            self.conflicts.add((op_id, body["code"]))
        return body

    async def call(
        self,
        op_id: str,
        who: Staff | None,
        *,
        expect: int,
        locale: str | None = None,
        **kw: Any,
    ) -> Any:
        method, template = OPERATION_ROUTES[op_id]
        ids = {
            name: kw.pop(name)
            for name in ("branchId", "counterId", "ticketId", "staffId", "keyId")
            if name in kw
        }
        headers = who.headers(locale) if who else ({"X-Locale": locale} if locale else {})
        headers.update(kw.pop("headers", {}))
        assert self.client is not None
        response = await self.client.request(
            method, "/staff/v1" + template.format(**ids), headers=headers, **kw
        )
        assert response.status_code == expect, (op_id, response.status_code, response.text)
        return self.check(op_id, response)

    def documented(self, *, without: set[str]) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
        statuses = {
            (op_id, status)
            for op_id, operation in self.operations.items()
            if op_id not in without
            for status in operation["responses"]
            if status != "500"
        }
        conflicts = {
            (op_id, code)
            for op_id, operation in self.operations.items()
            if op_id not in without and "409" in operation["responses"]
            for code in operation["responses"]["409"]["content"]["application/json"]["schema"][
                "allOf"
            ][1]["properties"]["code"]["enum"]
        }
        return statuses, conflicts


HALL, BRANCH, BANK = "cmp_ctrs01", "hallbr0001", "cmp_bank01"
CTR1, CTR2, CTR3 = "hallctr001", "hallctr002", "hallctr003"
Q1, Q2, ELSEWHERE = "hallsvc001", "hallsvc002", "hallsvc003"
FOREIGN_COUNTER = "zctr000001"  # the bank's
START = datetime(2026, 6, 7, 7, 0, tzinfo=UTC)
_numbers = iter(range(1, 10_000))


async def _ticket(engine: AsyncEngine, status: str = "waiting", **fields: Any) -> str:
    row: dict[str, Any] = {
        "company_id": HALL,
        "branch_id": BRANCH,
        "group_id": "hallgrp001",
        "service_id": Q1,
        "prefix": "Q",
        "number": next(_numbers),
        "status": status,
        "at": START - timedelta(minutes=30),
    }
    if status == "upcoming":
        row.update(type="appointment", time=START + timedelta(minutes=5))
        row["queue_at"] = row["time"]
    row.update(fields)
    return await insert_ticket(engine, **row)


@pytest.fixture
async def hall(engine: AsyncEngine, clock: MutableClock) -> dict[str, Staff]:
    await apply_fixture(engine, "counters")
    await apply_fixture(engine, "bank")
    now = clock()
    return {
        "amal": await add_staff(engine, HALL, "agent", (BRANCH,), now, "Amal"),
        "badr": await add_staff(engine, HALL, "agent", (BRANCH,), now, "Badr"),
        "admin": await add_staff(engine, HALL, "admin", (), now, "Admin"),
        "elsewhere": await add_staff(engine, HALL, "agent", (), now, "Nowhere"),
        "banker": await add_staff(engine, BANK, "admin", (), now, "Banker"),
    }


async def test_a_shift_through_the_staff_api_matches_the_document(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: MutableClock,
    document: dict[str, Any],
    hall: dict[str, Staff],
) -> None:
    api = Conformance(document, client)
    amal, badr, admin = hall["amal"], hall["badr"], hall["admin"]
    elsewhere, banker = hall["elsewhere"], hall["banker"]
    forged = Staff("nobody", "st_" + "x" * 43)

    # Who am I, where do I work.
    me = await api.call("getMe", amal, expect=200, locale="ar")
    assert (me["data"]["role"], me["data"]["branchIds"]) == ("agent", [BRANCH])
    await api.call("getMe", None, expect=401)
    await api.call("listStaffBranches", amal, expect=200)
    assert (await api.call("listStaffBranches", elsewhere, expect=200))["data"] == []
    await api.call("listStaffBranches", forged, expect=401)
    await api.call("listBranchCounters", amal, branchId=BRANCH, expect=200)

    # Open counters: one each, one holder each.
    opened = await api.call("openCounter", amal, counterId=CTR1, expect=200)
    assert opened["data"]["heldBy"] == {"id": amal.id, "name": "Amal"}
    await api.call("openCounter", amal, counterId=CTR1, expect=200)
    await api.call("openCounter", badr, counterId=CTR1, expect=409)
    await api.call("openCounter", amal, counterId=CTR2, expect=409, locale="ar")
    await api.call("openCounter", badr, counterId=CTR2, expect=200)

    # Choose services: the holder, or an admin; bad choices are 422.
    chosen = await api.call(
        "setCounterServices", amal, counterId=CTR1, json={"serviceIds": [Q1, Q2]}, expect=200
    )
    assert [s["enabled"] for s in chosen["data"]["services"]] == [True, True]
    await api.call("setCounterServices", amal, counterId=CTR1, json={}, expect=422)
    unknown = await api.call(
        "setCounterServices", amal, counterId=CTR1, json={"serviceIds": [ELSEWHERE]}, expect=422
    )
    assert set(unknown["error"]) == {"serviceIds"}
    not_json = await api.call(
        "setCounterServices",
        amal,
        counterId=CTR1,
        content=b"serviceIds",
        headers={"Content-Type": "text/plain"},
        expect=422,
    )
    assert set(not_json["error"]) == {"body"}
    await api.call(
        "setCounterServices", badr, counterId=CTR1, json={"serviceIds": [Q1]}, expect=409
    )
    await api.call(
        "setCounterServices", admin, counterId=CTR3, json={"serviceIds": [Q2]}, expect=200
    )

    # Call next: nothing waiting, then the head of the merged queue.
    empty = await api.call("callNextTicket", amal, counterId=CTR1, expect=200)
    assert empty["data"] is None
    async with write_transaction(engine) as connection:
        customer = await create_customer(connection, HALL, {"name": "Fatima"}, clock())
    first = await _ticket(engine, at=START - timedelta(minutes=40))
    second = await _ticket(engine, customer_id=customer.id)
    third = await _ticket(engine, service_id=Q2, prefix="K", number=1)
    same_customer = await _ticket(
        engine, service_id=Q2, prefix="K", number=2, customer_id=customer.id
    )
    appointment = await _ticket(engine, "upcoming", prefix="A")
    called = await api.call("callNextTicket", amal, counterId=CTR1, expect=200)
    assert called["data"]["id"] == first
    await api.call("callNextTicket", badr, counterId=CTR1, expect=409)
    await api.call("callNextTicket", admin, counterId=CTR1, expect=409)

    # A counter with a ticket at it does not close; someone else's does not either.
    await api.call("closeCounter", amal, counterId=CTR1, expect=409)
    await api.call("closeCounter", badr, counterId=CTR1, expect=409)

    # The live queue: waiting tickets with estimates, the called one at its counter.
    queue = await api.call("getBranchQueue", amal, branchId=BRANCH, expect=200, locale="ar")
    q1 = next(s for s in queue["data"]["services"] if s["id"] == Q1)
    assert [x["id"] for x in q1["waiting"]] == [second]
    assert q1["waiting"][0]["customerName"] == "Fatima"
    ctr1 = next(c for c in queue["data"]["counters"] if c["id"] == CTR1)
    assert [(x["id"], x["counterId"]) for x in ctr1["current"]] == [(first, CTR1)]

    # The counter's day: the called ticket is at it.
    today = await api.call("getCounterToday", amal, counterId=CTR1, expect=200, locale="ar")
    assert [x["id"] for x in today["data"]["current"]] == [first]

    # The called ticket through its moves; another agent may not touch it.
    await api.call("getTicket", amal, ticketId=first, expect=200)
    await api.call("getTicket", badr, ticketId=first, expect=200)  # reading is the branch's
    await api.call("recallTicket", amal, ticketId=first, expect=200)
    await api.call("recallTicket", badr, ticketId=first, expect=403)
    await api.call("startTicket", amal, ticketId=first, expect=200)
    await api.call("startTicket", amal, ticketId=first, expect=409)
    served = await api.call("finishTicket", amal, ticketId=first, expect=200)
    assert served["data"]["status"] == "served"

    # Every move from `served` is refused, and names the status.
    for op_id in MOVES:
        body = {"callTicket": {"counterId": CTR1}, "transferTicket": {"serviceId": Q2}}
        refused = await api.call(op_id, amal, ticketId=first, json=body.get(op_id), expect=409)
        assert (refused["code"], refused["error"]) == (
            "invalid_transition",
            "Current status: served.",
        )

    # Calling a chosen ticket: the counter must be one the caller holds.
    await api.call("callTicket", amal, ticketId=second, json={}, expect=422)
    await api.call("callTicket", amal, ticketId=second, json={"counterId": 7}, expect=422)
    await api.call("callTicket", badr, ticketId=second, json={"counterId": CTR1}, expect=409)
    await api.call(
        "callTicket", amal, ticketId=second, json={"counterId": FOREIGN_COUNTER}, expect=422
    )
    await api.call("callTicket", admin, ticketId=second, json={"counterId": CTR1}, expect=409)
    await api.call("callTicket", amal, ticketId=second, json={"counterId": CTR1}, expect=200)
    requeued = await api.call("requeueTicket", amal, ticketId=second, expect=200)
    assert requeued["data"]["queueSize"] == 0
    await api.call("callTicket", amal, ticketId=second, json={"counterId": CTR1}, expect=200)
    await api.call("markNoShow", amal, ticketId=second, expect=200)

    # Check-in, transfer (a duplicate for the customer is refused), cancel.
    checked_in = await api.call("checkInTicket", amal, ticketId=appointment, expect=200)
    assert checked_in["data"]["status"] == "waiting"
    await api.call("transferTicket", amal, ticketId=third, json={}, expect=422)
    await api.call(
        "transferTicket", amal, ticketId=third, json={"serviceId": "hallsvc999"}, expect=422
    )
    await api.call("transferTicket", amal, ticketId=third, json={"serviceId": Q1}, expect=200)
    back = await _ticket(engine, customer_id=customer.id)  # Fatima waits in Q1 again
    await api.call(
        "transferTicket", amal, ticketId=same_customer, json={"serviceId": Q1}, expect=409
    )
    await api.call("cancelTicket", amal, ticketId=back, expect=200)

    # Off the branch: 403; another company's: 404; no or a bad session: 401.
    for op_id, ids in [
        ("listBranchCounters", {"branchId": BRANCH}),
        ("getBranchQueue", {"branchId": BRANCH}),
        ("openCounter", {"counterId": CTR3}),
        ("closeCounter", {"counterId": CTR1}),
        ("setCounterServices", {"counterId": CTR1}),
        ("callNextTicket", {"counterId": CTR1}),
        ("getCounterToday", {"counterId": CTR1}),
        ("getTicket", {"ticketId": third}),
        *((op_id, {"ticketId": third}) for op_id in MOVES),
    ]:
        body = {
            "setCounterServices": {"serviceIds": [Q1]},
            "callTicket": {"counterId": CTR1},
            "transferTicket": {"serviceId": Q2},
        }.get(op_id)
        await api.call(op_id, elsewhere, **ids, json=body, expect=403)
        await api.call(op_id, banker, **ids, json=body, expect=404, locale="ar")
        await api.call(op_id, None, **ids, json=body, expect=401)
        await api.call(op_id, forged, **ids, json=body, expect=401)

    # An admin closes anyone's counter; the holder closes an empty one.
    closed = await api.call("closeCounter", admin, counterId=CTR2, expect=200)
    assert closed["data"]["heldBy"] is None
    await api.call("closeCounter", amal, counterId=CTR1, expect=200)

    # Logging out ends the session.
    await api.call("logout", amal, expect=200)
    await api.call("getMe", amal, expect=401)
    await api.call("logout", amal, expect=401)

    statuses, conflicts = api.documented(without={"login", *ADMIN_OPERATIONS})
    assert statuses - api.seen == set(), "documented but never answered"
    assert conflicts == api.conflicts


async def test_signing_in_matches_the_document(
    client: httpx.AsyncClient, engine: AsyncEngine, document: dict[str, Any], hall: dict[str, Staff]
) -> None:
    amal = hall["amal"]
    async with write_transaction(engine) as connection:
        await connection.execute(
            update(t.staff_users)
            .where(t.staff_users.c.id == amal.id)
            .values(username="amal.hall", password_hash=hash_password("a long secret"))
        )
    api = Conformance(document, client)

    signed_in = await api.call(
        "login", None, json={"username": " Amal.Hall ", "password": "a long secret"}, expect=200
    )
    session = Staff(amal.id, signed_in["data"]["token"])
    me = await api.call("getMe", session, expect=200)
    assert me["data"] == signed_in["data"]["staff"]

    missing = await api.call("login", None, json={}, expect=422, locale="ar")
    assert set(missing["error"]) == {"username", "password"}
    await api.call("login", None, json={"username": 5, "password": "x"}, expect=422)
    await api.call(
        "login", None, content=b"{", headers={"Content-Type": "application/json"}, expect=422
    )
    wrong = {"username": "amal.hall", "password": "not the secret"}
    for _ in range(ACCOUNT_LIMIT):
        await api.call("login", None, json=wrong, expect=401)
    throttled = await client.post("/staff/v1/login", json=wrong)
    assert int(throttled.headers["retry-after"]) >= 1
    api.check("login", throttled)
    assert throttled.status_code == 429

    await api.call("logout", session, expect=200)
    await api.call("getMe", session, expect=401)
    assert {status for op_id, status in api.seen if op_id == "login"} == {
        status for status in document["paths"]["/login"]["post"]["responses"] if status != "500"
    }


def test_strict_validation_catches_undocumented_and_missing_fields(
    document: dict[str, Any],
) -> None:
    api = Conformance(document)
    counter = {
        "id": CTR1, "branchId": BRANCH, "name": "Counter 1", "position": 1, "open": False,
        "heldBy": None, "openedAt": None, "services": [{"id": Q1, "enabled": True}],
    }  # fmt: skip
    response = api.validator("openCounter", "200")
    assert response.is_valid({"message": "Counter opened.", "data": counter})
    assert not response.is_valid({"message": "Counter opened.", "data": {**counter, "x": 1}})
    assert not response.is_valid({"message": "m", "data": counter, "extra": True})
    services = [{"id": Q1, "enabled": True, "x": 1}]
    assert not response.is_valid({"message": "m", "data": {**counter, "services": services}})
    assert not response.is_valid({"message": "m", "data": {**counter, "open": None}})
    waiting = {
        "id": "k3x9m2p7q1", "ticketNumber": "Q017", "status": "waiting", "type": "sequential",
        "time": None, "queuedAt": "2026-06-07T07:00:00.000Z",
        "statusAt": "2026-06-07T07:00:00.000Z", "serviceId": Q1, "customerName": None,
        "queueSize": 0, "waitingTime": 0,
    }  # fmt: skip
    queue = api.validator("getBranchQueue", "200")
    service = {"id": Q1, "name": "Q", "prefix": "Q", "openCounters": 1, "waitingCount": 1}
    body = {
        "message": "m",
        "data": {
            "branchId": BRANCH,
            "services": [{**service, "waiting": [waiting]}],
            "counters": [{**counter, "current": []}],
        },
    }
    assert queue.is_valid(body)
    no_estimate = {k: v for k, v in waiting.items() if k != "waitingTime"}
    body["data"]["services"][0]["waiting"] = [no_estimate]
    assert not queue.is_valid(body)
    body["data"]["services"][0]["waiting"] = [waiting]
    body["data"]["counters"][0]["surprise"] = 1
    assert not queue.is_valid(body)
    conflict = api.validator("openCounter", "409")
    assert conflict.is_valid({"message": "m", "error": None, "code": "counter_busy"})
    assert not conflict.is_valid({"message": "m", "error": None, "code": "not_holding"})
    invalid = api.validator("callTicket", "422")
    assert invalid.is_valid(
        {"message": "m", "error": {"counterId": "x"}, "code": "validation_failed"}
    )
    assert not invalid.is_valid(
        {"message": "m", "error": {"serviceId": "x"}, "code": "validation_failed"}
    )


def test_strict_copy_leaves_the_document_alone(document: dict[str, Any]) -> None:
    before = copy.deepcopy(document)
    Conformance(document).validator("getBranchQueue", "200")
    assert document == before
