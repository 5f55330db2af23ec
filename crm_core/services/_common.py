"""Helpers shared by the services (not public API)."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlmodel import SQLModel

from crm_core.config import Vocabulary
from crm_core.errors import Conflict, FieldError, NotFound, ValidationError
from crm_core.i18n import N_, _
from crm_core.models import Record
from crm_core.unit import Unit

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T", bound=SQLModel)
R = TypeVar("R", bound=Record)  # a table with an id


class Refusal(ValueError):
    """A field validator's reason with values in it: ``template`` is a msgid (``N_``)
    formatted with ``params``, so :func:`parse` can keep it translatable. (A constant
    reason is a plain ``ValueError(N_("..."))``.)"""

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params))


def parse(model: type[M], values: dict[str, Any]) -> M:
    """Validate ``values`` with ``model``; pydantic's errors become a ValidationError
    naming every bad field and value."""
    try:
        return model.model_validate(values)
    except PydanticValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(input)"
            cause = (err.get("ctx") or {}).get("error")
            # A Refusal (or another ValueError carrying its msgid and parameters, such
            # as crm_core.phones.PhoneError) stays translatable.
            template = getattr(cause, "template", None)
            if isinstance(template, str):
                params = getattr(cause, "params", None) or {}
                errors.append(FieldError.of(loc, err.get("input"), template, **params))
                continue
            # A validator's constant reason is a msgid (FieldError.text translates it);
            # pydantic's own reasons stay as pydantic words them.
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
            _(
                "{entity} {id} was changed by someone else (version {version}, "
                "you edited version {expected}): reload it and try again"
            ).format(entity=_(entity), id=row.id, version=row.version, expected=expected)
        )


def code_of(vocab: Vocabulary, field: str, value: str | None) -> str | None:
    """The code of ``value`` (a code or a label) in ``vocab``, or a ValidationError."""
    if value is None or value == "":
        return None
    term = vocab.resolve(value)
    if term is None:
        shown = "、".join(t.zh for t in list(vocab)[:12])
        raise ValidationError.one(
            field,
            value,
            N_("not one of the configured {vocab}: {shown}…"),
            vocab=vocab.name,
            shown=shown,
        )
    return term.code


def clean_text(value: str | None) -> str | None:
    """Text with its runs of white space (the ideographic space included) folded to one
    space and stripped; None for blank. Nothing else changes: NFKC would turn Chinese
    punctuation （，：！） into ASCII in what people wrote."""
    if value is None:
        return None
    text = " ".join(value.split())
    return text or None


def by_prefix(unit: Unit, model: type[R], ref: str, entity: str) -> R:
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
    column = model.id
    rows = list(
        unit.session.scalars(select(model).where(cast(column, String).like(f"{ref}%")).limit(5))
    )
    if not rows:
        raise NotFound(entity, ref)
    if len(rows) > 1:
        raise Ambiguous(ref, [str(r.id) for r in rows])
    return rows[0]
