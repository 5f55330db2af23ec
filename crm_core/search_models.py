"""The substring-search index of people: one row per (gram, person).

Imported at the end of :mod:`crm_core.models`, so the metadata is complete. What the
grams are and how they are kept up to date is in :mod:`crm_core.search_index`."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from sqlalchemy import ForeignKey
from sqlmodel import Field, SQLModel


class PersonGram(SQLModel, table=True):
    """A gram of a person's searchable text: each character and each pair of adjacent
    characters of the name, employer and title (case-folded), and each run of three
    digits of a phone number (``#138``). Derived on every write; never shown."""

    __tablename__ = "person_gram"
    __table_args__: ClassVar[Any] = {"sqlite_with_rowid": False}
    gram: str = Field(primary_key=True)
    person_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("person.id", ondelete="CASCADE")],
        primary_key=True,
        index=True,
    )
