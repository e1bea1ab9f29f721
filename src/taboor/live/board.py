"""The hall display's snapshot of a branch: the latest calls and the waiting counts.

A display loads it, then follows the branch's stream from its ``lastEventId``: every
event after that id comes on the stream, and everything up to it is in the snapshot.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.api.external_v1.representations import utc_timestamp
from taboor.db import tables as t
from taboor.i18n import localized_name
from taboor.live.auth import WatchedBranch
from taboor.tickets.views import format_ticket_number

CALLED_SHOWN = 10
CALLED_STATUSES = ("called", "serving", "served", "no_show")

_tk, _ev, _sv, _gr, _ct = (
    t.tickets.c,
    t.ticket_events.c,
    t.services.c,
    t.service_groups.c,
    t.counters.c,
)
_SINCE = bindparam("since", type_=_tk.status_at.type)
_BRANCH_SERVICES = select(_sv.id).where(_sv.branch_id == bindparam("branch_id"))
_last_call = (
    select(func.max(_ev.at))
    .where(_ev.ticket_id == _tk.id, _ev.to_status == "called")
    .scalar_subquery()
    .label("called_at")
)
# A ticket whose last call is today changed status today (its call, or later), so
# the index on (service_id, status, status_at) finds the candidates; the last call
# of each is one index range on ticket_events (ticket_id, id).
_candidates = (
    select(
        _tk.id,
        _tk.prefix,
        _tk.number,
        _tk.status,
        _tk.service_id,
        _tk.counter_id,
        _last_call,
    )
    .where(
        _tk.service_id.in_(_BRANCH_SERVICES),
        _tk.status.in_(CALLED_STATUSES),
        _tk.status_at >= _SINCE,
    )
    .subquery()
)
_CALLED = (
    select(_candidates, _sv.name.label("service_name"), _ct.name.label("counter_name"))
    .join(t.services, _sv.id == _candidates.c.service_id)
    .outerjoin(t.counters, _ct.id == _candidates.c.counter_id)
    .where(_candidates.c.called_at >= _SINCE)
    .order_by(_candidates.c.called_at.desc(), _candidates.c.id)
    .limit(CALLED_SHOWN)
)
_waiting_count = (
    select(func.count()).where(_tk.service_id == _sv.id, _tk.status == t.WAITING).scalar_subquery()
)
_WAITING = (
    select(_sv.id, _sv.name, _waiting_count.label("waiting"))
    .join(t.service_groups, _gr.id == _sv.group_id)
    .where(_sv.branch_id == bindparam("branch_id"), _sv.active.is_(True), _gr.active.is_(True))
    .order_by(_gr.position, _sv.position, _sv.id)
)


async def board(
    connection: AsyncConnection,
    branch: WatchedBranch,
    locale: str,
    since: datetime,
    last_event_id: int,
) -> dict[str, Any]:
    """``since``: the start of the branch's local day."""

    def name(names: dict[str, str] | None) -> str | None:
        return None if names is None else localized_name(names, locale, branch.default_locale)

    parameters = {"branch_id": branch.id, "since": since}
    called = [
        {
            "ticketId": row.id,
            "number": format_ticket_number(row.prefix, row.number),
            "status": row.status,
            "serviceId": row.service_id,
            "serviceName": name(row.service_name),
            "counterId": row.counter_id,
            "counterName": name(row.counter_name),
            "calledAt": utc_timestamp(row.called_at),
        }
        for row in await connection.execute(_CALLED, parameters)
    ]
    waiting = [
        {"serviceId": row.id, "serviceName": name(row.name), "waiting": int(row.waiting)}
        for row in await connection.execute(_WAITING, parameters)
    ]
    return {
        "branch": {
            "id": branch.id,
            "name": name(branch.names),
            "locale": locale,
            "timeZone": branch.zone.key,
        },
        "lastEventId": last_event_id,
        "called": called,
        "waiting": waiting,
    }
