"""The ``taboor`` command (design.md §5)."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.clock import system_clock
from taboor.db.engine import create_engine
from taboor.db.migrate import upgrade_to_head
from taboor.keys.service import (
    CreatedKey,
    KeyKind,
    UnknownCompanyError,
    create_key,
    list_keys,
    revoke_key,
)
from taboor.settings import DEFAULT_DATABASE_URL
from taboor.setup.apply import ApplySummary, apply_company
from taboor.setup.loader import demo_company_yaml, load_company_file, parse_company_yaml
from taboor.setup.schema import CompanyFileError, CompanySpec
from taboor.staff import accounts
from taboor.staff.passwords import PasswordRuleError, check_password

T = TypeVar("T")
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)
DEMO_KEYS_FILE = Path("taboor-demo-keys.env")


def _with_engine(database_url: str, work: Callable[..., Awaitable[T]], *args: object) -> T:
    async def run() -> T:
        engine = create_engine(database_url, pool_size=2)
        try:
            return await work(engine, *args)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@click.group()
@click.option(
    "--database-url",
    envvar="TABOOR_DATABASE_URL",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help="sqlite:///PATH or postgresql://user@host/db (env TABOOR_DATABASE_URL).",
)
@click.pass_context
def main(context: click.Context, database_url: str) -> None:
    """Taboor: queue management and appointment booking."""
    context.obj = database_url


@main.command()
@click.pass_obj
def migrate(database_url: str) -> None:
    """Bring the database schema up to date."""
    upgrade_to_head(database_url)
    console.print("database is up to date")


def _apply(database_url: str, spec: CompanySpec) -> ApplySummary:
    try:
        return _with_engine(database_url, apply_company, spec)
    except CompanyFileError as error:
        _report_problems(error)
        raise SystemExit(1) from error


def _report_problems(error: CompanyFileError) -> None:
    # Plain lines, never wrapped: operators grep and diff these.
    click.echo(
        f"The company file was rejected ({len(error.problems)} problems); nothing was written:",
        err=True,
    )
    for problem in error.problems:
        click.echo(f"  {problem}", err=True)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def apply(database_url: str, file: Path) -> None:
    """Create or update a company from its YAML file (all or nothing)."""
    try:
        spec = load_company_file(file)
    except CompanyFileError as error:
        _report_problems(error)
        raise SystemExit(1) from error
    upgrade_to_head(database_url)
    summary = _apply(database_url, spec)
    console.print(f"applied {spec.id}:")
    for line in summary.lines():
        console.print(f"  {line}")


@main.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command("create")
@click.option("--company", "company_id", required=True, help="Company id, e.g. cmp_demo01.")
@click.option("--kind", type=click.Choice(["public", "secret"]), required=True)
@click.option("--name", default=None, help="A label to recognise the key by.")
@click.pass_obj
def keys_create(database_url: str, company_id: str, kind: KeyKind, name: str | None) -> None:
    """Create a key and print it (the only time it is shown)."""
    try:
        created = _with_engine(database_url, create_key, company_id, kind, name)
    except UnknownCompanyError as error:
        errors.print(f"[red]no company {company_id!r}[/red]")
        raise SystemExit(1) from error
    console.print(f"{created.id}  {created.kind}")
    click.echo(created.key)
    errors.print("Store this key now: Taboor keeps only its hash and cannot show it again.")


@keys.command("list")
@click.option("--company", "company_id", default=None)
@click.pass_obj
def keys_list(database_url: str, company_id: str | None) -> None:
    """List keys (never their text: only a hint)."""
    infos = _with_engine(database_url, list_keys, company_id)
    # Tab-separated and never shortened: the id is what `keys revoke` takes.
    click.echo("\t".join(("id", "company", "kind", "name", "hint", "created", "revoked")))
    for info in infos:
        click.echo(
            "\t".join(
                (
                    info.id,
                    info.company_id,
                    info.kind,
                    info.name or "",
                    info.hint,
                    info.created_at.isoformat(timespec="seconds"),
                    info.revoked_at.isoformat(timespec="seconds") if info.revoked_at else "",
                )
            )
        )


@keys.command("revoke")
@click.argument("key_id")
@click.pass_obj
def keys_revoke(database_url: str, key_id: str) -> None:
    """Revoke a key by its id (``key_…``); it stops working at once."""
    if not _with_engine(database_url, revoke_key, key_id):
        errors.print(f"[red]no active key {key_id!r}[/red]")
        raise SystemExit(1)
    console.print(f"revoked {key_id}")


@main.group()
def staff() -> None:
    """Staff users (admins and counter agents): create, list, deactivate, passwords."""


def _refuse(error: Exception) -> SystemExit:
    # One plain line, never wrapped: operators grep these.
    click.echo(f"error: {error}", err=True)
    return SystemExit(1)


def _read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice without echo."""
    if from_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")

    def checked(value: str) -> str:
        try:
            check_password(value)
        except PasswordRuleError as error:
            raise click.UsageError(str(error)) from None
        return value

    password: str = click.prompt(
        "Password", hide_input=True, confirmation_prompt=True, value_proc=checked
    )
    return password


