"""Applying a company file: exact rows, idempotence, minimal updates, retirement, isolation."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.clock import fixed_clock
from taboor.db import tables as t
from taboor.setup.apply import ApplySummary, apply_company
from taboor.setup.loader import demo_company_yaml, parse_company_yaml
from taboor.setup.schema import CompanyFileError, parse_company_file
from tests.db.snapshots import BANK_COUNTS, changed_cells, row_counts, snapshot
from tests.support import company_file

FIRST = fixed_clock(datetime(2026, 6, 1, 8, 0, tzinfo=UTC))
LATER = fixed_clock(datetime(2026, 6, 2, 8, 0, tzinfo=UTC))


def bank_doc() -> dict[str, Any]:
    return yaml.safe_load(company_file("bank").read_text(encoding="utf-8"))


def rival_doc() -> dict[str, Any]:
    return yaml.safe_load(company_file("rival").read_text(encoding="utf-8"))


async def apply_doc(
    engine: AsyncEngine, doc: dict[str, Any], clock: Callable[[], datetime] = FIRST
) -> ApplySummary:
    return await apply_company(engine, parse_company_file(copy.deepcopy(doc)), clock=clock)


def edited(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = bank_doc()
    change(doc)
    return doc


def zallaq(doc: dict[str, Any]) -> dict[str, Any]:
    branch = doc["branches"][0]
    assert branch["id"] == "zallaq0001"
    return branch


def tellers(doc: dict[str, Any]) -> dict[str, Any]:
    group = zallaq(doc)["groups"][0]
    assert group["id"] == "ztellers01"
    return group


async def row(engine: AsyncEngine, table: Any, **where: Any) -> dict[str, Any] | None:
    query = select(table).where(*(table.c[name] == value for name, value in where.items()))
    async with engine.connect() as connection:
        found = (await connection.execute(query)).mappings().first()
    return dict(found) if found is not None else None


async def test_first_apply_creates_exactly_the_described_rows(engine: AsyncEngine) -> None:
    """Applying bank.yaml to an empty database writes exactly its rows, nothing more."""
    summary = await apply_doc(engine, bank_doc())
    assert await row_counts(engine) == BANK_COUNTS
    assert summary.counts == {
        "company": {"created": 1},
        "branches": {"created": 4},
        "groups": {"created": 6},
        "services": {"created": 9},
        "counters": {"created": 1},
        "closures": {"created": 1},
        "counter services": {"created": 2},
    }


async def test_first_apply_stores_the_file_values(engine: AsyncEngine) -> None:
    """The stored rows carry the file's values, defaults filled in."""
    await apply_doc(engine, bank_doc())
    company = await row(engine, t.companies, id="cmp_bank01")
    assert company == {
        "id": "cmp_bank01",
        "name": "Test Bank",
        "timezone": "Asia/Bahrain",
        "default_locale": "en",
        "created_at": FIRST(),
        "updated_at": FIRST(),
        # The bank's file sets no limits and no CORS origins.
        "rate_limit_per_key": None,
        "rate_limit_per_address": None,
        "cors_origins": None,
    }
    branch = await row(engine, t.branches, id="zallaq0001")
    assert branch is not None
    assert branch["name"] == {"en": "Zallaq Branch", "ar": "فرع الزلاق"}
    assert (branch["lat"], branch["lng"], branch["timezone"]) == (26.05, 50.49, "Asia/Bahrain")
    assert branch["hours"]["thu"] == [[480, 720], [780, 1020]]
    assert "fri" not in branch["hours"]
    loans = await row(engine, t.services, id="zloans0001")
    assert loans is not None
    assert (loans["walk_in"], loans["appointment_prefix"], loans["slot_minutes"]) == (
        False,
        "M",
        30,
    )
    assert (loans["slot_capacity"], loans["horizon_days"], loans["min_notice_minutes"]) == (
        1,
        14,
        60,
    )
    closure = await row(engine, t.branch_closures, branch_id="zallaq0001")
    assert closure == {
        "branch_id": "zallaq0001",
        "day": date(2026, 6, 10),
        "reason": {"en": "Maintenance", "ar": "صيانة"},
    }
    old = await row(engine, t.branches, id="oldbranch1")
    assert old is not None and old["active"] is False


async def test_second_apply_changes_nothing(engine: AsyncEngine) -> None:
    """Applying the same file again reports 'nothing changed' and every row is identical."""
    await apply_doc(engine, bank_doc())
    before = await snapshot(engine)
    summary = await apply_doc(engine, bank_doc(), clock=LATER)
    assert summary.changed is False
    assert summary.lines() == ["nothing changed"]
    assert await snapshot(engine) == before


async def test_changing_one_field_updates_only_that_cell(engine: AsyncEngine) -> None:
    """A new avgServiceMinutes changes that one column of that one service row."""
    await apply_doc(engine, bank_doc())
    before = await snapshot(engine)

    def change(doc: dict[str, Any]) -> None:
        tellers(doc)["services"][0]["avgServiceMinutes"] = 7

    summary = await apply_doc(engine, edited(change), clock=LATER)
    assert summary.counts == {"services": {"updated": 1}}
    assert changed_cells(before, await snapshot(engine)) == {
        ("services", "zwithdraw1", "avg_service_minutes")
    }


