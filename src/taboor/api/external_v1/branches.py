"""GET /branches and GET /branches/{branchId}/tree (spec §2)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from taboor.api.envelopes import success
from taboor.api.errors import field_error
from taboor.api.external_v1.auth import ExternalCall
from taboor.api.external_v1.ids import is_entity_id
from taboor.catalog.branches import branch_tree, list_active_branches
from taboor.db.uow import read_connection


@get("/branches")
async def list_branches(call: NamedDependency[ExternalCall]) -> Response[bytes]:
    async with read_connection(call.engine) as connection:
        branches = await list_active_branches(connection, call.company_id, call.clock())
    data = []
    for branch in sorted(branches, key=lambda b: (call.name(b.name).casefold(), b.id)):
        item: dict[str, Any] = {"id": branch.id, "name": call.name(branch.name)}
        if branch.address:
            item["address"] = call.name(branch.address)
        if branch.location:
            item["location"] = {"lat": branch.location[0], "lng": branch.location[1]}
        item["timezone"] = branch.timezone
        item["branchStatus"] = {"isBranchOpen": branch.is_open}
        data.append(item)
    return success(call.text("branches.fetched"), data)


@get("/branches/{branch_id:str}/tree")
async def get_branch_tree(
    branch_id: FromPath[str], call: NamedDependency[ExternalCall]
) -> Response[bytes]:
    groups = None
    if is_entity_id(branch_id):
        async with read_connection(call.engine) as connection:
            groups = await branch_tree(connection, call.company_id, branch_id, call.clock())
    if groups is None:
        raise field_error("branchId", "validation.does_not_exist")

    def order(node: Any) -> tuple[int, str, str]:
        return (node.position, call.name(node.name).casefold(), node.id)

    data = [
        {
            "id": group.id,
            "name": call.name(group.name),
            "type": "service",
            "services": [
                {
                    "id": service.id,
                    "name": call.name(service.name),
                    "isOpen": service.is_open,
                    "isAppointment": service.is_appointment,
                }
                for service in sorted(group.services, key=order)
            ],
        }
        for group in sorted(groups, key=order)
    ]
    return success(call.text("branch_tree.fetched"), data)
