"""The company file's `limits` and `cors`: validation by path, and the diff-based apply
(stored in the companies row, applying twice changes nothing, leaving them out clears
them), on both databases."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.setup.apply import apply_company
from taboor.setup.schema import CompanyFileError, parse_company_file
from tests.limits.helpers import apply_with, fixture_doc


def doc_with(**top: Any) -> dict[str, Any]:
    doc = copy.deepcopy(fixture_doc("bank"))
    doc.update(top)
    return doc


def problems_of(doc: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(CompanyFileError) as caught:
        parse_company_file(doc)
    return {problem.path: problem.message for problem in caught.value.problems}


# --- validation --------------------------------------------------------------------------


def test_absent_means_unlimited_and_no_origins() -> None:
    spec = parse_company_file(doc_with())
    assert (spec.rate_limit_per_key, spec.rate_limit_per_address, spec.cors_origins) == (
        None,
        None,
        (),
    )


def test_limits_and_origins_are_read() -> None:
    spec = parse_company_file(
        doc_with(
            limits={"perKeyPerMinute": 1, "perAddressPerMinute": 100_000},
            cors={"origins": ["https://app.example.com", "http://localhost:3000"]},
        )
    )
    assert spec.rate_limit_per_key == 1
    assert spec.rate_limit_per_address == 100_000
    assert spec.cors_origins == ("https://app.example.com", "http://localhost:3000")


def test_either_limit_alone() -> None:
    spec = parse_company_file(doc_with(limits={"perAddressPerMinute": 30}))
    assert (spec.rate_limit_per_key, spec.rate_limit_per_address) == (None, 30)
    assert parse_company_file(doc_with(limits={})).rate_limit_per_key is None


def test_origins_are_normalized_as_browsers_send_them() -> None:
    spec = parse_company_file(
        doc_with(
            cors={
                "origins": [
                    "HTTPS://App.Example.COM",
                    "https://a.example:443",  # the default port: browsers leave it out
                    "http://b.example:80",
                    "https://c.example:8443",
                    "capacitor://localhost",
                    "http://[::1]:8080",
                    " https://d.example ",
                ]
            }
        )
    )
    assert spec.cors_origins == (
        "https://app.example.com",
        "https://a.example",
        "http://b.example",
        "https://c.example:8443",
        "capacitor://localhost",
        "http://[::1]:8080",
        "https://d.example",
    )


def test_bad_limits_are_reported_by_path() -> None:
    assert problems_of(doc_with(limits={"perKeyPerMinute": 0, "perAddressPerMinute": 100_001})) == {
        "limits.perKeyPerMinute": "must be between 1 and 100000",
        "limits.perAddressPerMinute": "must be between 1 and 100000",
    }
    assert problems_of(doc_with(limits={"perKeyPerMinute": "20", "perMinute": 5})) == {
        "limits.perKeyPerMinute": "must be an integer",
        "limits.perMinute": "unknown field",
    }
    assert problems_of(doc_with(limits={"perKeyPerMinute": True})) == {
        "limits.perKeyPerMinute": "must be an integer"
    }
    assert problems_of(doc_with(limits=20)) == {"limits": "must be a mapping"}


def test_bad_origins_are_reported_by_path() -> None:
    origins = [
        "*",
        "https://app.example.com/",
        "https://app.example.com/path",
        "app.example.com",
        "https://app.example.com?x=1",
        "https://app.example.com:99999",
        "null",
        42,
        "https://bücher.example",
        "https://ok.example",
        "https://OK.example:443",
        "",
    ]
    hint = "must be an origin like https://app.example.com (scheme://host[:port], no path)"
    assert problems_of(doc_with(cors={"origins": origins})) == {
        "cors.origins[0]": "'*' is not allowed; list each origin",
        "cors.origins[1]": hint,
        "cors.origins[2]": hint,
        "cors.origins[3]": hint,
        "cors.origins[4]": hint,
        "cors.origins[5]": "the port must be between 1 and 65535",
        "cors.origins[6]": "'null' is not allowed; list each origin",
        "cors.origins[7]": "must be a non-empty string",
        "cors.origins[8]": "write an internationalized host name in punycode (xn--…)",
        "cors.origins[10]": "https://ok.example is already listed at cors.origins[9]",
        "cors.origins[11]": "must be a non-empty string",
    }


def test_cors_shape_and_count_are_checked() -> None:
    assert problems_of(doc_with(cors={"origin": ["https://a.example"]})) == {
        "cors.origin": "unknown field"
    }
    assert problems_of(doc_with(cors={"origins": "https://a.example"})) == {
        "cors.origins": "must be a list"
    }
    many = [f"https://app{index}.example" for index in range(51)]
    assert problems_of(doc_with(cors={"origins": many})) == {"cors.origins": "at most 50 origins"}
    assert len(parse_company_file(doc_with(cors={"origins": many[:50]})).cors_origins) == 50


def test_problems_elsewhere_are_still_all_listed() -> None:
    doc = doc_with(limits={"perKeyPerMinute": -1}, cors={"origins": ["*"]})
    doc["company"]["timezone"] = "Mars/Olympus"
    assert set(problems_of(doc)) == {
        "company.timezone",
        "limits.perKeyPerMinute",
        "cors.origins[0]",
    }


# --- apply ---------------------------------------------------------------------------------


async def stored(engine: AsyncEngine) -> tuple[Any, ...]:
    c = t.companies.c
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(c.rate_limit_per_key, c.rate_limit_per_address, c.cors_origins).where(
                    c.id == "cmp_bank01"
                )
            )
        ).one()
    return tuple(row)


async def test_apply_stores_them_idempotently_and_clears_them(engine: AsyncEngine) -> None:
    origins = ["https://app.bank.example", "http://localhost:3000"]
    limits = {"perKeyPerMinute": 20, "perAddressPerMinute": 50}
    first = await apply_with(engine, "bank", limits=limits, origins=origins)
    assert first.counts["company"] == {"created": 1}
    assert await stored(engine) == (20, 50, origins)

    again = await apply_with(engine, "bank", limits=limits, origins=origins)
    assert not again.changed, again.lines()

    changed = await apply_with(
        engine, "bank", limits={"perKeyPerMinute": 30}, origins=list(reversed(origins))
    )
    assert changed.counts == {"company": {"updated": 1}}
    assert await stored(engine) == (30, None, list(reversed(origins)))

    cleared = await apply_with(engine, "bank")
    assert cleared.counts == {"company": {"updated": 1}}
    assert await stored(engine) == (None, None, None)
    assert not (await apply_with(engine, "bank")).changed


async def test_an_empty_origin_list_is_no_origins(engine: AsyncEngine) -> None:
    await apply_with(engine, "bank", origins=["https://app.bank.example"])
    summary = await apply_company(engine, parse_company_file(doc_with(cors={"origins": []})))
    assert summary.counts == {"company": {"updated": 1}}
    assert await stored(engine) == (None, None, None)
    assert not (await apply_with(engine, "bank")).changed
