"""Messages of staff login and logout (en, ar), merged into the catalog."""

from __future__ import annotations

LOGIN_MESSAGES: dict[str, dict[str, str]] = {
    "login.signed_in": {"en": "Signed in successfully.", "ar": "تم تسجيل الدخول بنجاح."},
    "login.signed_out": {"en": "Signed out successfully.", "ar": "تم تسجيل الخروج بنجاح."},
    "login.me_fetched": {
        "en": "Staff user fetched successfully.",
        "ar": "تم جلب بيانات الموظف بنجاح.",
    },
    "login.invalid_credentials": {
        "en": "Invalid username or password.",
        "ar": "اسم المستخدم أو كلمة المرور غير صحيحة.",
    },
    "login.throttled": {
        "en": "Too many failed sign-in attempts. Try again in {seconds} seconds.",
        "ar": "محاولات تسجيل دخول فاشلة كثيرة. حاول مرة أخرى بعد {seconds} ثانية.",
    },
    "login.field_required": {"en": "This field is required.", "ar": "هذا الحقل مطلوب."},
    "login.field_string": {
        "en": "This field must be a string.",
        "ar": "يجب أن يكون هذا الحقل نصًا.",
    },
}
