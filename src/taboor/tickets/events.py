"""The append-only ticket event log: every status change, who made it and from where."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.db import tables as t
from taboor.live.marks import note_ticket_change

ActorKind = Literal["api_key", "staff", "system"]
Source = Literal["external_api", "staff", "kiosk", "system"]


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    id: str | None
    source: Source


# Built once, values bound: building the insert per event cost more CPU than sending it.
_INSERT_EVENT = t.ticket_events.insert()


async def record_event(
    connection: AsyncConnection,
    *,
    company_id: str,
    ticket_id: str,
    from_status: str | None,
    to_status: str,
    at: datetime,
    actor: Actor,
) -> None:
    await connection.execute(
        _INSERT_EVENT,
        {
            "company_id": company_id,
            "ticket_id": ticket_id,
            "from_status": from_status,
            "to_status": to_status,
            "at": at,
            "actor_kind": actor.kind,
            "actor_id": actor.id,
            "source": actor.source,
        },
    )
    note_ticket_change()  # the live streams are woken once the request commits
