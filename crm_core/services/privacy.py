"""Personal-data requests (个人信息): everything held about one person, and anonymising
one person while the office's aggregate counts stay right.

Both are for administrators, and both leave an audit entry (``export``,
``anonymise``) that holds no personal data itself.

Anonymising keeps the person's row and everything that is counted in reports (their
categories, committees, sector, party, region, gender, year of birth, membership,
interactions, follow-ups and assignments) and replaces what identifies them: the name
becomes "已匿名" (pinyin ``yiniming``), phones, e-mail, address, employer, title, month of
birth, notes and extra fields are cleared, records merged into them get the same. The
notes of interactions in which they were the only person taking part, and the detail
of their follow-ups, become "已匿名" too. The audit log keeps its entries but the
personal values in them (about the person and those interactions and follow-ups) are
masked: the one change the append-only log allows, and only for this. Status and
assignments stay as they were (reports count them); the office ends an assignment with
``tongxin assignments end`` if the contact should stop. Erasing the row itself is not
offered: it would change every count it took part in.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import col

from crm_core import authz, clock, db, pinyin
from crm_core.i18n import _
from crm_core.models import (
    Account,
    Assignment,
    AuditLog,
    FollowUp,
    Interaction,
    InteractionParticipant,
    Person,
    PersonStatus,
)
from crm_core.services import audit, contacts, followups, interactions, organisations
from crm_core.unit import Unit

ANONYMOUS = "已匿名"
EXPORT_FORMAT = "tongxin-person-export/1"

# Columns of a person that identify them, masked in the audit log too.
PERSONAL_KEYS = (
    "name",
    "name_pinyin",
    "name_initials",
    "mobile",
    "phones",
    "phone_digits",
    "email",
    "address",
    "employer",
    "title",
    "birth_month",
    "notes",
    "extra",
)


def _the_person_and_duplicates(unit: Unit, person_id: uuid.UUID | str) -> list[Person]:
    person = contacts.get_person(unit, person_id)
    if person.status == PersonStatus.merged and person.merged_into_id:
        person = contacts.get_person(unit, person.merged_into_id)
    merged = list(
        unit.session.scalars(
            select(Person).where(Person.merged_into_id == person.id).order_by(col(Person.id))
        )
    )
    return [person, *merged]


def export_person(unit: Unit, person_id: uuid.UUID | str) -> dict[str, Any]:
    """Everything tongxin holds about one person, as one JSON-ready document: the
    person (and records merged into it), categories, committees, organisations,
    accounts linked to them, every interaction they take part in (with participants;
    confidential notes under the usual rules), their follow-ups and assignments, and
    the audit entries about them. Administrators only; the export itself is audited."""
    authz.require_admin(unit, _("export a person's data"))
    people = _the_person_and_duplicates(unit, person_id)
    person = people[0]
    ids = [p.id for p in people]
    talks = list(
        unit.session.scalars(
            select(Interaction)
            .where(
                col(Interaction.id).in_(
                    select(InteractionParticipant.interaction_id).where(
                        col(InteractionParticipant.person_id).in_(ids)
                    )
                )
            )
            .order_by(col(Interaction.start_at), col(Interaction.id))
        )
    )
    items = []
    for i in talks:
        shown = interactions.interaction_json(unit, i)
        shown["participation"] = [p.as_json() for p in interactions.participation(unit, i.id)]
        items.append(shown)
    follow_ups = [
        followups.follow_up_json(f)
        for f in unit.session.scalars(
            select(FollowUp)
            .where(col(FollowUp.person_id).in_(ids))
            .order_by(col(FollowUp.created_at), col(FollowUp.id))
        )
    ]
    keepers = {a.id: a for a in unit.session.scalars(select(Account))}
    assignments = []
    for a in unit.session.scalars(
        select(Assignment)
        .where(col(Assignment.contact_id).in_(ids))
        .order_by(col(Assignment.start_on), col(Assignment.id))
    ):
        keeper = keepers.get(a.keeper_id)
        assignments.append(
            {
                "id": str(a.id),
                "keeper_id": str(a.keeper_id),
                "keeper": keeper.display_name if keeper else None,
                "category": a.category,
                "ideal_days": a.ideal_days,
                "max_days": a.max_days,
                "start_on": a.start_on.isoformat(),
                "end_on": a.end_on.isoformat() if a.end_on else None,
                "snoozed_until": a.snoozed_until.isoformat() if a.snoozed_until else None,
                "snooze_reason": a.snooze_reason,
                "notes": a.notes,
            }
        )
    entries = audit.list_audit(unit, person_id=person.id, limit=None)
    document = {
        "format": EXPORT_FORMAT,
        "exported_at": clock.now().isoformat(),
        "exported_by": unit.actor_name,
        "person": contacts.person_json(unit, person),
        "merged_records": [contacts.person_json(unit, p) for p in people[1:]],
        "organisations": [
            {"id": str(o.id), "name": o.name, "kind": o.kind, "role": role}
            for o, role in organisations.organisations_of(unit, person.id)
        ],
        "accounts": [
            {"id": str(a.id), "username": a.username, "display_name": a.display_name}
            for a in keepers.values()
            if a.person_id in ids
        ],
        "interactions": items,
        "follow_ups": follow_ups,
        "assignments": assignments,
        "audit": audit.audit_entries_json(unit, list(reversed(entries))),
    }
    unit.session.add(
        AuditLog(
            actor_id=unit.actor.id if unit.actor else None,
            actor=unit.actor_name,
            action="export",
            entity="person",
            entity_id=str(person.id),
            after={
                "interactions": len(items),
                "follow_ups": len(follow_ups),
                "assignments": len(assignments),
                "audit_entries": len(entries),
            },
        )
    )
    unit.session.flush()
    return document


def mask(value: Any, keys: tuple[str, ...] | list[str], text: str = ANONYMOUS) -> Any:
    """``value`` (a JSON document) with the values of ``keys`` replaced by ``text`` at
    any depth (null stays null): what ``tongxin_mask`` does on PostgreSQL."""
    if isinstance(value, dict):
        return {
            k: (text if k in keys and v is not None else mask(v, keys, text))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask(v, keys, text) for v in value]
    return value


def _redact(unit: Unit, entity: str, ids: list[str], keys: tuple[str, ...]) -> int:
    """Mask ``keys`` in the audit entries of these records; how many entries."""
    if not ids:
        return 0
    session = unit.session
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        return int(
            session.scalar(select(func.tongxin_redact_audit(entity, ids, list(keys), ANONYMOUS)))
            or 0
        )
    table = AuditLog.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        select(table.c.id, table.c.before, table.c.after).where(
            table.c.entity == entity, table.c.entity_id.in_(ids)
        )
    ).all()
    with db.audit_redaction():
        for row in rows:
            session.execute(
                update(table)
                .where(table.c.id == row.id)
                .values(before=mask(row.before, keys), after=mask(row.after, keys))
            )
    return len(rows)


def anonymise_person(unit: Unit, person_id: uuid.UUID | str) -> Person:
    """Anonymise one person (see the module's documentation for what is kept and what
    is replaced). Administrators only; audited as ``anonymise``."""
    authz.require_admin(unit, _("anonymise a person"))
    people = _the_person_and_duplicates(unit, person_id)
    person = people[0]
    ids = [p.id for p in people]
    full, initials = pinyin.name_pinyin(ANONYMOUS)
    today = clock.today(unit.config.tz)
    for p in people:
        p.name, p.name_pinyin, p.name_initials = ANONYMOUS, full, initials
        p.mobile, p.phones, p.phone_digits = None, [], ""
        p.email = p.address = p.employer = p.title = p.notes = None
        p.birth_month = None
        p.extra = {"anonymised_on": today.isoformat()}
    # Interactions in which they were the only person: their notes were about them.
    alone = list(
        unit.session.scalars(
            select(Interaction).where(
                col(Interaction.id).in_(
                    select(InteractionParticipant.interaction_id).where(
                        col(InteractionParticipant.person_id).in_(ids)
                    )
                ),
                ~col(Interaction.id).in_(
                    select(InteractionParticipant.interaction_id).where(
                        col(InteractionParticipant.person_id).is_not(None),
                        ~col(InteractionParticipant.person_id).in_(ids),
                    )
                ),
            )
        )
    )
    for i in alone:
        if i.notes:
            i.notes = ANONYMOUS
    raised = list(unit.session.scalars(select(FollowUp).where(col(FollowUp.person_id).in_(ids))))
    for f in raised:
        if f.detail:
            f.detail = ANONYMOUS
    unit.session.flush()
    redacted = _redact(unit, "person", [str(i) for i in ids], PERSONAL_KEYS)
    redacted += _redact(unit, "interaction", [str(i.id) for i in alone], ("notes",))
    redacted += _redact(unit, "follow_up", [str(f.id) for f in raised], ("detail",))
    unit.session.add(
        AuditLog(
            actor_id=unit.actor.id if unit.actor else None,
            actor=unit.actor_name,
            action="anonymise",
            entity="person",
            entity_id=str(person.id),
            after={
                "records": len(ids),
                "interaction_notes": sum(1 for i in alone if i.notes),
                "follow_ups": len(raised),
                "audit_entries_redacted": redacted,
            },
        )
    )
    unit.session.flush()
    return person
