"""Routes of the screens (``/console``, ``/display/{branchId}``, ``/kiosk/{branchId}``,
``/follow/{ticketId}``), their local assets, and the kiosk's JSON API (``/kiosk/v1``)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from taboor.api.kiosk_v1.router import kiosk_router

web_handlers: list[ControllerRouterHandler] = [kiosk_router()]
