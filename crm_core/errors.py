"""Errors raised by the services. Front ends show their messages as they are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class TongxinError(Exception):
    """Base of every error a user is meant to read."""


@dataclass(frozen=True)
class FieldError:
    """One bad value: which field, what was given, and why it was refused."""

    field: str
    value: Any
    message: str

    def __str__(self) -> str:
        return f"{self.field}={self.value!r}: {self.message}"


class ValidationError(TongxinError):
    """Input was refused; ``errors`` names every bad field and value. Nothing was written."""

    def __init__(self, errors: list[FieldError] | FieldError) -> None:
        self.errors = errors if isinstance(errors, list) else [errors]
        super().__init__("; ".join(str(e) for e in self.errors))

    @classmethod
    def one(cls, field: str, value: Any, message: str) -> ValidationError:
        """Shorthand for a single bad field."""
        return cls(FieldError(field, value, message))


class NotFound(TongxinError):
    """The record asked for does not exist (or is not visible to the caller)."""

    def __init__(self, entity: str, key: Any) -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"{entity} not found: {key}")


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