_password_stdin = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin instead of prompting.",
)


@staff.command("create")
@click.option("--company", "company_id", required=True, help="Company id, e.g. cmp_demo01.")
@click.option("--username", required=True, help="Unique on this server; stored lower-cased.")
@click.option("--name", required=True, help="The name shown to colleagues.")
@click.option("--role", type=click.Choice(["admin", "agent"]), required=True)
@click.option(
    "--branch",
    "branch_ids",
    multiple=True,
    help="A branch the user works at (repeat; an agent needs at least one).",
)
@_password_stdin
@click.pass_obj
def staff_create(
    database_url: str,
    company_id: str,
    username: str,
    name: str,
    role: str,
    branch_ids: tuple[str, ...],
    password_stdin: bool,
) -> None:
    """Create a staff user and print its id."""
    try:
        # Refuse a bad username before asking for a password.
        accounts.normalize_username(username)
        password = _read_password(password_stdin)
        staff_id = _with_engine(
            database_url,
            accounts.create_staff,
            company_id,
            username,
            name,
            role,
            password,
            branch_ids,
            system_clock(),
        )
    except (accounts.StaffAccountError, PasswordRuleError) as error:
        raise _refuse(error) from error
    click.echo(staff_id)


@staff.command("list")
@click.option("--company", "company_id", default=None)
@click.pass_obj
def staff_list(database_url: str, company_id: str | None) -> None:
    """List staff users (tab-separated)."""
    infos = _with_engine(database_url, accounts.list_staff, company_id)
    click.echo("\t".join(("id", "company", "username", "name", "role", "branches", "active")))
    for info in infos:
        click.echo(
            "\t".join(
                (
                    info.id,
                    info.company_id,
                    info.username,
                    info.name,
                    info.role,
                    ",".join(info.branch_ids),
                    "yes" if info.active else "no",
                )
            )
        )


@staff.command("deactivate")
@click.argument("username")
@click.pass_obj
def staff_deactivate(database_url: str, username: str) -> None:
    """Deactivate a staff user and end their sessions at once."""
    try:
        done: accounts.Deactivation = _with_engine(
            database_url, accounts.deactivate_staff, username, system_clock()
        )
    except accounts.StaffAccountError as error:
        raise _refuse(error) from error
    state = "deactivated" if done.was_active else "was already inactive"
    click.echo(f"{username.strip().lower()} {state} ({done.sessions_ended} sessions ended)")


@staff.command("set-password")
@click.argument("username")
@_password_stdin
@click.pass_obj
def staff_set_password(database_url: str, username: str, password_stdin: bool) -> None:
    """Give a staff user a new password; their sessions end."""
    try:
        password = _read_password(password_stdin)
        ended = _with_engine(
            database_url, accounts.set_password, username, password, system_clock()
        )
    except (accounts.StaffAccountError, PasswordRuleError) as error:
        raise _refuse(error) from error
    click.echo(f"password set for {username.strip().lower()} ({ended} sessions ended)")


