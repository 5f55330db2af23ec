"""The table of duplicate review: pairs of people someone said are not the same person.

Imported at the end of :mod:`crm_core.models`, so the metadata is complete."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey
from sqlmodel import Field, SQLModel

from crm_core import clock
from crm_core.types import UTCDateTime


class NotDuplicate(SQLModel, table=True):
    """Two people who are not the same person, though a rule pairs them: the pair is not
    offered as duplicates again. Kept once, the smaller id first (``person_a``)."""

    __tablename__ = "not_duplicate"
    __table_args__ = (CheckConstraint("person_a < person_b", name="ck_not_duplicate_order"),)
    person_a: uuid.UUID = Field(
        sa_column_args=[ForeignKey("person.id", ondelete="CASCADE")], primary_key=True
    )
    person_b: uuid.UUID = Field(
        sa_column_args=[ForeignKey("person.id", ondelete="CASCADE")],
        primary_key=True,
        index=True,
    )
    decided_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    account_id: uuid.UUID | None = Field(
        default=None, sa_column_args=[ForeignKey("account.id", ondelete="SET NULL")]
    )
