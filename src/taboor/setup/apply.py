"""Write a validated company file to the database in one transaction.

Applying compares the file with what is stored and writes only the differences, so a
second apply of the same file writes nothing. Ids are stable keys. Branches, groups and
services that disappear from the file are deactivated, never deleted (their tickets
keep pointing at them); counters and closures that disappear are removed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, delete, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.clock import Clock, system_clock
from taboor.db import tables as t
from taboor.db.tables import DEFAULT_NO_SHOW_GRACE_MINUTES
from taboor.db.uow import run_in_transaction
from taboor.db.upsert import upsert
from taboor.setup.reader import Problem
from taboor.setup.schema import BranchSpec, CompanyFileError, CompanySpec, ServiceSpec

Row = dict[str, Any]


@dataclass
class ApplySummary:
    """Per kind of row: how many were created, changed, deactivated or removed."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def bump(self, kind: str, outcome: str, by: int = 1) -> None:
        if by:
            per_kind = self.counts.setdefault(kind, {})
            per_kind[outcome] = per_kind.get(outcome, 0) + by

    @property
    def changed(self) -> bool:
        return bool(self.counts)

    def lines(self) -> list[str]:
        if not self.counts:
            return ["nothing changed"]
        return [
            f"{kind}: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
            for kind, outcomes in sorted(self.counts.items())
        ]


def _service_row(company_id: str, branch_id: str, group_id: str, service: ServiceSpec) -> Row:
    appointment = service.appointment
    return {
        "id": service.id,
        "company_id": company_id,
        "branch_id": branch_id,
        "group_id": group_id,
        "name": service.name,
        "position": service.position,
        "active": service.active,
        "prefix": service.prefix,
        "walk_in": service.walk_in,
        "walk_in_hours": service.walk_in_hours.to_json() if service.walk_in_hours else None,
        "avg_service_minutes": service.avg_service_minutes,
        "appointment_prefix": appointment.prefix if appointment else None,
        "slot_minutes": appointment.slot_minutes if appointment else None,
        "slot_capacity": appointment.capacity if appointment else None,
        "horizon_days": appointment.horizon_days if appointment else None,
        "min_notice_minutes": appointment.min_notice_minutes if appointment else None,
        "no_show_grace_minutes": (
            appointment.grace_minutes if appointment else DEFAULT_NO_SHOW_GRACE_MINUTES
        ),
        "appointment_hours": (
            appointment.hours.to_json() if appointment and appointment.hours else None
        ),
    }


def _branch_row(company_id: str, branch: BranchSpec) -> Row:
    return {
        "id": branch.id,
        "company_id": company_id,
        "name": branch.name,
        "address": branch.address,
        "lat": branch.location[0] if branch.location else None,
        "lng": branch.location[1] if branch.location else None,
        "timezone": branch.timezone,
        "active": branch.active,
        "hours": branch.hours.to_json(),
        "position": branch.position,
    }


@dataclass
class _DesiredState:
    branches: list[Row] = field(default_factory=list)
    groups: list[Row] = field(default_factory=list)
    services: list[Row] = field(default_factory=list)
    counters: list[Row] = field(default_factory=list)
    counter_services: set[tuple[str, str]] = field(default_factory=set)
    closures: dict[tuple[str, Any], Row] = field(default_factory=dict)


def _desired_state(spec: CompanySpec) -> _DesiredState:
    state = _DesiredState()
    for branch in spec.branches:
        state.branches.append(_branch_row(spec.id, branch))
        for closure in branch.closures:
            state.closures[(branch.id, closure.day)] = {
                "branch_id": branch.id,
                "day": closure.day,
                "reason": closure.reason,
            }
        for group in branch.groups:
            state.groups.append(
                {
                    "id": group.id,
                    "company_id": spec.id,
                    "branch_id": branch.id,
                    "name": group.name,
                    "position": group.position,
                    "active": group.active,
                }
            )
            state.services.extend(
                _service_row(spec.id, branch.id, group.id, service) for service in group.services
            )
        for counter in branch.counters:
            state.counters.append(
                {
                    "id": counter.id,
                    "company_id": spec.id,
                    "branch_id": branch.id,
                    "name": counter.name,
                    "position": counter.position,
                }
            )
            state.counter_services.update((counter.id, sid) for sid in counter.service_ids)
    return state


async def _foreign_ids(
    connection: AsyncConnection, spec: CompanySpec, state: _DesiredState
) -> list[Problem]:
    """Ids in the file that another company already owns."""
    problems: list[Problem] = []
    for kind, table, rows in (
        ("branch", t.branches, state.branches),
        ("group", t.service_groups, state.groups),
        ("service", t.services, state.services),
        ("counter", t.counters, state.counters),
    ):
        ids = [row["id"] for row in rows]
        if not ids:
            continue
        taken = await connection.scalars(
            select(table.c.id).where(table.c.id.in_(ids), table.c.company_id != spec.id)
        )
        problems.extend(
            Problem(kind, f"id {entity_id} belongs to another company") for entity_id in taken
        )
    return problems


def _holds(existing: Row | None, desired: Row) -> bool:
    """Does the stored row already say what the file says? Columns the file does not
    own (a counter's open state, the services an agent chose) are not compared."""
    return existing is not None and all(existing.get(k) == v for k, v in desired.items())


async def _existing(connection: AsyncConnection, table: Table, company_id: str) -> dict[str, Row]:
    result = await connection.execute(select(table).where(table.c.company_id == company_id))
    return {row["id"]: dict(row) for row in result.mappings()}


