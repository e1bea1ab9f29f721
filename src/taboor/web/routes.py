"""Routes of the screens (``/console``, ``/display/{branchId}``, ``/kiosk/{branchId}``,
``/follow/{ticketId}``), their local assets, and the kiosk's JSON API (``/kiosk/v1``)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from taboor.api.kiosk_v1.router import kiosk_router
from taboor.web.assets import screen_asset
from taboor.web.pages import page_handlers

web_handlers: list[ControllerRouterHandler] = [kiosk_router(), screen_asset, *page_handlers]
