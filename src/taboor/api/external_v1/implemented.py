"""Which External API v1 operations this server actually serves.

The OpenAPI document lists the whole contract; operations not named here are marked
``x-taboor-status: planned`` (the server answers 404 for them). Add an operationId here in
the same change that mounts its handler.
"""

from __future__ import annotations

IMPLEMENTED_OPERATIONS: frozenset[str] = frozenset(
    {
        "listBranches",
        "getBranchTree",
        "listSlots",
        "bookTicket",
        "getTicket",
        "streamTicketEvents",
        "cancelTicket",
        "changeTicketTime",
        "createCustomer",
        "listCustomers",
        "getCustomer",
        "updateCustomer",
        "deleteCustomer",
        "listCustomerTickets",
    }
)
