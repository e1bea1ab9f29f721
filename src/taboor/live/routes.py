"""The live streams' routes (server-sent events)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

live_handlers: list[ControllerRouterHandler] = []
