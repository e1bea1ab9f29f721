"""Logs as ``create_app`` writes them when the settings name a format (``taboor serve``
sets json): one JSON object per line on stderr, an access line per request with its
route template, the request id on every line written during the request, and never a
header, a body or a query string: keys, passwords, session tokens and customer fields
stay out, at every level, on both databases."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from taboor.app import create_app
from taboor.db.engine import create_engine
from taboor.ops.logs import JsonFormatter, RequestIdFilter, TextFormatter
from taboor.settings import Settings
from tests.conftest import CompanyKeys
from tests.live_server import free_port
from tests.ops.helpers import json_lines
from tests.staff.helpers import make_staff
from tests.support import MutableClock

API = "/external/v1"
ACCESS_FIELDS = {
    "ts",
    "level",
    "logger",
    "message",
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
}
PASSWORD = "Sesame-Opens-4471"
WRONG_PASSWORD = "Wrong-Sesame-9931"
CUSTOMER = {
    "externalId": "crm-private-8841",
    "name": "Zuleikha Qadri-Private",
    "email": "zuleikha.private@example.test",
    "mobile": "+97339998877",
    "metadata": {"note": "meta-private-5521"},
}
TOUCHED_LOGGERS = ("", "_granian", "granian.access", "alembic", "sqlalchemy", "aiosqlite", "httpx")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """``create_app`` configures the process's logging when told a format: put back what
    the test session had."""
    saved = {
        name: (logger, logger.level, logger.handlers[:], logger.propagate)
        for name in TOUCHED_LOGGERS
        for logger in [logging.getLogger(name)]
    }
    # The test's HTTP client logs its requests, query strings included: it is not
    # the server, and its lines would only muddle what the server wrote.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    yield
    for logger, level, handlers, propagate in saved.values():
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate
    logging.captureWarnings(False)


Stderr = Callable[[], str]


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str], restore_logging: None) -> Stderr:
    capsys.readouterr()
    return lambda: capsys.readouterr().err


def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://taboor.test")


def server_lines(output: str) -> list[dict[str, Any]]:
    """The JSON lines of ``output``. Configuring logging closes every handler there was,
    pytest's log-file handler among them, which then reports "--- Logging error ---"
    blocks on stderr for the rest of the test: not ours, skipped. (The live server
    test checks that a real server's stderr is JSON and nothing else.)"""
    return json_lines("\n".join(line for line in output.splitlines() if line.startswith("{")))


def access_lines(output: str) -> list[dict[str, Any]]:
    return [line for line in server_lines(output) if line["logger"] == "taboor.access"]


async def test_one_access_line_per_request_with_its_route_and_request_id(
    engine: AsyncEngine, database_url: str, clock: MutableClock, bank: CompanyKeys, stderr: Stderr
) -> None:
    # Built in the test, not in a fixture: the handler takes the stderr of the moment,
    # which is pytest's capture only once the test runs.
    settings = Settings(database_url=database_url, log_format="json", log_level="info")
    async with client_for(create_app(settings, engine=engine, clock=clock)) as client:
        first = await client.get("/healthz")
        second = await client.get(f"{API}/tickets/abcdef0001?lang=xx", headers=bank.headers())
        third = await client.get("/no/such/page", headers={"X-Request-Id": "lb-4711"})
    lines = access_lines(stderr())
    assert len(lines) == 3
    assert all(set(line) == ACCESS_FIELDS for line in lines)
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("GET", "/healthz", 200),
        ("GET", "/external/v1/tickets/{ticket_id}", 422),
        ("GET", "unmatched", 404),
    ]
    assert [line["request_id"] for line in lines] == [
        first.headers["x-request-id"],
        second.headers["x-request-id"],
        "lb-4711",
    ]
    assert third.headers["x-request-id"] == "lb-4711"
    assert all(line["level"] == "info" and line["ts"].endswith("Z") for line in lines)
    assert all(isinstance(line["duration_ms"], float) for line in lines)
    assert lines[1]["message"].startswith("GET /external/v1/tickets/{ticket_id} 422 ")


