"""Kinds of interaction (visit, talk, call, ...) and what plugins register through hooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from crm_core.errors import FieldError, ValidationError


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
                }
            )
        return out

    def validate_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Check ``data`` against the schema; return it normalised (JSON-ready)."""
        if self.schema is None:
            if data:
                name = next(iter(data))
                raise ValidationError.one(
                    f"data.{name}", data[name], f"kind {self.code!r} has no field {name!r}"
                )
            return {}
        try:
            model = self.schema.model_validate(data)
        except PydanticValidationError as exc:
            errors = []
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                errors.append(FieldError(f"data.{loc}", err.get("input"), err["msg"]))
            raise ValidationError(errors) from None
        return model.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class CategorySpec:
    """A contact category a plugin adds to the ones from config."""

    code: str
    zh: str
    en: str
    ideal_days: int = 90
    max_days: int = 180
    liaison_required: bool = False
