"""The ``/kiosk/v1`` router: the kiosk endpoints behind the External API's key check
(the same keys, rate limits and CORS rules; a public key is enough)."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from taboor.api.body import refuse_nul_in_query
from taboor.api.external_v1.auth import provide_call
from taboor.api.kiosk_v1.handlers import kiosk_handlers

BASE_PATH = "/kiosk/v1"


def kiosk_router() -> Router:
    return Router(
        path=BASE_PATH,
        route_handlers=kiosk_handlers,
        dependencies={"call": Provide(provide_call)},
        before_request=refuse_nul_in_query,
    )
