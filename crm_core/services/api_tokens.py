"""Bearer tokens of the HTTP API (``/api/v1/``).

A token is ``secrets.token_urlsafe(32)`` prefixed ``txa_`` (so a leaked one is easy to
recognise in a log or a repository): shown once when made, stored only as its SHA-256,
revoked never deleted. It belongs to an account and acts as it: every request is one
unit of work acting as that account (county scope, confidential talks), with ``scope``
"read" (GET only) or "write" (also log, schedule, raise). Only the account itself and
administrators make, list or revoke an account's tokens; making and revoking are
audited (who, whose, scope, the token's id; never the token or its hash).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import col

from crm_core import authz, clock
from crm_core.access_models import ApiToken
from crm_core.errors import NotFound, PermissionDenied, ValidationError
from crm_core.i18n import N_, _
from crm_core.models import Account, AuditLog
from crm_core.unit import Unit, audit_entry

SCOPES = ("read", "write")
PREFIX = "txa_"
_TOKEN_RE = re.compile(r"^txa_[A-Za-z0-9_-]{20,128}$")


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _check(unit: Unit, account: Account) -> None:
    own = unit.actor is not None and unit.actor.id == account.id
    if not (own or authz.can_administer(unit)):
        raise PermissionDenied(
            _("{who} may not manage other accounts' API tokens, only their own ({role})").format(
                who=unit.actor_name, role=authz.role_label(unit)
            )
        )


def _audit(unit: Unit, action: str, row: ApiToken, account: Account, **change: object) -> None:
    what: dict[str, object] = {"account": account.username, "scope": row.scope}
    unit.session.add(
        AuditLog(
            **audit_entry(
                unit.session, action, ApiToken.__tablename__, str(row.id), at=clock.now(),
                before={**what, "revoked_at": None} if action == "revoke" else None,
                after={**what, "name": row.name, **change},
            )
        )
    )  # fmt: skip


def create_token(
    unit: Unit, account: Account, *, scope: str = "read", name: str = ""
) -> tuple[ApiToken, str]:
    """A new API token acting as ``account`` with ``scope`` ("read" or "write").
    Returns the row and the token, which is stored nowhere: show it now or never.
    Another account's token is for administrators to make (PermissionDenied)."""
    if scope not in SCOPES:
        raise ValidationError.one("scope", scope, N_("one of {scopes}"), scopes=", ".join(SCOPES))
    _check(unit, account)
    if not account.active:
        raise ValidationError.one("account", account.username, N_("the account is disabled"))
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        account_id=account.id, scope=scope, name=(name or "").strip(), token_hash=hash_token(token)
    )
    unit.session.add(row)
    unit.session.flush()
    _audit(unit, "create", row, account)
    return row, token


def list_tokens(unit: Unit, account: Account | None = None) -> list[ApiToken]:
    """API tokens (of ``account`` if given), oldest first: an administrator's list has
    everyone's, anyone else's only their own."""
    stmt = select(ApiToken)
    if account is not None:
        _check(unit, account)
        stmt = stmt.where(col(ApiToken.account_id) == account.id)
    elif not authz.can_administer(unit):
        if unit.actor is None:
            return []
        stmt = stmt.where(col(ApiToken.account_id) == unit.actor.id)
    return list(unit.session.scalars(stmt.order_by(col(ApiToken.created_at), col(ApiToken.id))))


def revoke_token(unit: Unit, token_id: str) -> ApiToken:
    """Revoke the token whose id is or starts with ``token_id`` (8+ characters); the
    next request with it gets 401. Audited. NotFound for no live token of one's own
    (an administrator: anyone's)."""
    ref = token_id.strip().lower()
    if len(ref) < 8:
        raise ValidationError.one("token", token_id, N_("give at least 8 characters of the id"))
    rows = [r for r in list_tokens(unit) if str(r.id).startswith(ref) and r.revoked_at is None]
    if not rows:
        raise NotFound("API token", token_id)
    if len(rows) > 1:
        raise ValidationError.one("token", token_id, N_("matches several tokens: give more of it"))
    row = rows[0]
    account = unit.session.get(Account, row.account_id)
    assert account is not None
    _check(unit, account)
    row.revoked_at = clock.now()
    _audit(unit, "revoke", row, account, revoked_at=row.revoked_at.isoformat())
    unit.session.flush()
    return row


@dataclass(frozen=True)
class Bearer:
    """Who a live token acts as."""

    token_id: uuid.UUID
    account: Account
    scope: str


def authenticate(unit: Unit, token: str) -> Bearer | None:
    """The live token ``token`` and its account (None if malformed, unknown, revoked,
    or its account is disabled): one indexed lookup."""
    if not _TOKEN_RE.match(token):
        return None
    row = unit.session.scalars(
        select(ApiToken).where(col(ApiToken.token_hash) == hash_token(token))
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    account = unit.session.get(Account, row.account_id)
    if account is None or not account.active:
        return None
    return Bearer(row.id, account, row.scope)


def token_json(row: ApiToken, account: Account | None = None) -> dict[str, object]:
    """The JSON form of a token row (never the token itself)."""
    return {
        "id": str(row.id),
        "account": account.username if account else str(row.account_id),
        "scope": row.scope,
        "name": row.name,
        "created_at": row.created_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "hash_prefix": row.token_hash[:12],
    }
