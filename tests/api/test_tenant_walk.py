"""Tenant isolation (design.md §3.4: every query is scoped by company), walked endpoint
by endpoint on both databases.

Company A (the ``bank``) gets real data through its own APIs: customers, tickets in
every status (upcoming, waiting, called, serving, served, cancelled, no-show; moved,
checked in, transferred), its counter held by its agent, staff users, API keys, an
idempotency record. Then company B (``tenant_b``), with its own credentials (a secret
key for the External API, an admin session for the staff API), calls every operation of
both APIs with A's ids wherever ids go: path, query and body, and where an operation
takes two ids, one of B's own next to one of A's. The answers must be the contract's
answers to an id that does not exist: 422 on that field in the External API (spec
§1.6), 404 for a path id and 422 for a body id in the staff API. Operations that take
no id (lists, "me", creating B's own things) must answer for B alone. No answer may
carry anything of A's the request did not send. Afterwards every row of A's is exactly
as it was.

The operations are taken from the app's mounted routes and the two OpenAPI documents'
``OPERATION_ROUTES``: a new endpoint without cases here fails the test.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.api.external_v1.docs import docs_route_handlers as external_docs
from taboor.api.external_v1.openapi_document import OPERATION_ROUTES as EXTERNAL_ROUTES
from taboor.api.staff_v1.docs import docs_route_handlers as staff_docs
from taboor.api.staff_v1.openapi_document import OPERATION_ROUTES as STAFF_ROUTES
from taboor.app import create_app
from taboor.db.tables import metadata
from taboor.keys.service import revoke_key
from taboor.staff import accounts
from tests.conftest import CompanyKeys, keys_for
from tests.db.snapshots import Snapshot, snapshot
from tests.staff_api.helpers import Staff, add_staff
from tests.support import MutableClock, apply_fixture, company_file

EXTERNAL, STAFF = "/external/v1", "/staff/v1"
A, B = "cmp_bank01", "cmp_tenb01"
A_BRANCH, A_COUNTER = "zallaq0001", "zctr000001"
A_BRANCHES = ("zallaq0001", "amwaj00001", "london0001", "oldbranch1")  # oldbranch1: inactive
WITHDRAW = {"serviceId": "zwithdraw1", "groupOfServiceId": "ztellers01"}  # W, at the counter
DEPOSIT = {"serviceId": "zdeposit01", "groupOfServiceId": "ztellers01"}  # D, at the counter
ENQUIRY = {"serviceId": "aservice01", "groupOfServiceId": "agroup0001"}  # G, Amwaj
OPENING = {"serviceId": "zopening01", "groupOfServiceId": "zaccounts1"}  # appointments
LOANS = {"serviceId": "zloans0001", "groupOfServiceId": "ztellers01"}  # appointments only
A_SERVICES = ("zwithdraw1", "zdeposit01", "zforex0001", "zloans0001", "zopening01", "aservice01")
B_BRANCH, B_COUNTER = "tenbbr0001", "tenbctr001"
B_WALK_IN = {"serviceId": "tenbwalk01", "groupOfServiceId": "tenbgrp001"}
B_APPOINTMENT = {"serviceId": "tenbappt01", "groupOfServiceId": "tenbgrp001"}
SHARED_IDEMPOTENCY_KEY = "tenant-walk-0001"
PASSWORD = "a long enough password"
# externalIds of A's that B gives its own customers (each company has its own directory),
# so B's answers may carry them.
REUSED_BY_B = ("a-ext-3", "a-ext-4")
DOES_NOT_EXIST = "This value does not exist."


# -- company A: real data, made through its own APIs --------------------------------------


@dataclass
class CompanyA:
    keys: CompanyKeys
    admin: Staff
    agent: Staff
    agent_username: str
    customers: list[str] = field(default_factory=list)  # ids, customer i has a-ext-i
    tickets: dict[str, str] = field(default_factory=dict)  # what it is -> id
    staff_ids: list[str] = field(default_factory=list)
    key_ids: list[str] = field(default_factory=list)
    idempotent_booking: dict[str, Any] = field(default_factory=dict)

    def credentials(self) -> list[str]:
        tokens = [self.keys.public.key, self.keys.secret.key, self.admin.token, self.agent.token]
        return [f"Bearer {token}" for token in tokens]


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (response.request.url, response.text)
    body: dict[str, Any] = response.json()
    return body


async def _sign_in(
    client: httpx.AsyncClient, engine: AsyncEngine, clock: MutableClock, role: str, name: str
) -> tuple[Staff, str]:
    username = f"bank.{role}"
    branches = [] if role == "admin" else [A_BRANCH]
    await accounts.create_staff(engine, A, username, name, role, PASSWORD, branches, clock())
    body = _ok(
        await client.post(f"{STAFF}/login", json={"username": username, "password": PASSWORD})
    )
    return Staff(body["data"]["staff"]["id"], body["data"]["token"]), username


async def build_company_a(
    client: httpx.AsyncClient, engine: AsyncEngine, clock: MutableClock
) -> CompanyA:
    await apply_fixture(engine, "bank")
    keys = await keys_for(engine, A)
    admin, _ = await _sign_in(client, engine, clock, "admin", "Bank Admin")
    agent, agent_username = await _sign_in(client, engine, clock, "agent", "Bank Agent")
    a = CompanyA(keys, admin, agent, agent_username, staff_ids=[admin.id, agent.id])
    public, secret = keys.headers("public"), keys.headers("secret")

    for n in range(1, 8):
        customer = {
            "externalId": f"a-ext-{n}",
            "name": f"Alia Banker {n}",
            "email": f"alia{n}@bank.example",
            "mobile": f"+97333300{n:03d}",
            "metadata": {"tier": "gold", "n": n},
        }
        body = _ok(
            await client.post(f"{EXTERNAL}/customers/create", headers=secret, json=customer), 201
        )
        a.customers.append(body["data"]["_id"])

    async def book(name: str, body: dict[str, Any], **headers: str) -> str:
        response = await client.post(
            f"{EXTERNAL}/tickets/book", headers={**public, **headers}, json=body
        )
        ticket_id: str = (_ok(response, 201))["data"]["id"]
        a.tickets[name] = ticket_id
        return ticket_id

    c = a.customers
    for n, name in enumerate(("served", "no_show", "serving", "called"), start=1):
        await book(name, {**WITHDRAW, "customerId": c[n - 1]})  # W001…W004
    await book("transferred", DEPOSIT)  # D001, anonymous
    await book("cancelled_by_staff", WITHDRAW)  # W005, anonymous
    a.idempotent_booking = {**ENQUIRY, "customerExternalId": "a-ext-5"}
    await book("idempotent", a.idempotent_booking, **{"Idempotency-Key": SHARED_IDEMPOTENCY_KEY})
    # Appointments (clock: Sunday 10:00 in Bahrain; the branch opens 08:00-14:00).
    await book("upcoming", {**OPENING, "time": "2026-06-07T08:00:00.000Z", "customerId": c[4]})
    await book("cancelled", {**OPENING, "time": "2026-06-07T08:15:00.000Z", "customerId": c[5]})
    await book("checked_in", {**OPENING, "time": "2026-06-07T08:00:00.000Z", "customerId": c[6]})
    await book("moved", {**LOANS, "time": "2026-06-08T06:00:00.000Z", "customerId": c[0]})
    _ok(await client.post(f"{EXTERNAL}/tickets/{a.tickets['cancelled']}/cancel", headers=public))
    _ok(
        await client.post(
            f"{EXTERNAL}/tickets/{a.tickets['moved']}/change-time",
            headers=public,
            json={"time": "2026-06-08T06:30:00.000Z", "customerExternalId": "a-ext-1"},
        )
    )

    # The agent holds the bank's counter and works through the queue.
    async def staff(path: str, who: Staff = agent, **kw: Any) -> dict[str, Any]:
        clock.now += timedelta(minutes=1)
        return _ok(await client.post(f"{STAFF}{path}", headers=who.headers(), **kw))

    t = a.tickets
    await staff(f"/counters/{A_COUNTER}/open")
    await staff(f"/tickets/{t['checked_in']}/check-in")
    for name, moves in (
        ("served", ("start", "finish")),
        ("no_show", ("no-show",)),
        ("serving", ("start",)),
        ("called", ()),
    ):
        await staff(f"/tickets/{t[name]}/call", json={"counterId": A_COUNTER})
        for move in moves:
            await staff(f"/tickets/{t[name]}/{move}")
    await staff(f"/tickets/{t['transferred']}/transfer", json={"serviceId": "zwithdraw1"})
    await staff(f"/tickets/{t['cancelled_by_staff']}/cancel")

    # The admin's own administration: a second agent, a key made and revoked.
    made = _ok(
        await client.post(
            f"{STAFF}/staff",
            headers=admin.headers(),
            json={
                "username": "bank.second",
                "name": "Second Agent",
                "role": "agent",
                "password": PASSWORD,
                "branchIds": [A_BRANCH, "amwaj00001"],
            },
        ),
        201,
    )
    a.staff_ids.append(made["data"]["id"])
    key = _ok(
        await client.post(
            f"{STAFF}/keys", headers=admin.headers(), json={"kind": "public", "name": "kiosk"}
        ),
        201,
    )
    await staff(f"/keys/{key['data']['id']}/revoke", who=admin)
    a.key_ids = [keys.public.id, keys.secret.id, key["data"]["id"]]

    statuses = {
        name: (_ok(await client.get(f"{EXTERNAL}/tickets/{ticket}", headers=public)))["data"][
            "status"
        ]
        for name, ticket in t.items()
    }
    assert set(statuses.values()) == {
        "upcoming",
        "waiting",
        "called",
        "serving",
        "served",
        "cancelled",
        "no_show",
    }, statuses
    return a


# -- company B: its credentials and the few things of its own it pairs A's ids with -------


@dataclass
class CompanyB:
    keys: CompanyKeys
    admin: Staff
    agent: Staff  # works B's branch and holds B's counter
    leaver: Staff  # a second session, for logout
    customer: str
    walk_in: str
    appointment: str
    appointment_customer: str


async def build_company_b(
    client: httpx.AsyncClient, engine: AsyncEngine, clock: MutableClock
) -> CompanyB:
    await apply_fixture(engine, "tenant_b")
    keys = await keys_for(engine, B)
    admin = await add_staff(engine, B, "admin", (), clock(), "B Admin")
    agent = await add_staff(engine, B, "agent", (B_BRANCH,), clock(), "B Agent")
    _ok(await client.post(f"{STAFF}/counters/{B_COUNTER}/open", headers=agent.headers()))
    leaver = await add_staff(engine, B, "admin", (), clock(), "B Leaver")
    secret = keys.headers("secret")
    ids = []
    for external_id in ("b-1", "b-2"):
        response = await client.post(
            f"{EXTERNAL}/customers/create", headers=secret, json={"externalId": external_id}
        )
        ids.append((_ok(response, 201))["data"]["_id"])
    walk_in = _ok(
        await client.post(
            f"{EXTERNAL}/tickets/book", headers=secret, json={**B_WALK_IN, "customerId": ids[0]}
        ),
        201,
    )
    appointment = _ok(
        await client.post(
            f"{EXTERNAL}/tickets/book",
            headers=secret,
            json={**B_APPOINTMENT, "time": "2026-06-07T09:00:00.000Z", "customerId": ids[1]},
        ),
        201,
    )
    return CompanyB(
        keys,
        admin,
        agent,
        leaver,
        ids[0],
        walk_in["data"]["id"],
        appointment["data"]["id"],
        ids[1],
    )


# -- the cases: every operation, with A's ids where ids go ---------------------------------


@dataclass
class Case:
    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] | None = None
    json: Any = None
    status: int = 422
    fields: set[str] | None = None  # a 422's error fields
    who: str = "admin"  # staff API: "admin", "agent", "leaver" or "nobody"
    headers: dict[str, str] = field(default_factory=dict)
    check: Callable[[dict[str, Any]], bool] | None = None
    message: str = DOES_NOT_EXIST  # an External 422's message on each field


def external_cases(a: CompanyA, b: CompanyB) -> dict[str, list[Case]]:
    tickets = list(a.tickets.values())
    upcoming = [a.tickets["upcoming"], a.tickets["moved"]]

    def only_b(body: dict[str, Any]) -> bool:
        # B's customers only, and counted alone (B's three fit on the first page).
        customers = body["data"]
        mine = all(item.get("companyId") == B for item in customers)
        return mine and body["pagination"]["total"] == len(customers) == 3

    return {
        "listBranches": [
            Case(status=200, check=lambda body: [x["id"] for x in body["data"]] == [B_BRANCH])
        ],
        "getBranchTree": [Case(path={"branchId": br}, fields={"branchId"}) for br in A_BRANCHES],
        "listSlots": [Case(path={"id": svc}, fields={"id"}) for svc in A_SERVICES]
        + [Case(path={"id": "zopening01"}, query={"date": "2026-06-08"}, fields={"id"})],
        "bookTicket": [
            Case(json=WITHDRAW, fields={"serviceId"}),
            Case(json={**WITHDRAW, "customerId": b.customer}, fields={"serviceId"}),
            Case(
                json={**OPENING, "time": "2026-06-07T09:00:00.000Z", "customerId": b.customer},
                fields={"serviceId"},
            ),
            # The answer to any group that is not the service's, A's or none at all.
            Case(
                json={**B_WALK_IN, "groupOfServiceId": "ztellers01"},
                fields={"groupOfServiceId"},
                message="The group of service does not contain this service.",
            ),
            Case(json={**B_WALK_IN, "customerId": a.customers[6]}, fields={"customerId"}),
            Case(
                json={**B_WALK_IN, "customerExternalId": "a-ext-7"}, fields={"customerExternalId"}
            ),
            Case(
                json={**B_WALK_IN, "customerId": b.customer, "customerExternalId": "a-ext-7"},
                fields={"customerExternalId"},
            ),
            Case(
                json={
                    **B_APPOINTMENT,
                    "time": "2026-06-07T10:00:00.000Z",
                    "customerId": a.customers[6],
                },
                fields={"customerId"},
            ),
            # A's Idempotency-Key and A's very request: never A's stored answer.
            Case(
                json=a.idempotent_booking,
                headers={"Idempotency-Key": SHARED_IDEMPOTENCY_KEY},
                fields={"serviceId"},
            ),
        ],
        "getTicket": [Case(path={"id": ticket}, fields={"id"}) for ticket in tickets],
        # A's ticket is refused before any stream starts (a 422 JSON answer).
        "streamTicketEvents": [Case(path={"id": ticket}, fields={"id"}) for ticket in tickets],
        "cancelTicket": [Case(path={"id": ticket}, fields={"id"}) for ticket in tickets],
        "changeTicketTime": [
            Case(
                path={"id": ticket},
                json={"time": "2026-06-08T07:00:00.000Z", "customerId": customer},
                fields={"id"},
            )
            for ticket, customer in zip(upcoming, (a.customers[4], a.customers[0]), strict=True)
        ]
        + [
            Case(
                path={"id": b.appointment},
                json={"time": "2026-06-07T10:00:00.000Z", **named},
                fields={"customerId"},
                message="The customer does not match this ticket.",
            )
            for named in ({"customerId": a.customers[1]}, {"customerExternalId": "a-ext-2"})
        ],
        # B's directory is B's own: an externalId A uses is free in it.
        "createCustomer": [
            Case(
                json={"externalId": REUSED_BY_B[0], "name": "B's own"},
                status=201,
                check=lambda body: body["data"]["companyId"] == B,
            )
        ],
        "listCustomers": [Case(status=200, check=only_b)],
        "getCustomer": [Case(query={"id": cid}, fields={"id"}) for cid in a.customers]
        + [Case(query={"externalId": "a-ext-1"}, fields={"externalId"})],
        "updateCustomer": [
            Case(json={"id": a.customers[0], "name": "Taken over"}, fields={"id"}),
            Case(json={"id": a.customers[1], "externalId": "b-9"}, fields={"id"}),
            Case(json={"externalId": "a-ext-2", "name": "Taken over"}, fields={"externalId"}),
            Case(
                json={"id": b.customer, "externalId": REUSED_BY_B[1]},
                status=200,
                check=lambda body: body["data"]["_id"] == b.customer,
            ),
        ],
        "deleteCustomer": [
            Case(query={"id": a.customers[2]}, fields={"id"}),
            Case(query={"externalId": "a-ext-6"}, fields={"externalId"}),
        ],
        "listCustomerTickets": [
            Case(query={"id": a.customers[0]}, fields={"id"}),
            Case(query={"externalId": "a-ext-1"}, fields={"externalId"}),
        ],
    }


def staff_cases(a: CompanyA, b: CompanyB) -> dict[str, list[Case]]:
    tickets = list(a.tickets.values())
    ticket_moves = {
        op: [Case(path={"ticketId": ticket}, status=404) for ticket in tickets]
        for op in (
            "getTicket",
            "checkInTicket",
            "recallTicket",
            "requeueTicket",
            "startTicket",
            "finishTicket",
            "markNoShow",
            "cancelTicket",
        )
    }
    counter_ops = {
        op: [Case(path={"counterId": A_COUNTER}, status=404)]
        for op in ("openCounter", "closeCounter", "callNextTicket", "getCounterToday")
    }
    branch_ops = {
        op: [Case(path={"branchId": branch}, status=404) for branch in A_BRANCHES]
        for op in ("listBranchCounters", "getBranchQueue")
    }
    own_file = company_file("tenant_b").read_text(encoding="utf-8")
    a_file = company_file("bank").read_text(encoding="utf-8")
    # B's own file, with one of its ids replaced by A's (every occurrence of it).
    hijacks = [
        own_file.replace(ours, theirs)
        for ours, theirs in (
            (B_BRANCH, A_BRANCH),
            ("tenbgrp001", "ztellers01"),
            ("tenbwalk01", "zwithdraw1"),
            (B_COUNTER, A_COUNTER),
            # B's counter serving A's service.
            ("services: [tenbwalk01, tenbappt01]", "services: [tenbwalk01, zwithdraw1]"),
        )
    ]
    assert all(text != own_file for text in hijacks)
    new_user = {"username": "b.new", "name": "New", "role": "agent", "password": PASSWORD}

    def data_ids(body: dict[str, Any]) -> set[str]:
        return {item["id"] for item in body["data"]}

    return {
        # Sign-in names no company: A's username with a wrong password is refused as
        # any wrong sign-in is (compared with an unknown username after the walk).
        "login": [
            Case(
                json={"username": a.agent_username, "password": "not the password"},
                status=401,
                who="nobody",
            )
        ],
        "logout": [Case(who="leaver", status=200)],
        "getMe": [Case(status=200, check=lambda body: body["data"]["companyId"] == B)],
        "listStaffBranches": [Case(status=200, check=lambda body: data_ids(body) == {B_BRANCH})],
        **branch_ops,
        **counter_ops,
        "setCounterServices": [
            Case(path={"counterId": A_COUNTER}, json={"serviceIds": ["zwithdraw1"]}, status=404),
            Case(path={"counterId": A_COUNTER}, json={"serviceIds": []}, status=404),
            Case(
                path={"counterId": B_COUNTER},
                json={"serviceIds": ["zwithdraw1"]},
                fields={"serviceIds"},
            ),
        ],
        **ticket_moves,
        "callTicket": [
            Case(path={"ticketId": ticket}, json={"counterId": B_COUNTER}, status=404)
            for ticket in tickets
        ]
        + [Case(path={"ticketId": b.walk_in}, json={"counterId": A_COUNTER}, fields={"counterId"})],
        "transferTicket": [
            Case(path={"ticketId": ticket}, json={"serviceId": "tenbwalk01"}, status=404)
            for ticket in tickets
        ]
        + [
            Case(path={"ticketId": b.walk_in}, json={"serviceId": svc}, fields={"serviceId"})
            for svc in ("zwithdraw1", "zdeposit01", "aservice01")
        ],
        "listStaffAccounts": [
            Case(
                status=200,
                check=lambda body: data_ids(body) == {b.admin.id, b.agent.id, b.leaver.id},
            )
        ],
        "createStaffAccount": [
            Case(json={**new_user, "branchIds": [A_BRANCH]}, fields={"branchIds"}),
            Case(json={**new_user, "branchIds": [B_BRANCH, "amwaj00001"]}, fields={"branchIds"}),
            Case(json={**new_user, "role": "admin", "branchIds": [A_BRANCH]}, fields={"branchIds"}),
            # Usernames are unique across the server (a sign-in names no company), so
            # A's is taken for B too: refused, and A's account untouched.
            Case(
                json={**new_user, "username": a.agent_username, "branchIds": [B_BRANCH]},
                fields={"username"},
            ),
        ],
        "deactivateStaffAccount": [
            Case(path={"staffId": staff_id}, status=404) for staff_id in a.staff_ids
        ],
        "listApiKeys": [
            Case(
                status=200,
                check=lambda body: data_ids(body) == {b.keys.public.id, b.keys.secret.id},
            )
        ],
        "createApiKey": [Case(json={"kind": "secret", "name": "B's"}, status=201)],
        "revokeApiKey": [Case(path={"keyId": key_id}, status=404) for key_id in a.key_ids],
        "applyCompanyFile": [Case(json={"companyFile": a_file}, fields={"companyFile"})]
        + [Case(json={"companyFile": text}, fields={"companyFile"}) for text in hijacks],
    }


# Admin-only staff operations: an agent is refused them (403) before any id is looked at.
ADMIN_ONLY = {
    op
    for op, (_, path) in STAFF_ROUTES.items()
    if path.split("/")[1] in ("staff", "keys", "company")
}


def as_agent(op: str, case: Case) -> Case:
    """The same call by B's agent: the same answer (A's branch is not found, never
    forbidden), except on administration."""
    if op in ADMIN_ONLY:
        return replace(case, who="agent", status=403, fields=None, check=None)
    return replace(case, who="agent")


# -- the walk ------------------------------------------------------------------------------


def _normalized(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def undocumented_routes(engine: AsyncEngine) -> list[tuple[str, str]]:
    """Routes the app serves under the two APIs (documentation aside) that no operation
    of their document names: each would escape the walk."""
    documented = {
        (method, _normalized(base + path))
        for base, routes in ((EXTERNAL, EXTERNAL_ROUTES), (STAFF, STAFF_ROUTES))
        for method, path in routes.values()
    }
    docs = {handler.handler_name for handler in [*external_docs, *staff_docs]}
    missing = []
    for route in create_app(engine=engine).routes:
        if not route.path.startswith((EXTERNAL + "/", STAFF + "/")):
            continue
        for handler in getattr(route, "route_handlers", []):
            if handler.handler_name in docs:
                continue
            for method in handler.http_methods - {"OPTIONS", "HEAD"}:
                if (method, _normalized(route.path)) not in documented:
                    missing.append((method, route.path))
    return missing


@dataclass
class Walk:
    client: httpx.AsyncClient
    b: CompanyB
    secrets: set[str]  # things of A's no answer may carry unless the request sent them
    answers: list[tuple[str, str, int]] = field(default_factory=list)
    wrong: list[tuple[str, str, str, Any]] = field(default_factory=list)

    def headers(self, base: str, case: Case) -> dict[str, str]:
        if base == EXTERNAL:
            auth = self.b.keys.headers("secret")
        elif case.who == "nobody":
            auth = {}
        else:
            who = {"admin": self.b.admin, "agent": self.b.agent, "leaver": self.b.leaver}
            auth = who[case.who].headers()
        return {**auth, **case.headers}

    async def call(self, base: str, op: str, method: str, template: str, case: Case) -> None:
        names = set(re.findall(r"\{([^}]+)\}", template))
        assert names == set(case.path), f"{op}: path ids {names}, case gives {set(case.path)}"
        path = template
        for name, value in case.path.items():
            path = path.replace("{" + name + "}", value)
        response = await self.client.request(
            method,
            base + path,
            params=case.query,
            json=case.json,
            headers=self.headers(base, case),
        )
        label = f"{method} {base}{path} {case.query or ''} {json.dumps(case.json)[:80]}"
        self.answers.append((op, label, response.status_code))
        body = response.json()
        problems = []
        if response.status_code != case.status:
            problems.append(f"status {response.status_code}, expected {case.status}")
        elif case.status == 422 and set(body.get("error") or {}) != case.fields:
            problems.append(f"422 on {set(body.get('error') or {})}, expected {case.fields}")
        elif (
            case.status == 422
            and base == EXTERNAL
            and any(message != case.message for message in body["error"].values())
        ):
            problems.append(f"422 says {body['error']}, expected {case.message!r}")
        elif case.status == 404 and body.get("code") != "not_found":
            problems.append(f"404 with code {body.get('code')}")
        elif case.status == 403 and body.get("code") != "forbidden":
            problems.append(f"403 with code {body.get('code')}")
        elif case.check is not None and not case.check(body):
            problems.append("answer is not B's alone")
        sent = response.request.url.path + response.request.url.query.decode()
        sent += response.request.content.decode()
        leaked = sorted(s for s in self.secrets if s in response.text and s not in sent)
        if leaked:
            problems.append(f"carries A's {leaked}")
        if problems:
            self.wrong.append((op, label, "; ".join(problems), body))


def secrets_of(a: CompanyA, before: Snapshot) -> set[str]:
    """Every id, name and contact detail of A's: what B must never be shown."""
    found: set[str] = {A, "Test Bank", a.agent_username, "bank.admin", "bank.second"}
    for table in ("branches", "service_groups", "services", "counters", "tickets", "customers"):
        for row in before[table]:
            if row["company_id"] != A:
                continue
            found.add(row["id"])
            for column in ("external_id", "name", "email", "mobile"):
                value = row.get(column)
                if isinstance(value, str):
                    found.add(value)
                elif isinstance(value, dict):
                    found.update(v for v in value.values() if isinstance(v, str))
    found.update(a.staff_ids)
    found.update(a.key_ids)
    return {s for s in found if len(s) >= 4} - set(REUSED_BY_B)


