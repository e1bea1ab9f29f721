"""What ``taboor serve`` prepares before granian starts its workers: the log format of
every process, the directory where the workers' metrics meet, and how long a shutdown
may wait for requests in flight.

This module must not import ``prometheus_client`` (nor anything that does): the client
decides at import whether it runs in multiprocess mode, from ``PROMETHEUS_MULTIPROC_DIR``,
and workers forked from this process inherit its modules.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from taboor.ops.logs import configure_logging, logging_dictconfig
from taboor.settings import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
DEFAULT_SERVE_LOG_FORMAT = "json"


@contextmanager
def metrics_directory() -> Iterator[Path]:
    """``PROMETHEUS_MULTIPROC_DIR`` for this server's run. The operator's directory if
    set (its ``*.db`` files, left by an earlier run, are deleted first so counts start at
    zero); otherwise a fresh temporary directory, removed when the server stops."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="taboor-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def server_environment() -> Iterator[dict[str, Any]]:
    """Set up logging and the metrics directory for a server run (the workers read both
    from the environment); yields granian's options for logging and shutdown."""
    from granian.log import LogLevels

    os.environ.setdefault("TABOOR_LOG_FORMAT", DEFAULT_SERVE_LOG_FORMAT)
    settings = Settings.from_env()
    log_format = settings.log_format or DEFAULT_SERVE_LOG_FORMAT
    configure_logging(log_format, settings.log_level)
    timeout = settings.shutdown_timeout_seconds
    with metrics_directory():
        yield {
            "log_dictconfig": logging_dictconfig(log_format, settings.log_level),
            "log_level": LogLevels(settings.log_level.lower()),
            # granian's access log would print paths with their query strings; the
            # app writes its own (taboor.access), with route templates only.
            "log_access": False,
            # On SIGTERM granian stops accepting, lets each worker finish the requests
            # it has (and run the app's shutdown), and kills a worker still busy after
            # this many seconds; None would wait forever.
            "workers_kill_timeout": max(1, round(timeout)) if timeout > 0 else None,
        }
