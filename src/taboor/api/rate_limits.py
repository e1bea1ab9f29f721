"""Rate limits on the External API (spec §4), per API key and per client address.

A company's file may set ``limits: {perKeyPerMinute, perAddressPerMinute}``. Once the
key is known (``taboor.api.external_v1.auth``), a request of such a company is counted
(``taboor.limits.counting``: one atomic statement, shared by every server process);
over a budget it is refused with 429 (code ``rate_limited``) and ``Retry-After``. Every
counted response, whatever its status, carries ``RateLimit-Limit``,
``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds) for the tighter budget.

Requests refused with 401 never get here, so they are not counted against a company;
a company without limits costs nothing (no statement, no headers).

The address is ``request.client.host``, the TCP peer: behind a reverse proxy every
caller shares the proxy's address budget (trusting ``X-Forwarded-For`` needs a list of
trusted proxies, as for the login throttle). Address budgets are per company: calls to
one company do not spend another's budget for the same address.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from taboor.api.errors import Msg, TooManyRequestsError
from taboor.keys.service import Principal
from taboor.limits.counting import SUBJECT_LENGTH, Charge, Verdict

UNKNOWN_ADDRESS = "unknown"


def client_address(request: Request[Any, Any, Any]) -> str:
    """The peer's address (a proxy's, behind one)."""
    client = request.client
    return client.host if client is not None and client.host else UNKNOWN_ADDRESS


def charges_of(principal: Principal, address: str) -> list[Charge]:
    """The budgets a request of ``principal`` from ``address`` spends (key's first)."""
    charges: list[Charge] = []
    if principal.rate_limit_per_key is not None:
        charges.append(Charge("key", principal.key_id, principal.rate_limit_per_key))
    if principal.rate_limit_per_address is not None:
        subject = f"{principal.company_id}/{address}"[:SUBJECT_LENGTH]
        charges.append(Charge("address", subject, principal.rate_limit_per_address))
    return charges


def rate_limit_headers(verdict: Verdict) -> list[tuple[str, str]]:
    budget = verdict.tightest
    return [
        ("RateLimit-Limit", str(budget.limit)),
        ("RateLimit-Remaining", str(budget.remaining)),
        ("RateLimit-Reset", str(budget.reset_seconds)),
    ]


def refusal(verdict: Verdict) -> TooManyRequestsError:
    return TooManyRequestsError(Msg("error.rate_limited"), verdict.retry_after_seconds)
