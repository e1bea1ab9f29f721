"""What every HTTP request leaves behind: its counts and duration in the metrics, one
access line in the log, and its request id on every log line written while it runs.

It wraps the whole application (outside Litestar's routing and error handling), so 404s,
405s and 500s are counted and logged like any other answer.
"""

from __future__ import annotations

from time import perf_counter

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from taboor.api.request_ids import request_id_of
from taboor.ops.logs import current_request_id, log_access
from taboor.ops.metrics import (
    BOOKING_ROUTE,
    method_label,
    record_booking,
    record_request,
    route_label,
)


class ObservedApp:
    """ASGI middleware around the application's request handling."""

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        method = method_label(scope["method"])
        token = current_request_id.set(request_id_of(scope))
        status = 500  # what the client gets if the app fails before answering
        booking: list[bytes] | None = None

        async def observed_send(message: Message) -> None:
            nonlocal status, booking
            if message["type"] == "http.response.start":
                status = message["status"]
                # Routing is done by now; only a booking's answer is kept, to count it.
                if status == 201 and route_label(scope) == BOOKING_ROUTE:
                    booking = []
            elif booking is not None and message["type"] == "http.response.body":
                booking.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            seconds = perf_counter() - started
            route = route_label(scope)
            record_request(method, route, status, seconds)
            if booking is not None and method == "POST":
                record_booking(b"".join(booking))
            log_access(method, route, status, seconds)
            current_request_id.reset(token)