# -- A's rows ------------------------------------------------------------------------------


def rows_of_a(snap: Snapshot, reference: Snapshot, credentials: list[str]) -> Snapshot:
    """Every row that is company A's: by its ``company_id``, or through what it hangs
    from (ids taken from ``reference``, the snapshot before the walk, so a row handed to
    another company shows as gone). The sign-in throttle counts per username whoever
    signs in (its point), so it belongs to no company and is left out."""

    def ids(table: str) -> set[Any]:
        return {row["id"] for row in reference[table] if row["company_id"] == A}

    branches, services, counters, staff = (
        ids("branches"),
        ids("services"),
        ids("counters"),
        ids("staff_users"),
    )
    keys = ids("api_keys")
    scopes = {hashlib.sha256(text.encode()).hexdigest() for text in credentials}
    through: dict[str, Callable[[dict[str, Any]], bool]] = {
        "companies": lambda row: row["id"] == A,
        "branch_closures": lambda row: row["branch_id"] in branches,
        "counter_services": lambda row: row["counter_id"] in counters,
        "ticket_numbers": lambda row: row["branch_id"] in branches,
        "slot_places": lambda row: row["service_id"] in services,
        "staff_branches": lambda row: row["staff_id"] in staff,
        "staff_sessions": lambda row: row["staff_id"] in staff,
        "rate_limit_counters": lambda row: row["scope"] == "key" and row["subject"] in keys,
        "idempotency_keys": lambda row: row["scope"] in scopes,
    }
    ownerless = {"login_throttle"}
    unclassified = [
        table.name
        for table in metadata.sorted_tables
        if table.name not in through and table.name not in ownerless and "company_id" not in table.c
    ]
    assert not unclassified, f"tables with no rule for whose rows they are: {unclassified}"
    return {
        table.name: [
            row
            for row in snap[table.name]
            if (through[table.name](row) if table.name in through else row["company_id"] == A)
        ]
        for table in metadata.sorted_tables
        if table.name not in ownerless
    }


