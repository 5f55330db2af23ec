"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Enum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns aware UTC datetimes, on SQLite (no zones) and PostgreSQL alike.

    A naive datetime handed in is refused: every time in tongxin carries its zone, so a
    Shanghai 09:30 can never be mistaken for 09:30 UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: times must carry a zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSON documents: JSONB on PostgreSQL, JSON text on SQLite.
JSONDoc: Any = JSON().with_variant(JSONB(), "postgresql")


def str_enum(enum: type[StrEnum]) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint holding the values, so a
    new value is a plain migration on PostgreSQL (no native ENUM type to alter)."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum) + 8,
        values_callable=lambda e: [m.value for m in e],
        name=f"ck_{enum.__name__.lower()}",
        validate_strings=True,
    )
