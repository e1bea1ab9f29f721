"""Schemathesis against a live server: every operation of the External API's and the
staff API's served OpenAPI documents, on both databases.

Each document is run twice. The first pass sends what Schemathesis makes of the
document (its examples, the boundary values of every constraint, then random valid and
invalid requests): its ids are random, so they mostly name nothing, which must be a
documented 4xx. The second pass points every id of a request (path, query and body) at a
real record of the demo company (``tests/contract/demo_server.py``), an appointment time
at a free slot, and a staff move at a ticket in a status that move starts from, so the
requests reach the code behind validation: bookings, moves, cancels, reschedules and
deletions of real tickets and customers. Before each operation of the second pass, fresh
tickets and customers are made.

Every response must pass: no 5xx, a status code the operation documents, the documented
content type and headers, and a body that matches the documented schema. Nothing else:
this suite does not judge which 4xx a request deserves.

Bounded for ``make test``: ``TABOOR_FUZZ_EXAMPLES`` random requests per operation and
pass (default 20; the boundary values come on top), seeded by ``TABOOR_FUZZ_SEED`` so that
a run can be repeated exactly. docs/fuzzing.md has the longer run for release checks.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup, as_reported_failure
from schemathesis.pytest.lazy import get_all_tests
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from taboor.api.external_v1.openapi_document import OPERATION_ROUTES as EXTERNAL_ROUTES
from taboor.api.staff_v1.openapi_document import OPERATION_ROUTES as STAFF_ROUTES
from taboor.setup.loader import demo_company_yaml
from tests.contract.demo_server import AIRPORT_COUNTER, EXTERNAL, STAFF, Demo

EXAMPLES = int(os.environ.get("TABOOR_FUZZ_EXAMPLES", "20"))
SEED = int(os.environ.get("TABOOR_FUZZ_SEED", "20260607"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing remembered between runs: the seed alone decides
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


# --- known bugs ---------------------------------------------------------------------------
# Failures with an xfail test in tests/contract/test_regressions.py, let through here (only
# for requests and answers of their exact shape) until they are fixed, so that the fuzzing
# stays green and can find the next one. Remove an entry with its fix.


KNOWN_BUGS: list[Callable[[Any, Any, FailureGroup], bool]] = []  # none open


def _check(case: Any, headers: dict[str, str]) -> None:
    """Send the case and run the checks on the answer; a known bug's failure passes."""
    response = case.call(headers=headers)
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as failures:
        if not any(known(case, response, failures) for known in KNOWN_BUGS):
            raise


# --- pointing generated ids at real ones ---------------------------------------------------


def _pick(choices: Sequence[Any], generated: Any) -> Any:
    """One of ``choices``, chosen by the generated value: the same for the same seed,
    and shrinking the generated value shrinks the choice with it."""
    digest = zlib.crc32(json.dumps(generated, sort_keys=True, default=str).encode())
    return choices[digest % len(choices)]


def _swap(container: Any, key: str, choices: Sequence[Any]) -> None:
    """Replace a generated string at ``container[key]`` by a real value. Other types (an
    invalid request's wrong-typed value) stay, so the pass still sends some of them."""
    if isinstance(container, dict) and isinstance(container.get(key), str) and choices:
        container[key] = _pick(choices, container[key])


def _external_known_ids(demo: Demo) -> Callable[[Any, Any], Any]:
    def map_case(_context: Any, case: Any) -> Any:
        path, body, query = case.operation.path, case.body, case.query
        customer_ids = list(demo.customers)
        external_ids = [external for external in demo.customers.values() if external]
        _swap(case.path_parameters, "branchId", demo.branches)
        if path == "/services/{id}/slots":
            _swap(case.path_parameters, "id", demo.services)
        elif path == "/tickets/{id}/change-time":
            _reschedule(demo, case)
        elif path.startswith("/tickets/{id}"):
            _swap(case.path_parameters, "id", demo.live_tickets())
        _swap(query, "id", customer_ids)
        _swap(query, "externalId", external_ids)
        if not isinstance(body, dict):
            return case
        if path == "/tickets/book":
            _swap(body, "serviceId", demo.services)
            service_id = body.get("serviceId")
            if isinstance(service_id, str) and isinstance(body.get("groupOfServiceId"), str):
                body["groupOfServiceId"] = demo.groups[service_id]
                _swap(body, "time", demo.slots.get(service_id, []))
            _swap(body, "customerId", customer_ids)
            _swap(body, "customerExternalId", external_ids)
        elif path == "/customers/update":
            _swap(body, "id", customer_ids)
            if "id" not in body:
                _swap(body, "externalId", external_ids)
        return case

    return map_case


