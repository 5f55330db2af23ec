"""The tables of county → city exchange (migration ``0014``): the three-way base.

- ``exchange_peer``: an installation whose bundles this one imported (or, with
  ``direction`` "export", the bundles this one wrote for a region): the last bundle
  seen (its sha256) and when.
- ``exchange_row``: per peer, entity and UUID, the version and content hash of the row
  as the last imported bundle of that peer held it. A row changed here since then and
  changed there too is a conflict; changed only there, it is updated.

On PostgreSQL only administrators read and write them (an import is the office's work);
county staff read and write the export record of their own region.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_core import clock
from crm_core.types import UTCDateTime


class ExchangePeer(SQLModel, table=True):
    """Another installation (``peer``) and the region scope of its bundles."""

    __tablename__ = "exchange_peer"
    __table_args__ = (UniqueConstraint("peer", "region", "direction", name="uq_exchange_peer"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    peer: str = Field(index=True)
    region: str
    direction: str = "import"  # import | export
    last_bundle: str | None = None  # sha256 of the last bundle's rows
    last_created_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


class ExchangeRow(SQLModel, table=True):
    """A row as the peer's last imported bundle held it: its version and content hash."""

    __tablename__ = "exchange_row"

    peer_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("exchange_peer.id", ondelete="CASCADE")], primary_key=True
    )
    entity: str = Field(primary_key=True)
    row_id: uuid.UUID = Field(primary_key=True)
    version: int
    content_hash: str
