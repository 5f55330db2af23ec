"""Kinds of interaction (visit, talk, call, ...) and what plugins register through hooks."""

from __future__ import annotations

import enum
import types
import typing
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from crm_core import validation
from crm_core.errors import FieldError, ValidationError
from crm_core.i18n import N_
from crm_core.pydantic_messages import field_error


@dataclass(frozen=True)
class KindSpec:
    """An interaction kind, as a plugin registers it.

    ``schema`` is a pydantic model of the kind's own fields (stored in
    ``Interaction.data``); its field descriptions are shown as form labels.
    ``person_role`` and ``account_role`` are the participant roles given to the people
    and accounts of a logged interaction when the caller names none (e.g. "visited",
    "visitor").
    """

    code: str
    zh: str
    en: str
    schema: type[BaseModel] | None = None
    default_duration_minutes: int = 60
    confidential: bool = False
    person_role: str = "contact"
    account_role: str = "host"
    description: str = ""
    plugin: str = field(default="", compare=False)
    # Field name → the values it may take (e.g. a plugin's config list): shown by
    # `tongxin kinds`, a drop-down in the terminal UI, and checked on save.
    choices: Mapping[str, Sequence[str]] = field(default_factory=dict, compare=False)

    def label(self, lang: str) -> str:
        """The kind's name in ``lang``."""
        return self.en if lang == "en" else self.zh

    def fields(self) -> list[dict[str, Any]]:
        """The kind's fields: name, type, required, description (for forms and `kinds`)."""
        if self.schema is None:
            return []
        out = []
        for name, info in self.schema.model_fields.items():
            annotation = info.annotation
            out.append(
                {
                    "name": name,
                    "type": getattr(annotation, "__name__", str(annotation)),
                    "required": info.is_required(),
                    "description": info.description or "",
                    "choices": self.choices_of(name),
                }
            )
        return out

    def choices_of(self, name: str) -> list[str]:
        """The values the field ``name`` may take: from :attr:`choices`, or from its
        annotation (``Literal[...]`` or an ``Enum``, also inside ``| None`` or a list);
        empty when it takes any value."""
        if name in self.choices:
            return [str(c) for c in self.choices[name]]
        if self.schema is None or name not in self.schema.model_fields:
            return []
        return _choices_in(self.schema.model_fields[name].annotation)

    def _check_choices(self, data: dict[str, Any]) -> None:
        errors = []
        for name, allowed in self.choices.items():
            value = data.get(name)
            if not allowed or value is None:
                continue
            allowed_text = [str(a) for a in allowed]
            values = value if isinstance(value, list) else [value]
            for i, v in enumerate(values):
                if str(v) not in allowed_text:
                    where = f"data.{name}.{i}" if isinstance(value, list) else f"data.{name}"
                    errors.append(
                        FieldError.of(
                            where,
                            v,
                            N_("must be one of {expected}"),
                            expected=", ".join(allowed_text),
                        )
                    )
        if errors:
            raise ValidationError(errors)

    def is_list_field(self, name: str) -> bool:
        """Whether the field ``name`` holds a list (given repeatedly on the command line)."""
        if self.schema is None or name not in self.schema.model_fields:
            return False
        annotation = self.schema.model_fields[name].annotation
        candidates = [annotation]
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            candidates = list(typing.get_args(annotation))
        return any(typing.get_origin(c) in (list, tuple, set) for c in candidates)

    def fields_from_pairs(self, pairs: list[str]) -> dict[str, Any]:
        """Turn ``NAME=VALUE`` strings (as typed after ``--field``) into field data: a
        list field collects every value given for it. Types are checked later by
        :meth:`validate_data`."""
        known = set(self.schema.model_fields) if self.schema else set()
        data: dict[str, Any] = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            name = name.strip()
            if not sep or not name:
                raise ValidationError.one("--field", pair, N_("write NAME=VALUE"))
            if name not in known:
                if not known:
                    raise ValidationError.one(
                        f"data.{name}",
                        value,
                        N_("kind {code!r} has no such field (fields: none)"),
                        code=self.code,
                    )
                raise ValidationError.one(
                    f"data.{name}",
                    value,
                    N_("kind {code!r} has no such field (fields: {fields})"),
                    code=self.code,
                    fields=", ".join(sorted(known)),
                )
            if self.is_list_field(name):
                data.setdefault(name, []).append(value.strip())
            else:
                data[name] = value.strip()
        return data

    def validate_data(
        self, data: dict[str, Any], context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Check ``data`` against the schema; return it normalised (JSON-ready).

        ``context`` reaches the schema's validators as ``info.context``: the services
        pass ``{"unit": unit}``, so a validator can turn a label into a config code
        (e.g. a county's name into its region code) before anything is written.

        Whatever the plugin's schema says, every text anywhere in ``data`` (and in what
        the schema makes of it) keeps the rules of :mod:`crm_core.validation`: no control
        characters, at most :data:`crm_core.validation.DEFAULT_LIMIT` characters (or the
        limit of a field of that name), dates in the sane range."""
        validation.check_data(data, "data")
        if self.schema is None:
            if data:
                name = next(iter(data))
                raise ValidationError.one(
                    f"data.{name}",
                    data[name],
                    N_("kind {code!r} has no field {name!r}"),
                    code=self.code,
                    name=name,
                )
            return {}
        try:
            model = self.schema.model_validate(data, context=context)
        except PydanticValidationError as exc:
            # Each error in the user's language (crm_core.pydantic_messages); a missing
            # field is that field, not the whole data as its value.
            raise ValidationError(
                [field_error(err, "data", data) for err in exc.errors()]
            ) from None
        self._check_choices(model.model_dump(mode="json"))
        # What the schema made of the values (a validator may compute or look up text).
        validation.check_data(model.model_dump(mode="python", exclude_none=True), "data")
        return model.model_dump(mode="json", exclude_none=True)


def _choices_in(annotation: Any) -> list[str]:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return [str(a) for a in typing.get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(m.value) for m in annotation]
    if origin in (typing.Union, types.UnionType, list, tuple, set):
        for arg in typing.get_args(annotation):
            found = _choices_in(arg)
            if found:
                return found
    return []


@dataclass(frozen=True)
class CategorySpec:
    """A contact category a plugin adds to the ones from config."""

    code: str
    zh: str
    en: str
    ideal_days: int = 90
    max_days: int = 180
    liaison_required: bool = False


@dataclass(frozen=True)
class FollowUpDraft:
    """A concern to follow up, as a plugin's ``collect_follow_ups`` returns it."""

    title: str
    detail: str | None = None
    person_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    due_on: date | None = None


@dataclass(frozen=True)
class Cadence:
    """How often a keeper should (ideal) and must (max) contact someone, in days."""

    ideal_days: int
    max_days: int
