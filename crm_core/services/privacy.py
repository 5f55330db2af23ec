"""Personal-data requests (个人信息): everything held about one person, and anonymising
one person while the office's aggregate counts stay right.

Both are for administrators, and both leave an audit entry (``export``,
``anonymise``) that holds no personal data itself.

Anonymising keeps the person's row and everything that is counted in reports (their
categories, committees, sector, party, region, gender, year of birth, membership,
interactions, follow-ups and assignments) and removes what identifies them wherever
the program itself keeps it:

- the person's record and the records merged into it: the name becomes "已匿名"
  (pinyin ``yiniming``); phones, e-mail, address, employer, title, month of birth,
  notes and extra fields are cleared;
- the interactions they took part in: their name, phone numbers and e-mail are
  replaced by "已匿名" inside the summary, place, notes, reason for cancelling and the
  kind's fields, the rest of the text stays (an interaction shared with others keeps
  its meaning for them); the notes of one in which they were the only person become
  "已匿名" whole; the calendar event's SEQUENCE goes up, so feeds, phones and CalDAV
  servers replace the event (the name shown with it is now "已匿名" too);
- follow-ups about them or raised in those interactions: title, detail and response
  the same way (the detail of a follow-up about them becomes "已匿名" whole); their
  assignments' notes and their roles in organisations likewise;
- the audit log: every entry of those records is masked (the person's columns) and
  has the name, phones and e-mail replaced inside its values: the one change the
  append-only log allows, and only for this.

What remains, and is said so by ``tongxin person anonymise`` and in
docs/security.md: free text typed into records not linked to them (another
person's notes, an interaction they did not take part in), which the program cannot
tell apart from a namesake; and copies made before: backups (kept until ``tongxin
backup --keep N`` rotates them out), exports and feeds already downloaded.

Status and assignments stay as they were (reports count them); the office ends an
assignment with ``tongxin assignments end`` if the contact should stop. Erasing the
row itself is not offered: it would change every count it took part in.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select, update
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
    OrganisationContact,
    Person,
    PersonStatus,
    table_of,
)
from crm_core.relation_models import Relation
from crm_core.services import (
    audit,
    contacts,
    followups,
    interactions,
    organisations,
    relations,
    tags,
)
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
            select(Person).where(col(Person.merged_into_id) == person.id).order_by(col(Person.id))
        )
    )
    return [person, *merged]


def export_person(unit: Unit, person_id: uuid.UUID | str) -> dict[str, Any]:
    """Everything tongxin holds about one person, as one JSON-ready document: the
    person (and records merged into it), categories, committees, organisations, their
    relationships (each seen from them) and tags,
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
                    select(col(InteractionParticipant.interaction_id)).where(
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
        "relations": [relations.relation_json(v) for v in relations.relations_of(unit, person.id)],
        "tags": tags.person_tags(unit, person.id),
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


# What may separate the digits of a phone number as people type it (phones.py's set).
_SEP = r"[\s\-–—()（）.·/]{0,2}"


def _phone_pattern(digits: str) -> str:
    # The digits with anything people put between them, after +86 / 0086 / 86 if
    # written, and not inside a longer number.
    prefix = r"(?<!\d)(?:(?:\+|00)?86" + _SEP + ")?"
    return prefix + _SEP.join(re.escape(d) for d in digits) + r"(?!\d)"


def identifying_pattern(people: list[Person]) -> re.Pattern[str] | None:
    """One pattern matching the name, phone numbers and e-mail addresses of these
    records (a person and their merged duplicates) as they may appear inside free text:
    names of two characters or more, e-mails in any case, phones with or without
    separators, +86, or (landlines) the area code. None when there is nothing to look for.
    """
    parts: set[str] = set()
    for p in people:
        if p.name and len(p.name.strip()) >= 2 and p.name != ANONYMOUS:
            parts.add(re.escape(p.name.strip()))
        if p.email and p.email.strip():
            parts.add("(?i:" + re.escape(p.email.strip()) + ")")
        numbers = {p.mobile or "", *(p.phones or []), *(p.phone_digits or "").split()}
        for raw in numbers:
            digits = re.sub(r"\D", "", raw)
            if digits.startswith("86") and len(digits) == 13:
                digits = digits[2:]
            if len(digits) < 7:
                continue
            parts.add(_phone_pattern(digits))
            if digits.startswith("0") and len(digits) >= 10:
                # A landline is often written without its area code (3 or 4 digits).
                area = 3 if digits[1] in "12" else 4
                parts.add(_phone_pattern(digits[area:]))
    if not parts:
        return None
    # Longest first, so that a name inside a longer one is not replaced half-way.
    return re.compile("|".join(sorted(parts, key=len, reverse=True)))


def replace_text(value: Any, pattern: re.Pattern[str], text: str = ANONYMOUS) -> Any:
    """``value`` (a string or a JSON document) with every match of ``pattern`` inside
    its strings, at any depth, replaced by ``text``."""
    if isinstance(value, str):
        return pattern.sub(text, value)
    if isinstance(value, dict):
        return {k: replace_text(v, pattern, text) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_text(v, pattern, text) for v in value]
    return value


def _matches(value: Any, pattern: re.Pattern[str]) -> set[str]:
    """The texts ``pattern`` finds in the strings of ``value`` (at any depth)."""
    if isinstance(value, str):
        return {m.group(0) for m in pattern.finditer(value)}
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*(_matches(inner, pattern) for inner in value))
    return set()


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
    table = table_of(AuditLog)
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


