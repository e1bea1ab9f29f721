"""``GET /tickets/{id}/events``: one ticket's changes as server-sent events (beyond the
original contract; additive). The contract's checks (401s; 422 ``id`` for an unknown or
another company's ticket) are answered as JSON before the stream starts."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream
from sqlalchemy import select

from taboor.api.errors import field_error
from taboor.api.external_v1.auth import ExternalCall
from taboor.api.external_v1.ids import is_entity_id
from taboor.db import tables as t
from taboor.db.uow import read_connection
from taboor.live.runtime import LiveRuntime
from taboor.live.sse import event_stream, resume_from
from taboor.live.ticket_stream import WatchedTicket, ticket_events
from taboor.ops.admission import LONG_LIVED

_tk = t.tickets.c


@get("/tickets/{ticket_id:str}/events", opt={LONG_LIVED: True})
async def ticket_event_stream(
    ticket_id: FromPath[str], request: Request[Any, Any, Any], call: NamedDependency[ExternalCall]
) -> Stream:
    branch_id = None
    if is_entity_id(ticket_id):
        async with read_connection(call.engine) as connection:
            branch_id = await connection.scalar(
                select(_tk.branch_id).where(_tk.id == ticket_id, _tk.company_id == call.company_id)
            )
    if branch_id is None:
        raise field_error("id", "validation.does_not_exist")
    live: LiveRuntime = request.app.state.live
    ticket = WatchedTicket(ticket_id, call.company_id, branch_id)
    return event_stream(
        ticket_events(
            live.hub,
            ticket,
            resume_from(request),
            call.clock,
            call.service_times,
            live.heartbeat_seconds,
        )
    )
