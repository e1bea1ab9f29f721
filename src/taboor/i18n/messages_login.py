"""Messages of staff login and logout (en, ar), merged into the catalog."""

from __future__ import annotations

LOGIN_MESSAGES: dict[str, dict[str, str]] = {}
