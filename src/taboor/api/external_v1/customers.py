"""The customer directory endpoints (spec §2, customers) and a customer's tickets."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncConnection

from taboor.api.body import json_object_body
from taboor.api.envelopes import paginated, success
from taboor.api.errors import field_error
from taboor.api.external_v1.auth import SECRET_ONLY, ExternalCall
from taboor.api.external_v1.fields import (
    UNSET,
    FieldErrors,
    customer_locator,
    optional_email,
    optional_metadata,
    optional_mobile,
    optional_text,
    page_and_limit,
)
from taboor.api.external_v1.representations import customer_json, ticket_json
from taboor.customers import service as customers
from taboor.db.uow import read_connection, run_in_transaction
from taboor.tickets.views import customer_ticket_page

MAX_PAGE_LIMIT = 100
MAX_TICKET_PAGE_LIMIT = 10
AnyRequest = Request[Any, Any, Any]


def _writable_fields(body: dict[str, Any], *, allow_external_id: bool) -> dict[str, Any]:
    """Column -> value for the fields sent (None clears); 422 for any bad one."""
    errors = FieldErrors()
    values = {
        "external_id": optional_text(body, "externalId", 64, errors)
        if allow_external_id
        else UNSET,
        "name": optional_text(body, "name", 120, errors),
        "email": optional_email(body, errors),
        "mobile": optional_mobile(body, errors),
        "metadata": optional_metadata(body, errors),
    }
    errors.raise_if_any()
    return {column: value for column, value in values.items() if value is not UNSET}


def _not_found(locator: customers.Locator) -> Exception:
    return field_error(locator.field, "validation.does_not_exist")


@post("/customers/create", opt=SECRET_ONLY, status_code=201)
async def create_customer(
    request: AnyRequest, call: NamedDependency[ExternalCall]
) -> Response[bytes]:
    fields = _writable_fields(await json_object_body(request), allow_external_id=True)

    async def work(connection: AsyncConnection) -> customers.Customer:
        return await customers.create_customer(connection, call.company_id, fields, call.clock())

    try:
        customer = await run_in_transaction(call.engine, work)
    except customers.ExternalIdTakenError:
        raise field_error("externalId", "validation.taken") from None
    return success(call.text("customer.created"), customer_json(customer), 201)


@get("/customers/getAll", opt=SECRET_ONLY)
async def list_customers(
    request: AnyRequest, call: NamedDependency[ExternalCall]
) -> Response[bytes]:
    page, limit = page_and_limit(request.query_params, MAX_PAGE_LIMIT)
    async with read_connection(call.engine) as connection:
        items, total = await customers.page_of_customers(connection, call.company_id, page, limit)
    return paginated(
        call.text("customers.fetched"), [customer_json(c) for c in items], total, page, limit
    )


@get("/customers/getOne", opt=SECRET_ONLY)
async def get_customer(request: AnyRequest, call: NamedDependency[ExternalCall]) -> Response[bytes]:
    locator = customer_locator(request.query_params)
    async with read_connection(call.engine) as connection:
        customer = await customers.find_customer(connection, call.company_id, locator)
    if customer is None:
        raise _not_found(locator)
    return success(call.text("customer.fetched"), customer_json(customer))


@put("/customers/update", opt=SECRET_ONLY)
async def update_customer(
    request: AnyRequest, call: NamedDependency[ExternalCall]
) -> Response[bytes]:
    body = await json_object_body(request)
    locator = customer_locator(body)
    # A customer found by externalId keeps it: that field is the locator, not a change.
    changes = _writable_fields(body, allow_external_id=locator.field == "id")

    async def work(connection: AsyncConnection) -> customers.Customer | None:
        return await customers.update_customer(
            connection, call.company_id, locator, changes, call.clock()
        )

    try:
        customer = await run_in_transaction(call.engine, work)
    except customers.ExternalIdTakenError:
        raise field_error("externalId", "validation.taken") from None
    if customer is None:
        raise _not_found(locator)
    return success(call.text("customer.updated"), customer_json(customer))


@delete("/customers/delete", opt=SECRET_ONLY, status_code=200)
async def delete_customer(
    request: AnyRequest, call: NamedDependency[ExternalCall]
) -> Response[bytes]:
    locator = customer_locator(request.query_params)

    async def work(connection: AsyncConnection) -> bool:
        return await customers.delete_customer(connection, call.company_id, locator)

    if not await run_in_transaction(call.engine, work):
        raise _not_found(locator)
    return success(call.text("customer.deleted"), None)


@get("/customers/tickets")
async def list_customer_tickets(
    request: AnyRequest, call: NamedDependency[ExternalCall]
) -> Response[bytes]:
    locator = customer_locator(request.query_params)
    page, limit = page_and_limit(request.query_params, MAX_TICKET_PAGE_LIMIT)
    async with read_connection(call.engine) as connection:
        customer_id = await customers.find_customer_id(connection, call.company_id, locator)
        if customer_id is None:
            raise _not_found(locator)
        tickets, total = await customer_ticket_page(
            connection, call.company_id, customer_id, page, limit, call.clock(), call.service_times
        )
    return paginated(
        call.text("customer_tickets.fetched"),
        [ticket_json(ticket, call) for ticket in tickets],
        total,
        page,
        limit,
    )


customer_handlers = [
    create_customer,
    list_customers,
    get_customer,
    update_customer,
    delete_customer,
    list_customer_tickets,
]
