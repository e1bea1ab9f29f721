"""Messages of the kiosk API and of the console's counter figures, and the text of the
screens (console, hall display, kiosk, follow-my-ticket), in English and Arabic, merged
into the catalog.

The screens' text lives here rather than in the JavaScript so one catalog (and its test:
every key in both languages, same placeholders) covers everything Taboor says. Pages get
the ``screen.*`` keys as a JSON block (``taboor.web.pages``)."""

from __future__ import annotations

API_MESSAGES: dict[str, dict[str, str]] = {
    "staff.counter.today": {
        "en": "Counter figures fetched successfully.",
        "ar": "تم جلب أرقام الشباك بنجاح.",
    },
    "kiosk.services.fetched": {
        "en": "Services fetched successfully.",
        "ar": "تم جلب الخدمات بنجاح.",
    },
    "kiosk.checked_in": {
        "en": "Checked in successfully.",
        "ar": "تم تسجيل الحضور بنجاح.",
    },
    "kiosk.qr.made": {"en": "QR code made.", "ar": "تم إنشاء رمز QR."},
    "kiosk.validation.ticket_number": {
        "en": "Enter the number on your ticket, such as A001.",
        "ar": "أدخل الرقم المطبوع على تذكرتك، مثل A001.",
    },
    "kiosk.validation.no_appointment_today": {
        "en": "There is no appointment with this number at this branch today.",
        "ar": "لا يوجد موعد بهذا الرقم في هذا الفرع اليوم.",
    },
    "kiosk.validation.qr_text": {
        "en": "The text must have 1 to {max} characters.",
        "ar": "يجب أن يتكون النص من 1 إلى {max} حرفًا.",
    },
    "kiosk.already_checked_in": {
        "en": "This appointment is already checked in.",
        "ar": "تم تسجيل حضور هذا الموعد من قبل.",
    },
    "kiosk.appointment_over": {
        "en": "This appointment can no longer be checked in: it is {status}.",
        "ar": "لم يعد بالإمكان تسجيل حضور هذا الموعد: حالته {status}.",
    },
}