def _serve(database_url: str, host: str, port: int, workers: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    from taboor.ops.serving import server_environment

    # Workers are separate processes: they read the URL from the environment.
    os.environ["TABOOR_DATABASE_URL"] = database_url
    # JSON logs, the workers' shared metrics directory, the shutdown grace (README,
    # "Operations").
    with server_environment() as options:
        upgrade_to_head(database_url)
        console.print(f"Taboor serving on http://{host}:{port} ({workers} worker(s))")
        Granian(
            "taboor.app:create_server_app",
            factory=True,
            address=host,
            port=port,
            workers=workers,
            interface=Interfaces.ASGI,
            **options,
        ).serve()


_host = click.option("--host", default="127.0.0.1", show_default=True)
_port = click.option("--port", default=8000, show_default=True, type=int)
_workers = click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))


@main.command()
@_host
@_port
@_workers
@click.pass_obj
def serve(database_url: str, host: str, port: int, workers: int) -> None:
    """Apply pending migrations, then serve HTTP."""
    _serve(database_url, host, port, workers)


async def _demo_staff(engine: AsyncEngine, spec: CompanySpec) -> list[tuple[str, str, str]]:
    """A demo admin and a demo agent (at every demo branch) with fresh passwords; made
    on the first run, given new passwords on the next ones. (username, role, password)."""
    made = []
    branches = [branch.id for branch in spec.branches]
    for username, name, role, at in (
        ("demo-admin", "Demo Admin", "admin", []),
        ("demo-agent", "Demo Agent", "agent", branches),
    ):
        password = secrets.token_urlsafe(12)
        try:
            await accounts.create_staff(
                engine, spec.id, username, name, role, password, at, system_clock()
            )
        except accounts.UsernameTakenError:
            await accounts.set_password(engine, username, password, system_clock())
        made.append((username, role, password))
    return made


@main.command()
@_host
@_port
@_workers
@click.pass_obj
def demo(database_url: str, host: str, port: int, workers: int) -> None:
    """Migrate, apply the bundled demo company, print fresh keys, serve."""
    spec = parse_company_yaml(demo_company_yaml())
    upgrade_to_head(database_url)
    _apply(database_url, spec)
    public: CreatedKey = _with_engine(database_url, create_key, spec.id, "public", "demo")
    secret: CreatedKey = _with_engine(database_url, create_key, spec.id, "secret", "demo")
    staff = _with_engine(database_url, _demo_staff, spec)
    lines = [f"TABOOR_PUBLIC_KEY={public.key}", f"TABOOR_SECRET_KEY={secret.key}"]
    lines += [f"TABOOR_DEMO_{role.upper()}_PASSWORD={password}" for _, role, password in staff]
    DEMO_KEYS_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    console.print(f"Demo company {spec.id} ({spec.name}) applied.")
    console.print(f"  public key: {public.key}", markup=False)
    console.print(f"  secret key: {secret.key}", markup=False)
    for username, role, password in staff:
        console.print(f"  staff {role}: {username} / {password}", markup=False)
    console.print(f"  (also written to {DEMO_KEYS_FILE}: `source {DEMO_KEYS_FILE}`)")
    # The screens, ready to open: display and kiosk take the public key in the fragment
    # (docs/screens.md), the console signs in with the staff users above.
    # Plain echo: rich would wrap these long lines and break the addresses.
    base = f"http://{host}:{port}"
    click.echo(f"  staff console: {base}/console")
    for branch in spec.branches:
        click.echo(f"  {branch.id}: hall display {base}/display/{branch.id}#key={public.key}")
        click.echo(f"  {branch.id}: kiosk        {base}/kiosk/{branch.id}#key={public.key}")
    _serve(database_url, host, port, workers)
