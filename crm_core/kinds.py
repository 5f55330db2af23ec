"""Kinds of interaction (visit, talk, call, ...) and what plugins register through hooks."""

from __future__ import annotations

import enum
import types
import typing
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

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
                    # A config vocabulary the field takes a code (or label) of, declared
                    # by the schema as Field(json_schema_extra={"vocabulary": "regions"}):
                    # a drop-down of that vocabulary in the terminal UI.
                    "vocabulary": _vocabulary_of(info),
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


# -- obligations (issue 13): what a plugin's ``collect_obligations`` returns ------------


@dataclass(frozen=True)
class OpenTarget:
    """Where a palette command asks the front end to go.

    ``screen`` is one of ``OpenTarget.SCREENS``: "person", "interaction" and "follow_up"
    open that record (``ref`` its id); "agenda" shows the agenda, on the day ``ref`` (an
    ISO date, "2026-09-25") if given, or over the month ``ref`` ("2026-09"), and only the
    work of ``kind`` (a kind code) if given; "contacts", "followups" and "dashboard" show
    that screen (``ref`` unused).
    """

    SCREENS: ClassVar[tuple[str, ...]] = (
        "person",
        "interaction",
        "follow_up",
        "agenda",
        "contacts",
        "followups",
        "dashboard",
    )

    screen: str
    ref: str | None = None
    kind: str | None = None  # "agenda" only: the work of this kind

    def __post_init__(self) -> None:
        if self.screen not in self.SCREENS:
            raise ValueError(
                f"OpenTarget screen {self.screen!r} is not one of {', '.join(self.SCREENS)}"
            )
        if self.screen in ("person", "interaction", "follow_up") and not self.ref:
            raise ValueError(f"OpenTarget({self.screen!r}) needs the record's id as ref")
        if self.kind is not None and self.screen != "agenda":
            raise ValueError(f"OpenTarget({self.screen!r}) takes no kind (only the agenda)")

    def text(self) -> str:
        """The target as the command line prints it: "person <id>", "agenda 2026-09
        kind=<code>" …"""
        parts = [self.screen]
        if self.ref:
            parts.append(self.ref)
        if self.kind:
            parts.append(f"kind={self.kind}")
        return " ".join(parts)


OBLIGATION_SEVERITIES = ("due", "late")


@dataclass(frozen=True)
class Obligation:
    """Something the office owes and has not done, as a plugin's ``collect_obligations``
    returns it: a row of ``tongxin overdue``, of the dashboard's overdue card and of the
    daily digest.

    ``key`` is stable for the same obligation (e.g. ``"home_activity:<home>:2026-12"``);
    ``label`` the line shown (already in the user's language: the plugin's own
    strings), ``detail`` a second, optional line. ``due_on`` is the last day it could be
    met (None: no date, e.g. "never done"); ``severity`` is "late" (past due: red) or
    "due" (still open in time: yellow), and None lets the host decide from ``due_on``
    (late once ``due_on`` is before the day asked about, else due). ``link`` is where a
    front end goes when the row is chosen (:class:`crm_core.panels.OpenTarget`: a person,
    an interaction, a follow-up, the agenda on a day or of one kind in a month) and what
    the command line prints. ``account_id`` is the account that owes it (None: the
    office, shown to every reader and in administrators' digests). ``plugin`` is set by
    the host.
    """

    key: str
    label: str
    detail: str = ""
    due_on: date | None = None
    severity: str | None = None
    link: OpenTarget | None = None
    account_id: uuid.UUID | None = None
    plugin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.key or not self.label:
            raise ValueError("an Obligation needs a key and a label")
        if self.severity is not None and self.severity not in OBLIGATION_SEVERITIES:
            raise ValueError(
                f"Obligation severity {self.severity!r} is not one of "
                f"{', '.join(OBLIGATION_SEVERITIES)}"
            )
        if self.link is not None and not isinstance(self.link, OpenTarget):
            raise ValueError(f"Obligation link {self.link!r:.60} is not an OpenTarget")

    def level(self, as_of: date) -> str:
        """The severity, or (when the plugin gave none) "late" if ``due_on`` is before
        ``as_of``, else "due"."""
        if self.severity is not None:
            return self.severity
        return "late" if self.due_on is not None and self.due_on < as_of else "due"

    def days_overdue(self, as_of: date) -> int:
        """Days past ``due_on`` on ``as_of`` (0 when not yet past, or without a date)."""
        if self.due_on is None:
            return 0
        return max((as_of - self.due_on).days, 0)


def _vocabulary_of(info: Any) -> str | None:
    extra = info.json_schema_extra
    value = extra.get("vocabulary") if isinstance(extra, dict) else None
    return str(value) if isinstance(value, str) and value else None
