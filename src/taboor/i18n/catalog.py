"""Every string Taboor says to a caller, in English and Arabic.

Keys are stable and never shown; the English text of spec messages is normative to the
character (integrators may still compare it), so change it only with the spec.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal, cast

from taboor.i18n.messages_login import LOGIN_MESSAGES
from taboor.i18n.messages_screens import API_MESSAGES, SCREEN_TEXTS
from taboor.i18n.messages_staff import STAFF_MESSAGES

Locale = Literal["en", "ar"]
SUPPORTED_LOCALES: tuple[Locale, ...] = ("en", "ar")
DEFAULT_LOCALE: Locale = "en"

# key -> {locale: text}. Placeholders use str.format names: {max}, {min}, {field}.
MESSAGES: dict[str, dict[Locale, str]] = {
    # --- success messages (spec §2) ---
    "branches.fetched": {"en": "Branches fetched successfully.", "ar": "تم جلب الفروع بنجاح."},
    "branch_tree.fetched": {
        "en": "Branch tree fetched successfully.",
        "ar": "تم جلب شجرة الفرع بنجاح.",
    },
    "slots.fetched": {"en": "Slots fetched successfully.", "ar": "تم جلب المواعيد المتاحة بنجاح."},
    "ticket.booked": {"en": "Ticket booked successfully.", "ar": "تم حجز التذكرة بنجاح."},
    "appointment.booked": {"en": "Appointment booked successfully.", "ar": "تم حجز الموعد بنجاح."},
    "ticket.fetched": {"en": "Ticket fetched successfully.", "ar": "تم جلب التذكرة بنجاح."},
    "ticket.cancelled": {"en": "Ticket cancelled successfully.", "ar": "تم إلغاء التذكرة بنجاح."},
    "ticket.updated": {"en": "Ticket updated successfully.", "ar": "تم تحديث التذكرة بنجاح."},
    "customer.created": {"en": "Customer created successfully.", "ar": "تم إنشاء العميل بنجاح."},
    "customers.fetched": {"en": "Customers fetched successfully.", "ar": "تم جلب العملاء بنجاح."},
    "customer.fetched": {"en": "Customer fetched successfully.", "ar": "تم جلب العميل بنجاح."},
    "customer.updated": {"en": "Customer updated successfully.", "ar": "تم تحديث العميل بنجاح."},
    "customer.deleted": {"en": "Customer deleted successfully.", "ar": "تم حذف العميل بنجاح."},
    "customer_tickets.fetched": {
        "en": "Customer tickets fetched successfully.",
        "ar": "تم جلب تذاكر العميل بنجاح.",
    },
    # --- authentication (spec §1.1) ---
    "auth.unauthorized": {"en": "Unauthorized.", "ar": "غير مصرح."},
    "auth.missing_token": {"en": "Missing bearer token.", "ar": "رمز الوصول مفقود."},
    "auth.invalid_key": {"en": "Invalid API key.", "ar": "مفتاح الواجهة البرمجية غير صالح."},
    "auth.secret_required": {
        "en": "A secret key is required for this endpoint.",
        "ar": "هذه الواجهة تتطلب مفتاحًا سريًا.",
    },
    # --- generic errors (spec §1.3, §1.6) ---
    "error.invalid_data": {
        "en": "The given data was invalid.",
        "ar": "البيانات المقدمة غير صالحة.",
    },
    "error.internal": {"en": "Something went wrong.", "ar": "حدث خطأ ما."},
    "error.route_not_found": {"en": "Not found.", "ar": "غير موجود."},
    "error.method_not_allowed": {
        "en": "Method not allowed.",
        "ar": "الطريقة غير مسموح بها.",
    },
    "error.rate_limited": {"en": "Too many requests.", "ar": "طلبات كثيرة جدًا."},
    "validation.no_nul": {
        "en": "This field must not contain the NUL character.",
        "ar": "يجب ألا يحتوي هذا الحقل على المحرف NUL.",
    },
    # --- Idempotency-Key (spec §4) ---
    "idempotency.bad_key": {
        "en": "The Idempotency-Key must be 1 to 255 printable ASCII characters.",
        "ar": "يجب أن يكون مفتاح Idempotency-Key من 1 إلى 255 حرفًا مطبوعًا.",
    },
    "idempotency.in_progress": {
        "en": "A request with this Idempotency-Key is still in progress.",
        "ar": "ما زال طلب بمفتاح Idempotency-Key هذا قيد التنفيذ.",
    },
    "idempotency.key_reused": {
        "en": "This Idempotency-Key was used for a different request.",
        "ar": "استُخدم مفتاح Idempotency-Key هذا لطلب مختلف.",
    },
    "error.bad_request": {"en": "Bad request.", "ar": "طلب غير صالح."},
    "not_found.branch": {"en": "Branch not found.", "ar": "الفرع غير موجود."},
    "not_found.service": {"en": "Service not found.", "ar": "الخدمة غير موجودة."},
    "not_found.ticket": {"en": "Ticket not found.", "ar": "التذكرة غير موجودة."},
    "not_found.customer": {"en": "Customer not found.", "ar": "العميل غير موجود."},
    # --- request bodies (spec §1.3) ---
    "body.invalid_json": {
        "en": "The request body is not valid JSON.",
        "ar": "محتوى الطلب ليس JSON صالحًا.",
    },
    "body.not_object": {
        "en": "The request body must be a JSON object.",
        "ar": "يجب أن يكون محتوى الطلب كائن JSON.",
    },
    "body.wrong_content_type": {
        "en": "The request body must be sent as application/json.",
        "ar": "يجب إرسال محتوى الطلب بصيغة application/json.",
    },
    # --- field validation ---
    "validation.does_not_exist": {
        "en": "This value does not exist.",
        "ar": "هذه القيمة غير موجودة.",
    },
    "validation.taken": {"en": "This value is already taken.", "ar": "هذه القيمة مستخدمة بالفعل."},
    "validation.required": {"en": "This field is required.", "ar": "هذا الحقل مطلوب."},
    "validation.string": {"en": "This field must be a string.", "ar": "يجب أن يكون هذا الحقل نصًا."},
    "validation.integer": {
        "en": "This field must be an integer.",
        "ar": "يجب أن يكون هذا الحقل عددًا صحيحًا.",
    },
    "validation.number": {
        "en": "This field must be a number.",
        "ar": "يجب أن يكون هذا الحقل رقمًا.",
    },
    "validation.object": {
        "en": "This field must be an object.",
        "ar": "يجب أن يكون هذا الحقل كائنًا.",
    },
    "validation.max_length": {
        "en": "This field must not be longer than {max} characters.",
        "ar": "يجب ألا يزيد طول هذا الحقل عن {max} حرفًا.",
    },
    "validation.min": {
        "en": "This field must be at least {min}.",
        "ar": "يجب ألا تقل قيمة هذا الحقل عن {min}.",
    },
    "validation.between": {
        "en": "This field must be between {min} and {max}.",
        "ar": "يجب أن تكون قيمة هذا الحقل بين {min} و{max}.",
    },
    "validation.email": {
        "en": "This field must be a valid email address.",
        "ar": "يجب أن يكون هذا الحقل بريدًا إلكترونيًا صالحًا.",
    },
    "validation.mobile": {
        "en": "The mobile number must be in E.164 format (+ and 8 to 15 digits).",
        "ar": "يجب أن يكون رقم الجوال بصيغة E.164 (علامة + ثم من 8 إلى 15 رقمًا).",
    },
    "validation.metadata_keys": {
        "en": "The metadata may not have more than {max} keys.",
        "ar": "يجب ألا تحتوي البيانات الوصفية على أكثر من {max} مفتاحًا.",
    },
    "validation.metadata_size": {
        "en": "The metadata may not be larger than {max} bytes as JSON.",
        "ar": "يجب ألا يزيد حجم البيانات الوصفية عن {max} بايت بصيغة JSON.",
    },
    "validation.id_format": {
        "en": "This identifier is not well formed.",
        "ar": "صيغة هذا المعرّف غير صحيحة.",
    },
    "validation.date_format": {
        "en": "The date must be a valid date (YYYY-MM-DD).",
        "ar": "يجب أن يكون التاريخ صالحًا (YYYY-MM-DD).",
    },
    "validation.date_past": {
        "en": "The date must be today or later.",
        "ar": "يجب أن يكون التاريخ اليوم أو بعده.",
    },
    "validation.time_format": {
        "en": "The time must be an ISO-8601 UTC time ending in Z.",
        "ar": "يجب أن يكون الوقت بصيغة ISO-8601 بالتوقيت العالمي وينتهي بالحرف Z.",
    },
    "validation.time_future": {
        "en": "The time must be in the future.",
        "ar": "يجب أن يكون الوقت في المستقبل.",
    },
    "validation.provide_id": {
        "en": "Provide id or externalId.",
        "ar": "يرجى تقديم id أو externalId.",
    },
    "validation.no_appointments": {
        "en": "This service does not support appointment booking.",
        "ar": "هذه الخدمة لا تدعم حجز المواعيد.",
    },
    "validation.customer_required": {
        "en": "A customer is required for appointments.",
        "ar": "يلزم تحديد عميل لحجز المواعيد.",
    },
    "validation.customer_mismatch": {
        "en": "The customer does not match this ticket.",
        "ar": "العميل لا يطابق هذه التذكرة.",
    },
    "validation.customer_conflict": {
        "en": "The customerId and customerExternalId name different customers.",
        "ar": "الحقلان customerId وcustomerExternalId يشيران إلى عميلين مختلفين.",
    },
    "validation.group_mismatch": {
        "en": "The group of service does not contain this service.",
        "ar": "مجموعة الخدمات لا تحتوي على هذه الخدمة.",
    },
    "validation.only_appointments": {
        "en": "Only appointment tickets can be rescheduled.",
        "ar": "لا يمكن إعادة جدولة إلا تذاكر المواعيد.",
    },
    "validation.not_reschedulable": {
        "en": "This ticket can no longer be rescheduled.",
        "ar": "لم يعد بالإمكان إعادة جدولة هذه التذكرة.",
    },
    "validation.options_keys": {
        "en": "The options may not have more than {max} keys.",
        "ar": "يجب ألا تحتوي الخيارات على أكثر من {max} مفتاحًا.",
    },
    "validation.options_scalar": {
        "en": "Option values must be strings, numbers, booleans or null.",
        "ar": "يجب أن تكون قيم الخيارات نصوصًا أو أرقامًا أو قيمًا منطقية أو null.",
    },
    # --- booking rules (spec §2) ---
    "booking.service_closed": {
        "en": "This service is currently closed.",
        "ar": "هذه الخدمة مغلقة حاليًا.",
    },
    "booking.no_walk_in": {
        "en": "This service does not accept walk-in tickets.",
        "ar": "هذه الخدمة لا تقبل التذاكر المباشرة.",
    },
    "booking.time_unavailable": {
        "en": "The selected time is not available.",
        "ar": "الوقت المختار غير متاح.",
    },
    "booking.slot_full": {
        "en": "This time slot is fully booked.",
        "ar": "هذا الموعد محجوز بالكامل.",
    },
    "booking.duplicate_active": {
        "en": "You already have an active ticket for this service.",
        "ar": "لديك بالفعل تذكرة نشطة لهذه الخدمة.",
    },
    "ticket.not_cancellable": {
        "en": "This ticket can no longer be cancelled.",
        "ar": "لم يعد بالإمكان إلغاء هذه التذكرة.",
    },
}
# The staff side's and the screens' messages live beside this file, one module per area.
for _area in (LOGIN_MESSAGES, STAFF_MESSAGES, API_MESSAGES, SCREEN_TEXTS):
    MESSAGES.update(cast(dict[str, dict[Locale, str]], _area))


def resolve_locale(header_value: str | None) -> Locale:
    """``X-Locale`` to a supported locale: region tags count (``ar-BH`` is ``ar``);
    anything empty or unknown falls back to English, never an error (spec §1.2)."""
    if not header_value:
        return DEFAULT_LOCALE
    # Lenient on purpose: "ar-BH", "ar_SA" and an Accept-Language-style "ar;q=0.9, en"
    # all mean Arabic: the first tag's language decides.
    first_tag = re.split(r"[,;]", header_value, maxsplit=1)[0]
    language = first_tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return "ar" if language == "ar" else DEFAULT_LOCALE


def translate(key: str, locale: Locale, **params: object) -> str:
    texts = MESSAGES[key]
    text = texts.get(locale) or texts[DEFAULT_LOCALE]
    return text.format(**params) if params else text


def localized_name(names: Mapping[str, str], locale: str, default_locale: str) -> str:
    """The name in ``locale`` if there is one, else in the company's default locale,
    else any name at all (a company file always has the default one)."""
    return names.get(locale) or names.get(default_locale) or next(iter(names.values()), "")