async def _sync_rows(
    connection: AsyncConnection,
    table: Table,
    company_id: str,
    desired: Sequence[Row],
    kind: str,
    summary: ApplySummary,
    *,
    retire: str,
) -> None:
    """Make ``table`` hold ``desired`` for this company; ``retire`` is what happens to
    rows missing from the file: ``deactivate`` or ``delete``."""
    existing = await _existing(connection, table, company_id)
    changed = [row for row in desired if not _holds(existing.get(row["id"]), row)]
    await upsert(connection, table, changed, key=["id"], only_if_same="company_id")
    created = sum(1 for row in changed if row["id"] not in existing)
    summary.bump(kind, "created", created)
    summary.bump(kind, "updated", len(changed) - created)
    wanted = {row["id"] for row in desired}
    gone = [row_id for row_id, row in existing.items() if row_id not in wanted]
    if retire == "delete" and gone:
        await connection.execute(delete(table).where(table.c.id.in_(gone)))
        summary.bump(kind, "removed", len(gone))
    elif retire == "deactivate":
        still_active = [row_id for row_id in gone if existing[row_id]["active"]]
        if still_active:
            await connection.execute(
                update(table).where(table.c.id.in_(still_active)).values(active=False)
            )
            summary.bump(kind, "deactivated", len(still_active))


async def _sync_pairs(
    connection: AsyncConnection,
    table: Table,
    columns: tuple[str, str],
    scope: Iterable[str],
    desired: Mapping[tuple[Any, Any], Row],
    kind: str,
    summary: ApplySummary,
) -> None:
    """Rows keyed by two columns whose first one lies in ``scope`` (this company's ids)."""
    first, second = table.c[columns[0]], table.c[columns[1]]
    result = await connection.execute(select(table).where(first.in_(list(scope))))
    existing = {(row[columns[0]], row[columns[1]]): dict(row) for row in result.mappings()}
    gone = [key for key in existing if key not in desired]
    if gone:
        await connection.execute(delete(table).where(tuple_(first, second).in_(gone)))
        summary.bump(kind, "removed", len(gone))
    changed = [row for key, row in desired.items() if not _holds(existing.get(key), row)]
    await upsert(connection, table, changed, key=list(columns))
    created = sum(1 for key, row in desired.items() if key not in existing)
    summary.bump(kind, "created", created)
    summary.bump(kind, "updated", len(changed) - created)


async def _sync_company(
    connection: AsyncConnection, spec: CompanySpec, now: Any, summary: ApplySummary
) -> None:
    row = await connection.execute(select(t.companies).where(t.companies.c.id == spec.id))
    existing = row.mappings().first()
    fields = {
        "name": spec.name,
        "timezone": spec.timezone,
        "default_locale": spec.default_locale,
        # The file owns these too: absent from it means unlimited / no browser origins,
        # so removing `limits` or `cors` clears them.
        "rate_limit_per_key": spec.rate_limit_per_key,
        "rate_limit_per_address": spec.rate_limit_per_address,
        "cors_origins": list(spec.cors_origins) or None,
    }
    if existing is None:
        await upsert(
            connection,
            t.companies,
            [{"id": spec.id, **fields, "created_at": now, "updated_at": now}],
            key=["id"],
        )
        summary.bump("company", "created")
    elif any(existing[name] != value for name, value in fields.items()):
        await connection.execute(
            update(t.companies).where(t.companies.c.id == spec.id).values(**fields, updated_at=now)
        )
        summary.bump("company", "updated")


async def _lock_company(connection: AsyncConnection, company_id: str) -> None:
    """Applies of one company take turns. Apply reads what is stored and writes the
    difference; under READ COMMITTED two concurrent applies would each diff against
    a state the other is changing and could leave a mix of both files. SQLite needs
    nothing: its write transactions (BEGIN IMMEDIATE) already run one at a time."""
    if connection.dialect.name != "postgresql":
        return
    key = int.from_bytes(
        hashlib.sha256(f"apply:{company_id}".encode()).digest()[:8], "big", signed=True
    )
    await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def apply_company(
    engine: AsyncEngine, spec: CompanySpec, *, clock: Clock = system_clock
) -> ApplySummary:
    """Create or update everything the file describes, atomically. Raises
    ``CompanyFileError`` (and writes nothing) when an id belongs to another company."""
    state = _desired_state(spec)

    async def work(connection: AsyncConnection) -> ApplySummary:
        await _lock_company(connection, spec.id)
        summary = ApplySummary()
        problems = await _foreign_ids(connection, spec, state)
        if problems:
            raise CompanyFileError(problems)
        await _sync_company(connection, spec, clock(), summary)
        await _sync_rows(
            connection,
            t.branches,
            spec.id,
            state.branches,
            "branches",
            summary,
            retire="deactivate",
        )
        await _sync_rows(
            connection,
            t.service_groups,
            spec.id,
            state.groups,
            "groups",
            summary,
            retire="deactivate",
        )
        await _sync_rows(
            connection,
            t.services,
            spec.id,
            state.services,
            "services",
            summary,
            retire="deactivate",
        )
        await _sync_rows(
            connection, t.counters, spec.id, state.counters, "counters", summary, retire="delete"
        )
        branch_ids = await connection.scalars(
            select(t.branches.c.id).where(t.branches.c.company_id == spec.id)
        )
        await _sync_pairs(
            connection,
            t.branch_closures,
            ("branch_id", "day"),
            list(branch_ids),
            state.closures,
            "closures",
            summary,
        )
        counter_ids = [row["id"] for row in state.counters]
        await _sync_pairs(
            connection,
            t.counter_services,
            ("counter_id", "service_id"),
            counter_ids,
            {
                pair: {"counter_id": pair[0], "service_id": pair[1]}
                for pair in state.counter_services
            },
            "counter services",
            summary,
        )
        return summary

    return await run_in_transaction(engine, work)


__all__ = ["ApplySummary", "apply_company"]
