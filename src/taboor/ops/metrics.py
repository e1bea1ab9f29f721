"""Prometheus metrics: requests by route and status, their durations, bookings, and the
queue lengths, read from the database when Prometheus scrapes.

The server runs one process per worker. With ``PROMETHEUS_MULTIPROC_DIR`` set (``taboor
serve`` always sets it, see ``taboor.ops.serving``) every process writes its counts to
its own file there and a scrape, whichever worker answers it, sums the files of all of
them. Without it (tests, an embedding ASGI server) the counts are this process's.

Labels are bounded: a route is its template (``/external/v1/tickets/{ticket_id}``), never
the path it was called with, and a path no route matches is ``unmatched``; a method
outside the usual few is ``other``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from typing import Any

import msgspec
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.db.uow import read_connection

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4"  # Litestar adds the charset
UNMATCHED = "unmatched"
BOOKING_ROUTE = "/external/v1/tickets/book"
QUEUE_QUERY_TIMEOUT_SECONDS = 2.0

logger = logging.getLogger("taboor.metrics")

# Our metrics only (no process or GC collectors, no *_created series, which multiprocess
# mode cannot give either): the same series whichever mode runs.
REGISTRY = CollectorRegistry()
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUESTS = Counter(
    "taboor_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
DURATION = Histogram(
    "taboor_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
BOOKINGS = Counter(
    "taboor_bookings",
    "Tickets booked through the External API (201 from POST /external/v1/tickets/book).",
    ["kind"],
    registry=REGISTRY,
)
BOOKING_KINDS = {"sequential": "walk_in", "appointment": "appointment"}
_booking_counters = {kind: BOOKINGS.labels(kind) for kind in BOOKING_KINDS.values()}

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_PARAMETER_TYPE = re.compile(r"\{([^}:]+):[^}]+\}")

# Children of the labelled metrics and route names, looked up once: the recording sits
# on every request.
_routes: dict[str, str] = {}
_request_counters: dict[tuple[str, str, int], Any] = {}
_durations: dict[tuple[str, str], Any] = {}


def method_label(method: str) -> str:
    return method if method in _METHODS else "other"


def route_label(scope: Any) -> str:
    """The route template of a routed request (``{id:str}`` written ``{id}``), or
    ``unmatched``."""
    template = scope.get("path_template")
    if not isinstance(template, str):
        return UNMATCHED
    route = _routes.get(template)
    if route is None:
        route = _routes[template] = _PARAMETER_TYPE.sub(r"{\1}", template)
    return route


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    counter = _request_counters.get(key)
    if counter is None:
        counter = _request_counters[key] = REQUESTS.labels(method, route, str(status))
    counter.inc()
    histogram = _durations.get((method, route))
    if histogram is None:
        histogram = _durations[(method, route)] = DURATION.labels(method, route)
    histogram.observe(seconds)


class _BookedTicket(msgspec.Struct):
    type: str


class _Booked(msgspec.Struct):
    data: _BookedTicket


_booked = msgspec.json.Decoder(_Booked)


def record_booking(answer: bytes) -> None:
    """Count a booking from its 201 answer (the ticket's ``type``)."""
    try:
        kind = BOOKING_KINDS.get(_booked.decode(answer).data.type)
    except msgspec.DecodeError:
        kind = None
    if kind is None:
        logger.warning("a booking answer without a known ticket type was not counted")
        return
    _booking_counters[kind].inc()


async def waiting_tickets(engine: AsyncEngine) -> list[tuple[str, str, int]]:
    """(branch, service, tickets waiting) for every service of every branch: one grouped
    query, an index range per service."""
    services, tickets = t.services, t.tickets
    query = (
        select(services.c.branch_id, services.c.id, func.count(tickets.c.id))
        .select_from(
            services.outerjoin(
                tickets, and_(tickets.c.service_id == services.c.id, tickets.c.status == "waiting")
            )
        )
        .group_by(services.c.branch_id, services.c.id)
        .order_by(services.c.branch_id, services.c.id)
    )
    async with read_connection(engine) as connection:
        rows = (await connection.execute(query)).all()
    return [(str(branch), str(service), int(count)) for branch, service, count in rows]


class _Snapshot(Collector):
    """Metrics read at scrape time (not counted by the processes)."""

    def __init__(self, queues: list[tuple[str, str, int]]) -> None:
        self.queues = queues

    def collect(self) -> Any:
        family = GaugeMetricFamily(
            "taboor_waiting_tickets",
            "Tickets waiting in each service's queue, read when scraped.",
            labels=["branch_id", "service_id"],
        )
        for branch, service, count in self.queues:
            family.add_metric([branch, service], count)
        yield family


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


async def exposition(engine: AsyncEngine) -> bytes:
    """The text Prometheus scrapes. A database that does not answer in time leaves the
    queue lengths out (and says so in the log), not the request counts."""
    snapshot = CollectorRegistry()
    try:
        async with asyncio.timeout(QUEUE_QUERY_TIMEOUT_SECONDS):
            snapshot.register(_Snapshot(await waiting_tickets(engine)))
    except Exception as error:
        logger.warning("metrics: queue lengths not read (%s)", type(error).__name__)
    counted = REGISTRY
    if multiprocess_dir() is not None:
        counted = CollectorRegistry()
        MultiProcessCollector(counted)  # type: ignore[no-untyped-call]
    return generate_latest(counted) + generate_latest(snapshot)