def _reschedule(demo: Demo, case: Any) -> None:
    """A change-time of a real appointment, by its own customer (mostly), to a free slot
    of its service (mostly): the moves that can succeed, and their near misses."""
    appointments = [i for i in demo.live_tickets() if demo.tickets[i].type == "appointment"]
    _swap(case.path_parameters, "id", appointments or demo.live_tickets())
    ticket = demo.tickets.get(case.path_parameters.get("id"))
    body = case.body
    if ticket is None or not isinstance(body, dict):
        return
    customer_id = ticket.customer_id if _pick((True, True, True, False), body) else None
    if customer_id is None:
        _swap(body, "customerId", list(demo.customers))
    elif isinstance(body.get("customerId"), str):
        body["customerId"] = customer_id
    external = demo.customers.get(customer_id) if customer_id else None
    if external and isinstance(body.get("customerExternalId"), str):
        body["customerExternalId"] = external
    if _pick((True, True, True, False), body.get("time")):
        _swap(body, "time", demo.slots.get(ticket.service_id, []))
    else:
        _swap(body, "time", [time for times in demo.slots.values() for time in times])


# The statuses each staff move starts from (design.md §2): most moves are aimed at a
# ticket they can move.
MOVES_FROM = {
    "check-in": {"upcoming"},
    "call": {"waiting"},
    "recall": {"called"},
    "requeue": {"called"},
    "start": {"called"},
    "finish": {"serving"},
    "no-show": {"called", "upcoming"},
    "transfer": {"waiting", "called", "serving"},
    "cancel": {"upcoming", "waiting"},
}


def _staff_known_ids(demo: Demo) -> Callable[[Any, Any], Any]:
    # Most tickets are at the airport, where the admin holds the counter: weight it.
    counters = [AIRPORT_COUNTER] * len(demo.counters) + demo.counters
    company_file = demo_company_yaml()

    def map_case(_context: Any, case: Any) -> Any:
        body, parameters = case.body, case.path_parameters
        live = demo.live_tickets()
        allowed = MOVES_FROM.get(case.operation.path.rsplit("/", 1)[-1], set())
        movable = [i for i in live if demo.statuses.get(i) in allowed]
        _swap(parameters, "branchId", demo.branches)
        _swap(parameters, "counterId", counters)
        _swap(parameters, "ticketId", movable * 2 + live)
        # Only the throwaway user and key: never those the run signs in with.
        _swap(parameters, "staffId", demo.spare_staff)
        _swap(parameters, "keyId", demo.spare_keys)
        if isinstance(body, dict):
            _swap(body, "counterId", counters)
            _swap(body, "serviceId", demo.services)
            ids = body.get("serviceIds")
            if isinstance(ids, list):
                body["serviceIds"] = [
                    _pick(demo.services, item) if isinstance(item, str) else item for item in ids
                ]
            # Half of the time the company file as it is: applied, it changes nothing.
            if isinstance(body.get("companyFile"), str) and _pick((True, False), body):
                body["companyFile"] = company_file
        return case

    return map_case


def _recording(demo: Demo) -> Callable[[Any, Any, Any], None]:
    def after_call(_context: Any, _case: Any, response: Any) -> None:
        try:
            body = response.json()
        except ValueError:
            return
        demo.record(response.status_code, body)

    return after_call


# --- the schemas and the runs --------------------------------------------------------------


