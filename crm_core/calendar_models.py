"""The tables of calendars and reminders (migration ``0002``).

- ``feed_token``: the secret tokens in subscription URLs (``/cal/<token>.ics``). Only the
  SHA-256 of a token is stored, never the token: a stolen database does not give anyone
  the feeds. A token names an account's calendar, or a shared one (``scope``).
- ``caldav_state``: what the last CalDAV push left on each remote calendar, item by item
  (resource href, ETag, the SEQUENCE and content hash sent), so a second run writes only
  what changed and an interrupted run resumes where it stopped.
- ``reminder_delivery``: every reminder delivered (or being delivered), per channel and
  recipient, under a unique key: the log that keeps a reminder from going out twice.
- ``caldav_state.account_id`` (migration ``0005``): the account whose push wrote the row;
  on PostgreSQL an account reads and writes only its own rows (administrators all).

- ``contact_proposal`` (migration ``0007``): a phone number changed on a phone's address
  book (CardDAV), waiting for an administrator to accept it into the person's record;
  an account reads and writes its own rows (administrators all).

APScheduler's job table (``apscheduler_jobs``, 0002) was dropped by ``0005``: its rows
were pickles, and tongxin never loads code from the database (the reminder service's
jobs live in memory, planned from these tables).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_core import clock
from crm_core.types import JSONDoc, UTCDateTime


class FeedToken(SQLModel, table=True):
    """A subscription token: ``scope`` "user" (an account's own calendar), "office"
    (every interaction) or "institutional" (the institutional series only)."""

    __tablename__ = "feed_token"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    account_id: uuid.UUID | None = Field(
        default=None,
        sa_column_args=[ForeignKey("account.id", ondelete="CASCADE")],
        index=True,
    )
    scope: str = "user"
    name: str = ""
    token_hash: str = Field(unique=True, index=True)  # sha256 hex of the token
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The last body served and when it changed: Last-Modified stays right when an item
    # leaves the feed (deleted, moved out of range), which no item's own time shows.
    content_hash: str | None = None
    content_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CaldavState(SQLModel, table=True):
    """One item as the last push left it on one remote calendar."""

    __tablename__ = "caldav_state"
    __table_args__: ClassVar[Any] = (
        UniqueConstraint("calendar_url", "uid", name="uq_caldav_state_item"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    calendar_url: str = Field(index=True)
    uid: str
    href: str
    etag: str | None = None
    sequence: int = 0
    content_hash: str
    synced_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    # Whose push wrote it (None: the owner of the database, or an older row).
    account_id: uuid.UUID | None = Field(
        default=None,
        sa_column_args=[ForeignKey("account.id", ondelete="SET NULL")],
        index=True,
    )


class ReminderDelivery(SQLModel, table=True):
    """A reminder sent (``status`` "sent"), being sent ("sending": a crash in between is
    reported, never silently repeated) or failed ("failed": tried again later)."""

    __tablename__ = "reminder_delivery"
    __table_args__: ClassVar[Any] = (
        UniqueConstraint("key", "channel", "recipient", name="uq_reminder_delivery"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    key: str = Field(index=True)  # "item:<interaction id>:<minutes>", "digest:<date>"
    channel: str  # log | email | apprise
    recipient: str
    account_id: uuid.UUID | None = Field(
        default=None, sa_column_args=[ForeignKey("account.id", ondelete="SET NULL")]
    )
    status: str = "sending"
    attempts: int = 0
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    detail: str | None = None


__all__ = ["CaldavState", "FeedToken", "ReminderDelivery"]


class ContactProposal(SQLModel, table=True):
    """Phone numbers a phone's address book holds for a person that tongxin does not:
    ``status`` "open" until an administrator accepts it ("accepted") or a later sync
    finds the phone agreeing with tongxin again ("withdrawn")."""

    __tablename__ = "contact_proposal"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    book_url: str = Field(index=True)
    person_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("person.id", ondelete="CASCADE")], index=True
    )
    # What the phone's card holds (mobile first when it marks one), and tongxin's then.
    phones: list[str] = Field(default_factory=list, sa_type=JSONDoc)
    before: list[str] = Field(default_factory=list, sa_type=JSONDoc)
    etag: str | None = None  # the server's ETag of the card with these numbers
    status: str = "open"
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Whose address book it came from (None: the owner of the database).
    account_id: uuid.UUID | None = Field(
        default=None,
        sa_column_args=[ForeignKey("account.id", ondelete="SET NULL")],
        index=True,
    )
