"""The ``/external/v1`` router: the contract's endpoints behind bearer-key auth, and
the public OpenAPI document and docs page."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from taboor.api.body import refuse_nul_in_query
from taboor.api.external_v1.auth import provide_call
from taboor.api.external_v1.branches import get_branch_tree, list_branches
from taboor.api.external_v1.customers import customer_handlers
from taboor.api.external_v1.docs import docs_route_handlers
from taboor.api.external_v1.ticket_events import ticket_event_stream
from taboor.api.external_v1.tickets import ticket_handlers

BASE_PATH = "/external/v1"

AUTHENTICATED_HANDLERS = [
    list_branches,
    get_branch_tree,
    *ticket_handlers,
    ticket_event_stream,
    *customer_handlers,
]


def external_router() -> Router:
    api = Router(
        path="/",
        route_handlers=AUTHENTICATED_HANDLERS,
        dependencies={"call": Provide(provide_call)},
        before_request=refuse_nul_in_query,
    )
    return Router(path=BASE_PATH, route_handlers=[api, *docs_route_handlers])
