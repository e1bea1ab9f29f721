"""The hand-written OpenAPI document of External API v1, and the routes that serve it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
from litestar import Router
from litestar.testing import create_test_client
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import OpenAPIV31SpecValidator

from taboor.api.external_v1.docs import docs_route_handlers
from taboor.api.external_v1.implemented import IMPLEMENTED_OPERATIONS
from taboor.api.external_v1.openapi_document import (
    ALL_OPERATION_IDS,
    OPERATION_ROUTES,
    build_openapi_document,
)

# Spec §2, written out again on purpose: the document must match the contract, not itself.
EXPECTED_ROUTES = {
    "listBranches": ("GET", "/branches"),
    "getBranchTree": ("GET", "/branches/{branchId}/tree"),
    "listSlots": ("GET", "/services/{id}/slots"),
    "bookTicket": ("POST", "/tickets/book"),
    "getTicket": ("GET", "/tickets/{id}"),
    # Beyond spec §2 (its §4 "later issues"): a ticket's live stream.
    "streamTicketEvents": ("GET", "/tickets/{id}/events"),
    "cancelTicket": ("POST", "/tickets/{id}/cancel"),
    "changeTicketTime": ("POST", "/tickets/{id}/change-time"),
    "createCustomer": ("POST", "/customers/create"),
    "listCustomers": ("GET", "/customers/getAll"),
    "getCustomer": ("GET", "/customers/getOne"),
    "updateCustomer": ("PUT", "/customers/update"),
    "deleteCustomer": ("DELETE", "/customers/delete"),
    "listCustomerTickets": ("GET", "/customers/tickets"),
}
# Spec §1.1: secret key only for create / list / fetch one / update / delete customer.
SECRET_ONLY = {"createCustomer", "listCustomers", "getCustomer", "updateCustomer", "deleteCustomer"}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_openapi_document(IMPLEMENTED_OPERATIONS)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


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


def _schema_validator(document: dict[str, Any], name: str) -> OAS31Validator:
    root = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return OAS31Validator(root)


# --- the document as a whole -----------------------------------------------------------


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(document).validate()


def test_document_is_plain_json(document: dict[str, Any]) -> None:
    assert json.loads(json.dumps(document)) == document


def test_server_and_relative_paths(document: dict[str, Any]) -> None:
    assert document["servers"] == [{"url": "/external/v1"}]
    assert all(not path.startswith("/external") for path in document["paths"])


def test_operation_routes_match_the_spec(document: dict[str, Any]) -> None:
    assert OPERATION_ROUTES == EXPECTED_ROUTES
    assert frozenset(EXPECTED_ROUTES) == ALL_OPERATION_IDS
    documented = {
        operation["operationId"]: (method.upper(), path)
        for method, path, operation in _operations(document)
    }
    assert documented == OPERATION_ROUTES


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    refs = set(_refs(document))
    assert len(refs) > 20
    for ref in refs:
        assert _resolve(document, {"$ref": ref}) is not None, ref


def test_every_component_is_used(document: dict[str, Any]) -> None:
    refs = set(_refs(document))
    for kind, components in document["components"].items():
        if kind == "securitySchemes":
            continue
        for name in components:
            assert f"#/components/{kind}/{name}" in refs, f"{kind}/{name} is never referenced"


def test_all_schemas_of_the_spec_are_components(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in (
        "SuccessEnvelope", "PaginatedEnvelope", "Pagination", "ErrorEnvelope",
        "ValidationErrorEnvelope", "AuthErrorEnvelope", "Ticket", "Customer", "Branch",
        "BranchTreeGroup", "BranchTreeService", "Slot", "BookTicketRequest",
        "ChangeTimeRequest", "CustomerWriteRequest", "CustomerUpdateRequest",
    ):  # fmt: skip
        assert name in schemas, name
    for envelope in ("ErrorEnvelope", "ValidationErrorEnvelope", "AuthErrorEnvelope"):
        assert "code" in schemas[envelope]["properties"]
        assert "code" not in schemas[envelope]["required"]


# --- every operation -------------------------------------------------------------------


def test_every_operation_documents_the_cross_cutting_responses(document: dict[str, Any]) -> None:
    expected_schema = {
        "401": "AuthErrorEnvelope",
        "422": "ValidationErrorEnvelope",
        "429": "ErrorEnvelope",
        "500": "ErrorEnvelope",
    }
    for _, path, operation in _operations(document):
        responses = operation["responses"]
        for status, schema in expected_schema.items():
            assert status in responses, (path, status)
            content = _resolve(document, responses[status])["content"]["application/json"]
            assert content["schema"] == {"$ref": f"#/components/schemas/{schema}"}


def test_every_response_carries_x_request_id(document: dict[str, Any]) -> None:
    for _, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            headers = _resolve(document, response).get("headers", {})
            assert "X-Request-Id" in headers, (path, status)


def test_every_operation_takes_x_locale(document: dict[str, Any]) -> None:
    for _, path, operation in _operations(document):
        params = [_resolve(document, p) for p in operation["parameters"]]
        locale = [p for p in params if p["name"] == "X-Locale" and p["in"] == "header"]
        assert len(locale) == 1, path
        assert locale[0]["required"] is False
        assert locale[0]["schema"]["enum"] == ["en", "ar"]


def test_idempotency_key_on_writes_only(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        names = {_resolve(document, p)["name"] for p in operation["parameters"]}
        writes = method in {"post", "put", "delete"}
        assert ("Idempotency-Key" in names) == writes, path
        success = next(r for code, r in operation["responses"].items() if code.startswith("2"))
        assert ("Idempotent-Replayed" in success["headers"]) == writes, path


def test_rate_limit_headers_on_429(document: dict[str, Any]) -> None:
    for _, path, operation in _operations(document):
        headers = operation["responses"]["429"]["headers"]
        for name in ("Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"):
            assert name in headers, (path, name)


def test_secret_only_operations_are_the_five_customer_operations(
    document: dict[str, Any],
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert {s["scheme"] for s in schemes.values()} == {"bearer"}
    secret_only = set()
    for _, _, operation in _operations(document):
        security = operation["security"]
        accepted = {name for requirement in security for name in requirement}
        assert accepted <= set(schemes)
        assert "secretKey" in accepted
        if accepted == {"secretKey"}:
            secret_only.add(operation["operationId"])
        else:
            assert accepted == {"publicKey", "secretKey"}
        assert operation["x-taboor-secret-only"] is (accepted == {"secretKey"})
    assert secret_only == SECRET_ONLY


def test_success_statuses_and_envelopes(document: dict[str, Any]) -> None:
    created = {"bookTicket", "createCustomer"}
    paginated = {"listCustomers", "listCustomerTickets"}
    for _, _, operation in _operations(document):
        op_id = operation["operationId"]
        status = "201" if op_id in created else "200"
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert success == [status], op_id
        if op_id == "streamTicketEvents":  # server-sent events, not an envelope
            content = operation["responses"][status]["content"]
            assert list(content) == ["text/event-stream"]
            continue
        schema_ref = operation["responses"][status]["content"]["application/json"]["schema"]
        envelope = _resolve(document, schema_ref)["allOf"][0]["$ref"]
        expected = "PaginatedEnvelope" if op_id in paginated else "SuccessEnvelope"
        assert envelope == f"#/components/schemas/{expected}", op_id


def test_specific_error_statuses(document: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for _, _, op in _operations(document)}
    assert "409" in by_id["cancelTicket"]["responses"]
    assert "400" in by_id["bookTicket"]["responses"]
    assert "400" in by_id["changeTicketTime"]["responses"]
    assert "404" in by_id["getTicket"]["responses"]


def test_pagination_limits(document: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for _, _, op in _operations(document)}

    def params(op_id: str) -> dict[str, Any]:
        resolved = (_resolve(document, p) for p in by_id[op_id]["parameters"])
        return {p["name"]: p["schema"] for p in resolved}

    for op_id, maximum in (("listCustomers", 100), ("listCustomerTickets", 10)):
        schema = params(op_id)
        assert schema["page"] == {"type": "integer", "minimum": 1, "default": 1}
        assert schema["limit"] == {"type": "integer", "minimum": 1, "maximum": maximum,
                                   "default": 10}  # fmt: skip


def test_request_bodies(document: dict[str, Any]) -> None:
    expected = {
        "bookTicket": "BookTicketRequest",
        "changeTicketTime": "ChangeTimeRequest",
        "createCustomer": "CustomerWriteRequest",
        "updateCustomer": "CustomerUpdateRequest",
    }
    for _, _, operation in _operations(document):
        body = operation.get("requestBody")
        name = expected.get(operation["operationId"])
        if name is None:
            assert body is None, operation["operationId"]
        else:
            assert body is not None, operation["operationId"]
            assert body["required"] is True
            assert body["content"]["application/json"]["schema"] == {
                "$ref": f"#/components/schemas/{name}"
            }


@pytest.mark.parametrize(
    "implemented",
    [frozenset(), frozenset({"getTicket"}), IMPLEMENTED_OPERATIONS, ALL_OPERATION_IDS],
)
def test_implemented_flag_follows_the_argument(implemented: frozenset[str]) -> None:
    document = build_openapi_document(implemented)
    for _, _, operation in _operations(document):
        if operation["operationId"] in implemented:
            assert operation["x-taboor-status"] == "implemented"
            assert "Planned" not in operation["description"]
        else:
            assert operation["x-taboor-status"] == "planned"
            assert "Planned" in operation["description"]
            assert "404" in operation["description"]
            assert "404" in operation["responses"]


# --- schemas against real-looking bodies -----------------------------------------------

TICKET = {
    "id": "k3x9m2p7q1",
    "ticketNumber": "Q017",
    "status": "waiting",
    "statusAt": "2026-06-23T11:08:41.000Z",
    "type": "sequential",
    "time": None,
    "branch": {"id": "802b33af66", "name": "Seef Mall Branch"},
    "service": {"id": "6fe8fb8b12", "name": "Cash Withdrawal"},
    "groupOfService": {"id": "7c1f9a3b2d", "name": "Teller Services"},
    "customer": None,
    "bookedAt": "2026-06-23T11:08:41.000Z",
    "queueSize": 3,
    "waitingTime": 15,
}
CUSTOMER = {
    "_id": "9f1c0d2e3b4a59687766554433221100",
    "companyId": "cmp_demo01",
    "name": "Fatima",
    "createdAt": "2026-06-23T11:08:41.000Z",
    "updatedAt": "2026-06-23T11:08:41.000Z",
}


def test_ticket_envelope_validates(document: dict[str, Any]) -> None:
    validator = _schema_validator(document, "TicketResponse")
    body = {"message": "Ticket booked successfully.", "data": TICKET}
    assert validator.is_valid(body)
    assert validator.is_valid({**body, "data": {**TICKET, "customer": {"id": "a" * 32}}})
    assert not validator.is_valid({**body, "data": {**TICKET, "bookedAt": "2026-06-23T11:08:41Z"}})
    assert not validator.is_valid({**body, "data": {**TICKET, "id": "K3X9M2P7Q1"}})
    assert not validator.is_valid({"message": "x"})


def test_customer_schemas_validate(document: dict[str, Any]) -> None:
    single = _schema_validator(document, "CustomerResponse")
    assert single.is_valid({"message": "Customer fetched successfully.", "data": CUSTOMER})
    no_id = {k: v for k, v in CUSTOMER.items() if k != "_id"}
    assert not single.is_valid({"message": "m", "data": no_id})
    assert not single.is_valid({"message": "m", "data": {**CUSTOMER, "name": None}})
    page = _schema_validator(document, "CustomerPageResponse")
    pagination = {"total": 1, "page": 1, "limit": 10, "totalPages": 1, "hasNextPage": False,
                  "hasPrevPage": False}  # fmt: skip
    assert page.is_valid({"message": "m", "data": [CUSTOMER], "pagination": pagination})
    assert not page.is_valid({"message": "m", "data": [CUSTOMER]})


def test_error_envelopes_validate(document: dict[str, Any]) -> None:
    error = _schema_validator(document, "ErrorEnvelope")
    assert error.is_valid({"message": "Something went wrong.", "error": None, "code": "internal"})
    assert not error.is_valid({"message": "Something went wrong."})
    invalid = _schema_validator(document, "ValidationErrorEnvelope")
    assert invalid.is_valid(
        {"message": "The given data was invalid.", "error": {"location.lat": "Bad."}}
    )
    assert not invalid.is_valid({"message": "m", "error": {"id": ["two", "messages"]}})
    auth = _schema_validator(document, "AuthErrorEnvelope")
    assert auth.is_valid({"message": "Unauthorized.", "error": "Invalid API key."})
    assert not auth.is_valid({"message": "Unauthorized.", "error": None})


def test_request_schemas_validate(document: dict[str, Any]) -> None:
    book = _schema_validator(document, "BookTicketRequest")
    assert book.is_valid({"serviceId": "6fe8fb8b12", "groupOfServiceId": "7c1f9a3b2d"})
    assert book.is_valid(
        {"serviceId": "6fe8fb8b12", "groupOfServiceId": "7c1f9a3b2d",
         "time": "2026-06-23T11:00:00Z", "customerId": "a" * 32}
    )  # fmt: skip
    assert not book.is_valid({"serviceId": "6fe8fb8b12"})
    assert not book.is_valid(
        {"serviceId": "6fe8fb8b12", "groupOfServiceId": "7c1f9a3b2d",
         "time": "2026-06-23T11:00:00+03:00"}
    )  # fmt: skip
    change = _schema_validator(document, "ChangeTimeRequest")
    assert change.is_valid({"time": "2026-06-23T11:00:00.000Z", "customerExternalId": "c-1"})
    assert not change.is_valid({"time": "2026-06-23T11:00:00.000Z"})
    update = _schema_validator(document, "CustomerUpdateRequest")
    assert update.is_valid({"id": "a" * 32, "name": None, "email": ""})
    assert not update.is_valid({"name": "Fatima"})


# --- the docs routes -------------------------------------------------------------------

ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
}


def _vendored(name: str) -> bytes:
    files = resources.files("taboor.api.external_v1")
    return files.joinpath("static", "swagger-ui", name).read_bytes()


def test_openapi_json_route() -> None:
    with create_test_client(route_handlers=docs_route_handlers) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["openapi"] == "3.1.0"
    assert body == build_openapi_document(IMPLEMENTED_OPERATIONS)


def test_docs_page_uses_only_local_assets() -> None:
    with create_test_client(route_handlers=docs_route_handlers) as client:
        response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "http://" not in html
    assert "https://" not in html
    assert "//cdn" not in html and "unpkg" not in html and "jsdelivr" not in html
    assert '"/external/v1/openapi.json"' in html
    for name in ASSETS:
        assert f"/external/v1/docs/assets/{name}" in html


@pytest.mark.parametrize(("name", "content_type"), sorted(ASSETS.items()))
def test_assets_are_served(name: str, content_type: str) -> None:
    with create_test_client(route_handlers=docs_route_handlers) as client:
        response = client.get(f"/docs/assets/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{content_type}; charset=utf-8"
    assert "max-age=" in response.headers["cache-control"]
    assert response.content == _vendored(name)
    assert len(response.content) > 10_000


@pytest.mark.parametrize("name", ["LICENSE", "index.html", "swagger-ui.js", "docs.py", "x.css"])
def test_unknown_asset_is_404(name: str) -> None:
    with create_test_client(route_handlers=docs_route_handlers) as client:
        response = client.get(f"/docs/assets/{name}")
    assert response.status_code == 404


def test_page_links_work_when_mounted_under_external_v1() -> None:
    router = Router(path="/external/v1", route_handlers=docs_route_handlers)
    with create_test_client(route_handlers=[router]) as client:
        html = client.get("/external/v1/docs").text
        links = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert len(links) == 2
        for link in links:
            response = client.get(link)
            assert response.status_code == 200, link
            name = link.split("?")[0].rsplit("/", 1)[-1]
            assert response.headers["content-type"].startswith(ASSETS[name])
        spec_url = re.search(r'url: "([^"]+)"', html)
        assert spec_url is not None
        assert client.get(spec_url.group(1)).json()["openapi"] == "3.1.0"
