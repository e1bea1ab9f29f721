"""The ``/staff/v1`` router: login and the API's documentation (no session needed) and
everything behind a staff session token."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from taboor.api.body import refuse_nul_in_query
from taboor.api.staff_v1.admin import admin_handlers
from taboor.api.staff_v1.auth import provide_staff
from taboor.api.staff_v1.counters import counter_handlers
from taboor.api.staff_v1.docs import docs_route_handlers
from taboor.api.staff_v1.login import login_handlers
from taboor.api.staff_v1.tickets import ticket_handlers
from taboor.api.staff_v1.today import today_handlers

BASE_PATH = "/staff/v1"

SESSION_HANDLERS = [*counter_handlers, *today_handlers, *ticket_handlers, *admin_handlers]


def staff_router() -> Router:
    return Router(
        path=BASE_PATH,
        route_handlers=[*SESSION_HANDLERS, *login_handlers, *docs_route_handlers],
        dependencies={"staff": Provide(provide_staff)},
        before_request=refuse_nul_in_query,
    )
