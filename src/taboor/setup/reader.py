"""A small validating reader for YAML documents that records every problem by path.

The company file is rejected whole, listing everything wrong at once, so a reader never
stops at the first problem: each accessor returns ``None`` for a bad value and carries on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass
class Problems:
    items: list[Problem] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.items.append(Problem(path, message))

    def __bool__(self) -> bool:
        return bool(self.items)


def child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class MappingReader:
    """Reads fields of one mapping; reports missing, mistyped and unknown fields."""

    def __init__(self, raw: object, path: str, problems: Problems, allowed: frozenset[str]) -> None:
        self.path = path
        self.problems = problems
        self.ok = isinstance(raw, Mapping)
        self.raw: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        if not self.ok:
            problems.add(path, "must be a mapping")
            return
        for key in self.raw:
            if key not in allowed:
                problems.add(child(path, str(key)), "unknown field")

    def has(self, key: str) -> bool:
        return key in self.raw and self.raw[key] is not None

    def get(self, key: str) -> Any:
        return self.raw.get(key)

    def path_of(self, key: str) -> str:
        return child(self.path, key)

    def missing(self, key: str) -> None:
        self.problems.add(self.path_of(key), "is required")

    def text(
        self,
        key: str,
        *,
        required: bool = False,
        max_length: int = 200,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
    ) -> str | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.missing(key)
            return None
        if not isinstance(value, str) or not value.strip():
            self.problems.add(self.path_of(key), "must be a non-empty string")
            return None
        if len(value) > max_length:
            self.problems.add(self.path_of(key), f"must be at most {max_length} characters")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.problems.add(self.path_of(key), hint or f"must match {pattern.pattern}")
            return None
        return value

    def integer(
        self, key: str, *, minimum: int, maximum: int, default: int | None = None
    ) -> int | None:
        value = self.raw.get(key)
        if value is None:
            if default is None:
                self.missing(key)
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.add(self.path_of(key), "must be an integer")
            return None
        if not minimum <= value <= maximum:
            self.problems.add(self.path_of(key), f"must be between {minimum} and {maximum}")
            return None
        return value

    def number(self, key: str, *, minimum: float, maximum: float) -> float | None:
        value = self.raw.get(key)
        if value is None:
            self.missing(key)
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problems.add(self.path_of(key), "must be a number")
            return None
        if not minimum <= value <= maximum:
            self.problems.add(self.path_of(key), f"must be between {minimum:g} and {maximum:g}")
            return None
        return float(value)

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problems.add(self.path_of(key), "must be true or false")
            return default
        return value

    def sequence(self, key: str) -> list[Any]:
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.add(self.path_of(key), "must be a list")
            return []
        return value
