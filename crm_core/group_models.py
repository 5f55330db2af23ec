"""The tables of groups of people (issue 18, item 2): saved searches ("smart" groups,
evaluated when used, with the reader's own rights) and picked lists ("static" groups).

Imported at the end of :mod:`crm_core.models`, so the metadata is complete."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from crm_core import clock
from crm_core.types import JSONDoc, UTCDateTime, str_enum


class GroupKind(StrEnum):
    """A saved search (its members found anew at each use) or a picked list."""

    smart = "smart"
    static = "static"


class ContactGroup(SQLModel, table=True):
    """A named group of people: personal (its owner's only) or shared (seen by everyone
    who may read people; each still sees only the members their rights cover). The
    columns of :class:`crm_core.models.Record` (declared here: this module is imported
    by that one), with the same optimistic version check."""

    __tablename__ = "contact_group"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    version: int = Field(default=1, sa_column_kwargs={"nullable": False})

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]

    name: str = Field(index=True, nullable=False)
    kind: GroupKind = Field(default=GroupKind.smart, sa_type=str_enum(GroupKind))
    shared: bool = Field(default=False, nullable=False)
    owner_id: uuid.UUID | None = Field(
        default=None, sa_column_args=[ForeignKey("account.id", ondelete="CASCADE")], index=True
    )
    query: str | None = None
    filters: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDoc)
    notes: str | None = None


class ContactGroupMember(SQLModel, table=True):
    """One person picked into a static group. A member merged into another record is
    counted as that record (the row stays, so an undone merge gives it back)."""

    __tablename__ = "contact_group_member"
    group_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("contact_group.id", ondelete="CASCADE")], primary_key=True
    )
    person_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("person.id", ondelete="CASCADE")], primary_key=True, index=True
    )
    added_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
