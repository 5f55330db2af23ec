"""Webhooks: an account's URLs receiving person, interaction and follow-up events.

Events come from the audit log, which every write through the services leaves (so
the CLI, the terminal UI, the API and imports all count, in whatever process they run):
:func:`enqueue` turns the entries since each webhook's cursor into deliveries, one per
event the webhook's account may see, decided acting as that account (county scope; a
confidential talk is an event, its summary and notes are not in the body). The log of
deliveries (``webhook_delivery``) holds no personal data: the body is built when it is
sent (:mod:`crm_core.services.webhook_send`), as the account sees the record then.

Only the account itself (or an administrator) adds, lists and removes its webhooks;
adding and removing are audited (never the secret). A webhook starts at the newest
audit entry: it receives what happens after it was made, not the past.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, func, or_, select
from sqlmodel import col

from crm_core import authz, clock
from crm_core.access_models import Webhook, WebhookDelivery
from crm_core.errors import NotFound, PermissionDenied, TongxinError, ValidationError
from crm_core.i18n import N_, _
from crm_core.models import Account, AuditLog, FollowUp, Interaction, Person
from crm_core.unit import Unit, audit_entry

EVENTS = ("person", "interaction", "follow_up")
_ENTITY = {"person": Person, "interaction": Interaction, "follow_up": FollowUp}
BATCH = 500  # audit entries looked at per webhook and call


def _own(unit: Unit) -> Account:
    if unit.actor is None:
        raise PermissionDenied(_("webhooks belong to an account: act as one (--as USER)"))
    return unit.actor


def _audit(unit: Unit, action: str, row: Webhook, **extra: object) -> None:
    what = {"url": row.url, "events": list(row.events), "account_id": str(row.account_id)}
    unit.session.add(
        AuditLog(
            **audit_entry(
                unit.session, action, Webhook.__tablename__, str(row.id), at=clock.now(),
                before=what if action == "remove" else None, after={**what, **extra},
            )
        )
    )  # fmt: skip


def add_webhook(unit: Unit, url: str, events: list[str] | None = None) -> tuple[Webhook, str]:
    """A webhook of the acting account posting ``events`` (default: all of
    :data:`EVENTS`) to ``url`` (http or https). Returns the row and the signing secret
    (shown now; the receiver checks ``X-Tongxin-Signature`` with it)."""
    account = _own(unit)
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError.one("url", url, N_("an http:// or https:// address"))
    chosen = list(dict.fromkeys(events or EVENTS))
    for e in chosen:
        if e not in EVENTS:
            raise ValidationError.one("events", e, N_("one of {events}"), events=", ".join(EVENTS))
    secret = secrets.token_urlsafe(32)
    row = Webhook(
        account_id=account.id, url=parts.geturl(), secret=secret, events=chosen,
    )  # fmt: skip
    unit.session.add(row)
    unit.session.flush()
    _audit(unit, "create", row)
    return row, secret


def list_webhooks(unit: Unit, *, include_removed: bool = False) -> list[Webhook]:
    """The acting account's webhooks (an administrator: everyone's), oldest first."""
    stmt = select(Webhook)
    if not authz.can_administer(unit):
        stmt = stmt.where(col(Webhook.account_id) == _own(unit).id)
    if not include_removed:
        stmt = stmt.where(col(Webhook.removed_at).is_(None))
    return list(unit.session.scalars(stmt.order_by(col(Webhook.created_at), col(Webhook.id))))


def resolve_webhook(unit: Unit, ref: str) -> Webhook:
    """The live webhook whose id starts with ``ref`` (8+ characters), among those the
    acting account may manage."""
    text = (ref or "").strip().lower()
    if len(text) < 8:
        raise ValidationError.one("webhook", ref, N_("give at least 8 characters of the id"))
    rows = [w for w in list_webhooks(unit) if str(w.id).startswith(text)]
    if not rows:
        raise NotFound("webhook", ref)
    if len(rows) > 1:
        raise ValidationError.one("webhook", ref, N_("matches several webhooks: give more of it"))
    return rows[0]


def remove_webhook(unit: Unit, ref: str) -> Webhook:
    """Stop a webhook (kept, with its delivery log; pending deliveries are dropped)."""
    row = resolve_webhook(unit, ref)
    row.removed_at = clock.now()
    for d in unit.session.scalars(
        select(WebhookDelivery).where(
            col(WebhookDelivery.webhook_id) == row.id, col(WebhookDelivery.status) == "pending"
        )
    ):
        d.status = "dropped"
        d.last_error = "webhook removed"
    _audit(unit, "remove", row, removed_at=row.removed_at.isoformat())
    unit.session.flush()
    return row


def list_deliveries(
    unit: Unit, ref: str | None = None, *, limit: int = 50
) -> list[WebhookDelivery]:
    """The newest deliveries of one webhook (or of all the account's), newest first."""
    ids = [resolve_webhook(unit, ref).id] if ref else [w.id for w in list_webhooks(unit)]
    if not ids:
        return []
    stmt = (
        select(WebhookDelivery)
        .where(col(WebhookDelivery.webhook_id).in_(ids))
        .order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id))
        .limit(limit)
    )
    return list(unit.session.scalars(stmt))


