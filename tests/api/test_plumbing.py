"""Spec §1 plumbing: bearer auth and its 401 bodies, locale fallback, request ids,
error envelopes for unknown routes and internal failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.app import create_app
from taboor.db.engine import create_engine
from taboor.keys.service import create_key, revoke_key
from tests.conftest import CompanyKeys

BRANCHES = "/external/v1/branches"
SECRET_ONLY = [
    ("POST", "/external/v1/customers/create"),
    ("GET", "/external/v1/customers/getAll"),
    ("GET", "/external/v1/customers/getOne?id=0123456789abcdef0123456789abcdef"),
    ("PUT", "/external/v1/customers/update"),
    ("DELETE", "/external/v1/customers/delete?externalId=x"),
]


def unauthorized(reason: str) -> dict[str, str]:
    return {"message": "Unauthorized.", "error": reason, "code": "unauthorized"}


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer    ", "Basic dXNlcjpwYXNz", "Token sk_abc"],
)
async def test_missing_or_malformed_header_is_401(
    client: httpx.AsyncClient, bank: CompanyKeys, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.get(BRANCHES, headers=headers)
    assert response.status_code == 401
    assert response.json() == unauthorized("Missing bearer token.")


@pytest.mark.parametrize(
    "token", ["sk_" + "x" * 43, "pk_" + "y" * 43, "nonsense", "sk_" + "z" * 300]
)
async def test_unknown_key_is_401(client: httpx.AsyncClient, bank: CompanyKeys, token: str) -> None:
    response = await client.get(BRANCHES, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == unauthorized("Invalid API key.")


async def test_revoked_key_stops_working_at_once(
    client: httpx.AsyncClient, bank: CompanyKeys, engine: AsyncEngine
) -> None:
    assert (await client.get(BRANCHES, headers=bank.headers("secret"))).status_code == 200
    assert await revoke_key(engine, bank.secret.id)
    response = await client.get(BRANCHES, headers=bank.headers("secret"))
    assert response.status_code == 401
    assert response.json() == unauthorized("Invalid API key.")
    # The company's other key is unaffected.
    assert (await client.get(BRANCHES, headers=bank.headers("public"))).status_code == 200


@pytest.mark.parametrize(("method", "path"), SECRET_ONLY)
async def test_public_key_on_secret_only_endpoint_is_401(
    client: httpx.AsyncClient, bank: CompanyKeys, method: str, path: str
) -> None:
    response = await client.request(method, path, headers=bank.headers("public"), json={})
    assert response.status_code == 401
    assert response.json() == unauthorized("A secret key is required for this endpoint.")
    arabic = await client.request(method, path, headers=bank.headers("public", "ar"), json={})
    assert arabic.json() == {
        "message": "غير مصرح.",
        "error": "هذه الواجهة تتطلب مفتاحًا سريًا.",
        "code": "unauthorized",
    }


async def test_public_and_secret_keys_both_read_public_endpoints(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    for kind in ("public", "secret"):
        response = await client.get(BRANCHES, headers=bank.headers(kind))
        assert response.status_code == 200, kind


async def test_key_of_a_company_sees_that_company_only(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys, rival: CompanyKeys
) -> None:
    extra = await create_key(engine, "cmp_rival1", "public")
    response = await client.get(BRANCHES, headers={"Authorization": f"Bearer {extra.key}"})
    assert [b["id"] for b in response.json()["data"]] == ["rivalbr001"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ar", "تم جلب الفروع بنجاح."),
        ("AR", "تم جلب الفروع بنجاح."),
        ("ar-BH", "تم جلب الفروع بنجاح."),
        ("ar_SA", "تم جلب الفروع بنجاح."),
        ("en", "Branches fetched successfully."),
        ("en-GB", "Branches fetched successfully."),
        ("fr", "Branches fetched successfully."),
        ("", "Branches fetched successfully."),
        ("ar;q=0.9, en", "تم جلب الفروع بنجاح."),
        ("*", "Branches fetched successfully."),
    ],
)
async def test_locale_header_and_fallback(
    client: httpx.AsyncClient, bank: CompanyKeys, header: str, expected: str
) -> None:
    headers = bank.headers() | {"X-Locale": header}
    response = await client.get(BRANCHES, headers=headers)
    assert response.status_code == 200
    assert response.json()["message"] == expected


async def test_every_response_carries_a_request_id(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    responses = [
        await client.get(BRANCHES, headers=bank.headers()),
        await client.get(BRANCHES),
        await client.get("/external/v1/no-such-route", headers=bank.headers()),
        await client.get("/elsewhere"),
        await client.patch(BRANCHES, headers=bank.headers()),
        await client.get("/external/v1/branches/nope/tree", headers=bank.headers()),
        await client.get("/external/v1/openapi.json"),
    ]
    ids = [response.headers.get("x-request-id") for response in responses]
    assert all(ids), ids
    assert len(set(ids)) == len(ids)


async def test_a_sane_inbound_request_id_is_echoed_and_a_bad_one_replaced(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    echoed = await client.get(BRANCHES, headers=bank.headers() | {"X-Request-Id": "abc-123.x"})
    assert echoed.headers["x-request-id"] == "abc-123.x"
    replaced = await client.get(BRANCHES, headers=bank.headers() | {"X-Request-Id": "bad id\t!"})
    assert replaced.headers["x-request-id"] != "bad id\t!"
    assert len(replaced.headers["x-request-id"]) == 32


async def test_unknown_route_and_wrong_method_use_the_error_envelope(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    missing = await client.get("/external/v1/no-such-route", headers=bank.headers(locale="ar"))
    assert missing.status_code == 404
    assert missing.json() == {"message": "غير موجود.", "error": None, "code": "not_found"}
    wrong = await client.delete(BRANCHES, headers=bank.headers())
    assert wrong.status_code == 405
    assert wrong.json() == {
        "message": "Method not allowed.",
        "error": None,
        "code": "method_not_allowed",
    }


@pytest.fixture
async def broken_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose database has no schema at all: every query fails inside."""
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    app = create_app(engine=engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://taboor.test") as client:
        yield client
    await engine.dispose()


async def test_internal_failure_is_a_500_that_leaks_nothing(
    broken_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await broken_client.get(
        BRANCHES, headers={"Authorization": "Bearer sk_" + "a" * 43, "X-Locale": "ar"}
    )
    assert response.status_code == 500
    assert response.json() == {"message": "حدث خطأ ما.", "error": None, "code": "internal"}
    request_id = response.headers["x-request-id"]
    assert "no such table" not in response.text
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert logged, "the failure is logged with the request id the caller saw"
