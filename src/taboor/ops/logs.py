"""Logs: one JSON object per line on stderr (or plain text), each carrying the id of the
request it was written in.

What a line may hold is a fixed list of fields (``FIELDS``): the formatter never copies
arbitrary ``extra`` attributes, so a header, a body or a query string cannot reach the
log by accident. The access line of a request names its route *template*, never the
path it was called with.
"""

from __future__ import annotations

import logging
import logging.config
import time
from contextvars import ContextVar
from typing import Any

import msgspec
from sqlalchemy.exc import StatementError

# The id of the request being served (``taboor.api.request_ids``), set by the request
# middleware (``taboor.ops.observe``) for the request's whole task.
current_request_id: ContextVar[str | None] = ContextVar("taboor_request_id", default=None)

LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
# What a line may carry besides ts, level, logger and message (in this order).
FIELDS = ("request_id", "method", "route", "status", "duration_ms")

access_logger = logging.getLogger("taboor.access")

# A value msgspec cannot encode (an object passed as ``extra``) is written as its str().
_encoder = msgspec.json.Encoder(enc_hook=str)


class RequestIdFilter(logging.Filter):
    """Gives every record the current request's id (None outside a request), unless the
    caller named one itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id.get()
        return True


_second: list[Any] = [None, ""]  # the last whole second formatted, and its text


def _timestamp(record: logging.LogRecord) -> str:
    """``2026-06-07T07:00:00.123Z``; the part up to the second is formatted once a
    second (strftime is most of a line's cost otherwise)."""
    second = int(record.created)
    if _second[0] != second:
        _second[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))]
    return f"{_second[1]}.{int((record.created - second) * 1000):03d}Z"


class _Formatter(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        """The traceback, with SQLAlchemy's statement errors stripped of their bound
        parameters (a customer's name, a key's hash) whichever engine raised them."""
        seen: set[int] = set()
        chain = [ei[1] if isinstance(ei, tuple) else None]
        while chain:
            error = chain.pop()
            if not isinstance(error, BaseException) or id(error) in seen:
                continue
            seen.add(id(error))
            if isinstance(error, StatementError):
                error.hide_parameters = True
            chain += [error.__cause__, error.__context__]
        return super().formatException(ei)


class JsonFormatter(_Formatter):
    """``{"ts", "level", "logger", "message", …FIELDS present, "exc"?}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return _encoder.encode(line).decode()


class TextFormatter(_Formatter):
    """``2026-06-07T07:00:00.123Z info taboor.access [request id] message``."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None) or "-"
        text = (
            f"{_timestamp(record)} {record.levelname.lower()} {record.name} "
            f"[{request_id}] {record.getMessage()}"
        )
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def check_log_settings(log_format: str, level: str) -> None:
    if log_format not in LOG_FORMATS:
        raise ValueError(f"TABOOR_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
    if level.lower() not in LOG_LEVELS:
        raise ValueError(f"TABOOR_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")


def logging_dictconfig(log_format: str, level: str) -> dict[str, Any]:
    """The whole process's logging as a ``dictConfig``: every logger (ours, the
    framework's, the server's) through one stderr handler in the chosen format. Plain
    data (import strings, no objects) so the server can hand it to its workers."""
    check_log_settings(log_format, level)
    formatter = "JsonFormatter" if log_format == "json" else "TextFormatter"
    level_name = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"taboor": {"()": f"{__name__}.{formatter}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "taboor",
                "filters": ["request_id"],
            }
        },
        # The server's own loggers (granian) propagate to the root's handler; its
        # access log stays off (it would print query strings): ours is taboor.access.
        "loggers": {
            "_granian": {"level": level_name, "handlers": [], "propagate": True},
            "granian.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
            # Alembic tells at INFO which dialect it found, each time /readyz reads
            # the revision; its warnings still show.
            "alembic": {"level": "WARNING"},
            # These write statements with their parameters (customer fields, hashes)
            # at INFO or DEBUG: never, whatever TABOOR_LOG_LEVEL says.
            "sqlalchemy": {"level": "WARNING"},
            "aiosqlite": {"level": "WARNING"},
        },
        "root": {"level": level_name, "handlers": ["stderr"]},
    }


def configure_logging(log_format: str, level: str) -> None:
    logging.config.dictConfig(logging_dictconfig(log_format, level))
    # No formatter of ours prints the caller's file and line, thread or process: not
    # looking them up saves a third of each line's cost (logging HOWTO, "Optimization").
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # Python's warnings (a library's deprecation, say) become records in the same
    # format instead of free text on stderr.
    logging.captureWarnings(True)


def log_access(method: str, route: str, status: int, seconds: float) -> None:
    """The access line of one request: method, route template, status, duration."""
    if access_logger.isEnabledFor(logging.INFO):
        duration_ms = round(seconds * 1000, 3)
        # The record made directly (what Logger.info would make, minus its checks of
        # ``extra``): this line is written for every request.
        record = logging.LogRecord(
            access_logger.name,
            logging.INFO,
            __file__,
            0,
            "%s %s %s %.1fms",
            (method, route, status, duration_ms),
            None,
        )
        record.method, record.route = method, route
        record.status, record.duration_ms = status, duration_ms
        access_logger.handle(record)
