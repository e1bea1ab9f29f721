"""Read side of branches and their service tree, with live open/closed state.

Queries are scoped by company here, in one place; callers pass the principal's
company id and never build their own filters.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, Text, and_, bindparam, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.db import tables as t
from taboor.scheduling.hours import WeeklyHours, is_open_at

Names = dict[str, str]


@dataclass(frozen=True, slots=True)
class BranchSummary:
    id: str
    name: Names
    address: Names | None
    location: tuple[float, float] | None
    timezone: str
    is_open: bool


@dataclass(frozen=True, slots=True)
class ServiceNode:
    id: str
    name: Names
    position: int
    is_open: bool
    is_appointment: bool


@dataclass(frozen=True, slots=True)
class GroupNode:
    id: str
    name: Names
    position: int
    services: tuple[ServiceNode, ...]


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=4096)
def _hours(frozen: tuple[tuple[str, tuple[tuple[int, int], ...]], ...]) -> WeeklyHours:
    return WeeklyHours.from_json({day: [list(i) for i in intervals] for day, intervals in frozen})


def hours_from_column(stored: dict[str, Any]) -> WeeklyHours:
    """Stored hours to ``WeeklyHours``, memoized: the same few shapes repeat endlessly."""
    frozen = tuple(
        sorted((day, tuple((int(s), int(e)) for s, e in ivs)) for day, ivs in stored.items())
    )
    return _hours(frozen)


def _closure_window(now: datetime) -> tuple[date, date]:
    # Every zone's local date lies within a day of the UTC date.
    today = now.date()
    return today - timedelta(days=1), today + timedelta(days=1)


async def _closures_by_branch(
    connection: AsyncConnection, branch_ids: Collection[str], now: datetime
) -> dict[str, set[date]]:
    if not branch_ids:
        return {}
    first, last = _closure_window(now)
    rows = await connection.execute(
        select(t.branch_closures.c.branch_id, t.branch_closures.c.day).where(
            t.branch_closures.c.branch_id.in_(list(branch_ids)),
            t.branch_closures.c.day.between(first, last),
        )
    )
    closures: dict[str, set[date]] = {}
    for branch_id, day in rows:
        closures.setdefault(branch_id, set()).add(day)
    return closures


async def list_active_branches(
    connection: AsyncConnection, company_id: str, now: datetime
) -> list[BranchSummary]:
    b = t.branches.c
    rows = (
        await connection.execute(
            select(b.id, b.name, b.address, b.lat, b.lng, b.timezone, b.hours).where(
                b.company_id == company_id, b.active.is_(True)
            )
        )
    ).all()
    closures = await _closures_by_branch(connection, [row.id for row in rows], now)
    return [
        BranchSummary(
            id=row.id,
            name=row.name,
            address=row.address,
            location=(row.lat, row.lng) if row.lat is not None and row.lng is not None else None,
            timezone=row.timezone,
            is_open=is_open_at(
                now, zone(row.timezone), hours_from_column(row.hours), closures.get(row.id, set())
            ),
        )
        for row in rows
    ]


def _tree_statement() -> Any:
    """The branch (its zone, hours and closures around today) with its active groups
    and their active services, one row per service, in one round trip: the branch
    left-joined to its services, so a branch without any still answers one row.

    JSON columns that repeat on every row (the branch's hours, the group's name) or
    repeat across services (walk-in hours) come as text and are decoded once each
    (``hours_from_text`` remembers them); built once, values as bind parameters."""
    b, bc, g, s = t.branches.c, t.branch_closures.c, t.service_groups.c, t.services.c
    closures = (
        select(func.aggregate_strings(cast(bc.day, String), ","))
        .where(
            bc.branch_id == b.id,
            bc.day.between(
                bindparam("first", type_=bc.day.type), bindparam("last", type_=bc.day.type)
            ),
        )
        .scalar_subquery()
    )
    services = t.service_groups.join(
        t.services, and_(s.group_id == g.id, s.active.is_(True), g.active.is_(True))
    )
    return (
        select(
            b.timezone,
            cast(b.hours, Text).label("hours"),
            closures.label("closures"),
            g.id.label("group_id"),
            cast(g.name, Text).label("group_name"),
            g.position.label("group_position"),
            s.id,
            s.name,
            s.position,
            s.walk_in,
            cast(s.walk_in_hours, Text).label("walk_in_hours"),
            s.appointment_prefix,
        )
        .select_from(
            t.branches.outerjoin(
                services, and_(g.branch_id == b.id, g.company_id == bindparam("company_id"))
            )
        )
        .where(
            b.id == bindparam("branch_id"),
            b.company_id == bindparam("company_id"),
            b.active.is_(True),
        )
    )


_TREE = _tree_statement()


@lru_cache(maxsize=4096)
def hours_from_text(stored: str) -> WeeklyHours:
    """``hours_from_column`` of a JSON column read as text, remembered by that text."""
    return hours_from_column(json.loads(stored))


async def branch_tree(
    connection: AsyncConnection, company_id: str, branch_id: str, now: datetime
) -> list[GroupNode] | None:
    """The active groups of an active branch with their active services; None when the
    company has no such active branch."""
    first, last = _closure_window(now)
    parameters = {"branch_id": branch_id, "company_id": company_id, "first": first, "last": last}
    rows = (await connection.execute(_TREE, parameters)).all()
    if not rows:
        return None
    branch = rows[0]
    closures = {date.fromisoformat(day) for day in (branch.closures or "").split(",") if day}
    branch_zone = zone(branch.timezone)
    branch_open = is_open_at(now, branch_zone, hours_from_text(branch.hours), closures)
    groups: dict[str, tuple[GroupNode, list[ServiceNode]]] = {}
    for row in rows:
        if row.group_id is None:  # the branch has no active service
            continue
        walk_in_open = (
            branch_open
            and row.walk_in
            and (
                row.walk_in_hours is None
                or is_open_at(now, branch_zone, hours_from_text(row.walk_in_hours), closures)
            )
        )
        node = ServiceNode(
            row.id, row.name, row.position, walk_in_open, row.appointment_prefix is not None
        )
        group = groups.get(row.group_id)
        if group is None:
            name = json.loads(row.group_name)
            group = groups[row.group_id] = (
                GroupNode(row.group_id, name, row.group_position, ()),
                [],
            )
        group[1].append(node)
    return [
        GroupNode(group.id, group.name, group.position, tuple(services))
        for group, services in groups.values()
    ]
