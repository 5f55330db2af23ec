"""Errors raised by the services.

A refused value is a :class:`FieldError`: its ``message`` is English (logs, JSON, tests)
and its ``text`` the same in the user's language, which is what front ends show. A
service writes the message as a msgid, with any values as named parameters, so that it
can be translated::

    raise ValidationError.one("mobile", value, N_("has {n} digits, not 11"), n=len(digits))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from crm_core.i18n import N_, _


class TongxinError(Exception):
    """Base of every error a user is meant to read."""

    template: str | None = None
    params: Mapping[str, Any] = {}

    @classmethod
    def of(cls, template: str, **params: Any) -> Self:
        """The error whose message is ``template`` (a msgid marked ``N_``) formatted with
        ``params``: ``str()`` stays English, :attr:`text` says it in the user's language."""
        error = cls(template.format(**params) if params else template)
        error.template, error.params = template, params
        return error

    @property
    def text(self) -> str:
        """The message in the user's language: a service that raises with a message
        marked ``_()`` has it translated already; a constant English one marked ``N_()``
        is translated here, and one made by :meth:`of` from its msgid and parameters."""
        if self.template is None:
            return _(str(self))
        return _(self.template).format(**self.params) if self.params else _(self.template)


@dataclass(frozen=True)
class FieldError:
    """One bad value: which field, what was given, and why it was refused.

    ``message`` is in English; ``template`` and ``params``, when given, are the msgid it
    was formatted from and its values, so :attr:`text` can say it in the user's language.
    """

    field: str
    value: Any
    message: str
    template: str | None = None
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, field: str, value: Any, template: str, **params: Any) -> FieldError:
        """A FieldError whose message is ``template`` (a msgid marked with ``N_``)
        formatted with ``params``."""
        return cls(
            field, value, template.format(**params) if params else template, template, params
        )

    @property
    def text(self) -> str:
        """The reason in the user's language (English where no translation exists)."""
        if self.template is None:
            return _(self.message)
        return _(self.template).format(**self.params) if self.params else _(self.template)

    def __str__(self) -> str:
        value = self.value
        if isinstance(value, str) and len(value) > 80:  # a refused megabyte is not repeated
            value = value[:80] + f"…(+{len(value) - 80})"
        return f"{self.field}={value!r}: {self.message}"


# The record kinds NotFound names, as msgids (services pass these words as ``entity``).
ENTITIES = (
    N_("person"),
    N_("account"),
    N_("interaction"),
    N_("follow-up"),
    N_("assignment"),
    N_("organisation"),
    N_("organisation contact"),
    N_("series"),
    N_("feed token"),
    N_("participant"),
    N_("report"),
)


class ConfigError(TongxinError):
    """The configuration file is unreadable or holds a bad value; the message names the
    file, the key and the value (also importable from :mod:`crm_core.config`)."""


class ValidationError(TongxinError):
    """Input was refused; ``errors`` names every bad field and value. Nothing was written."""

    def __init__(self, errors: list[FieldError] | FieldError) -> None:
        self.errors = errors if isinstance(errors, list) else [errors]
        super().__init__("; ".join(str(e) for e in self.errors))

    @classmethod
    def one(cls, field: str, value: Any, message: str, **params: Any) -> ValidationError:
        """Shorthand for a single bad field; ``message`` is a msgid (``N_``) formatted
        with ``params``."""
        return cls(FieldError.of(field, value, message, **params))

    @property
    def text(self) -> str:
        """Every reason in the user's language, field by field."""
        return "; ".join(f"{e.field}: {e.text}" for e in self.errors)


class NotFound(TongxinError):
    """The record asked for does not exist (or is not visible to the caller)."""

    def __init__(self, entity: str, key: Any) -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"{entity} not found: {key}")

    @property
    def text(self) -> str:
        """ "人员 not found" in the user's language: 找不到联系人：…"""
        return _("{entity} not found: {key}").format(entity=_(self.entity), key=self.key)


class Ambiguous(TongxinError):
    """A name or query matched more than one record where exactly one was needed."""

    def __init__(self, query: str, candidates: list[str]) -> None:
        self.query = query
        self.candidates = candidates
        listed = "\n".join(f"  {c}" for c in candidates)
        super().__init__(f"{query!r} matches {len(candidates)} records:\n{listed}")


class Conflict(TongxinError):
    """Someone else changed the record since it was read; re-read and try again.

    ``retryable`` is True when the clash was with another unit of work running at the
    same moment (a row or a snapshot changed between this unit's own read and write,
    a lock or deadlock): nothing was saved, and running the whole unit again on fresh
    reads is safe (:meth:`crm_core.app.Tongxin.run` does). It is False when what the
    caller expected (``expected_version``, read earlier and shown to a person) is out
    of date: only that person can decide what to do."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class PermissionDenied(TongxinError):
    """The acting account may not do this."""
