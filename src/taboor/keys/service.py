"""API keys (spec §1.1): ``pk_``/``sk_`` + 43 URL-safe random characters.

Only a SHA-256 of the key is stored. A key has 256 random bits, so nobody can guess
one from its hash and a slow password hash would buy nothing but latency on every
request; an equality lookup on the hash column finds the key in one indexed probe,
and the comparison happens inside the database index rather than in Python string
comparison, so response time does not depend on how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taboor.clock import Clock, system_clock
from taboor.db import tables as t
from taboor.db.uow import read_connection, run_in_transaction

KeyKind = Literal["public", "secret"]
KEY_CHANNEL = "taboor_api_keys"  # revocations are announced here (taboor.keys.cache)
PREFIXES: dict[KeyKind, str] = {"public": "pk_", "secret": "sk_"}


class UnknownCompanyError(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class CreatedKey:
    id: str
    kind: KeyKind
    key: str  # shown once, never stored


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: str
    company_id: str
    kind: KeyKind
    name: str | None
    hint: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the company every query is scoped to, and through which key."""

    company_id: str
    key_id: str
    kind: KeyKind
    default_locale: str
    # The company's External API limits (requests per minute; None = unlimited) and the
    # browser origins it allows (taboor.api.rate_limits, taboor.api.cors). Cached with
    # the key, so a changed company file reaches a process within the cache's lifetime.
    rate_limit_per_key: int | None = None
    rate_limit_per_address: int | None = None
    cors_origins: frozenset[str] = frozenset()

    @property
    def rate_limited(self) -> bool:
        return self.rate_limit_per_key is not None or self.rate_limit_per_address is not None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key_text(kind: KeyKind) -> str:
    return PREFIXES[kind] + secrets.token_urlsafe(32)


async def create_key(
    engine: AsyncEngine,
    company_id: str,
    kind: KeyKind,
    name: str | None = None,
    *,
    clock: Clock = system_clock,
) -> CreatedKey:
    key = new_key_text(kind)
    key_id = "key_" + secrets.token_hex(8)

    async def work(connection: AsyncConnection) -> None:
        exists = await connection.scalar(
            select(t.companies.c.id).where(t.companies.c.id == company_id)
        )
        if exists is None:
            raise UnknownCompanyError(company_id)
        await connection.execute(
            t.api_keys.insert().values(
                id=key_id,
                company_id=company_id,
                kind=kind,
                name=name,
                key_hash=hash_key(key),
                key_hint=key[:7] + "…",
                created_at=clock(),
            )
        )

    await run_in_transaction(engine, work)
    return CreatedKey(key_id, kind, key)


async def list_keys(engine: AsyncEngine, company_id: str | None = None) -> list[KeyInfo]:
    query = select(t.api_keys).order_by(t.api_keys.c.company_id, t.api_keys.c.created_at)
    if company_id is not None:
        query = query.where(t.api_keys.c.company_id == company_id)
    async with read_connection(engine) as connection:
        rows = (await connection.execute(query)).mappings().all()
    return [
        KeyInfo(
            row["id"],
            row["company_id"],
            row["kind"],
            row["name"],
            row["key_hint"],
            row["created_at"],
            row["revoked_at"],
        )
        for row in rows
    ]


async def revoke_key(
    engine: AsyncEngine,
    key_id: str,
    *,
    clock: Clock = system_clock,
    company_id: str | None = None,
) -> bool:
    """Revoke a key (of ``company_id``, when given); False when no such key is active.
    On PostgreSQL every server
    process's key cache hears of it when this commits (``taboor.keys.cache``)."""

    async def work(connection: AsyncConnection) -> bool:
        scope = [t.api_keys.c.id == key_id, t.api_keys.c.revoked_at.is_(None)]
        if company_id is not None:  # an admin revokes only their company's keys
            scope.append(t.api_keys.c.company_id == company_id)
        result = await connection.execute(
            update(t.api_keys).where(*scope).values(revoked_at=clock())
        )
        if result.rowcount == 1 and connection.dialect.name == "postgresql":
            await connection.execute(select(func.pg_notify(KEY_CHANNEL, key_id)))
        return result.rowcount == 1

    return await run_in_transaction(engine, work)


_ACTIVE_KEY = (
    select(
        t.api_keys.c.id,
        t.api_keys.c.company_id,
        t.api_keys.c.kind,
        t.companies.c.default_locale,
        t.companies.c.rate_limit_per_key,
        t.companies.c.rate_limit_per_address,
        t.companies.c.cors_origins,
    )
    .join(t.companies, t.companies.c.id == t.api_keys.c.company_id)
    .where(t.api_keys.c.key_hash == bindparam("key_hash"), t.api_keys.c.revoked_at.is_(None))
)


async def authenticate(connection: AsyncConnection, key: str) -> Principal | None:
    """The principal behind an active key, or None."""
    row = (await connection.execute(_ACTIVE_KEY, {"key_hash": hash_key(key)})).first()
    if row is None:
        return None
    return Principal(
        company_id=row[1],
        key_id=row[0],
        kind=row[2],
        default_locale=row[3],
        rate_limit_per_key=row[4],
        rate_limit_per_address=row[5],
        cors_origins=frozenset(row[6] or ()),
    )
