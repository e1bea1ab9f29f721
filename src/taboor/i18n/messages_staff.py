"""Messages of the staff API's counters, tickets and queues (en, ar), merged into the
catalog."""

from __future__ import annotations

STAFF_MESSAGES: dict[str, dict[str, str]] = {
    "auth.invalid_session": {
        "en": "Invalid or expired session.",
        "ar": "الجلسة غير صالحة أو منتهية.",
    },
    "not_found.counter": {"en": "Counter not found.", "ar": "الشباك غير موجود."},
    "not_found.staff": {"en": "Staff user not found.", "ar": "الموظف غير موجود."},
    "not_found.key": {"en": "API key not found.", "ar": "مفتاح الواجهة البرمجية غير موجود."},
    "staff.admin_required": {
        "en": "Only an admin may do this.",
        "ar": "هذا الإجراء متاح للمسؤول فقط.",
    },
    "staff.validation.username": {
        "en": "3 to 64 characters: letters, digits and . _ @ -",
        "ar": "من 3 إلى 64 حرفًا: أحرف وأرقام و . _ @ -",
    },
    "staff.validation.username_taken": {
        "en": "This username is already taken.",
        "ar": "اسم المستخدم هذا مستخدم من قبل.",
    },
    "staff.validation.name": {
        "en": "The name must not be empty.",
        "ar": "يجب ألا يكون الاسم فارغًا.",
    },
    "staff.validation.role": {
        "en": "The role must be admin or agent.",
        "ar": "يجب أن يكون الدور admin أو agent.",
    },
    "staff.validation.agent_branches": {
        "en": "An agent must be assigned to at least one branch.",
        "ar": "يجب تكليف الموظف بفرع واحد على الأقل.",
    },
    "staff.validation.password": {
        "en": "The password must have 8 to 256 characters.",
        "ar": "يجب أن تتكون كلمة المرور من 8 إلى 256 حرفًا.",
    },
    "staff.validation.key_kind": {
        "en": "The kind must be public or secret.",
        "ar": "يجب أن يكون النوع public أو secret.",
    },
    "staff.validation.other_company": {
        "en": "This file describes another company.",
        "ar": "هذا الملف يصف شركة أخرى.",
    },
    "staff.company_file.problems": {
        "en": "The company file has problems: {problems}",
        "ar": "في ملف الشركة مشكلات: {problems}",
    },
    "staff.users.fetched": {"en": "Staff users fetched.", "ar": "تم جلب الموظفين."},
    "staff.user.created": {"en": "Staff user created.", "ar": "تم إنشاء الموظف."},
    "staff.user.deactivated": {"en": "Staff user deactivated.", "ar": "تم إيقاف الموظف."},
    "staff.keys.fetched": {"en": "API keys fetched.", "ar": "تم جلب المفاتيح."},
    "staff.key.created": {"en": "API key created.", "ar": "تم إنشاء المفتاح."},
    "staff.key.revoked": {"en": "API key revoked.", "ar": "تم إلغاء المفتاح."},
    "staff.company.applied": {"en": "Company file applied.", "ar": "تم تطبيق ملف الشركة."},
    "staff.branch_forbidden": {
        "en": "You are not assigned to this branch.",
        "ar": "أنت غير مكلف بالعمل في هذا الفرع.",
    },
    "staff.not_your_counter": {
        "en": "This ticket is at a counter you do not hold.",
        "ar": "هذه التذكرة لدى شباك لا تعمل عليه.",
    },
    "staff.counter_busy": {
        "en": "Someone else holds this counter.",
        "ar": "يعمل موظف آخر على هذا الشباك.",
    },
    "staff.already_holding": {
        "en": "You already hold counter {counter_id}: close it first.",
        "ar": "أنت تعمل على الشباك {counter_id}: أغلقه أولًا.",
    },
    "staff.already_holding_one": {
        "en": "You already hold a counter: close it first.",
        "ar": "أنت تعمل على شباك آخر: أغلقه أولًا.",
    },
    "staff.not_holding": {
        "en": "You do not hold this counter: open it first.",
        "ar": "أنت لا تعمل على هذا الشباك: افتحه أولًا.",
    },
    "staff.ticket_at_counter": {
        "en": "Ticket {ticket_id} is still at this counter: finish, requeue or mark it first.",
        "ar": "التذكرة {ticket_id} ما زالت لدى هذا الشباك: أنهها أو أعدها إلى الطابور أولًا.",
    },
    "staff.not_counter_service": {
        "en": "Service {service_id} is not one this counter serves.",
        "ar": "الخدمة {service_id} ليست من خدمات هذا الشباك.",
    },
    "staff.invalid_transition": {
        "en": "The ticket is {status}: this action is not allowed.",
        "ar": "حالة التذكرة {status}: هذا الإجراء غير مسموح.",
    },
    # Ticket statuses as people read them (the API's status field keeps the codes).
    "status.upcoming": {"en": "upcoming", "ar": "قادمة"},
    "status.waiting": {"en": "waiting", "ar": "في الانتظار"},
    "status.called": {"en": "called", "ar": "تم النداء عليها"},
    "status.serving": {"en": "being served", "ar": "قيد الخدمة"},
    "status.served": {"en": "served", "ar": "تمت خدمتها"},
    "status.cancelled": {"en": "cancelled", "ar": "ملغاة"},
    "status.no_show": {"en": "a no-show", "ar": "لم يحضر صاحبها"},
    "staff.current_status": {"en": "Current status: {status}.", "ar": "الحالة الحالية: {status}."},
    "staff.transfer_duplicate": {
        "en": "The customer already has an active ticket for that service today.",
        "ar": "لدى العميل تذكرة فعالة لهذه الخدمة اليوم.",
    },
    "staff.validation.string_list": {
        "en": "This field must be a list of ids.",
        "ar": "يجب أن يكون هذا الحقل قائمة معرفات.",
    },
    "staff.branches.fetched": {"en": "Branches fetched.", "ar": "تم جلب الفروع."},
    "staff.counters.fetched": {"en": "Counters fetched.", "ar": "تم جلب الشبابيك."},
    "staff.counter.opened": {"en": "Counter opened.", "ar": "تم فتح الشباك."},
    "staff.counter.closed": {"en": "Counter closed.", "ar": "تم إغلاق الشباك."},
    "staff.counter.services_set": {
        "en": "Counter services updated.",
        "ar": "تم تحديث خدمات الشباك.",
    },
    "staff.queue.fetched": {"en": "Queue fetched.", "ar": "تم جلب الطابور."},
    "staff.call_next.called": {"en": "Ticket {number} called.", "ar": "تم نداء التذكرة {number}."},
    "staff.call_next.empty": {
        "en": "No ticket is waiting for this counter.",
        "ar": "لا توجد تذاكر بانتظار هذا الشباك.",
    },
    "staff.ticket.moved": {"en": "Ticket updated.", "ar": "تم تحديث التذكرة."},
}