async def test_changing_a_name_updates_only_that_name(engine: AsyncEngine) -> None:
    """A new Arabic branch name changes the branch's name column only."""
    await apply_doc(engine, bank_doc())
    before = await snapshot(engine)

    def change(doc: dict[str, Any]) -> None:
        zallaq(doc)["name"]["ar"] = "فرع الزلاق الجديد"

    summary = await apply_doc(engine, edited(change), clock=LATER)
    assert summary.counts == {"branches": {"updated": 1}}
    assert changed_cells(before, await snapshot(engine)) == {("branches", "zallaq0001", "name")}
    branch = await row(engine, t.branches, id="zallaq0001")
    assert branch is not None and branch["name"]["ar"] == "فرع الزلاق الجديد"


async def test_changing_the_company_name_stamps_updated_at(engine: AsyncEngine) -> None:
    """A company change updates its name and updated_at, keeping created_at."""
    await apply_doc(engine, bank_doc())
    before = await snapshot(engine)
    summary = await apply_doc(
        engine, edited(lambda doc: doc["company"].update(name="Renamed Bank")), clock=LATER
    )
    assert summary.counts == {"company": {"updated": 1}}
    assert changed_cells(before, await snapshot(engine)) == {
        ("companies", "cmp_bank01", "name"),
        ("companies", "cmp_bank01", "updated_at"),
    }
    company = await row(engine, t.companies, id="cmp_bank01")
    assert company is not None
    assert (company["created_at"], company["updated_at"]) == (FIRST(), LATER())


async def test_removed_service_is_deactivated_not_deleted(engine: AsyncEngine) -> None:
    """A service missing from the file keeps its row, with active false."""
    await apply_doc(engine, bank_doc())
    before = await snapshot(engine)

    def change(doc: dict[str, Any]) -> None:
        del tellers(doc)["services"][2]  # zforex0001

    summary = await apply_doc(engine, edited(change), clock=LATER)
    assert summary.counts == {"services": {"deactivated": 1}}
    assert changed_cells(before, await snapshot(engine)) == {("services", "zforex0001", "active")}
    assert await row_counts(engine) == BANK_COUNTS

    # Applying the reduced file again changes nothing; restoring it reactivates the row.
    assert (await apply_doc(engine, edited(change), clock=LATER)).changed is False
    restored = await apply_doc(engine, bank_doc(), clock=LATER)
    assert restored.counts == {"services": {"updated": 1}}
    assert await snapshot(engine) == before


async def test_removed_group_is_deactivated_with_its_services(engine: AsyncEngine) -> None:
    """A group missing from the file is kept inactive, and so are its services."""
    await apply_doc(engine, bank_doc())
    before = await snapshot(engine)

    def change(doc: dict[str, Any]) -> None:
        del zallaq(doc)["groups"][1]  # zaccounts1 with zopening01

    summary = await apply_doc(engine, edited(change), clock=LATER)
    assert summary.counts == {"groups": {"deactivated": 1}, "services": {"deactivated": 1}}
    assert changed_cells(before, await snapshot(engine)) == {
        ("service_groups", "zaccounts1", "active"),
        ("services", "zopening01", "active"),
    }
    assert await row_counts(engine) == BANK_COUNTS


async def test_removed_branch_is_deactivated_with_its_tree(engine: AsyncEngine) -> None:
    """A branch missing from the file is kept inactive, with its groups and services."""
    await apply_doc(engine, bank_doc())
    before = await snapshot(engine)

    def change(doc: dict[str, Any]) -> None:
        assert doc["branches"][1]["id"] == "amwaj00001"
        del doc["branches"][1]

    summary = await apply_doc(engine, edited(change), clock=LATER)
    assert summary.counts == {
        "branches": {"deactivated": 1, "updated": 2},  # london and oldbranch1 move up
        "groups": {"deactivated": 1},
        "services": {"deactivated": 1},
    }
    assert changed_cells(before, await snapshot(engine)) == {
        ("branches", "amwaj00001", "active"),
        ("branches", "london0001", "position"),
        ("branches", "oldbranch1", "position"),
        ("service_groups", "agroup0001", "active"),
        ("services", "aservice01", "active"),
    }
    assert await row_counts(engine) == BANK_COUNTS


async def test_removed_counter_is_deleted_with_its_services(engine: AsyncEngine) -> None:
    """A counter missing from the file is deleted, and its counter_services rows too."""
    await apply_doc(engine, bank_doc())
    before = await snapshot(engine)
    summary = await apply_doc(engine, edited(lambda doc: zallaq(doc).pop("counters")), clock=LATER)
    assert summary.counts == {"counters": {"removed": 1}}
    assert changed_cells(before, await snapshot(engine)) == {
        ("counters", "zctr000001", "*"),
        ("counter_services", "zctr000001/zdeposit01", "*"),
        ("counter_services", "zctr000001/zwithdraw1", "*"),
    }
    assert await row_counts(engine) == {**BANK_COUNTS, "counters": 0, "counter_services": 0}


