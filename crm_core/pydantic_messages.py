"""Pydantic's validation errors in the user's language.

pydantic words its errors in English ("Input should be greater than or equal to 1"). A
plugin's schema uses its built-in constraints (``ge``, ``le``, ``min_length``,
``max_length``, ``pattern``, required fields, types), so each error ``type`` is mapped
here to a msgid of tongxin's catalog, formatted with the error's ``ctx`` (the bound, the
pattern, the allowed values). An error of a type not listed keeps pydantic's English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_core.errors import FieldError
from crm_core.i18n import N_

# By pydantic error type; the names in braces are keys of the error's ``ctx``.
MESSAGES: dict[str, str] = {
    "missing": N_("is required"),
    "greater_than_equal": N_("must be at least {ge}"),
    "greater_than": N_("must be more than {gt}"),
    "less_than_equal": N_("must be at most {le}"),
    "less_than": N_("must be less than {lt}"),
    "multiple_of": N_("must be a multiple of {multiple_of}"),
    "string_too_short": N_("must have at least {min_length} character(s)"),
    "string_too_long": N_("must have at most {max_length} character(s)"),
    "too_short": N_("must have at least {min_length} item(s)"),
    "too_long": N_("must have at most {max_length} item(s)"),
    "string_pattern_mismatch": N_("does not have the expected form ({pattern})"),
    "int_type": N_("not a whole number"),
    "int_parsing": N_("not a whole number"),
    "int_from_float": N_("not a whole number"),
    "float_type": N_("not a number"),
    "float_parsing": N_("not a number"),
    "decimal_parsing": N_("not a number"),
    "bool_type": N_("not yes or no (true/false)"),
    "bool_parsing": N_("not yes or no (true/false)"),
    "string_type": N_("not a text"),
    "list_type": N_("not a list"),
    "dict_type": N_("not a table of values"),
    "model_type": N_("not a table of values"),
    "date_type": N_("not a date (e.g. 2026-06-08)"),
    "date_parsing": N_("not a date (e.g. 2026-06-08)"),
    "date_from_datetime_parsing": N_("not a date (e.g. 2026-06-08)"),
    "datetime_type": N_("not a date and time (e.g. 2026-06-08T14:30)"),
    "datetime_parsing": N_("not a date and time (e.g. 2026-06-08T14:30)"),
    "datetime_from_date_parsing": N_("not a date and time (e.g. 2026-06-08T14:30)"),
    "time_type": N_("not a time of day (e.g. 14:30)"),
    "time_parsing": N_("not a time of day (e.g. 14:30)"),
    "literal_error": N_("must be one of {expected}"),
    "enum": N_("must be one of {expected}"),
    "extra_forbidden": N_("no such field"),
    "url_parsing": N_("not a web address"),
    "uuid_parsing": N_("not an identifier (UUID)"),
}


def _plain(ctx: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ctx.items() if isinstance(v, (int, float, str))}


def field_error(err: Mapping[str, Any], prefix: str = "", data: Any = None) -> FieldError:
    """One error of ``pydantic.ValidationError.errors()`` as a :class:`FieldError`
    whose :attr:`~FieldError.text` is in the user's language.

    ``prefix`` is put before the error's location (``"data"`` gives ``data.topic``). A
    missing field is reported as that field with no value (pydantic gives the whole
    input dict as the "input" of a missing key); ``data`` is the validated input, used
    to tell which part of ``loc`` exists."""
    loc = [str(p) for p in err.get("loc", ())]
    field = ".".join([prefix, *loc] if prefix else loc) or prefix or "?"
    kind = str(err.get("type", ""))
    value = None if kind == "missing" else err.get("input")
    ctx = err.get("ctx") or {}
    # A validator's own reason (ValueError, PydanticCustomError, PhoneError…): its msgid
    # and values, when it carries them, so it is said in the user's language too.
    cause = ctx.get("error")
    template = getattr(cause, "template", None)
    if template:
        params = dict(getattr(cause, "params", {}) or {})
        return FieldError(field, value, str(err.get("msg", "")), template, params)
    known = MESSAGES.get(kind)
    params = _plain(ctx)
    if known is not None:
        try:
            known.format(**params)
        except (KeyError, IndexError, ValueError):
            known = None
    if known is None:
        message = str(err.get("msg", "")).removeprefix("Value error, ")
        return FieldError(field, value, message, message, {})
    return FieldError.of(field, value, known, **params)
