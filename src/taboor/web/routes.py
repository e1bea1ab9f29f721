"""Routes of the screens (``/console``, ``/display/{branchId}``, ``/kiosk/{branchId}``) and
their local assets."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

web_handlers: list[ControllerRouterHandler] = []