SCREEN_TEXTS: dict[str, dict[str, str]] = {
    # --- shared ---
    "screen.minutes": {"en": "{minutes} min", "ar": "{minutes} دقيقة"},
    "screen.offline": {
        "en": "Connection lost, reconnecting…",
        "ar": "انقطع الاتصال، جارٍ إعادة الاتصال…",
    },
    "screen.no_key": {
        "en": "This screen needs the company's public key: open it as …#key=pk_…",
        "ar": "تحتاج هذه الشاشة إلى المفتاح العام للشركة: افتحها بالشكل …#key=pk_…",
    },
    "screen.error": {"en": "Something went wrong.", "ar": "حدث خطأ ما."},
    "screen.status.upcoming": {"en": "Upcoming", "ar": "قادم"},
    "screen.status.waiting": {"en": "Waiting", "ar": "في الانتظار"},
    "screen.status.called": {"en": "Called", "ar": "تم النداء"},
    "screen.status.serving": {"en": "Being served", "ar": "قيد الخدمة"},
    "screen.status.served": {"en": "Served", "ar": "تمت خدمته"},
    "screen.status.cancelled": {"en": "Cancelled", "ar": "ملغاة"},
    "screen.status.no_show": {"en": "No-show", "ar": "لم يحضر"},
    # --- staff console ---
    "screen.console.title": {"en": "Counter console", "ar": "شاشة الشباك"},
    "screen.console.username": {"en": "Username", "ar": "اسم المستخدم"},
    "screen.console.password": {"en": "Password", "ar": "كلمة المرور"},
    "screen.console.sign_in": {"en": "Sign in", "ar": "تسجيل الدخول"},
    "screen.console.sign_out": {"en": "Sign out", "ar": "تسجيل الخروج"},
    "screen.console.branch": {"en": "Branch", "ar": "الفرع"},
    "screen.console.counter": {"en": "Counter", "ar": "الشباك"},
    "screen.console.held_by": {"en": "held by {name}", "ar": "يعمل عليه {name}"},
    "screen.console.open_counter": {"en": "Open this counter", "ar": "افتح هذا الشباك"},
    "screen.console.close_counter": {"en": "Close counter", "ar": "أغلق الشباك"},
    "screen.console.change": {"en": "Change counter", "ar": "غيّر الشباك"},
    "screen.console.call_next": {"en": "Call next", "ar": "نادِ التالي"},
    "screen.console.recall": {"en": "Recall", "ar": "أعد النداء"},
    "screen.console.start": {"en": "Start", "ar": "ابدأ الخدمة"},
    "screen.console.finish": {"en": "Finish", "ar": "أنهِ الخدمة"},
    "screen.console.no_show": {"en": "No-show", "ar": "لم يحضر"},
    "screen.console.requeue": {"en": "Back to queue", "ar": "أعده إلى الطابور"},
    "screen.console.transfer": {"en": "Transfer to…", "ar": "حوّل إلى…"},
    "screen.console.check_in": {"en": "Check in", "ar": "سجّل الحضور"},
    "screen.console.current": {"en": "At the counter", "ar": "عند الشباك"},
    "screen.console.nobody": {
        "en": "Nobody at the counter. Call the next ticket.",
        "ar": "لا أحد عند الشباك. نادِ التذكرة التالية.",
    },
    "screen.console.queue": {"en": "Waiting", "ar": "في الانتظار"},
    "screen.console.queue_empty": {"en": "Nobody is waiting.", "ar": "لا أحد في الانتظار."},
    "screen.console.appointments": {"en": "Appointments today", "ar": "مواعيد اليوم"},
    "screen.console.no_appointments": {
        "en": "No appointment left to check in.",
        "ar": "لا توجد مواعيد بانتظار تسجيل الحضور.",
    },
    "screen.console.today": {"en": "Today at this counter", "ar": "اليوم في هذا الشباك"},
    "screen.console.served": {"en": "Served", "ar": "تمت خدمتهم"},
    "screen.console.no_shows": {"en": "No-shows", "ar": "لم يحضروا"},
    "screen.console.average": {"en": "Average service", "ar": "متوسط الخدمة"},
    "screen.console.eta": {"en": "ETA", "ar": "الانتظار المتوقع"},
    "screen.console.ahead": {"en": "{count} ahead", "ar": "أمامه {count}"},
    "screen.console.empty_call": {
        "en": "No ticket is waiting for this counter.",
        "ar": "لا توجد تذكرة في انتظار هذا الشباك.",
    },
    # --- hall display ---
    "screen.display.title": {"en": "Now serving", "ar": "يُخدم الآن"},
    "screen.display.ticket": {"en": "Ticket", "ar": "التذكرة"},
    "screen.display.counter": {"en": "Counter", "ar": "الشباك"},
    "screen.display.waiting": {"en": "Waiting", "ar": "في الانتظار"},
    "screen.display.nobody_called": {
        "en": "No ticket has been called yet.",
        "ar": "لم يتم نداء أي تذكرة بعد.",
    },
    "screen.display.announce": {
        "en": "Ticket {number}, please go to {counter}.",
        "ar": "التذكرة {number}، يرجى التوجه إلى {counter}.",
    },
    "screen.display.enable_sound": {
        "en": "Touch to enable sound",
        "ar": "المس لتفعيل الصوت",
    },
    # --- kiosk ---
    "screen.kiosk.title": {"en": "Welcome", "ar": "أهلًا وسهلًا"},
    "screen.kiosk.choose": {
        "en": "Choose a service to take a ticket",
        "ar": "اختر خدمة لأخذ تذكرة",
    },
    "screen.kiosk.closed": {"en": "Closed now", "ar": "مغلقة الآن"},
    "screen.kiosk.waiting": {"en": "{count} waiting", "ar": "في الانتظار: {count}"},
    "screen.kiosk.no_services": {
        "en": "No service takes walk-in tickets here.",
        "ar": "لا توجد خدمة تقبل التذاكر المباشرة هنا.",
    },
    "screen.kiosk.your_ticket": {"en": "Your ticket", "ar": "تذكرتك"},
    "screen.kiosk.ahead": {"en": "People ahead of you", "ar": "عدد من أمامك"},
    "screen.kiosk.eta": {"en": "Estimated wait", "ar": "الانتظار المتوقع"},
    "screen.kiosk.scan": {
        "en": "Scan to follow your ticket on your phone",
        "ar": "امسح الرمز لمتابعة تذكرتك على هاتفك",
    },
    "screen.kiosk.done": {"en": "Done", "ar": "تم"},
    "screen.kiosk.print": {"en": "Print again", "ar": "اطبع مرة أخرى"},
    "screen.kiosk.have_appointment": {
        "en": "I have an appointment",
        "ar": "لدي موعد",
    },
    "screen.kiosk.number": {"en": "Your appointment number", "ar": "رقم موعدك"},
    "screen.kiosk.check_in": {"en": "Check in", "ar": "سجّل حضوري"},
    "screen.kiosk.back": {"en": "Back", "ar": "رجوع"},
    "screen.kiosk.checked_in": {
        "en": "You are checked in: {number}. Please wait to be called.",
        "ar": "تم تسجيل حضورك: {number}. يرجى الانتظار حتى يتم نداؤك.",
    },
    # --- follow my ticket ---
    "screen.follow.title": {"en": "Your ticket", "ar": "تذكرتك"},
    "screen.follow.status": {"en": "Status", "ar": "الحالة"},
    "screen.follow.ahead": {"en": "People ahead of you", "ar": "عدد من أمامك"},
    "screen.follow.eta": {"en": "Estimated wait", "ar": "الانتظار المتوقع"},
    "screen.follow.called": {
        "en": "It is your turn: please go to the counter.",
        "ar": "حان دورك: يرجى التوجه إلى الشباك.",
    },
    "screen.follow.not_found": {
        "en": "This ticket could not be found.",
        "ar": "تعذر العثور على هذه التذكرة.",
    },
}
