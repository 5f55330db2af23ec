"""Accounts (账号): the office's users, with role, position and region scope.

Only administrators add and change accounts (while no administrator account exists,
whoever runs the program is one: see :meth:`crm_core.app.Tongxin.authenticate`); the
last active administrator can be neither disabled nor given another role.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from sqlalchemy import or_, select
from sqlmodel import col

from crm_core import authz, validation
from crm_core.errors import Ambiguous, NotFound, PermissionDenied, ValidationError
from crm_core.i18n import N_, _
from crm_core.models import Account, Person, Role
from crm_core.services._common import as_uuid, check_version, clean_text, code_of, parse
from crm_core.unit import Unit


class AccountFields(BaseModel):
    """What a caller may set on an account."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str | None = None
    display_name: str | None = None
    role: Role | None = None
    position: str | None = None
    chair_meeting: bool | None = None
    committee: str | None = None
    region_scope: str | None = None
    person_id: uuid.UUID | None = None
    active: bool | None = None

    @field_validator(
        "username", "display_name", "position", "committee", "region_scope", mode="before"
    )
    @classmethod
    def _text(cls, v: Any, info: ValidationInfo) -> Any:
        # Controls and overlong values first (crm_core.validation).
        return validation.valid_text(info.field_name or "", v)

    @field_validator("username")
    @classmethod
    def _username(cls, v: str | None) -> str | None:
        if v is not None and (not v or any(c.isspace() for c in v)):
            raise ValueError(N_("a username is one word without spaces"))
        return v


def create_account(unit: Unit, **values: Any) -> Account:
    """Create an account; ``username`` and ``display_name`` are required, and county
    staff need a ``region_scope``. Administrators only."""
    authz.require_admin(unit, _("add accounts"))
    fields = parse(AccountFields, values)
    if not fields.username:
        raise ValidationError.one("username", values.get("username"), N_("a username is required"))
    if unit.session.scalar(select(col(Account.id)).where(col(Account.username) == fields.username)):
        raise ValidationError.one("username", fields.username, N_("this username is taken"))
    role = fields.role or Role.staff
    region = code_of(unit.config.vocab["regions"], "region_scope", fields.region_scope)
    if role is Role.county_staff and not region:
        raise ValidationError.one("region_scope", None, N_("county staff need a region"))
    if fields.person_id is not None and unit.session.get(Person, fields.person_id) is None:
        raise ValidationError.one("person_id", str(fields.person_id), N_("no such person"))
    account = Account(
        username=fields.username,
        display_name=clean_text(fields.display_name) or fields.username,
        role=role,
        position=clean_text(fields.position),
        chair_meeting=bool(fields.chair_meeting),
        committee=code_of(unit.config.vocab["committees"], "committee", fields.committee),
        region_scope=region,
        person_id=fields.person_id,
        active=True if fields.active is None else fields.active,
    )
    unit.session.add(account)
    unit.session.flush()
    return account


def get_account(unit: Unit, account_id: uuid.UUID | str) -> Account:
    """The account with this id (NotFound otherwise)."""
    account = unit.session.get(Account, as_uuid(account_id, "account"))
    if account is None:
        raise NotFound("account", account_id)
    return account


def resolve_account(unit: Unit, ref: str) -> Account:
    """The one account ``ref`` names: an id, a username, or a display name."""
    validation.check_texts({"account": ref})
    ref = ref.strip()
    try:
        return get_account(unit, ref)
    except NotFound:
        pass
    rows = list(
        unit.session.scalars(
            select(Account).where(
                or_(col(Account.username) == ref, col(Account.display_name) == ref)
            )
        )
    )
    if not rows:
        raise NotFound("account", ref)
    if len(rows) > 1:
        raise Ambiguous(ref, [f"{a.display_name} ({a.username})" for a in rows])
    return rows[0]


def list_accounts(
    unit: Unit,
    *,
    role: Role | str | None = None,
    chair_meeting: bool | None = None,
    active: bool | None = True,
) -> list[Account]:
    """Accounts, by display name."""
    stmt = select(Account)
    if role is not None:
        stmt = stmt.where(col(Account.role) == role)
    if chair_meeting is not None:
        stmt = stmt.where(col(Account.chair_meeting) == chair_meeting)
    if active is not None:
        stmt = stmt.where(col(Account.active) == active)
    return list(unit.session.scalars(stmt.order_by(col(Account.display_name))))


def _keep_an_admin(unit: Unit, account: Account) -> None:
    if account.role == Role.admin and account.active and authz.active_admins(unit) <= 1:
        raise PermissionDenied(
            _(
                "{user} is the last active administrator: add another administrator "
                "first (tongxin users add NAME --role admin)"
            ).format(user=account.username)
        )


def set_active(
    unit: Unit, account_id: uuid.UUID | str, active: bool, *, expected_version: int | None = None
) -> Account:
    """Disable (``active=False``) or enable an account; a disabled account is refused
    from its next unit of work on, and its history stays. Administrators only."""
    authz.require_admin(unit, _("disable or enable accounts"))
    account = get_account(unit, account_id)
    check_version(account, expected_version, "account")
    if not active:
        _keep_an_admin(unit, account)
    account.active = active
    unit.session.flush()
    return account


def set_role(
    unit: Unit,
    account_id: uuid.UUID | str,
    role: Role | str,
    *,
    region_scope: str | None = None,
    expected_version: int | None = None,
) -> Account:
    """Give an account another role; county staff need a ``region_scope`` (kept from
    before if not given), which other roles drop. Administrators only."""
    authz.require_admin(unit, _("change roles"))
    account = get_account(unit, account_id)
    check_version(account, expected_version, "account")
    try:
        new = Role(role.strip() if isinstance(role, str) else role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationError.one(
            "role", role, N_("must be one of {allowed}"), allowed=allowed
        ) from None
    region = code_of(unit.config.vocab["regions"], "region_scope", region_scope)
    if new is Role.county_staff:
        region = region or account.region_scope
        if not region:
            raise ValidationError.one("region_scope", None, N_("county staff need a region"))
    else:
        region = None
    if new is not Role.admin:
        _keep_an_admin(unit, account)
    account.role = new
    account.region_scope = region
    unit.session.flush()
    return account


def account_json(account: Account) -> dict[str, Any]:
    """The stable JSON form of an account (documented in docs/cli-json.md)."""
    return {
        "id": str(account.id),
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role.value,
        "region_scope": account.region_scope,
        "position": account.position,
        "chair_meeting": account.chair_meeting,
        "committee": account.committee,
        "person_id": str(account.person_id) if account.person_id else None,
        "active": account.active,
        "version": account.version,
    }
