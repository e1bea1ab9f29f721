"""Fixtures of the contract tests."""

from __future__ import annotations

from tests.contract.demo_server import demo

__all__ = ["demo"]
