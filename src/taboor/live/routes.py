"""The live streams' routes (server-sent events) and the hall display's snapshot.

``GET /live/v1/branches/{branchId}/events``: the branch's ticket events (SSE).
``GET /live/v1/branches/{branchId}/board``: the display's snapshot, with the event id
to follow the stream from. Both take an API key of the branch's company or a staff
session (``taboor.live.auth``). Formats: docs/live.md.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Stream
from litestar.types import ControllerRouterHandler

from taboor.api.envelopes import json_response
from taboor.db.uow import read_connection
from taboor.i18n import resolve_locale
from taboor.live.auth import watched_branch
from taboor.live.board import board
from taboor.live.branch_stream import branch_events, start_of_day
from taboor.live.runtime import LiveRuntime
from taboor.live.sse import event_stream, resume_from
from taboor.ops.admission import LONG_LIVED

AnyRequest = Request[Any, Any, Any]
BASE_PATH = "/live/v1"


@get(f"{BASE_PATH}/branches/{{branch_id:str}}/events", opt={LONG_LIVED: True})
async def branch_stream(branch_id: FromPath[str], request: AnyRequest) -> Stream:
    branch = await watched_branch(request, branch_id)
    live: LiveRuntime = request.app.state.live
    now = request.app.state.clock()
    return event_stream(
        branch_events(live.hub, branch, resume_from(request), now, live.heartbeat_seconds)
    )


@get(f"{BASE_PATH}/branches/{{branch_id:str}}/board")
async def branch_board(branch_id: FromPath[str], request: AnyRequest) -> Response[bytes]:
    branch = await watched_branch(request, branch_id)
    requested = request.query_params.get("locale")
    locale = resolve_locale(requested) if requested else branch.default_locale
    live: LiveRuntime = request.app.state.live
    # The hub's cursor is settled (every event up to it committed or never will), so
    # reading after joining it, the snapshot holds everything up to it.
    since = start_of_day(request.app.state.clock(), branch)
    async with (
        live.hub.subscribe(branch.id) as subscription,
        read_connection(live.hub.engine) as connection,
    ):
        data = await board(connection, branch, locale, since, subscription.cursor)
    return json_response({"data": data})


live_handlers: list[ControllerRouterHandler] = [branch_stream, branch_board]
