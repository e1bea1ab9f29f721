"""Messages of the staff API's counters, tickets and queues (en, ar), merged into the
catalog."""

from __future__ import annotations

STAFF_MESSAGES: dict[str, dict[str, str]] = {}