def _redact_text(unit: Unit, where: ColumnElement[bool], pattern: re.Pattern[str]) -> int:
    """Replace what ``pattern`` finds inside the audit entries chosen by ``where`` (the
    rest of each value stays); how many entries changed.

    SQLite: the program rewrites the entries itself (the trigger lets its own connection
    through, :func:`crm_core.db.audit_redaction`). PostgreSQL: through the SECURITY
    DEFINER function ``tongxin_redact_audit_text`` (migration 0005) with the exact texts
    found."""
    session = unit.session
    session.flush()
    table = table_of(AuditLog)
    rows = session.execute(
        select(table.c.id, table.c.entity, table.c.entity_id, table.c.before, table.c.after).where(
            where
        )
    ).all()
    hits = []
    for row in rows:
        found = _matches(row.before, pattern) | _matches(row.after, pattern)
        if found:
            hits.append((row, found))
    if not hits:
        return 0
    if session.get_bind().dialect.name == "sqlite":
        with db.audit_redaction():
            for row, _found in hits:
                session.execute(
                    update(table)
                    .where(table.c.id == row.id)
                    .values(
                        before=replace_text(row.before, pattern),
                        after=replace_text(row.after, pattern),
                    )
                )
        return len(hits)
    by_entity: dict[str, tuple[set[str], set[str]]] = {}
    for row, found in hits:
        ids, texts = by_entity.setdefault(row.entity, (set(), set()))
        ids.add(row.entity_id)
        texts.update(found)
    changed = 0
    for entity, (ids, texts) in sorted(by_entity.items()):
        # Longest first, so a phone is replaced whole before a shorter text inside it.
        needles = sorted((t for t in texts if len(t) >= 2), key=len, reverse=True)
        if not needles:
            continue
        changed += int(
            session.scalar(
                select(func.tongxin_redact_audit_text(entity, sorted(ids), needles, ANONYMOUS))
            )
            or 0
        )
    return changed


@dataclass
class Anonymised:
    """What :func:`anonymise` changed: the person, how many records of each kind had
    the person's name, phone or e-mail replaced, and how many audit entries."""

    person: Person
    records: int = 0
    interactions: int = 0
    follow_ups: int = 0
    other_records: int = 0
    audit_entries: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _their_interactions(unit: Unit, ids: list[uuid.UUID]) -> list[Interaction]:
    return list(
        unit.session.scalars(
            select(Interaction)
            .where(
                col(Interaction.id).in_(
                    select(col(InteractionParticipant.interaction_id)).where(
                        col(InteractionParticipant.person_id).in_(ids)
                    )
                )
            )
            .order_by(col(Interaction.id))
        )
    )


def _set(obj: Any, attr: str, value: Any) -> bool:
    if getattr(obj, attr) == value:
        return False
    setattr(obj, attr, value)
    return True