# -- the test ------------------------------------------------------------------------------


async def test_another_companys_ids_reach_nothing_on_any_endpoint(
    client: httpx.AsyncClient, engine: AsyncEngine, clock: MutableClock
) -> None:
    a = await build_company_a(client, engine, clock)
    b = await build_company_b(client, engine, clock)
    clock.now += timedelta(minutes=5)

    assert not undocumented_routes(engine)
    cases = {EXTERNAL: external_cases(a, b), STAFF: staff_cases(a, b)}
    operations = {EXTERNAL: EXTERNAL_ROUTES, STAFF: STAFF_ROUTES}
    for base in (EXTERNAL, STAFF):
        without = set(operations[base]) - set(cases[base])
        assert not without, f"{base}: operations with no tenant cases: {sorted(without)}"
        stale = set(cases[base]) - set(operations[base])
        assert not stale, f"{base}: cases for operations that do not exist: {sorted(stale)}"
        assert all(cases[base].values()), f"{base}: an operation with an empty case list"

    before = await snapshot(engine)
    walk = Walk(client, b, secrets_of(a, before))
    for base in (EXTERNAL, STAFF):
        for op, (method, template) in operations[base].items():
            for case in cases[base][op]:
                await walk.call(base, op, method, template, case)
                if base == STAFF and case.who == "admin":
                    await walk.call(base, op, method, template, as_agent(op, case))
    after = await snapshot(engine)

    assert not walk.wrong, "\n".join(
        f"{op}: {label}: {why} {body}" for op, label, why, body in walk.wrong
    )
    assert {op for op, _, _ in walk.answers} == set(EXTERNAL_ROUTES) | set(STAFF_ROUTES)

    # A's sign-in refused exactly as an unknown user's: the walk learnt nothing of A.
    unknown = await client.post(
        f"{STAFF}/login", json={"username": "nobody.here", "password": "not the password"}
    )
    known = await client.post(
        f"{STAFF}/login", json={"username": a.agent_username, "password": "not the password"}
    )
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())

    credentials = a.credentials()
    mine_before = rows_of_a(before, before, credentials)
    mine_after = rows_of_a(after, before, credentials)
    changed = {
        table: (rows, mine_after[table])
        for table, rows in mine_before.items()
        if rows != mine_after[table]
    }
    assert not changed, f"company A's rows changed: {changed}"
    # The snapshot did hold A's world: tickets, their events, places, counters, keys.
    assert all(
        mine_before[table]
        for table in (
            "tickets",
            "ticket_events",
            "slot_places",
            "ticket_numbers",
            "customers",
            "staff_sessions",
            "api_keys",
            "idempotency_keys",
        )
    ), {table: len(rows) for table, rows in mine_before.items()}