def _load(demo: Demo, path: str, *, boundaries: bool = True) -> Any:
    """The served document, with the run's seed and example count. ``boundaries``:
    Schemathesis' coverage phase, which sends the boundary values of every constraint
    (the first pass has it; the second, about real records, leaves it out to stay
    quick)."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": f"{demo.base_url}{path}",
            "generation": {"mode": "all", "max-examples": EXAMPLES},
            # One method the operation does not have is enough to see the 405's shape.
            "phases": {"coverage": {"enabled": boundaries, "unexpected-methods": ["patch"]}},
        }
    )
    return schemathesis.openapi.from_url(f"{demo.base_url}{path}/openapi.json", config=config)


@pytest.fixture(scope="module")
def external_schema(demo: Demo) -> Any:
    schema = _load(demo, EXTERNAL)
    schema.hook("after_call")(_recording(demo))
    return schema


@pytest.fixture(scope="module")
def external_schema_known_ids(demo: Demo) -> Any:
    schema = _load(demo, EXTERNAL, boundaries=False)
    schema.hook("map_case")(_external_known_ids(demo))
    schema.hook("after_call")(_recording(demo))
    return schema


@pytest.fixture(scope="module")
def staff_schema(demo: Demo) -> Any:
    return _load(demo, STAFF)


@pytest.fixture(scope="module")
def staff_schema_known_ids(demo: Demo) -> Any:
    schema = _load(demo, STAFF, boundaries=False)
    schema.hook("map_case")(_staff_known_ids(demo))
    return schema


def _run(schema: Any, operation_id: str, send: Callable[[Any], None]) -> None:
    """Schemathesis' own test of one operation, in its phases (the document's examples,
    the boundary values of every constraint, then random requests), run in this test.

    Schemathesis' pytest plugin (``schemathesis.pytest.from_fixture``) would do the same,
    but it renames the running test through a pytest attribute that pytest 9.2 no longer
    has; this calls what it calls, one pytest test per operation."""

    def test(case: Any) -> None:
        send(case)

    (built,) = get_all_tests(
        schema=schema.include(operation_id=operation_id),
        test_func=test,
        settings=FUZZ_SETTINGS,
        given_kwargs=None,
    )
    _operation, hypothesis_test = built.ok()
    try:
        hypothesis_test()
    except FailureGroup as failures:
        raise as_reported_failure(failures) from None


def _staff_headers(demo: Demo, case: Any) -> dict[str, str]:
    """The admin's session; for a logout, a spare session of the admin's, so that the
    fuzzed logouts never end the session the run uses (none left: no token)."""
    if case.operation.path == "/logout":
        if not demo.spare_sessions:
            return {}
        return {"Authorization": f"Bearer {demo.spare_sessions.pop()}"}
    return demo.staff_headers()


def _staff_headers_mixed(demo: Demo, case: Any) -> dict[str, str]:
    """As ``_staff_headers``, but a third of the requests as the agent, who works at the
    Seef Mall branch only (the other two answer 403) and administers nothing."""
    chosen_by = [dict(case.headers or {}), case.query, case.body]
    if case.operation.path != "/logout" and _pick((0, 1, 2), chosen_by) == 0:
        return {"Authorization": f"Bearer {demo.agent_token}"}
    return _staff_headers(demo, case)


# --- the tests: one per operation, in the documents' order (creations before deletions) --


# A ticket's event stream (GET /tickets/{id}/events) is left out: for a real ticket its
# 200 is a server-sent event stream that stays open until the ticket reaches a final
# status, so a fuzzed request would hang waiting for the body to end. Its answers (the
# 401s, the 422 for an unknown ticket, the stream itself) are tested in tests/live/.
FUZZED_EXTERNAL = [op for op in EXTERNAL_ROUTES if op != "streamTicketEvents"]


@pytest.mark.parametrize("operation_id", FUZZED_EXTERNAL)
def test_external_api(demo: Demo, external_schema: Any, operation_id: str) -> None:
    _run(external_schema, operation_id, lambda case: _check(case, demo.external_headers()))


@pytest.mark.parametrize("operation_id", FUZZED_EXTERNAL)
def test_external_api_with_real_ids(
    demo: Demo, external_schema_known_ids: Any, operation_id: str
) -> None:
    with httpx.Client(base_url=demo.base_url) as client:
        demo.refresh(client)
    _run(
        external_schema_known_ids,
        operation_id,
        lambda case: _check(case, demo.external_headers()),
    )


@pytest.mark.parametrize("operation_id", list(STAFF_ROUTES))
def test_staff_api(demo: Demo, staff_schema: Any, operation_id: str) -> None:
    _run(staff_schema, operation_id, lambda case: _check(case, _staff_headers(demo, case)))


@pytest.mark.parametrize("operation_id", list(STAFF_ROUTES))
def test_staff_api_with_real_ids(
    demo: Demo, staff_schema_known_ids: Any, operation_id: str
) -> None:
    with httpx.Client(base_url=demo.base_url) as client:
        demo.refresh(client, at_counter=True)
    _run(
        staff_schema_known_ids,
        operation_id,
        lambda case: _check(case, _staff_headers_mixed(demo, case)),
    )


def test_the_run_kept_its_credentials(demo: Demo) -> None:
    """Last of each leg: the key and the session the passes used still work, so none of
    them ran as a caller the server no longer knows (and answered 401 throughout)."""
    with httpx.Client(base_url=demo.base_url) as client:
        branches = client.get(f"{EXTERNAL}/branches", headers=demo.external_headers())
        me = client.get(f"{STAFF}/me", headers=demo.staff_headers())
    assert branches.status_code == 200, branches.text
    assert me.status_code == 200, me.text
