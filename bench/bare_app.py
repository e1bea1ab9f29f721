"""The framework's own limit: a bare Litestar app under granian (as `taboor serve` runs
Taboor: ASGI, the same workers) answering ``GET /external/v1/tickets/{id}`` with the
bytes of a real ticket's JSON, without the database, without auth, without middleware.

    .venv/bin/python bench/bare_app.py BODY_FILE --port 8001 [--workers 2]
        [--query POSTGRESQL_URL --company COMPANY_ID]

``bench/run.py`` starts it with the body of a ticket the real server answered and
measures it with the same wrk script and clients as ``GET /tickets/{id}``, so the ratio
of the two is what Taboor's own work (key check, query, view, envelope, logging,
metrics) costs against the framework's floor.

With ``--query`` each request also runs the ticket's own query (the statement
``GET /tickets/{id}`` runs, compiled once) through a plain asyncpg pool of Taboor's
size, and answers the same bytes: the floor of any endpoint that reads its answer from
the database, one round trip and nothing else.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import asyncpg
from litestar import Litestar, Response, get

BODY_ENV = "TABOOR_BENCH_BARE_BODY"
BODY = Path(os.environ[BODY_ENV]).read_bytes() if BODY_ENV in os.environ else b"{}"
QUERY_URL_ENV, COMPANY_ENV = "TABOOR_BENCH_BARE_QUERY_URL", "TABOOR_BENCH_BARE_COMPANY"
POOL_SIZE = 10  # Taboor's default pool per process (TABOOR_DB_POOL_SIZE)


def _ticket_query() -> tuple[str, list[str]]:
    """The SQL of Taboor's ticket fetch for asyncpg, and its parameters' order."""
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    from taboor.tickets.views import _TICKET_BY_ID

    compiled = _TICKET_BY_ID.compile(dialect=dialect())
    return str(compiled), list(compiled.positiontup or [])


class Database:
    pool: asyncpg.Pool | None = None
    sql, order = _ticket_query() if QUERY_URL_ENV in os.environ else ("", [])


async def open_pool() -> None:
    if QUERY_URL_ENV in os.environ:
        Database.pool = await asyncpg.create_pool(
            os.environ[QUERY_URL_ENV], min_size=POOL_SIZE, max_size=POOL_SIZE
        )


@get("/external/v1/tickets/{ticket_id:str}")
async def ticket(ticket_id: str) -> Response[bytes]:
    if Database.pool is not None:
        values = {"ticket_id": ticket_id, "company_id": os.environ[COMPANY_ENV]}
        values["status_1"] = "waiting"  # the literal of the queue-size subquery
        row = await Database.pool.fetchrow(Database.sql, *(values[k] for k in Database.order))
        if row is None:
            return Response(b"{}", status_code=404, media_type="application/json")
    return Response(BODY, media_type="application/json")


@get("/readyz")
async def ready() -> Response[bytes]:
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Litestar([ticket, ready], on_startup=[open_pool])


def main() -> None:
    from granian import Granian
    from granian.constants import Interfaces

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("body", type=Path)
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--query", metavar="POSTGRESQL_URL", help="run the ticket's query too")
    parser.add_argument("--company", help="the company of the tickets (with --query)")
    args = parser.parse_args()
    os.environ[BODY_ENV] = str(args.body.resolve())  # the workers import this module
    if args.query:
        os.environ[QUERY_URL_ENV], os.environ[COMPANY_ENV] = args.query, args.company
    root = str(Path(__file__).resolve().parents[1])
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    sys.path.insert(0, root)
    Granian(
        "bench.bare_app:app",
        address="127.0.0.1",
        port=args.port,
        workers=args.workers,
        interface=Interfaces.ASGI,
        log_access=False,
    ).serve()


if __name__ == "__main__":
    main()
