"""Shared by the rate-limit and CORS tests: a company file with `limits` and `cors`
applied over the fixture, and the counter rows as the database holds them."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.db import tables as t
from taboor.setup.apply import ApplySummary, apply_company
from taboor.setup.schema import parse_company_file
from tests.support import company_file

BANK_APP = "https://app.bank.example"
RIVAL_APP = "https://portal.rival.example"
RATE_LIMIT_HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")


def fixture_doc(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(company_file(name).read_text(encoding="utf-8"))
    return doc


async def apply_with(
    engine: AsyncEngine,
    name: str,
    *,
    limits: dict[str, Any] | None = None,
    origins: list[str] | None = None,
) -> ApplySummary:
    """Apply fixture ``name`` with these ``limits`` and ``cors.origins`` (None: left out)."""
    doc = copy.deepcopy(fixture_doc(name))
    if limits is not None:
        doc["limits"] = limits
    if origins is not None:
        doc["cors"] = {"origins": origins}
    return await apply_company(engine, parse_company_file(doc))


async def counter_rows(engine: AsyncEngine) -> dict[tuple[str, str], int]:
    """(scope, subject) -> hits, every row."""
    c = t.rate_limit_counters.c
    async with engine.connect() as connection:
        rows = (await connection.execute(select(c.scope, c.subject, c.hits))).all()
    return {(scope, subject): hits for scope, subject, hits in rows}