async def test_removing_one_service_from_a_counter_deletes_that_pair(engine: AsyncEngine) -> None:
    """A counter that stops serving a service loses just that counter_services row."""
    await apply_doc(engine, bank_doc())
    before = await snapshot(engine)

    def change(doc: dict[str, Any]) -> None:
        zallaq(doc)["counters"][0]["services"] = ["zwithdraw1"]

    summary = await apply_doc(engine, edited(change), clock=LATER)
    assert summary.counts == {"counter services": {"removed": 1}}
    assert changed_cells(before, await snapshot(engine)) == {
        ("counter_services", "zctr000001/zdeposit01", "*")
    }


async def test_removed_closure_is_deleted(engine: AsyncEngine) -> None:
    """A closure missing from the file is deleted; a new one is inserted."""
    await apply_doc(engine, bank_doc())
    before = await snapshot(engine)

    def change(doc: dict[str, Any]) -> None:
        zallaq(doc)["closures"] = [{"date": "2026-06-11"}]

    summary = await apply_doc(engine, edited(change), clock=LATER)
    assert summary.counts == {"closures": {"removed": 1, "created": 1}}
    assert changed_cells(before, await snapshot(engine)) == {
        ("branch_closures", "zallaq0001/2026-06-10", "*"),
        ("branch_closures", "zallaq0001/2026-06-11", "*"),
    }
    assert await row(engine, t.branch_closures, day=date(2026, 6, 10)) is None
    assert await row(engine, t.branch_closures, day=date(2026, 6, 11)) == {
        "branch_id": "zallaq0001",
        "day": date(2026, 6, 11),
        "reason": None,
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda doc: doc["branches"][0].update(id="zallaq0001"),
            "id zallaq0001 belongs to another company",
        ),
        (
            lambda doc: doc["branches"][0]["groups"][0].update(id="ztellers01"),
            "id ztellers01 belongs to another company",
        ),
        (
            lambda doc: doc["branches"][0]["groups"][0]["services"][0].update(id="zwithdraw1"),
            "id zwithdraw1 belongs to another company",
        ),
    ],
)
async def test_ids_of_another_company_are_rejected_and_nothing_is_written(
    engine: AsyncEngine, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    """A rival file reusing a bank id raises CompanyFileError and leaves every table as it was."""
    await apply_doc(engine, bank_doc())
    before = await snapshot(engine)
    doc = rival_doc()
    change(doc)
    with pytest.raises(CompanyFileError) as caught:
        await apply_doc(engine, doc, clock=LATER)
    assert [problem.message for problem in caught.value.problems] == [message]
    assert await snapshot(engine) == before
    assert await row(engine, t.companies, id="cmp_rival1") is None


async def test_two_companies_live_side_by_side(engine: AsyncEngine) -> None:
    """Applying the rival leaves the bank's rows alone, and re-applying either is a no-op."""
    await apply_doc(engine, bank_doc())
    bank_rows = await snapshot(engine)
    await apply_doc(engine, rival_doc())
    assert await row_counts(engine) == {
        name: count
        + {"companies": 1, "branches": 1, "service_groups": 1, "services": 1}.get(name, 0)
        for name, count in BANK_COUNTS.items()
    }
    after = await snapshot(engine)
    for table, rows in bank_rows.items():
        assert all(existing in after[table] for existing in rows)
    assert (await apply_doc(engine, bank_doc(), clock=LATER)).changed is False
    assert (await apply_doc(engine, rival_doc(), clock=LATER)).changed is False
    assert await snapshot(engine) == after


async def test_demo_company_applies(engine: AsyncEngine) -> None:
    """The bundled demo applies, with its 3 branches, and a second apply is a no-op."""
    spec = parse_company_yaml(demo_company_yaml())
    summary = await apply_company(engine, spec, clock=FIRST)
    assert summary.counts["branches"] == {"created": 3}
    counts = await row_counts(engine)
    assert counts["companies"] == 1
    assert counts["branches"] == 3
    assert counts["services"] == sum(
        len(group.services) for branch in spec.branches for group in branch.groups
    )
    assert counts["counters"] == sum(len(branch.counters) for branch in spec.branches)
    assert counts["branch_closures"] == 2 + sum(
        len(branch.closures) for branch in spec.branches[1:]
    )
    assert (await apply_company(engine, spec, clock=LATER)).changed is False


async def test_closure_written_as_timestamp_is_idempotent(engine: AsyncEngine) -> None:
    """A closure date written with a time either is rejected or re-applies as a no-op."""
    text = (
        "company: {id: cmp_test01, name: T, timezone: Asia/Bahrain}\n"
        "branches: [{id: branch0001, name: B, closures: [{date: 2026-12-16 10:00:00}]}]\n"
    )
    try:
        spec = parse_company_yaml(text)
    except CompanyFileError:
        return  # rejecting the file is a fine answer too
    await apply_company(engine, spec, clock=FIRST)
    assert (await apply_company(engine, spec, clock=LATER)).changed is False
