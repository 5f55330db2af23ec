"""The public service API: the one way every front end and plugin reads and writes.

Each function takes a :class:`crm_core.unit.Unit` first and keyword-only arguments after;
none commits (the unit does). Errors are :mod:`crm_core.errors` exceptions that name the
field and value at fault.
"""

from crm_core.services import (
    accounts,
    agenda,
    assignments,
    contacts,
    followups,
    interactions,
    organisations,
    overdue,
)

__all__ = [
    "accounts",
    "agenda",
    "assignments",
    "contacts",
    "followups",
    "interactions",
    "organisations",
    "overdue",
]
