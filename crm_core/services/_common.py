"""Helpers shared by the services (not public API)."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlmodel import SQLModel

from crm_core.config import Vocabulary
from crm_core.errors import Conflict, FieldError, NotFound, ValidationError
from crm_core.unit import Unit

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T", bound=SQLModel)


def parse(model: type[M], values: dict[str, Any]) -> M:
    """Validate ``values`` with ``model``; pydantic's errors become a ValidationError
    naming every bad field and value."""
    try:
        return model.model_validate(values)
    except PydanticValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(input)"
            msg = err["msg"].removeprefix("Value error, ")
            errors.append(FieldError(loc, err.get("input"), msg))
        raise ValidationError(errors) from None


def as_uuid(value: uuid.UUID | str, entity: str) -> uuid.UUID:
    """``value`` as a UUID, or NotFound (a malformed id names nothing)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        raise NotFound(entity, value) from None


def fetch(unit: Unit, model: type[T], ident: uuid.UUID | str, entity: str) -> T:
    """The row of ``model`` with this id, or NotFound."""
    row = unit.session.get(model, as_uuid(ident, entity))
    if row is None:
        raise NotFound(entity, ident)
    return row


def check_version(row: Any, expected: int | None, entity: str) -> None:
    """Refuse to change ``row`` if someone changed it since the caller read it."""
    if expected is not None and row.version != expected:
        raise Conflict(
            f"{entity} {row.id} was changed by someone else (version {row.version}, "
            f"you edited version {expected}): reload it and try again"
        )


def code_of(vocab: Vocabulary, field: str, value: str | None) -> str | None:
    """The code of ``value`` (a code or a label) in ``vocab``, or a ValidationError."""
    if value is None or value == "":
        return None
    term = vocab.resolve(value)
    if term is None:
        shown = "、".join(t.zh for t in list(vocab)[:12])
        raise ValidationError.one(field, value, f"not one of the configured {vocab.name}: {shown}…")
    return term.code


def clean_text(value: str | None) -> str | None:
    """Text with its runs of white space (the ideographic space included) folded to one
    space and stripped; None for blank. Nothing else changes: NFKC would turn Chinese
    punctuation （，：！） into ASCII in what people wrote."""
    if value is None:
        return None
    text = " ".join(value.split())
    return text or None


def by_prefix(unit: Unit, model: type[T], ref: str, entity: str) -> T:
    """The row whose id is ``ref`` or starts with ``ref`` (at least 6 hex digits, as the
    CLI and screens show ids shortened to 8); Ambiguous when several match."""
    from sqlalchemy import String, cast, select

    from crm_core.errors import Ambiguous

    ref = ref.strip().lower()
    try:
        return fetch(unit, model, ref, entity)
    except NotFound:
        pass
    hexes = "0123456789abcdef"
    if not 6 <= len(ref) <= 8 or any(c not in hexes for c in ref):
        raise NotFound(entity, ref)
    column = model.id  # type: ignore[attr-defined]
    rows = list(
        unit.session.scalars(select(model).where(cast(column, String).like(f"{ref}%")).limit(5))
    )
    if not rows:
        raise NotFound(entity, ref)
    if len(rows) > 1:
        raise Ambiguous(ref, [str(r.id) for r in rows])  # type: ignore[attr-defined]
    return rows[0]
