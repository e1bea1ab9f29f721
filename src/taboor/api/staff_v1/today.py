"""``GET /counters/{counterId}/today``: the figures of the counter's day for the staff
console (served, no-shows, mean service time), what is at the counter now, and today's
appointments of its services still to be checked in."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from taboor.api.envelopes import success
from taboor.api.external_v1.representations import utc_timestamp
from taboor.api.staff_v1.access import company_counter
from taboor.api.staff_v1.auth import StaffCall
from taboor.api.staff_v1.counters import queued_json
from taboor.counters.today import counter_day
from taboor.db.uow import read_connection


@get("/counters/{counter_id:str}/today")
async def counter_today(
    counter_id: FromPath[str], staff: NamedDependency[StaffCall]
) -> Response[bytes]:
    async with read_connection(staff.engine) as connection:
        await company_counter(connection, staff, counter_id)
        day = await counter_day(connection, staff.company_id, counter_id, staff.clock())
    data = {
        "counterId": counter_id,
        "day": day.day.isoformat(),
        "served": day.served,
        "noShows": day.no_shows,
        "averageServiceMinutes": day.average_service_minutes,
        "current": [queued_json(ticket) for ticket in day.current],
        "appointments": [
            {
                "id": ticket.id,
                "ticketNumber": ticket.ticket_number,
                "time": utc_timestamp(ticket.time) if ticket.time else None,
                "serviceId": ticket.service_id,
                "customerName": ticket.customer_name,
            }
            for ticket in day.appointments
        ],
    }
    return success(staff.text("staff.counter.today"), data)


today_handlers = [counter_today]
