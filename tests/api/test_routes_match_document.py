"""The OpenAPI document tells the truth about what this server serves."""

from __future__ import annotations

import re

import httpx

from taboor.api.external_v1.implemented import IMPLEMENTED_OPERATIONS
from taboor.api.external_v1.openapi_document import ALL_OPERATION_IDS, OPERATION_ROUTES
from taboor.api.external_v1.router import AUTHENTICATED_HANDLERS


def _normalize(path: str) -> str:
    # Litestar writes "{branch_id:str}"; the document writes "{branchId}".
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_mounted_routes_are_exactly_the_implemented_operations() -> None:
    mounted = {
        (method, _normalize(path))
        for handler in AUTHENTICATED_HANDLERS
        for path in handler.paths
        for method in handler.http_methods
    }
    documented = {
        (method, _normalize(path))
        for operation_id, (method, path) in OPERATION_ROUTES.items()
        if operation_id in IMPLEMENTED_OPERATIONS
    }
    assert mounted == documented
    assert IMPLEMENTED_OPERATIONS <= ALL_OPERATION_IDS


async def test_served_document_marks_implemented_and_planned_operations(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/external/v1/openapi.json")).json()
    statuses = {
        operation["operationId"]: operation["x-taboor-status"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    assert {
        op for op, status in statuses.items() if status == "implemented"
    } == IMPLEMENTED_OPERATIONS
    assert {op for op, status in statuses.items() if status == "planned"} == (
        ALL_OPERATION_IDS - IMPLEMENTED_OPERATIONS
    )
