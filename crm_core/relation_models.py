"""The tables of relationships and tags (issue 18): who knows whom, and free labels.

- :class:`Relation`: a typed, two-way relationship of a person with another person or
  with an organisation (介绍人 / 经其介绍, 配偶, 同事, 老师 / 学生 ...), the types from
  ``[relations.types.CODE]`` in the configuration, with optional dates.
- :class:`PersonTag`, :class:`InteractionTag`: free labels on people and interactions,
  where categories are too heavy.

Imported at the end of :mod:`crm_core.models`, so the metadata is complete; every one of
them is audited like the other tables (:data:`AUDITED_LINKS`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, ForeignKey
from sqlmodel import Field, SQLModel

from crm_core import clock
from crm_core.types import UTCDateTime


class Relation(SQLModel, table=True):
    """``person`` is related to ``other`` (a person) or to ``organisation`` by ``type``.

    Read from ``person``'s side the other is the type's label (``introduced_by``: the
    other is 介绍人, the introducer); from the other's side ``person`` is the type's
    reverse label (经其介绍). A symmetric type (配偶, 同事) reads alike both ways."""

    __table_args__: ClassVar[Any] = (
        CheckConstraint(
            "(other_id IS NULL) <> (organisation_id IS NULL)", name="ck_relation_one_other"
        ),
        CheckConstraint("other_id IS NULL OR other_id <> person_id", name="ck_relation_not_self"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    type: str = Field(index=True)
    person_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("person.id", ondelete="CASCADE")], index=True
    )
    other_id: uuid.UUID | None = Field(
        default=None, sa_column_args=[ForeignKey("person.id", ondelete="CASCADE")], index=True
    )
    organisation_id: uuid.UUID | None = Field(
        default=None,
        sa_column_args=[ForeignKey("organisation.id", ondelete="CASCADE")],
        index=True,
    )
    start_on: date | None = None
    end_on: date | None = None
    notes: str | None = None


class PersonTag(SQLModel, table=True):
    """A free label on a person (``重点``, ``书法``, ``返乡创业`` ...)."""

    __tablename__ = "person_tag"
    person_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("person.id", ondelete="CASCADE")], primary_key=True
    )
    tag: str = Field(primary_key=True, index=True)


class InteractionTag(SQLModel, table=True):
    """A free label on an interaction."""

    __tablename__ = "interaction_tag"
    interaction_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("interaction.id", ondelete="CASCADE")], primary_key=True
    )
    tag: str = Field(primary_key=True, index=True)


AUDITED_LINKS: tuple[type[SQLModel], ...] = (Relation, PersonTag, InteractionTag)