async def test_lines_written_during_a_request_carry_its_id(
    database_url: str, stderr: Stderr
) -> None:
    down = create_engine(f"postgresql://taboor@127.0.0.1:{free_port()}/taboor", pool_size=1)
    settings = Settings(database_url=database_url, log_format="json", log_level="info")
    try:
        async with client_for(create_app(settings, engine=down)) as client:
            response = await client.get("/readyz")
    finally:
        await down.dispose()
    assert response.status_code == 503
    lines = server_lines(stderr())
    warning = next(line for line in lines if line["logger"] == "taboor.health")
    assert warning["level"] == "warning"
    assert warning["message"].startswith("not ready: database unreachable")
    assert warning["request_id"] == response.headers["x-request-id"]
    outside = logging.getLogger("taboor.test")
    outside.warning("outside any request")
    assert "request_id" not in server_lines(stderr())[-1]


async def test_text_format(
    engine: AsyncEngine, database_url: str, clock: MutableClock, stderr: Stderr
) -> None:
    settings = Settings(database_url=database_url, log_format="text", log_level="info")
    async with client_for(create_app(settings, engine=engine, clock=clock)) as client:
        response = await client.get("/healthz")
    request_id = response.headers["x-request-id"]
    assert f" info taboor.access [{request_id}] GET /healthz 200 " in stderr()


def test_bad_log_settings_stop_the_start() -> None:
    with pytest.raises(ValueError, match="TABOOR_LOG_FORMAT"):
        create_app(Settings(log_format="xml"), engine=create_engine("sqlite://"))
    with pytest.raises(ValueError, match="TABOOR_LOG_LEVEL"):
        create_app(Settings(log_format="json", log_level="loud"), engine=create_engine("sqlite://"))


async def test_no_key_password_token_or_customer_field_reaches_the_log(
    engine: AsyncEngine, database_url: str, clock: MutableClock, bank: CompanyKeys, stderr: Stderr
) -> None:
    """Every request carrying a secret, at DEBUG (the chattiest level): the key in its
    header, passwords and the session token in bodies, customer fields in bodies and
    query strings. The drivers' own debug lines would print statements with their
    parameters; they are held at WARNING."""
    await make_staff(engine, "amal", password=PASSWORD)
    settings = Settings(database_url=database_url, log_format="json", log_level="debug")
    secret = bank.headers("secret")
    async with client_for(create_app(settings, engine=engine, clock=clock)) as client:
        created = await client.post(f"{API}/customers/create", headers=secret, json=CUSTOMER)
        assert created.status_code == 201, created.text
        found = await client.get(
            f"{API}/customers/getOne",
            params={"externalId": CUSTOMER["externalId"]},
            headers=secret,
        )
        assert found.status_code == 200
        booked = await client.post(
            f"{API}/tickets/book",
            headers=bank.headers(),
            json={
                "serviceId": "zwithdraw1",
                "groupOfServiceId": "ztellers01",
                "customerExternalId": CUSTOMER["externalId"],
            },
        )
        assert booked.status_code == 201, booked.text
        wrong = await client.post(
            "/staff/v1/login", json={"username": "amal", "password": WRONG_PASSWORD}
        )
        assert wrong.status_code == 401
        signed_in = await client.post(
            "/staff/v1/login", json={"username": "amal", "password": PASSWORD}
        )
        assert signed_in.status_code == 200, signed_in.text
        token = signed_in.json()["data"]["token"]
        me = await client.get("/staff/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
    output = stderr()
    assert len(access_lines(output)) == 6  # the log was written (and captured)
    secrets = [
        bank.public.key,
        bank.secret.key,
        PASSWORD,
        WRONG_PASSWORD,
        token,
        CUSTOMER["externalId"],
        CUSTOMER["name"],
        CUSTOMER["email"],
        CUSTOMER["mobile"],
        CUSTOMER["metadata"]["note"],
        "97339998877",
    ]
    leaked = [value for value in secrets if value in output]
    assert leaked == []


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()])
def test_statement_errors_are_logged_without_their_parameters(
    formatter: logging.Formatter,
) -> None:
    """An unexpected database error logged with its traceback (the 500 handler does)
    names the statement but not the values bound to it."""
    error = IntegrityError(
        str(text("INSERT INTO customers (name) VALUES (:name)")),
        {"name": "Zuleikha Qadri-Private"},
        Exception("UNIQUE constraint failed"),
    )
    try:
        try:
            raise error
        except IntegrityError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("taboor.api", logging.ERROR, __file__, 1, "boom", None, exc_info)
    RequestIdFilter().filter(record)
    rendered = formatter.format(record)
    assert "INSERT INTO customers" in rendered
    assert "Zuleikha" not in rendered
    if isinstance(formatter, JsonFormatter):
        assert json.loads(rendered)["exc"].startswith("Traceback")
