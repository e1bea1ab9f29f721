"""CORS per company on the External API, on both databases: preflights are allowed for
an origin any company lists; an actual response is readable only from an origin the
key's own company lists."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import CompanyKeys
from tests.limits.helpers import BANK_APP, RIVAL_APP, apply_with

BRANCHES = "/external/v1/branches"
CORS_HEADERS = (
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
    "access-control-expose-headers",
    "access-control-allow-credentials",
)


def cors_of(response: httpx.Response) -> dict[str, str]:
    return {name: response.headers[name] for name in CORS_HEADERS if name in response.headers}


def preflight_headers(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
    }


@pytest.fixture
async def companies(engine: AsyncEngine, bank: CompanyKeys, rival: CompanyKeys) -> None:
    await apply_with(engine, "bank", origins=[BANK_APP, "http://localhost:3000"])
    await apply_with(engine, "rival", origins=[RIVAL_APP])


@pytest.mark.usefixtures("companies")
async def test_a_preflight_from_an_origin_any_company_lists_is_allowed(
    client: httpx.AsyncClient,
) -> None:
    for origin, path in (
        (BANK_APP, "/external/v1/tickets/book"),
        (RIVAL_APP, "/external/v1/tickets/book"),  # the preflight cannot know the key
        ("http://localhost:3000", "/external/v1/customers/update"),
    ):
        response = await client.options(path, headers=preflight_headers(origin))
        assert response.status_code == 204, (origin, path)
        assert response.content == b""
        assert cors_of(response) == {
            "access-control-allow-origin": origin,
            "access-control-allow-methods": "GET, POST, PUT, DELETE",
            "access-control-allow-headers": (
                "Authorization, Content-Type, X-Locale, Idempotency-Key, X-Request-Id"
            ),
            "access-control-max-age": "3600",
        }
        assert response.headers["vary"] == "Origin"
        assert "x-request-id" in response.headers


@pytest.mark.usefixtures("companies")
async def test_a_preflight_from_an_unknown_origin_gets_no_cors_headers(
    client: httpx.AsyncClient,
) -> None:
    for origin in (
        "https://evil.example",
        "https://app.bank.example:8443",  # another port is another origin
        "http://app.bank.example",  # so is another scheme
        "https://APP.bank.example",  # browsers send lower case; this is not what was listed
        "null",
        "https://" + "a" * 400 + ".example",
    ):
        response = await client.options(BRANCHES, headers=preflight_headers(origin, "GET"))
        assert response.status_code == 204, origin
        assert cors_of(response) == {}, origin
        assert response.headers["vary"] == "Origin"


@pytest.mark.usefixtures("companies")
async def test_only_external_api_preflights_are_answered(client: httpx.AsyncClient) -> None:
    staff = await client.options("/staff/v1/login", headers=preflight_headers(BANK_APP))
    assert cors_of(staff) == {}
    # A path no route serves is a 404 before any CORS handling.
    nowhere = await client.options("/external/v1/no/such", headers=preflight_headers(BANK_APP))
    assert nowhere.status_code == 404
    assert cors_of(nowhere) == {}
    # An OPTIONS that is not a preflight (no Access-Control-Request-Method) is the
    # framework's usual answer.
    plain = await client.options(BRANCHES, headers={"Origin": BANK_APP})
    assert plain.status_code == 204
    assert plain.headers["allow"] == "GET, OPTIONS"
    assert cors_of(plain) == {}


@pytest.mark.usefixtures("companies")
async def test_an_actual_response_is_readable_only_from_the_keys_company_origins(
    client: httpx.AsyncClient, bank: CompanyKeys, rival: CompanyKeys
) -> None:
    own = await client.get(BRANCHES, headers={**bank.headers(), "Origin": BANK_APP})
    assert own.status_code == 200
    assert cors_of(own) == {
        "access-control-allow-origin": BANK_APP,
        "access-control-expose-headers": (
            "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, X-Request-Id, "
            "Idempotent-Replayed"
        ),
    }
    assert own.headers["vary"] == "Origin"

    # Another company's origin, with a valid key of this one: no CORS header at all.
    foreign = await client.get(BRANCHES, headers={**bank.headers(), "Origin": RIVAL_APP})
    assert foreign.status_code == 200
    assert cors_of(foreign) == {}
    assert foreign.headers["vary"] == "Origin"
    assert (
        cors_of(await client.get(BRANCHES, headers={**rival.headers(), "Origin": BANK_APP})) == {}
    )
    rival_own = await client.get(BRANCHES, headers={**rival.headers(), "Origin": RIVAL_APP})
    assert rival_own.headers["access-control-allow-origin"] == RIVAL_APP

    # No Origin (not a browser): nothing to allow.
    server_side = await client.get(BRANCHES, headers=bank.headers("secret"))
    assert cors_of(server_side) == {}


@pytest.mark.usefixtures("companies")
async def test_refusals_of_a_known_key_are_readable_unknown_keys_are_not(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys
) -> None:
    await apply_with(
        engine, "bank", limits={"perKeyPerMinute": 1}, origins=[BANK_APP, "http://localhost:3000"]
    )
    browser = {**bank.headers(), "Origin": BANK_APP}
    assert (await client.get(BRANCHES, headers=browser)).status_code == 200
    limited = await client.get(BRANCHES, headers=browser)
    assert limited.status_code == 429
    assert limited.headers["access-control-allow-origin"] == BANK_APP
    assert "Retry-After" in limited.headers["access-control-expose-headers"]
    # A public key on a secret-only endpoint: the company is known, the 401 readable.
    secret_only = await client.get("/external/v1/customers/getAll", headers=browser)
    assert secret_only.status_code == 401
    assert secret_only.headers["access-control-allow-origin"] == BANK_APP
    # An unknown key has no company whose origins could be consulted.
    unknown = await client.get(
        BRANCHES, headers={"Authorization": "Bearer pk_nosuchkey", "Origin": BANK_APP}
    )
    assert unknown.status_code == 401
    assert cors_of(unknown) == {}


async def test_a_company_without_origins_answers_the_same_to_every_origin(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    response = await client.get(BRANCHES, headers={**bank.headers(), "Origin": BANK_APP})
    assert response.status_code == 200
    assert cors_of(response) == {}
    assert "vary" not in response.headers
    preflight = await client.options(BRANCHES, headers=preflight_headers(BANK_APP, "GET"))
    assert cors_of(preflight) == {}


async def test_origins_removed_from_the_file_are_no_longer_allowed(
    client: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys
) -> None:
    await apply_with(engine, "bank", origins=[BANK_APP])
    allowed = await client.options(BRANCHES, headers=preflight_headers(BANK_APP, "GET"))
    assert allowed.headers["access-control-allow-origin"] == BANK_APP
    await apply_with(engine, "bank")
    assert cors_of(await client.options(BRANCHES, headers=preflight_headers(BANK_APP, "GET"))) == {}
    actual = await client.get(BRANCHES, headers={**bank.headers(), "Origin": BANK_APP})
    assert cors_of(actual) == {}