def anonymise(unit: Unit, person_id: uuid.UUID | str) -> Anonymised:
    """Anonymise one person (see the module's documentation for what is kept, what is
    replaced and what remains). Administrators only; audited as ``anonymise``."""
    authz.require_admin(unit, _("anonymise a person"))
    people = _the_person_and_duplicates(unit, person_id)
    person = people[0]
    ids = [p.id for p in people]
    # Read before the person's own fields are cleared: what to look for elsewhere.
    pattern = identifying_pattern(people)
    full, initials = pinyin.name_pinyin(ANONYMOUS)
    today = clock.today(unit.config.tz)
    for p in people:
        p.name, p.name_pinyin, p.name_initials = ANONYMOUS, full, initials
        p.mobile, p.phones, p.phone_digits = None, [], ""
        p.email = p.address = p.employer = p.title = p.notes = None
        p.birth_month = None
        p.extra = {"anonymised_on": today.isoformat()}
    result = Anonymised(person, records=len(ids))

    def scrub(obj: Any, *attrs: str) -> bool:
        if pattern is None:
            return False
        changed = False
        for attr in attrs:
            value = getattr(obj, attr)
            if value is not None:
                changed |= _set(obj, attr, replace_text(value, pattern))
        return changed

    talks = _their_interactions(unit, ids)
    others = {
        row.interaction_id
        for row in unit.session.scalars(
            select(InteractionParticipant).where(
                col(InteractionParticipant.interaction_id).in_([i.id for i in talks]),
                col(InteractionParticipant.person_id).is_not(None),
                ~col(InteractionParticipant.person_id).in_(ids),
            )
        )
    }
    for i in talks:
        changed = scrub(i, "summary", "location", "cancel_reason", "data")
        if i.id not in others:
            # Only they took part: the notes were about them.
            changed |= bool(i.notes) and _set(i, "notes", ANONYMOUS)
        else:
            changed |= scrub(i, "notes")
        # Calendars show them by name ("With: …"): the event changed for every phone
        # and CalDAV server, so its SEQUENCE goes up (RFC 5545) and they update it.
        i.sequence += 1
        result.interactions += int(changed)
    talk_ids = [i.id for i in talks]
    raised = list(
        unit.session.scalars(
            select(FollowUp)
            .where(
                or_(
                    col(FollowUp.person_id).in_(ids),
                    col(FollowUp.interaction_id).in_(talk_ids) if talk_ids else false(),
                )
            )
            .order_by(col(FollowUp.id))
        )
    )
    for f in raised:
        changed = scrub(f, "title", "response")
        if f.person_id in ids:
            changed |= bool(f.detail) and _set(f, "detail", ANONYMOUS)
        else:
            changed |= scrub(f, "detail")
        result.follow_ups += int(changed)
    for row in unit.session.scalars(select(Assignment).where(col(Assignment.contact_id).in_(ids))):
        result.other_records += int(scrub(row, "notes", "snooze_reason"))
    for link in unit.session.scalars(
        select(OrganisationContact).where(col(OrganisationContact.person_id).in_(ids))
    ):
        result.other_records += int(scrub(link, "role"))
    for rel in unit.session.scalars(  # their relationships' notes (issue 18)
        select(Relation).where(
            or_(col(Relation.person_id).in_(ids), col(Relation.other_id).in_(ids))
        )
    ):
        result.other_records += int(scrub(rel, "notes"))
    unit.session.flush()
    redacted = _redact(unit, "person", [str(i) for i in ids], PERSONAL_KEYS)
    alone = [str(i.id) for i in talks if i.id not in others]
    redacted += _redact(unit, "interaction", alone, ("notes",))
    about = [str(f.id) for f in raised if f.person_id in ids]
    redacted += _redact(unit, "follow_up", about, ("detail",))
    if pattern is not None:
        # Every entry of every record touched: the person's (and the links hanging off
        # them), their interactions, participations, follow-ups and assignments.
        where = audit.about_person(unit, person.id)
        if raised:
            where = or_(
                where,
                (col(AuditLog.entity) == "follow_up")
                & col(AuditLog.entity_id).in_([str(f.id) for f in raised]),
            )
        redacted += _redact_text(unit, where, pattern)
    result.audit_entries = redacted
    result.counts = {
        "records": len(ids),
        "interactions": result.interactions,
        "follow_ups": result.follow_ups,
        "other_records": result.other_records,
        "audit_entries_redacted": redacted,
    }
    unit.session.add(
        AuditLog(
            actor_id=unit.actor.id if unit.actor else None,
            actor=unit.actor_name,
            action="anonymise",
            entity="person",
            entity_id=str(person.id),
            after=dict(result.counts),
        )
    )
    unit.session.flush()
    return result


def anonymise_person(unit: Unit, person_id: uuid.UUID | str) -> Person:
    """Anonymise one person (see :func:`anonymise`); the anonymised record."""
    return anonymise(unit, person_id).person
