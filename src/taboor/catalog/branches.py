"""Read side of branches and their service tree, with live open/closed state.

Queries are scoped by company here, in one place; callers pass the principal's
company id and never build their own filters.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
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


async def branch_tree(
    connection: AsyncConnection, company_id: str, branch_id: str, now: datetime
) -> list[GroupNode] | None:
    """The active groups of an active branch with their active services; None when the
    company has no such active branch."""
    b = t.branches.c
    branch = (
        await connection.execute(
            select(b.timezone, b.hours).where(
                b.id == branch_id, b.company_id == company_id, b.active.is_(True)
            )
        )
    ).first()
    if branch is None:
        return None
    closures = (await _closures_by_branch(connection, [branch_id], now)).get(branch_id, set())
    branch_zone = zone(branch.timezone)
    branch_open = is_open_at(now, branch_zone, hours_from_column(branch.hours), closures)

    g, s = t.service_groups.c, t.services.c
    rows = (
        await connection.execute(
            select(
                g.id.label("group_id"),
                g.name.label("group_name"),
                g.position.label("group_position"),
                s.id,
                s.name,
                s.position,
                s.walk_in,
                s.walk_in_hours,
                s.appointment_prefix,
            )
            .join(t.services, s.group_id == g.id)
            .where(
                g.branch_id == branch_id,
                g.company_id == company_id,
                g.active.is_(True),
                s.active.is_(True),
            )
        )
    ).all()
    groups: dict[str, tuple[Any, list[ServiceNode]]] = {}
    for row in rows:
        walk_in_open = (
            branch_open
            and row.walk_in
            and (
                row.walk_in_hours is None
                or is_open_at(now, branch_zone, hours_from_column(row.walk_in_hours), closures)
            )
        )
        node = ServiceNode(
            row.id, row.name, row.position, walk_in_open, row.appointment_prefix is not None
        )
        groups.setdefault(row.group_id, (row, []))[1].append(node)
    return [
        GroupNode(group_id, first.group_name, first.group_position, tuple(services))
        for group_id, (first, services) in groups.items()
    ]
