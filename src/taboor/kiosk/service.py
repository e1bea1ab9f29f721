"""Kiosk reads, scoped by company: the branch, its walk-in services with their queues,
and an appointment of today by its ticket number.

Booking and check-in themselves are the ticket domain's (``taboor.tickets.booking``,
``taboor.tickets.transitions``); a kiosk only names its own source on their events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.catalog.branches import zone
from taboor.db import tables as t
from taboor.scheduling.slots import local_today
from taboor.tickets.eta import ServiceTimes, estimate_minutes
from taboor.tickets.services import load_bookable_service

Names = dict[str, str]
_b, _c, _g, _s, _tk = t.branches.c, t.companies.c, t.service_groups.c, t.services.c, t.tickets.c

# What people type for a ticket number: a prefix of 1-3 letters and its digits, leading
# zeros optional ("a7", "A007" and " A 007 " are the same slip). An Arabic keyboard types
# Arabic-Indic digits ("A٠٠٧"): they count as the same digits.
_NUMBER = re.compile(r"([A-Z]{1,3})0*([0-9]{1,6})")
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)


@dataclass(frozen=True, slots=True)
class KioskBranch:
    id: str
    name: Names
    timezone: str
    default_locale: str


@dataclass(frozen=True, slots=True)
class WalkInService:
    id: str
    group_id: str
    name: Names
    group_name: Names
    is_open: bool
    waiting: int
    waiting_time: int


@dataclass(frozen=True, slots=True)
class TodaysAppointment:
    id: str
    status: str


def parse_ticket_number(raw: str) -> tuple[str, int] | None:
    """``(prefix, number)`` of what was typed, or None when it is no ticket number."""
    match = _NUMBER.fullmatch(re.sub(r"[\s-]", "", raw.translate(_DIGITS)).upper())
    if match is None or int(match.group(2)) == 0:
        return None
    return match.group(1), int(match.group(2))


async def kiosk_branch(
    connection: AsyncConnection, company_id: str, branch_id: str
) -> KioskBranch | None:
    """The company's active branch, or None (another company's is none too)."""
    row = (
        await connection.execute(
            select(_b.id, _b.name, _b.timezone, _c.default_locale)
            .join(t.companies, _c.id == _b.company_id)
            .where(_b.id == branch_id, _b.company_id == company_id, _b.active.is_(True))
        )
    ).first()
    return None if row is None else KioskBranch(row[0], row[1], row[2], row[3])


async def walk_in_services(
    connection: AsyncConnection,
    company_id: str,
    branch_id: str,
    now: datetime,
    service_times: ServiceTimes,
) -> list[WalkInService]:
    """The branch's active walk-in services (of active groups) in the tree's order, each
    open now or not, with its queue and the estimate a ticket taken now would get.

    One query per service on top of the list: a branch has a handful, and the per-service
    read is exactly what booking decides with, so the kiosk never shows a service open
    that booking would refuse."""
    rows = (
        await connection.execute(
            select(_s.id)
            .join(t.service_groups, _g.id == _s.group_id)
            .where(
                _s.company_id == company_id,
                _s.branch_id == branch_id,
                _s.active.is_(True),
                _s.walk_in.is_(True),
                _g.active.is_(True),
            )
            .order_by(_g.position, _g.id, _s.position, _s.id)
        )
    ).all()
    services = []
    for (service_id,) in rows:
        service = await load_bookable_service(
            connection, company_id, service_id, now, with_queue=True
        )
        if service is None or service.queue is None:  # deactivated since the list
            continue
        mean = await service_times.mean(connection, service.id, service.avg_service_minutes, now)
        _branch, group_name, name = service.names
        services.append(
            WalkInService(
                id=service.id,
                group_id=service.group_id,
                name=name,
                group_name=group_name,
                is_open=service.open_for_walk_ins(now),
                waiting=service.queue.waiting,
                waiting_time=estimate_minutes(
                    service.queue.waiting, mean, service.queue.open_counters
                ),
            )
        )
    return services


async def todays_appointment(
    connection: AsyncConnection,
    company_id: str,
    branch: KioskBranch,
    prefix: str,
    number: int,
    now: datetime,
) -> TodaysAppointment | None:
    """The branch's appointment for today (the branch's local day) with this number.

    A number is unique per branch, prefix and the day it was drawn for; an appointment
    moved to today keeps the number of its first day, so two of today's appointments
    could share one. Then the one still to be checked in wins, else the latest."""
    today = local_today(now, zone(branch.timezone))
    rows = (
        await connection.execute(
            select(_tk.id, _tk.status)
            .where(
                _tk.company_id == company_id,
                _tk.branch_id == branch.id,
                _tk.type == "appointment",
                _tk.prefix == prefix,
                _tk.number == number,
                _tk.service_day == today,
            )
            .order_by(_tk.booked_at.desc(), _tk.id)
        )
    ).all()
    if not rows:
        return None
    upcoming = [row for row in rows if row.status == "upcoming"]
    row = (upcoming or rows)[0]
    return TodaysAppointment(row.id, row.status)
