"""The External API's OpenAPI document tells the truth about the rate-limit and CORS
headers: RateLimit-* on every response answered after the key check, never on a 401;
Retry-After on 429; the CORS rules in its description."""

from __future__ import annotations

from taboor.api.external_v1.implemented import IMPLEMENTED_OPERATIONS
from taboor.api.external_v1.openapi_document import build_openapi_document

RATE_LIMIT = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}


def test_rate_limit_headers_are_documented_where_they_are_sent() -> None:
    document = build_openapi_document(IMPLEMENTED_OPERATIONS)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            planned = operation["x-taboor-status"] == "planned"
            for status, response in operation["responses"].items():
                headers = set(response["headers"])
                counted = status != "401" and not (planned and status == "404")
                assert (headers >= RATE_LIMIT) == counted, (method, path, status)
                assert ("Retry-After" in headers) == (status == "429"), (method, path, status)
    components = document["components"]["headers"]
    assert components["RetryAfter"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 60}
    assert "not on 401s" in components["RateLimitLimit"]["description"]


def test_the_description_states_the_cors_rules() -> None:
    description = build_openapi_document(IMPLEMENTED_OPERATIONS)["info"]["description"]
    for phrase in (
        "**Rate limits.**",
        "**CORS.**",
        "when any company lists the origin",
        "only when the key's\nown company lists the `Origin`",
        "`Vary: Origin`",
    ):
        assert phrase in description, phrase
