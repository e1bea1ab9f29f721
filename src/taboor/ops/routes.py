"""``GET /healthz``, ``GET /readyz`` and ``GET /metrics``: for the operator's tooling,
not for API clients (no key, no envelope, no locale). Restrict them at the proxy if the
server is reachable from outside: they name branches, services and revisions."""

from __future__ import annotations

from litestar import Response, get
from litestar.datastructures import State

from taboor.api.envelopes import json_response
from taboor.ops.health import readiness
from taboor.ops.metrics import CONTENT_TYPE, exposition

_NO_STORE = {"Cache-Control": "no-store"}


@get("/healthz", sync_to_thread=False)
def healthz() -> Response[bytes]:
    return json_response({"status": "ok"}, 200, _NO_STORE)


@get("/readyz")
async def readyz(state: State) -> Response[bytes]:
    answer = await readiness(state["engine"])
    return json_response(answer.body, 200 if answer.ready else 503, _NO_STORE)


@get("/metrics")
async def metrics(state: State) -> Response[bytes]:
    return Response(
        content=await exposition(state["engine"]),
        media_type=CONTENT_TYPE,
        headers=_NO_STORE,
    )


ops_handlers = [healthz, readyz, metrics]