# -- Idempotency-Key records shared across companies, and credentials kept in them -------


async def _staff_with_password(engine: AsyncEngine, company: str, username: str) -> None:
    branches = [A_BRANCH] if company == A else [B_BRANCH]
    now = datetime(2026, 6, 7, 7, 0, tzinfo=UTC)
    await accounts.create_staff(
        engine, company, username, "Someone", "agent", PASSWORD, branches, now
    )


async def test_sign_ins_of_two_companies_do_not_share_idempotency_keys(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await apply_fixture(engine, "bank")
    await apply_fixture(engine, "tenant_b")
    await _staff_with_password(engine, A, "bank.agent")
    await _staff_with_password(engine, B, "tenant.agent")
    key = {"Idempotency-Key": "morning-shift"}
    for username in ("bank.agent", "tenant.agent"):
        response = await client.post(
            f"{STAFF}/login", headers=key, json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, (username, response.text)
        assert response.json()["data"]["staff"]["username"] == username


async def test_credentials_handed_out_under_an_idempotency_key_are_not_kept_in_clear(
    client: httpx.AsyncClient, engine: AsyncEngine, clock: MutableClock
) -> None:
    await apply_fixture(engine, "bank")
    await _staff_with_password(engine, A, "bank.agent")
    admin = await add_staff(engine, A, "admin", (), clock(), "Bank Admin")
    headers = {**admin.headers(), "Idempotency-Key": "new-kiosk-key"}
    created = await client.post(f"{STAFF}/keys", headers=headers, json={"kind": "secret"})
    assert created.status_code == 201, created.text
    signed_in = await client.post(
        f"{STAFF}/login",
        headers={"Idempotency-Key": "sign-in-1"},
        json={"username": "bank.agent", "password": PASSWORD},
    )
    assert signed_in.status_code == 200, signed_in.text
    secrets = {created.json()["data"]["key"], signed_in.json()["data"]["token"]}

    stored = await snapshot(engine)
    in_clear = {
        (table, secret)
        for table, rows in stored.items()
        for row in rows
        for value in row.values()
        for secret in secrets
        if secret in str(value)
    }
    assert not in_clear, f"kept in clear: {sorted(in_clear)}"
    # Shown once: a replay of the creation does not show the key again.
    replayed = await client.post(f"{STAFF}/keys", headers=headers, json={"kind": "secret"})
    assert created.json()["data"]["key"] not in replayed.text


async def test_a_revoked_key_or_ended_session_gets_no_replay(
    client: httpx.AsyncClient, engine: AsyncEngine, clock: MutableClock, bank: CompanyKeys
) -> None:
    admin = await add_staff(engine, A, "admin", (), clock(), "Bank Admin")
    booking = {"headers": {**bank.headers(), "Idempotency-Key": "book-1"}, "json": WITHDRAW}
    assert (await client.post(f"{EXTERNAL}/tickets/book", **booking)).status_code == 201
    new_key = {
        "headers": {**admin.headers(), "Idempotency-Key": "key-1"},
        "json": {"kind": "public"},
    }
    assert (await client.post(f"{STAFF}/keys", **new_key)).status_code == 201

    await revoke_key(engine, bank.public.id)
    assert (await client.post(f"{STAFF}/logout", headers=admin.headers())).status_code == 200
    assert (await client.get(f"{EXTERNAL}/branches", headers=bank.headers())).status_code == 401
    assert (await client.get(f"{STAFF}/me", headers=admin.headers())).status_code == 401

    replays = [
        await client.post(f"{EXTERNAL}/tickets/book", **booking),
        await client.post(f"{STAFF}/keys", **new_key),
    ]
    assert [r.status_code for r in replays] == [401, 401], [r.text for r in replays]
