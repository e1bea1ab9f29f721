"""U+0000 never reaches the database.

PostgreSQL refuses the NUL character in text and jsonb (SQLSTATE 22021) while SQLite
stores it, so a string carrying one would be a 500 on one database and a success on the
other. Every way text comes in (JSON bodies, query strings, paths, company files) is
checked here first, and a NUL is refused as bad input, naming where it was.
"""

from __future__ import annotations

from typing import Any

NUL = "\x00"


def nul_path(value: Any, path: str = "") -> str | None:
    """The path (``a.b[0]``) of the first string or key holding a NUL in a decoded JSON or
    YAML document, or None when there is none."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and NUL in key:
                return path or inner
            found = nul_path(item, inner)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None
