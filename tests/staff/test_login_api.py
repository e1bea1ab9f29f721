"""``POST /staff/v1/login``, ``POST /staff/v1/logout`` and ``GET /staff/v1/me`` over
HTTP, through the app ``create_app`` builds, on both databases with a pinned clock: the
answer's shape, the token's life (logout, expiry), one 401 for every bad credential in
en and ar, 422 per field, 429 with Retry-After once the account's budget is spent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.app import create_app
from taboor.staff.accounts import deactivate_staff
from tests.conftest import CompanyKeys
from tests.staff.helpers import PASSWORD, WRONG, failures_of, make_staff
from tests.support import MutableClock

INVALID_EN = {
    "message": "Unauthorized.",
    "error": "Invalid username or password.",
    "code": "unauthorized",
}
INVALID_AR = {
    "message": "غير مصرح.",
    "error": "اسم المستخدم أو كلمة المرور غير صحيحة.",
    "code": "unauthorized",
}
SESSION_GONE = {
    "message": "Unauthorized.",
    "error": "Invalid or expired session.",
    "code": "unauthorized",
}


@pytest.fixture
async def api(engine: AsyncEngine, clock: MutableClock) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(engine=engine, clock=clock))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://taboor.test/staff/v1"
    ) as client:
        yield client


@pytest.fixture
async def amal(engine: AsyncEngine, bank: CompanyKeys) -> str:
    return await make_staff(engine, "amal", branches=("zallaq0001", "amwaj00001"))


async def sign_in(
    api: httpx.AsyncClient, username: str = "amal", password: str = PASSWORD, **headers: str
) -> httpx.Response:
    return await api.post(
        "/login", json={"username": username, "password": password}, headers=headers
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_login_answers_a_token_its_expiry_and_the_user(
    api: httpx.AsyncClient, amal: str
) -> None:
    response = await sign_in(api, " Amal ")
    assert response.status_code == 200
    body = response.json()
    token = body["data"]["token"]
    assert token.startswith("st_") and len(token) == 46
    assert body == {
        "message": "Signed in successfully.",
        "data": {
            "token": token,
            # The pinned clock says 2026-06-07T07:00Z; a session lasts 12 hours.
            "expiresAt": "2026-06-07T19:00:00.000Z",
            "staff": {
                "id": amal,
                "username": "amal",
                "name": "Amal Haddad",
                "role": "agent",
                "companyId": "cmp_bank01",
                "branchIds": ["amwaj00001", "zallaq0001"],
            },
        },
    }
    arabic = await sign_in(api, **{"X-Locale": "ar"})
    assert arabic.json()["message"] == "تم تسجيل الدخول بنجاح."


async def test_the_token_works_on_me(api: httpx.AsyncClient, amal: str) -> None:
    login = (await sign_in(api)).json()["data"]
    response = await api.get("/me", headers=bearer(login["token"]))
    assert response.status_code == 200
    assert response.json() == {
        "message": "Staff user fetched successfully.",
        "data": login["staff"],
    }
    arabic = await api.get("/me", headers={**bearer(login["token"]), "X-Locale": "ar"})
    assert arabic.json()["message"] == "تم جلب بيانات الموظف بنجاح."


async def test_an_admin_on_me(
    api: httpx.AsyncClient, engine: AsyncEngine, bank: CompanyKeys
) -> None:
    boss = await make_staff(engine, "boss", role="admin", branches=(), name="The Boss")
    token = (await sign_in(api, "boss")).json()["data"]["token"]
    assert (await api.get("/me", headers=bearer(token))).json()["data"] == {
        "id": boss,
        "username": "boss",
        "name": "The Boss",
        "role": "admin",
        "companyId": "cmp_bank01",
        "branchIds": [],
    }


async def test_logout_ends_that_session_only(api: httpx.AsyncClient, amal: str) -> None:
    first = (await sign_in(api)).json()["data"]["token"]
    second = (await sign_in(api)).json()["data"]["token"]
    response = await api.post("/logout", headers=bearer(first))
    assert response.status_code == 200
    assert response.json() == {"message": "Signed out successfully.", "data": None}
    gone = await api.get("/me", headers=bearer(first))
    assert (gone.status_code, gone.json()) == (401, SESSION_GONE)
    again = await api.post("/logout", headers=bearer(first))
    assert (again.status_code, again.json()) == (401, SESSION_GONE)
    assert (await api.get("/me", headers=bearer(second))).status_code == 200


async def test_me_and_logout_need_a_session(api: httpx.AsyncClient, amal: str) -> None:
    for method, path in (("GET", "/me"), ("POST", "/logout")):
        missing = await api.request(method, path)
        assert missing.status_code == 401
        forged = await api.request(method, path, headers=bearer("st_" + "x" * 43))
        assert (forged.status_code, forged.json()) == (401, SESSION_GONE)


async def test_a_session_expires_after_its_shift(
    api: httpx.AsyncClient, amal: str, clock: MutableClock
) -> None:
    token = (await sign_in(api)).json()["data"]["token"]
    start = clock.now
    clock.now = start + timedelta(hours=12, seconds=-1)
    assert (await api.get("/me", headers=bearer(token))).status_code == 200
    clock.now = start + timedelta(hours=12)
    expired = await api.get("/me", headers=bearer(token))
    assert (expired.status_code, expired.json()) == (401, SESSION_GONE)


async def test_a_deactivated_users_session_dies(
    api: httpx.AsyncClient, engine: AsyncEngine, amal: str, clock: MutableClock
) -> None:
    token = (await sign_in(api)).json()["data"]["token"]
    await deactivate_staff(engine, "amal", clock.now)
    assert (await api.get("/me", headers=bearer(token))).status_code == 401


@pytest.mark.parametrize(
    ("locale", "expected"), [(None, INVALID_EN), ("en", INVALID_EN), ("ar", INVALID_AR)]
)
async def test_every_bad_credential_is_the_same_401(
    api: httpx.AsyncClient,
    engine: AsyncEngine,
    amal: str,
    clock: MutableClock,
    locale: str | None,
    expected: dict[str, str],
) -> None:
    await make_staff(engine, "gone")
    await deactivate_staff(engine, "gone", clock.now)
    headers = {"X-Locale": locale} if locale else {}
    answers = [
        await sign_in(api, "amal", WRONG, **headers),
        await sign_in(api, "nobody", PASSWORD, **headers),
        await sign_in(api, "gone", PASSWORD, **headers),  # the right password
        await sign_in(api, "not a username!", PASSWORD, **headers),
    ]
    for answer in answers:
        assert answer.status_code == 401
        assert answer.json() == expected
        assert answer.content == answers[0].content
        assert "retry-after" not in answer.headers


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"username": "This field is required.", "password": "This field is required."}),
        ({"username": "amal"}, {"password": "This field is required."}),
        ({"username": "", "password": PASSWORD}, {"username": "This field is required."}),
        ({"username": None, "password": PASSWORD}, {"username": "This field is required."}),
        ({"username": 42, "password": PASSWORD}, {"username": "This field must be a string."}),
        (
            {"username": ["amal"], "password": {"p": 1}},
            {
                "username": "This field must be a string.",
                "password": "This field must be a string.",
            },
        ),
    ],
)
async def test_missing_or_non_string_fields_are_422(
    api: httpx.AsyncClient,
    engine: AsyncEngine,
    amal: str,
    body: dict[str, object],
    errors: dict[str, str],
) -> None:
    response = await api.post("/login", json=body)
    assert response.status_code == 422
    assert response.json() == {
        "message": "The given data was invalid.",
        "error": errors,
        "code": "validation_failed",
    }
    # Nothing was checked, so nothing was counted.
    assert await failures_of(engine, "address", "127.0.0.1") == 0


async def test_422_in_arabic_and_for_a_body_that_is_not_json(
    api: httpx.AsyncClient, amal: str
) -> None:
    arabic = await api.post("/login", json={"username": 1}, headers={"X-Locale": "ar"})
    assert arabic.json()["error"] == {
        "username": "يجب أن يكون هذا الحقل نصًا.",
        "password": "هذا الحقل مطلوب.",
    }
    assert arabic.json()["message"] == "البيانات المقدمة غير صالحة."
    broken = await api.post("/login", content=b"{", headers={"Content-Type": "application/json"})
    assert (broken.status_code, list(broken.json()["error"])) == (422, ["body"])


async def test_the_sixth_wrong_password_is_429_until_the_window_ends(
    api: httpx.AsyncClient, engine: AsyncEngine, amal: str, clock: MutableClock
) -> None:
    start = clock.now
    for _ in range(5):
        assert (await sign_in(api, password=WRONG)).status_code == 401
    clock.now = start + timedelta(minutes=5)
    refused = await sign_in(api, password=WRONG)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "600"
    assert refused.json() == {
        "message": "Too many failed sign-in attempts. Try again in 600 seconds.",
        "error": None,
        "code": "rate_limited",
    }
    # The right password is refused too, without being checked.
    right = await sign_in(api, **{"X-Locale": "ar"})
    assert (right.status_code, right.headers["retry-after"]) == (429, "600")
    assert right.json()["message"] == (
        "محاولات تسجيل دخول فاشلة كثيرة. حاول مرة أخرى بعد 600 ثانية."
    )
    assert await failures_of(engine, "account", "amal") == 5
    clock.now = start + timedelta(minutes=15)
    assert (await sign_in(api)).status_code == 200
    assert await failures_of(engine, "account", "amal") == 0
