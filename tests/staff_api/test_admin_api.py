"""What an admin does for their own company through the staff API (staff users, API
keys, the company file), checked against the staff OpenAPI document on both databases:
every documented status of these operations is produced, and every body conforms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.api.staff_v1.openapi_document import build_openapi_document
from taboor.db import tables as t
from taboor.setup.loader import demo_company_yaml
from tests.staff_api.helpers import Staff, add_staff
from tests.staff_api.test_staff_openapi import ADMIN_OPERATIONS, Conformance
from tests.support import MutableClock, apply_fixture

HALL, BRANCH = "cmp_ctrs01", "hallbr0001"
COUNTERS_FILE = Path(__file__).parents[1] / "fixtures" / "companies" / "counters.yaml"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_openapi_document()


@pytest.fixture
async def people(engine: AsyncEngine, clock: MutableClock) -> dict[str, Staff]:
    await apply_fixture(engine, "counters")
    await apply_fixture(engine, "bank")
    now = clock()
    return {
        "admin": await add_staff(engine, HALL, "admin", (), now, "Hall Admin"),
        "agent": await add_staff(engine, HALL, "agent", (BRANCH,), now, "Amal"),
        "banker": await add_staff(engine, "cmp_bank01", "admin", (), now, "Banker"),
    }


async def test_an_admin_manages_staff_keys_and_the_company_file(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    document: dict[str, Any],
    people: dict[str, Staff],
) -> None:
    api = Conformance(document, client)
    admin, agent, banker = people["admin"], people["agent"], people["banker"]
    for op_id in ("listStaffAccounts", "listApiKeys"):
        await api.call(op_id, agent, expect=403)
    ids = {"staffId": agent.id, "keyId": "key_0000000000000000"}
    for op_id in sorted(ADMIN_OPERATIONS):  # no session: 401 before anything else
        needs = {"deactivateStaffAccount": "staffId", "revokeApiKey": "keyId"}.get(op_id)
        path_ids = {needs: ids[needs]} if needs else {}
        await api.call(op_id, None, expect=401, json={}, **path_ids)

    # Staff users.
    listed = await api.call("listStaffAccounts", admin, expect=200)
    assert {user["name"] for user in listed["data"]} == {"Hall Admin", "Amal"}
    new_agent = {
        "username": "Badr.Hall",
        "name": "Badr",
        "role": "agent",
        "password": "a long password",
        "branchIds": [BRANCH],
    }
    created = await api.call("createStaffAccount", admin, json=new_agent, expect=201)
    assert (created["data"]["username"], created["data"]["branchIds"]) == ("badr.hall", [BRANCH])
    taken = await api.call("createStaffAccount", admin, json=new_agent, expect=422, locale="ar")
    assert taken["error"] == {"username": "اسم المستخدم هذا مستخدم من قبل."}
    for broken, field in [
        ({**new_agent, "username": "x"}, "username"),
        ({**new_agent, "username": "new.one", "password": "short"}, "password"),
        ({**new_agent, "username": "new.one", "role": "boss"}, "role"),
        ({**new_agent, "username": "new.one", "branchIds": []}, "branchIds"),
        ({**new_agent, "username": "new.one", "branchIds": ["zallaq0001"]}, "branchIds"),
        ({**new_agent, "username": "new.one", "name": " "}, "name"),
        ({"name": "N", "role": "admin", "password": "a long password"}, "username"),
    ]:
        refused = await api.call("createStaffAccount", admin, json=broken, expect=422)
        assert set(refused["error"]) == {field}, broken
    await api.call("createStaffAccount", agent, json=new_agent, expect=403)
    await api.call(
        "createStaffAccount", admin, content=b"x", headers={"Content-Type": "text/plain"},
        expect=422,
    )  # fmt: skip
    staff_id = created["data"]["id"]
    gone = await api.call("deactivateStaffAccount", admin, staffId=staff_id, expect=200)
    assert gone["data"]["active"] is False
    await api.call("deactivateStaffAccount", banker, staffId=staff_id, expect=404)
    await api.call("deactivateStaffAccount", agent, staffId=staff_id, expect=403)

    # API keys: made once, shown once, revoked at once; another company's are not there.
    key = await api.call(
        "createApiKey", admin, json={"kind": "public", "name": "kiosk"}, expect=201
    )
    assert key["data"]["key"].startswith("pk_")
    works = await client.get(
        "/external/v1/branches", headers={"Authorization": f"Bearer {key['data']['key']}"}
    )
    assert works.status_code == 200
    await api.call("createApiKey", agent, json={"kind": "public"}, expect=403)
    await api.call("createApiKey", admin, json={"kind": "root"}, expect=422)
    await api.call("createApiKey", admin, json={"kind": "secret", "name": 5}, expect=422)
    listed_keys = await api.call("listApiKeys", admin, expect=200)
    assert [k["id"] for k in listed_keys["data"]] == [key["data"]["id"]]
    assert "key" not in listed_keys["data"][0]
    await api.call("revokeApiKey", banker, keyId=key["data"]["id"], expect=404)
    revoked = await api.call("revokeApiKey", admin, keyId=key["data"]["id"], expect=200)
    assert revoked["data"]["revokedAt"] is not None
    refused = await client.get(
        "/external/v1/branches", headers={"Authorization": f"Bearer {key['data']['key']}"}
    )
    assert refused.status_code == 401
    await api.call("revokeApiKey", agent, keyId=key["data"]["id"], expect=403)

    # The company file: the admin's own company only, all or nothing.
    own = COUNTERS_FILE.read_text(encoding="utf-8")
    same = await api.call("applyCompanyFile", admin, json={"companyFile": own}, expect=200)
    assert same["data"] == {"changes": {}}
    renamed = own.replace("Counter 4", "Counter Four")
    applied = await api.call("applyCompanyFile", admin, json={"companyFile": renamed}, expect=200)
    assert applied["data"] == {"changes": {"counters": {"updated": 1}}}
    other = await api.call(
        "applyCompanyFile", admin, json={"companyFile": demo_company_yaml()}, expect=422
    )
    assert other["error"] == {"companyFile": "This file describes another company."}
    broken = renamed.replace("prefix: Q", "prefix: q1")
    bad = await api.call("applyCompanyFile", admin, json={"companyFile": broken}, expect=422)
    assert "prefix" in bad["error"]["companyFile"]
    async with engine.connect() as connection:
        names = list(await connection.scalars(select(t.counters.c.name)))
    assert {"en": "Counter Four"} in names  # the broken file changed nothing
    await api.call("applyCompanyFile", agent, json={"companyFile": own}, expect=403)
    await api.call("applyCompanyFile", admin, json={}, expect=422)

    statuses, _ = api.documented(without=set(api.operations) - ADMIN_OPERATIONS)
    assert statuses - api.seen == set(), "documented but never answered"
