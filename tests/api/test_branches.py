"""GET /branches and GET /branches/{branchId}/tree against both databases."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import CompanyKeys
from tests.support import MutableClock


async def test_lists_active_branches_ordered_by_name_with_live_status(
    client: httpx.AsyncClient, bank: CompanyKeys, clock: MutableClock
) -> None:
    clock.set("2026-06-07T07:00:00Z")  # Sunday 10:00 in Bahrain, 08:00 in London
    response = await client.get("/external/v1/branches", headers=bank.headers())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["message"] == "Branches fetched successfully."
    assert [b["name"] for b in body["data"]] == ["Amwaj Branch", "London Branch", "Zallaq Branch"]
    zallaq = body["data"][2]
    assert zallaq == {
        "id": "zallaq0001",
        "name": "Zallaq Branch",
        "address": "Zallaq Road",
        "location": {"lat": 26.05, "lng": 50.49},
        "timezone": "Asia/Bahrain",
        "branchStatus": {"isBranchOpen": True},
    }
    amwaj = body["data"][0]
    assert "address" not in amwaj and "location" not in amwaj
    assert amwaj["timezone"] == "Asia/Bahrain"  # the company's zone, inherited
    london = body["data"][1]
    assert london["branchStatus"] == {"isBranchOpen": False}  # Sunday 08:00 BST


async def test_open_state_follows_hours_and_closures(
    client: httpx.AsyncClient, bank: CompanyKeys, clock: MutableClock
) -> None:
    async def zallaq_open() -> bool:
        response = await client.get("/external/v1/branches", headers=bank.headers())
        return next(
            b["branchStatus"]["isBranchOpen"]
            for b in response.json()["data"]
            if b["id"] == "zallaq0001"
        )

    clock.set("2026-06-07T04:59:59Z")  # Sunday 07:59:59 local
    assert await zallaq_open() is False
    clock.set("2026-06-07T05:00:00Z")  # 08:00 local: opens
    assert await zallaq_open() is True
    clock.set("2026-06-07T11:00:00Z")  # 14:00 local: closes (end is exclusive)
    assert await zallaq_open() is False
    clock.set("2026-06-11T09:30:00Z")  # Thursday 12:30 local: lunch gap
    assert await zallaq_open() is False
    clock.set("2026-06-11T10:30:00Z")  # Thursday 13:30 local: second interval
    assert await zallaq_open() is True
    clock.set("2026-06-10T07:00:00Z")  # Wednesday 10:00 local, but closed for maintenance
    assert await zallaq_open() is False
    clock.set("2026-06-12T07:00:00Z")  # Friday: no hours at all
    assert await zallaq_open() is False


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Winter (GMT): 09:00 local is 09:00 UTC.
        ("2026-01-05T08:59:00Z", False),
        ("2026-01-05T09:00:00Z", True),
        # Summer (BST): 09:00 local is 08:00 UTC.
        ("2026-06-08T08:00:00Z", True),
        ("2026-06-08T16:00:00Z", False),
        # Spring forward, Sunday 2026-03-29: 01:00-02:00 local never happens.
        ("2026-03-29T00:59:00Z", False),  # 00:59 GMT
        ("2026-03-29T01:00:00Z", False),  # 02:00 BST
        # Fall back, Sunday 2026-10-25: 01:00-02:00 local happens twice, open both times.
        ("2026-10-25T00:30:00Z", True),  # 01:30 BST
        ("2026-10-25T01:30:00Z", True),  # 01:30 GMT
        ("2026-10-25T02:00:00Z", False),  # 02:00 GMT
    ],
)
async def test_open_state_across_daylight_saving_changes(
    client: httpx.AsyncClient, bank: CompanyKeys, clock: MutableClock, moment: str, expected: bool
) -> None:
    clock.set(moment)
    response = await client.get("/external/v1/branches", headers=bank.headers())
    london = next(b for b in response.json()["data"] if b["id"] == "london0001")
    assert london["branchStatus"]["isBranchOpen"] is expected


async def test_names_follow_the_locale_with_fallback(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    response = await client.get("/external/v1/branches", headers=bank.headers(locale="ar-BH"))
    body = response.json()
    assert body["message"] == "تم جلب الفروع بنجاح."
    names = {b["id"]: b["name"] for b in body["data"]}
    assert names["zallaq0001"] == "فرع الزلاق"
    # Ordered by the Arabic names now.
    assert [b["name"] for b in body["data"]] == sorted(names.values(), key=str.casefold)
    for unknown in ("fr", "", "xx-YY"):
        response = await client.get("/external/v1/branches", headers=bank.headers(locale=unknown))
        assert response.json()["message"] == "Branches fetched successfully."


async def test_tree_orders_groups_and_services_and_computes_flags(
    client: httpx.AsyncClient, bank: CompanyKeys, clock: MutableClock
) -> None:
    clock.set("2026-06-07T06:30:00Z")  # Sunday 09:30 local: forex walk-in window open
    response = await client.get("/external/v1/branches/zallaq0001/tree", headers=bank.headers())
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Branch tree fetched successfully."
    assert body["data"] == [
        {
            "id": "zaccounts1",
            "name": "Accounts",
            "type": "service",
            "services": [
                {
                    "id": "zopening01",
                    "name": "Account Opening",
                    "isOpen": True,
                    "isAppointment": True,
                }
            ],
        },
        {
            "id": "ztellers01",
            "name": "Tellers",
            "type": "service",
            "services": [
                {"id": "zdeposit01", "name": "Deposit", "isOpen": True, "isAppointment": False},
                {"id": "zwithdraw1", "name": "Withdrawal", "isOpen": True, "isAppointment": False},
                {
                    "id": "zforex0001",
                    "name": "Foreign Exchange",
                    "isOpen": True,
                    "isAppointment": False,
                },
                {"id": "zloans0001", "name": "Loans", "isOpen": False, "isAppointment": True},
            ],
        },
    ]


async def test_tree_walk_in_hours_and_closed_branch(
    client: httpx.AsyncClient, bank: CompanyKeys, clock: MutableClock
) -> None:
    async def open_services() -> dict[str, bool]:
        response = await client.get(
            "/external/v1/branches/zallaq0001/tree", headers=bank.headers(locale="ar")
        )
        return {
            service["id"]: service["isOpen"]
            for group in response.json()["data"]
            for service in group["services"]
        }

    clock.set("2026-06-07T07:00:00Z")  # 10:00 local: forex window just closed
    assert (await open_services())["zforex0001"] is False
    assert (await open_services())["zwithdraw1"] is True
    clock.set("2026-06-07T03:00:00Z")  # 06:00 local: branch closed, so is everything
    assert not any((await open_services()).values())


async def test_tree_localizes_names_and_falls_back_to_default_language(
    client: httpx.AsyncClient, bank: CompanyKeys
) -> None:
    response = await client.get(
        "/external/v1/branches/zallaq0001/tree", headers=bank.headers(locale="ar")
    )
    body = response.json()
    assert body["message"] == "تم جلب شجرة الفرع بنجاح."
    tellers = body["data"][1]
    assert tellers["name"] == "الصرافون"
    names = [service["name"] for service in tellers["services"]]
    assert "Foreign Exchange" in names  # no Arabic name: the default-language one
    assert "سحب" in names


@pytest.mark.parametrize("branch_id", ["oldbranch1", "nosuchbrch", "BAD!", "rivalbr001"])
async def test_tree_of_unknown_inactive_or_foreign_branch_is_422(
    client: httpx.AsyncClient, bank: CompanyKeys, rival: CompanyKeys, branch_id: str
) -> None:
    for locale, text in (("en", "This value does not exist."), ("ar", "هذه القيمة غير موجودة.")):
        response = await client.get(
            f"/external/v1/branches/{branch_id}/tree", headers=bank.headers(locale=locale)
        )
        assert response.status_code == 422
        assert response.json() == {
            "message": "The given data was invalid."
            if locale == "en"
            else "البيانات المقدمة غير صالحة.",
            "error": {"branchId": text},
            "code": "validation_failed",
        }


async def test_each_company_sees_only_its_own_branches(
    client: httpx.AsyncClient, bank: CompanyKeys, rival: CompanyKeys
) -> None:
    bank_ids = {
        b["id"]
        for b in (await client.get("/external/v1/branches", headers=bank.headers())).json()["data"]
    }
    rival_body = (
        await client.get("/external/v1/branches", headers=rival.headers(locale="en"))
    ).json()
    assert bank_ids == {"zallaq0001", "amwaj00001", "london0001"}
    assert [b["id"] for b in rival_body["data"]] == ["rivalbr001"]
    # Plain-string name = the company's default locale (ar); English falls back to it.
    assert rival_body["data"][0]["name"] == "فرع المنافس"
    tree = await client.get(
        "/external/v1/branches/rivalbr001/tree", headers=rival.headers(locale="en")
    )
    assert tree.json()["data"][0]["services"][0]["name"] == "Service"
