"""Staff sign-in: ``POST /login`` hands out a session token, ``POST /logout`` ends it,
``GET /me`` says who the token belongs to.

Failed logins are throttled per account and per client address
(``taboor.staff.throttle``). The address is ``request.client.host``: behind a reverse
proxy that is the proxy's address, so every user shares one address budget there;
trusting a forwarded-for header needs a list of trusted proxies (a later issue).
"""

from __future__ import annotations

import math
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency

from taboor.api.body import json_object_body
from taboor.api.envelopes import success
from taboor.api.errors import AuthError, Msg, TooManyRequestsError, ValidationFailed, locale_of
from taboor.api.external_v1.representations import utc_timestamp
from taboor.api.staff_v1.auth import StaffCall
from taboor.db.uow import run_in_transaction
from taboor.i18n import translate
from taboor.staff import login as staff_login
from taboor.staff.sessions import StaffPrincipal, revoke_session

AnyRequest = Request[Any, Any, Any]
UNKNOWN_ADDRESS = "unknown"


def staff_json(principal: StaffPrincipal) -> dict[str, Any]:
    return {
        "id": principal.staff_id,
        "username": principal.username,
        "name": principal.name,
        "role": principal.role,
        "companyId": principal.company_id,
        "branchIds": sorted(principal.branch_ids),
    }


def _credentials(body: dict[str, Any]) -> tuple[str, str]:
    fields: dict[str, Msg] = {}
    values: list[str] = []
    for name in ("username", "password"):
        value = body.get(name)
        if value is None or value == "":
            fields[name] = Msg("login.field_required")
        elif not isinstance(value, str):
            fields[name] = Msg("login.field_string")
        else:
            values.append(value)
    if fields:
        raise ValidationFailed(fields)
    return values[0], values[1]


def client_address(request: AnyRequest) -> str:
    """The peer's address (a proxy's, behind one)."""
    client = request.client
    return client.host if client is not None and client.host else UNKNOWN_ADDRESS


@post("/login", status_code=200)
async def login(request: AnyRequest) -> Response[bytes]:
    username, password = _credentials(await json_object_body(request))
    state = request.app.state
    try:
        result = await staff_login.login(
            state.engine, username, password, client_address(request), state.clock()
        )
    except staff_login.InvalidCredentialsError:
        raise AuthError("login.invalid_credentials") from None
    except staff_login.LoginThrottledError as error:
        seconds = max(1, math.ceil(error.retry_after_seconds))
        raise TooManyRequestsError(Msg("login.throttled", {"seconds": seconds}), seconds) from None
    data = {
        "token": result.token,
        "expiresAt": utc_timestamp(result.expires_at),
        "staff": staff_json(result.staff),
    }
    return success(translate("login.signed_in", locale_of(request)), data)


@post("/logout", status_code=200)
async def logout(staff: NamedDependency[StaffCall]) -> Response[bytes]:
    await run_in_transaction(
        staff.engine, lambda connection: revoke_session(connection, staff.token, staff.clock())
    )
    return success(staff.text("login.signed_out"), None)


@get("/me")
async def me(staff: NamedDependency[StaffCall]) -> Response[bytes]:
    return success(staff.text("login.me_fetched"), staff_json(staff.principal))


login_handlers = [login, logout, me]
