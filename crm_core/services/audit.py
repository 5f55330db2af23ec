"""The audit log (审计日志): who created, changed, deleted or merged what, and when,
with the values before and after.

The log is written by the unit of work itself on every flush (:mod:`crm_core.unit`), so
no service or plugin can forget it, and it is append-only: nothing in the program
changes or deletes an entry (the database refuses it too, migration 0003), except the
redaction of an anonymised person's personal data (:mod:`crm_core.services.privacy`).
Reading it is for administrators.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlmodel import col

from crm_core import authz
from crm_core.errors import Ambiguous, NotFound
from crm_core.i18n import _
from crm_core.models import (
    Assignment,
    AuditLog,
    FollowUp,
    Interaction,
    InteractionParticipant,
    Person,
)
from crm_core.services import accounts
from crm_core.services._common import as_uuid
from crm_core.unit import Unit


def about_person(unit: Unit, person_id: uuid.UUID) -> ColumnElement[bool]:
    """Entries about a person: the person record (and records merged into it), their
    categories and committees, the interactions they take part in, their follow-ups
    and assignments."""
    session = unit.session
    people = {person_id} | set(
        session.scalars(select(col(Person.id)).where(col(Person.merged_into_id) == person_id))
    )
    ids = {str(p) for p in people}
    links = [col(AuditLog.entity_id).startswith(f"{p}/", autoescape=True) for p in ids]
    related: dict[str, set[str]] = {
        "interaction": {
            str(i)
            for i in session.scalars(
                select(col(InteractionParticipant.interaction_id)).where(
                    col(InteractionParticipant.person_id).in_(people)
                )
            )
        },
        "interaction_participant": {
            str(i)
            for i in session.scalars(
                select(col(InteractionParticipant.id)).where(
                    col(InteractionParticipant.person_id).in_(people)
                )
            )
        },
        "follow_up": {
            str(i)
            for i in session.scalars(
                select(col(FollowUp.id)).where(col(FollowUp.person_id).in_(people))
            )
        },
        "assignment": {
            str(i)
            for i in session.scalars(
                select(col(Assignment.id)).where(col(Assignment.contact_id).in_(people))
            )
        },
    }
    conds: list[ColumnElement[bool]] = [
        (col(AuditLog.entity) == "person") & col(AuditLog.entity_id).in_(ids),
        *links,
    ]
    for entity, entity_ids in related.items():
        if entity_ids:
            conds.append((col(AuditLog.entity) == entity) & col(AuditLog.entity_id).in_(entity_ids))
    return or_(*conds)


def list_audit(
    unit: Unit,
    *,
    person_id: uuid.UUID | str | None = None,
    user: str | None = None,
    since: date | datetime | None = None,
    entity: str | None = None,
    limit: int | None = 1000,
) -> list[AuditLog]:
    """Audit entries, newest first: about one person (see :func:`about_person`), by
    one account (username, display name or id; what they did as themselves and, for an
    administrator, as others with ``--as``; what others did as them with ``--as`` too),
    from a day or time on, of one kind of record. Administrators only."""
    authz.require_admin(unit, _("read the audit log"))
    stmt = select(AuditLog)
    if person_id is not None:
        stmt = stmt.where(about_person(unit, as_uuid(person_id, "person")))
    if user is not None:
        who: list[ColumnElement[bool]] = [
            col(AuditLog.actor) == user.strip(),
            col(AuditLog.actor).startswith(f"{user.strip()} (as ", autoescape=True),
        ]
        try:
            account = accounts.resolve_account(unit, user)
        except (NotFound, Ambiguous):  # a login without an account is still a name
            account = None
        if account is not None:
            who += [
                col(AuditLog.actor_id) == account.id,
                col(AuditLog.real_actor_id) == account.id,
                col(AuditLog.actor) == account.username,
                col(AuditLog.actor).startswith(f"{account.username} (as ", autoescape=True),
            ]
        stmt = stmt.where(or_(*who))
    if since is not None:
        start = (
            since
            if isinstance(since, datetime)
            else datetime.combine(since, time(), tzinfo=unit.config.tz)
        )
        if start.tzinfo is None:
            start = start.replace(tzinfo=unit.config.tz)
        stmt = stmt.where(col(AuditLog.at) >= start)
    if entity is not None:
        stmt = stmt.where(col(AuditLog.entity) == entity)
    stmt = stmt.order_by(col(AuditLog.at).desc(), col(AuditLog.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(unit.session.scalars(stmt))


# The values of an interaction's audit entries that are its content: hidden, as on the
# record itself, from whoever may not read a confidential interaction.
_CONTENT = ("summary", "notes", "data")


def _hidden_interactions(unit: Unit, entries: list[AuditLog]) -> set[str]:
    """The ids (as text) of the confidential interactions among ``entries`` whose
    content the unit may not read (:func:`crm_core.authz.readable_ids`). An entry of a
    deleted interaction counts as confidential when its own values say so."""
    if unit.is_admin:
        return set()
    ids = []
    for e in entries:
        if e.entity == "interaction":
            try:
                ids.append(uuid.UUID(e.entity_id))
            except ValueError:  # not an interaction's id: nothing to look up
                continue
    if not ids:
        return set()
    live = {
        str(i.id): i
        for i in unit.session.scalars(select(Interaction).where(col(Interaction.id).in_(ids)))
    }
    readable = {str(x) for x in authz.readable_ids(unit, live.values())}
    hidden = {x for x, i in live.items() if i.confidential and x not in readable}
    for e in entries:
        said = (e.after or {}).get("confidential") or (e.before or {}).get("confidential")
        if e.entity == "interaction" and e.entity_id not in live and said:
            hidden.add(e.entity_id)
    return hidden


def _masked(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: (None if k in _CONTENT else v) for k, v in values.items()}


def audit_json(entry: AuditLog, unit: Unit | None = None) -> dict[str, Any]:
    """The stable JSON form of an audit entry (documented in docs/cli-json.md). With
    ``unit``, an entry of a confidential interaction that unit may not read (anyone but
    an administrator, its participants and whoever recorded it) has the summary, notes
    and fields in ``before``/``after`` null, as the record itself shows them; use
    :func:`audit_entries_json` for many entries."""
    if unit is None:
        return _entry_json(entry, False)
    return _entry_json(entry, entry.entity_id in _hidden_interactions(unit, [entry]))


def audit_entries_json(unit: Unit, entries: list[AuditLog]) -> list[dict[str, Any]]:
    """:func:`audit_json` of every entry as ``unit`` may see it (one query)."""
    hidden = _hidden_interactions(unit, entries)
    return [_entry_json(e, e.entity == "interaction" and e.entity_id in hidden) for e in entries]


def _entry_json(entry: AuditLog, hidden: bool) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "actor_id": str(entry.actor_id) if entry.actor_id else None,
        "real_actor_id": str(entry.real_actor_id) if entry.real_actor_id else None,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "before": _masked(entry.before) if hidden else entry.before,
        "after": _masked(entry.after) if hidden else entry.after,
    }
