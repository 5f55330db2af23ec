"""Sending webhook deliveries: signed, retried with back-off, logged.

Each pending delivery whose time has come is sent as one POST of JSON::

    {"id": DELIVERY_ID, "event": "interaction.create", "occurred_at": ISO,
     "entity_id": ID, "data": {...} or null}

``data`` is the record as the webhook's account sees it now, in the JSON shapes of
docs/cli-json.md: an interaction masked when it is a confidential talk the account may
not read, a person only of the account's region; a record deleted since, or no longer
visible to the account, is sent with ``data`` null (the event happened; its content is
not the account's to have). Headers: ``X-Tongxin-Event``, ``X-Tongxin-Delivery``,
``X-Tongxin-Timestamp`` and ``X-Tongxin-Signature: sha256=HEX``, the HMAC-SHA256 under
the webhook's secret of ``TIMESTAMP.BODY`` (so a receiver can refuse a replay).

A 2xx answer marks it delivered; anything else (another status, a refused connection,
a timeout) is retried after :data:`BACKOFF` (30 s, 2 min, 10 min, 1 h, 6 h), then
marked failed. Nothing is sent inside a database transaction: the deliveries due are
read, sent, and their outcome written in a unit of its own each.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import threading
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from crm_core import authz, clock
from crm_core.access_models import Webhook, WebhookDelivery
from crm_core.errors import TongxinError
from crm_core.models import Account, AuditLog, FollowUp, Interaction, Person
from crm_core.services import contacts, followups, interactions, webhooks
from crm_core.unit import Unit

if TYPE_CHECKING:
    from crm_core.app import Tongxin

log = logging.getLogger("tongxin.webhooks")
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10),
           timedelta(hours=1), timedelta(hours=6))  # fmt: skip
TIMEOUT = 10.0  # seconds for one POST


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Tongxin-Signature`` of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _data(holder: Unit, entity: str, entity_id: str) -> dict[str, Any] | None:
    """The record as ``holder`` sees it, or None (gone, or not the account's to see)."""
    try:
        key = uuid.UUID(entity_id)
        if entity == "person":
            person = holder.session.get(Person, key)
            if person is None:
                return None
            authz.check_person(holder, person)
            return contacts.person_json(holder, person)
        if entity == "interaction":
            item = holder.session.get(Interaction, key)
            if item is None:
                return None
            authz.check_interaction(holder, item)
            return interactions.interaction_json(holder, item)
        row = holder.session.get(FollowUp, key)
        if row is None:
            return None
        authz.check_follow_up(holder, row)
        return followups.follow_up_json(row)
    except (TongxinError, ValueError):
        return None


def _prepare(unit: Unit, delivery: WebhookDelivery) -> tuple[str, str, bytes] | None:
    """(url, secret, body) of a delivery, built acting as the webhook's account."""
    hook = unit.session.get(Webhook, delivery.webhook_id)
    account = unit.session.get(Account, delivery.account_id)
    if hook is None or hook.removed_at is not None or account is None or not account.active:
        return None
    holder = authz.acting_for(unit, account)
    entry = unit.session.get(AuditLog, delivery.audit_id)
    body = {
        "id": str(delivery.id),
        "event": delivery.event,
        "occurred_at": entry.at.isoformat() if entry else None,
        "entity_id": delivery.entity_id,
        "data": _data(holder, delivery.event.split(".", 1)[0], delivery.entity_id),
    }
    return hook.url, hook.secret, json.dumps(body, ensure_ascii=False).encode()


def _post(url: str, secret: str, body: bytes, delivery: WebhookDelivery) -> tuple[int | None, str]:
    stamp = str(int(clock.now().timestamp()))
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "tongxin-webhooks",
            "X-Tongxin-Event": delivery.event,
            "X-Tongxin-Delivery": str(delivery.id),
            "X-Tongxin-Timestamp": stamp,
            "X-Tongxin-Signature": sign(secret, stamp, body),
        },
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return None, type(exc).__name__


def _record_in(
    unit: Unit, *, delivery_id: uuid.UUID, outcome: tuple[int | None, str] | None
) -> str:
    """:func:`_record` with its arguments by name (for ``app.run``)."""
    return _record(unit, delivery_id, outcome)


def _record(unit: Unit, delivery_id: uuid.UUID, outcome: tuple[int | None, str] | None) -> str:
    """Write how a delivery went: delivered, retried later (back-off), failed, dropped."""
    row = unit.session.get(WebhookDelivery, delivery_id)
    assert row is not None
    if outcome is None:
        row.status, row.last_error = "dropped", "webhook removed or account disabled"
        return "dropped"
    status, error = outcome
    row.attempts += 1
    row.last_status, row.last_error = status, error or None
    if status is not None and 200 <= status < 300:
        row.status, row.delivered_at = "delivered", clock.now()
        return "delivered"
    if row.attempts > len(BACKOFF):
        row.status = "failed"
        return "failed"
    row.next_attempt_at = clock.now() + BACKOFF[row.attempts - 1]
    return "retrying"


def deliver_due(app: Tongxin, *, limit: int = 100) -> dict[str, int]:
    """Make the deliveries of new events (:func:`webhooks.enqueue`), then send those
    due; returns counts of ``delivered``, ``retrying``, ``failed`` and ``dropped``."""

    def due(unit: Unit) -> list[tuple[uuid.UUID, tuple[str, str, bytes] | None]]:
        webhooks.enqueue(unit)
        rows = unit.session.scalars(
            select(WebhookDelivery)
            .where(
                col(WebhookDelivery.status) == "pending",
                col(WebhookDelivery.next_attempt_at) <= clock.now(),
            )
            .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
            .limit(limit)
        )
        return [(d.id, _prepare(unit, d)) for d in rows]

    counts = dict.fromkeys(("delivered", "retrying", "failed", "dropped"), 0)
    for delivery_id, prepared in app.run(due):
        outcome: tuple[int | None, str] | None = None
        if prepared is not None:
            with app.unit() as unit:  # a short read: the headers name the delivery
                row = unit.session.get(WebhookDelivery, delivery_id)
                assert row is not None
                unit.session.expunge(row)
            outcome = _post(*prepared, row)

        counts[
            app.run(functools.partial(_record_in, delivery_id=delivery_id, outcome=outcome))
        ] += 1
    return counts


class Dispatcher:
    """Runs :func:`deliver_due` every ``interval`` seconds in a daemon thread (what
    ``tongxin serve`` starts); a failure is logged and the next round tries again."""

    def __init__(self, app: Tongxin, interval: float = 10.0) -> None:
        self.app = app
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the rounds."""
        self._thread = threading.Thread(target=self._loop, name="tongxin-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current round."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + TIMEOUT)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                deliver_due(self.app)
            except Exception as exc:  # logged by type only: a message could hold data
                log.error("webhook round failed: %s", type(exc).__name__)