def _visible(holder: Unit, entry: AuditLog) -> bool:
    """Whether the account of ``holder`` may see the record of ``entry`` now (a deleted
    one: a person of its region by the last values, an interaction or follow-up only if
    the account sees every region)."""
    model = _ENTITY[entry.entity]
    try:
        key = uuid.UUID(entry.entity_id)
    except ValueError:
        return False
    row = holder.session.get(model, key)  # type: ignore[arg-type]
    if row is None:
        scope = authz.region_scope(holder)
        if scope is None:
            return True
        before = entry.before or {}
        return entry.entity == "person" and before.get("region") == scope
    try:
        if isinstance(row, Person):
            authz.check_person(holder, row)
        elif isinstance(row, Interaction):
            authz.check_interaction(holder, row)
        else:
            authz.check_follow_up(holder, row)
    except TongxinError:
        return False
    return True


def enqueue(unit: Unit) -> int:
    """Deliveries for the audit entries since each live webhook's cursor (at most
    :data:`BATCH` entries per webhook), for the events its account may see; moves the
    cursors. Run by trusted code (the server's login reads the whole audit log).
    Returns how many deliveries were made."""
    made = 0
    for hook in unit.session.scalars(select(Webhook).where(col(Webhook.removed_at).is_(None))):
        account = unit.session.get(Account, hook.account_id)
        if account is None or not account.active:
            continue
        holder = authz.acting_for(unit, account)
        # After the webhook was made; from the cursor on (ids are random, so entries at
        # the cursor's very time are told apart by whether they were delivered already).
        stmt = select(AuditLog).where(
            col(AuditLog.entity).in_(hook.events), col(AuditLog.at) > hook.created_at
        )
        if hook.cursor_at is not None:
            done = select(col(WebhookDelivery.id)).where(
                col(WebhookDelivery.webhook_id) == hook.id,
                col(WebhookDelivery.audit_id) == AuditLog.id,
            )
            stmt = stmt.where(
                or_(
                    col(AuditLog.at) > hook.cursor_at,
                    and_(col(AuditLog.at) == hook.cursor_at, ~done.exists()),
                )
            )
        entries = list(
            unit.session.scalars(stmt.order_by(col(AuditLog.at), col(AuditLog.id)).limit(BATCH))
        )
        for entry in entries:
            if _visible(holder, entry):
                unit.session.add(
                    WebhookDelivery(
                        webhook_id=hook.id, account_id=account.id,
                        event=f"{entry.entity}.{entry.action}", entity_id=entry.entity_id,
                        audit_id=entry.id,
                    )
                )  # fmt: skip
                made += 1
        if entries:
            hook.cursor_at, hook.cursor_id = entries[-1].at, entries[-1].id
    unit.session.flush()
    return made


def pending_count(unit: Unit) -> int:
    """How many deliveries wait to be sent (any webhook)."""
    stmt = select(func.count()).select_from(WebhookDelivery)
    return int(unit.session.scalar(stmt.where(col(WebhookDelivery.status) == "pending")) or 0)


def webhook_json(row: Webhook) -> dict[str, Any]:
    """The JSON form of a webhook (never its secret)."""
    return {
        "id": str(row.id),
        "account_id": str(row.account_id),
        "url": row.url,
        "events": list(row.events),
        "created_at": row.created_at.isoformat(),
        "removed_at": row.removed_at.isoformat() if row.removed_at else None,
    }


def delivery_json(row: WebhookDelivery) -> dict[str, Any]:
    """The JSON form of a delivery's log entry."""
    return {
        "id": str(row.id),
        "webhook_id": str(row.webhook_id),
        "event": row.event,
        "entity_id": row.entity_id,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at.isoformat(),
        "last_status": row.last_status,
        "last_error": row.last_error,
        "created_at": row.created_at.isoformat(),
        "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
    }
