"""What an admin does for their own company through the staff API: manage staff users
and API keys, and apply the company file. Agents get a 403. Everything is scoped to the
admin's company: another company's staff user or key does not exist (404), and a
company file must describe the admin's own company."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath

from taboor.api.body import json_object_body
from taboor.api.envelopes import success
from taboor.api.errors import ForbiddenError, Msg, NotFoundError, ValidationFailed, field_error
from taboor.api.external_v1.representations import utc_timestamp
from taboor.api.staff_v1.auth import StaffCall
from taboor.keys.service import KeyInfo, KeyKind, create_key, list_keys, revoke_key
from taboor.setup.apply import apply_company
from taboor.setup.loader import parse_company_yaml
from taboor.setup.schema import CompanyFileError
from taboor.staff import accounts
from taboor.staff.passwords import PasswordRuleError

AnyRequest = Request[Any, Any, Any]


def _admin(staff: StaffCall) -> None:
    if not staff.principal.is_admin:
        raise ForbiddenError(Msg("staff.admin_required"))


def _staff_json(user: accounts.StaffInfo) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "role": user.role,
        "active": user.active,
        "branchIds": list(user.branch_ids),
        "createdAt": utc_timestamp(user.created_at),
    }


def _key_json(key: KeyInfo) -> dict[str, Any]:
    return {
        "id": key.id,
        "kind": key.kind,
        "name": key.name,
        "hint": key.hint,
        "createdAt": utc_timestamp(key.created_at),
        "revokedAt": utc_timestamp(key.revoked_at) if key.revoked_at else None,
    }


def _text(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise field_error(name, "validation.required")
        return None
    if not isinstance(value, str):
        raise field_error(name, "validation.string")
    return value


async def _company_staff(staff: StaffCall) -> list[accounts.StaffInfo]:
    return await accounts.list_staff(staff.engine, staff.company_id)


@get("/staff")
async def list_staff_users(staff: NamedDependency[StaffCall]) -> Response[bytes]:
    _admin(staff)
    users = await _company_staff(staff)
    return success(staff.text("staff.users.fetched"), [_staff_json(user) for user in users])


# Which field each account refusal is about.
_ACCOUNT_FIELDS: dict[type[Exception], str] = {
    accounts.InvalidUsernameError: "username",
    accounts.UsernameTakenError: "username",
    accounts.InvalidNameError: "name",
    accounts.InvalidRoleError: "role",
    accounts.UnknownBranchError: "branchIds",
    accounts.AgentNeedsBranchError: "branchIds",
    PasswordRuleError: "password",
}
_ACCOUNT_MESSAGES: dict[type[Exception], str] = {
    accounts.InvalidUsernameError: "staff.validation.username",
    accounts.UsernameTakenError: "staff.validation.username_taken",
    accounts.InvalidNameError: "staff.validation.name",
    accounts.InvalidRoleError: "staff.validation.role",
    accounts.UnknownBranchError: "validation.does_not_exist",
    accounts.AgentNeedsBranchError: "staff.validation.agent_branches",
    PasswordRuleError: "staff.validation.password",
}


@post("/staff", status_code=201)
async def create_staff_user(
    request: AnyRequest, staff: NamedDependency[StaffCall]
) -> Response[bytes]:
    _admin(staff)
    body = await json_object_body(request)
    username, name, role, password = (
        _text(body, field) for field in ("username", "name", "role", "password")
    )
    branch_ids = body.get("branchIds", [])
    if not isinstance(branch_ids, list) or not all(isinstance(b, str) for b in branch_ids):
        raise field_error("branchIds", "staff.validation.string_list")
    assert username is not None and name is not None and role is not None
    assert password is not None
    try:
        staff_id = await accounts.create_staff(
            staff.engine,
            staff.company_id,
            username,
            name,
            role,
            password,
            branch_ids,
            staff.clock(),
        )
    except (accounts.StaffAccountError, PasswordRuleError) as error:
        kind = type(error)
        raise field_error(_ACCOUNT_FIELDS[kind], _ACCOUNT_MESSAGES[kind]) from None
    (user,) = [user for user in await _company_staff(staff) if user.id == staff_id]
    return success(staff.text("staff.user.created"), _staff_json(user), 201)


@post("/staff/{staff_id:str}/deactivate", status_code=200)
async def deactivate_staff_user(
    staff_id: FromPath[str], staff: NamedDependency[StaffCall]
) -> Response[bytes]:
    _admin(staff)
    found = [user for user in await _company_staff(staff) if user.id == staff_id]
    if not found:
        raise NotFoundError(Msg("not_found.staff"))
    await accounts.deactivate_staff(staff.engine, found[0].username, staff.clock())
    (user,) = [user for user in await _company_staff(staff) if user.id == staff_id]
    return success(staff.text("staff.user.deactivated"), _staff_json(user))


@get("/keys")
async def list_api_keys(staff: NamedDependency[StaffCall]) -> Response[bytes]:
    _admin(staff)
    keys = await list_keys(staff.engine, staff.company_id)
    return success(staff.text("staff.keys.fetched"), [_key_json(key) for key in keys])


@post("/keys", status_code=201)
async def create_api_key(request: AnyRequest, staff: NamedDependency[StaffCall]) -> Response[bytes]:
    _admin(staff)
    body = await json_object_body(request)
    requested = _text(body, "kind")
    if requested not in ("public", "secret"):
        raise field_error("kind", "staff.validation.key_kind")
    kind: KeyKind = "public" if requested == "public" else "secret"
    name = _text(body, "name", required=False)
    created = await create_key(staff.engine, staff.company_id, kind, name, clock=staff.clock)
    (info,) = [
        key for key in await list_keys(staff.engine, staff.company_id) if key.id == created.id
    ]
    # The key itself is shown here once; only its hash is kept.
    return success(staff.text("staff.key.created"), {**_key_json(info), "key": created.key}, 201)


@post("/keys/{key_id:str}/revoke", status_code=200)
async def revoke_api_key(
    key_id: FromPath[str], staff: NamedDependency[StaffCall]
) -> Response[bytes]:
    _admin(staff)
    if not await revoke_key(staff.engine, key_id, clock=staff.clock, company_id=staff.company_id):
        keys = {key.id: key for key in await list_keys(staff.engine, staff.company_id)}
        if key_id not in keys:
            raise NotFoundError(Msg("not_found.key"))
        # Already revoked: nothing to do, say where it stands.
    (info,) = [key for key in await list_keys(staff.engine, staff.company_id) if key.id == key_id]
    return success(staff.text("staff.key.revoked"), _key_json(info))


@put("/company")
async def apply_company_file(
    request: AnyRequest, staff: NamedDependency[StaffCall]
) -> Response[bytes]:
    """Apply the company file (YAML text in ``companyFile``) to the admin's company."""
    _admin(staff)
    text = _text(await json_object_body(request), "companyFile")
    assert text is not None
    try:
        spec = parse_company_yaml(text)
        if spec.id != staff.company_id:
            raise field_error("companyFile", "staff.validation.other_company")
        summary = await apply_company(staff.engine, spec, clock=staff.clock)
    except CompanyFileError as error:
        # Every problem, each naming its place in the file, in English as `taboor apply`
        # gives them to operators; the envelope's message speaks the caller's language.
        listed = "; ".join(str(problem) for problem in error.problems)
        raise ValidationFailed(
            {"companyFile": Msg("staff.company_file.problems", {"problems": listed})}
        ) from None
    return success(staff.text("staff.company.applied"), {"changes": summary.counts})


admin_handlers = [
    list_staff_users,
    create_staff_user,
    deactivate_staff_user,
    list_api_keys,
    create_api_key,
    revoke_api_key,
    apply_company_file,
]
