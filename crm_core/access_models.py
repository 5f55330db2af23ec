"""The tables of the HTTP API and its webhooks (migration ``0012``).

- ``api_token``: a bearer token of ``/api/v1/``. It belongs to an account and acts as
  it (county scope, confidential talks), ``scope`` "read" or "write". Only its SHA-256
  is stored; revoked, never deleted (the list shows what was given out).
- ``webhook``: a URL an account registered to receive interaction, follow-up and person
  events, signed with HMAC-SHA256 under ``secret`` (shown once when made; the receiver
  keeps it). ``cursor_at``/``cursor_id``: the last audit-log entry looked at.
- ``webhook_delivery``: one event for one webhook: what (entity, id, action), and how
  its delivery went (attempts, the next one, the last HTTP status or error). It holds no
  personal data: the body is built when it is sent, acting as the webhook's account.

On PostgreSQL an account reads and writes only its own rows (administrators all).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlmodel import Field, SQLModel

from crm_core import clock
from crm_core.types import JSONDoc, UTCDateTime


class ApiToken(SQLModel, table=True):
    """A bearer token of the HTTP API, acting as ``account_id`` with ``scope`` rights."""

    __tablename__ = "api_token"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    account_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("account.id", ondelete="CASCADE")], index=True
    )
    scope: str = "read"
    name: str = ""
    token_hash: str = Field(unique=True, index=True)  # sha256 hex of the token
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Webhook(SQLModel, table=True):
    """A URL receiving ``events`` (a list of "person", "interaction", "follow_up") for
    its account."""

    __tablename__ = "webhook"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    account_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("account.id", ondelete="CASCADE")], index=True
    )
    url: str
    secret: str
    events: list[str] = Field(default_factory=list, sa_type=JSONDoc)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cursor_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cursor_id: uuid.UUID | None = None


class WebhookDelivery(SQLModel, table=True):
    """One event for one webhook and how its delivery went: ``status`` "pending",
    "delivered" or "failed" (given up after the last retry)."""

    __tablename__ = "webhook_delivery"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    webhook_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("webhook.id", ondelete="CASCADE")], index=True
    )
    account_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("account.id", ondelete="CASCADE")], index=True
    )
    event: str  # "interaction.create", "person.update", …
    entity_id: str
    audit_id: uuid.UUID
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime = Field(
        default_factory=clock.now, sa_type=UTCDateTime, nullable=False
    )
    last_status: int | None = None
    last_error: str | None = None
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
