"""Messages of the staff API's counters, tickets and queues (en, ar), merged into the
catalog."""

from __future__ import annotations

STAFF_MESSAGES: dict[str, dict[str, str]] = {
    "auth.invalid_session": {
        "en": "Invalid or expired session.",
        "ar": "الجلسة غير صالحة أو منتهية.",
    },
    "staff.admin_required": {
        "en": "Only an admin may do this.",
        "ar": "هذا الإجراء متاح للمسؤول فقط.",
    },
}
