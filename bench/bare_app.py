"""The framework's own limit: a bare Litestar app under granian (as `taboor serve` runs
Taboor: ASGI, the same workers) answering ``GET /external/v1/tickets/{id}`` with the
bytes of a real ticket's JSON, without the database, without auth, without middleware.

    .venv/bin/python bench/bare_app.py BODY_FILE --port 8001 [--workers 2]

``bench/run.py`` starts it with the body of a ticket the real server answered and
measures it with the same wrk script and clients as ``GET /tickets/{id}``, so the ratio
of the two is what Taboor's own work (key check, query, view, envelope, logging,
metrics) costs against the framework's floor.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from litestar import Litestar, Response, get

BODY_ENV = "TABOOR_BENCH_BARE_BODY"
BODY = Path(os.environ[BODY_ENV]).read_bytes() if BODY_ENV in os.environ else b"{}"


@get("/external/v1/tickets/{ticket_id:str}")
async def ticket(ticket_id: str) -> Response[bytes]:
    return Response(BODY, media_type="application/json")


@get("/readyz")
async def ready() -> Response[bytes]:
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Litestar([ticket, ready])


def main() -> None:
    from granian import Granian
    from granian.constants import Interfaces

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("body", type=Path)
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    os.environ[BODY_ENV] = str(args.body.resolve())  # the workers import this module
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
