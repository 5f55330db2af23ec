"""Interactions: logging done work, scheduling planned work, and a person's timeline.

One interaction has many participants: people (the contacts) and accounts (the
office's users). Its kind, registered by a plugin, brings a schema for its own fields.
Plugins see every save through ``validate_interaction`` and ``interaction_saved``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import and_, or_, select
from sqlmodel import col

from crm_core import authz, clock, validation
from crm_core.errors import NotFound, ValidationError
from crm_core.i18n import N_
from crm_core.kinds import FollowUpDraft, KindSpec
from crm_core.models import (
    Account,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Person,
    Rsvp,
)
from crm_core.services._common import as_uuid, check_version, clean_text, code_of, fetch
from crm_core.unit import Unit

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Participant:
    """Who takes part: exactly one of ``person_id`` and ``account_id``; ``role`` defaults
    to the kind's person or account role."""

    person_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    role: str | None = None
    rsvp: Rsvp | None = None
    attended: bool | None = None


def _atomic(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a write in its own savepoint: when it is refused (by a schema, a rule or a
    plugin), everything it wrote is undone even if the caller catches the error and
    goes on to commit the rest of its unit."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        unit = args[0]
        assert isinstance(unit, Unit)
        with unit.savepoint():
            return fn(*args, **kwargs)

    return wrapper


def _kind(unit: Unit, code: str) -> KindSpec:
    spec = unit.kinds.get(code)
    if spec is None:
        known = ", ".join(sorted(unit.kinds))
        raise ValidationError.one(
            "kind", code, N_("unknown kind; registered kinds: {known}"), known=known
        )
    return spec


def _participants(
    unit: Unit,
    spec: KindSpec,
    people: list[uuid.UUID | str],
    accounts: list[uuid.UUID | str],
    participants: list[Participant],
) -> list[Participant]:
    out = list(participants)
    out += [Participant(person_id=as_uuid(p, "person")) for p in people]
    out += [Participant(account_id=as_uuid(a, "account")) for a in accounts]
    seen: set[tuple[Any, Any]] = set()
    result = []
    for i, p in enumerate(out):
        if (p.person_id is None) == (p.account_id is None):
            raise ValidationError.one(
                f"participants[{i}]", p, N_("name exactly one person or account")
            )
        if p.person_id is not None:
            person = unit.session.get(Person, p.person_id)
            if person is None or person.status == "merged":
                raise ValidationError.one("people", str(p.person_id), N_("no such person"))
            authz.check_person(unit, person)
        if p.account_id is not None and unit.session.get(Account, p.account_id) is None:
            raise ValidationError.one("accounts", str(p.account_id), N_("no such account"))
        key = (p.person_id, p.account_id)
        if key in seen:
            continue
        seen.add(key)
        role = p.role or (spec.person_role if p.person_id else spec.account_role)
        result.append(Participant(p.person_id, p.account_id, role, p.rsvp, p.attended))
    return result


def _times(
    spec: KindSpec, start: datetime | None, end: datetime | None, *, default_now: bool
) -> tuple[datetime, datetime | None]:
    if start is None:
        if not default_now:
            raise ValidationError.one("start", None, N_("a scheduled item needs a start time"))
        start = clock.now()
    if start.tzinfo is None:
        raise ValidationError.one("start", start.isoformat(), N_("the time has no zone"))
    # Years 1 or 9999 and local times the clocks skip are refused, never shifted.
    validation.check_moment("start", start)
    if end is None:
        end = start + timedelta(minutes=spec.default_duration_minutes)
    elif end.tzinfo is None:
        raise ValidationError.one("end", end.isoformat(), N_("the time has no zone"))
    validation.check_moment("end", end)
    if end < start:
        raise ValidationError.one("end", end.isoformat(), N_("ends before it starts"))
    # Stored in UTC; returning UTC too keeps the object the caller holds identical to
    # what a later read gives.
    return start.astimezone(UTC), end.astimezone(UTC)


def _notes(notes: str | None) -> str | None:
    """Notes as stored: Windows line ends made plain, surrounding white space dropped."""
    return notes.replace("\r\n", "\n").strip() or None if notes else None


def _save_hooks(
    unit: Unit, interaction: Interaction, spec: KindSpec, *, created: bool, became_done: bool
) -> None:
    unit.session.flush()
    unit.plugins.call(
        "validate_interaction",
        passthrough=(ValidationError,),
        unit=unit,
        interaction=interaction,
        kind=spec,
    )
    if became_done:
        _raise_follow_ups(unit, interaction, spec)
    # Each reaction runs in its own savepoint: one that fails leaves nothing behind.
    unit.plugins.call(
        "interaction_saved",
        passthrough=(ValidationError,),
        guard=unit.savepoint,
        unit=unit,
        interaction=interaction,
        created=created,
    )
    unit.session.flush()


def _raise_follow_ups(unit: Unit, interaction: Interaction, spec: KindSpec) -> None:
    # Deferred import: follow-ups and interactions refer to each other.
    from crm_core.services import followups

    drafts: list[FollowUpDraft] = []
    for _plugin, result in unit.plugins.call(
        "collect_follow_ups",
        passthrough=(ValidationError,),
        unit=unit,
        interaction=interaction,
        kind=spec,
    ):
        drafts += [d for d in result or [] if isinstance(d, FollowUpDraft)]
    if not drafts:
        return
    who = participants_of(unit, interaction.id)
    first_person = next((p.person_id for p in who if p.person_id), None)
    default_owner = unit.actor.id if unit.actor else None
    due = clock.today(unit.config.tz) + timedelta(days=unit.config.follow_up_days)
    for d in drafts:
        followups.raise_follow_up(
            unit,
            title=d.title,
            detail=d.detail,
            person_id=d.person_id or first_person,
            interaction_id=interaction.id,
            owner_id=d.owner_id or default_owner,
            due_on=d.due_on or due,
        )


def _create(
    unit: Unit,
    *,
    status: InteractionStatus,
    kind: str,
    start: datetime | None,
    end: datetime | None,
    people: list[uuid.UUID | str],
    accounts: list[uuid.UUID | str],
    participants: list[Participant],
    location: str | None,
    region: str | None,
    summary: str | None,
    notes: str | None,
    data: dict[str, Any] | None,
    confidential: bool | None,
    all_day: bool,
    series_id: uuid.UUID | None,
) -> Interaction:
    # Every text first: nothing else reads a value with control characters in it.
    validation.check_texts(
        {"kind": kind, "location": location, "region": region, "summary": summary, "notes": notes}
    )
    spec = _kind(unit, kind)
    clean = spec.validate_data(data or {}, context={"unit": unit})
    start, end = _times(spec, start, end, default_now=status is InteractionStatus.done)
    if status is InteractionStatus.done and start > clock.now() + timedelta(minutes=5):
        raise ValidationError.one(
            "start",
            start.isoformat(),
            N_("work logged as done cannot be in the future; schedule it"),
        )
    who = _participants(unit, spec, people, accounts, participants)
    if not who:
        raise ValidationError.one("people", [], N_("name at least one participant"))
    if (
        unit.actor is not None
        and status is InteractionStatus.done
        and not any(p.account_id for p in who)
    ):
        # Whoever logs a contact made it, unless they name who did.
        who.append(Participant(account_id=unit.actor.id, role=spec.account_role))
    interaction = Interaction(
        kind=spec.code,
        status=status,
        start_at=start,
        end_at=end,
        all_day=all_day,
        location=clean_text(location),
        region=authz.check_region(
            unit, code_of(unit.config.vocab["regions"], "region", region), spec.code
        ),
        summary=clean_text(summary),
        notes=_notes(notes),
        data=clean,
        confidential=spec.confidential if confidential is None else confidential,
        series_id=series_id,
        created_by_id=unit.actor.id if unit.actor else None,
    )
    unit.session.add(interaction)
    unit.session.flush()
    for p in who:
        unit.session.add(
            InteractionParticipant(
                interaction_id=interaction.id,
                person_id=p.person_id,
                account_id=p.account_id,
                role=p.role or "participant",
                rsvp=p.rsvp,
                attended=p.attended,
            )
        )
    _save_hooks(unit, interaction, spec, created=True, became_done=status is InteractionStatus.done)
    return interaction


@_atomic
def log_interaction(
    unit: Unit,
    *,
    kind: str,
    people: list[uuid.UUID | str] = (),  # type: ignore[assignment]
    accounts: list[uuid.UUID | str] = (),  # type: ignore[assignment]
    participants: list[Participant] = (),  # type: ignore[assignment]
    start: datetime | None = None,
    end: datetime | None = None,
    location: str | None = None,
    region: str | None = None,
    summary: str | None = None,
    notes: str | None = None,
    data: dict[str, Any] | None = None,
    confidential: bool | None = None,
    all_day: bool = False,
) -> Interaction:
    """Record work already done (status ``done``): ``start`` defaults to now, ``end`` to
    start plus the kind's duration. The acting account is added as a participant unless
    ``accounts`` names who did it. ``data`` is checked against the kind's schema and by
    every plugin's ``validate_interaction``; nothing is written if anything is refused."""
    return _create(
        unit,
        status=InteractionStatus.done,
        kind=kind,
        start=start,
        end=end,
        people=list(people),
        accounts=list(accounts),
        participants=list(participants),
        location=location,
        region=region,
        summary=summary,
        notes=notes,
        data=data,
        confidential=confidential,
        all_day=all_day,
        series_id=None,
    )


@_atomic
def schedule_interaction(
    unit: Unit,
    *,
    kind: str,
    start: datetime,
    people: list[uuid.UUID | str] = (),  # type: ignore[assignment]
    accounts: list[uuid.UUID | str] = (),  # type: ignore[assignment]
    participants: list[Participant] = (),  # type: ignore[assignment]
    end: datetime | None = None,
    location: str | None = None,
    region: str | None = None,
    summary: str | None = None,
    notes: str | None = None,
    data: dict[str, Any] | None = None,
    confidential: bool | None = None,
    all_day: bool = False,
    series_id: uuid.UUID | None = None,
) -> Interaction:
    """Put planned work on the calendar (status ``planned``); same checks as logging."""
    return _create(
        unit,
        status=InteractionStatus.planned,
        kind=kind,
        start=start,
        end=end,
        people=list(people),
        accounts=list(accounts),
        participants=list(participants),
        location=location,
        region=region,
        summary=summary,
        notes=notes,
        data=data,
        confidential=confidential,
        all_day=all_day,
        series_id=series_id,
    )


def get_interaction(unit: Unit, interaction_id: uuid.UUID | str) -> Interaction:
    """The interaction with this id (NotFound otherwise; PermissionDenied when it is
    outside the acting account's region)."""
    i = fetch(unit, Interaction, interaction_id, "interaction")
    authz.check_interaction(unit, i)
    return i


def _editable(unit: Unit, interaction_id: uuid.UUID | str) -> Interaction:
    i = fetch(unit, Interaction, interaction_id, "interaction")
    authz.check_interaction(unit, i, change=True)
    return i


@_atomic
def complete_interaction(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    *,
    summary: str | None = None,
    notes: str | None = None,
    data: dict[str, Any] | None = None,
    end: datetime | None = None,
    expected_version: int | None = None,
) -> Interaction:
    """Mark planned work as done, adding what happened. Adding notes or fields to a
    confidential record is for those who may read them."""
    validation.check_texts({"summary": summary, "notes": notes})
    i = _editable(unit, interaction_id)
    check_version(i, expected_version, "interaction")
    if (notes or data) and i.confidential:
        authz.check_notes(unit, i)
    if i.status is not InteractionStatus.planned:
        raise ValidationError.one(
            "status", i.status.value, N_("only planned work can be completed")
        )
    spec = _kind(unit, i.kind)
    if data is not None:
        i.data = spec.validate_data({**i.data, **data}, context={"unit": unit})
    i.status = InteractionStatus.done
    i.summary = clean_text(summary) or i.summary
    i.notes = _notes(notes) or i.notes
    if end is not None:
        i.start_at, i.end_at = _times(spec, i.start_at, end, default_now=False)
    i.sequence += 1
    _save_hooks(unit, i, spec, created=False, became_done=True)
    return i


@_atomic
def cancel_interaction(
    unit: Unit, interaction_id: uuid.UUID | str, *, reason: str | None = None
) -> Interaction:
    """Cancel planned work; it stays on record (and on calendars as cancelled)."""
    validation.check_texts({"reason": reason})
    i = _editable(unit, interaction_id)
    if i.status is not InteractionStatus.planned:
        raise ValidationError.one(
            "status", i.status.value, N_("only planned work can be cancelled")
        )
    i.status = InteractionStatus.cancelled
    i.cancel_reason = clean_text(reason)
    i.sequence += 1
    _save_hooks(unit, i, _kind(unit, i.kind), created=False, became_done=False)
    return i


@_atomic
def reschedule_interaction(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    *,
    start: datetime,
    end: datetime | None = None,
    location: str | None = None,
    expected_version: int | None = None,
) -> Interaction:
    """Move planned work to another time (and place); the duration is kept unless
    ``end`` is given."""
    validation.check_texts({"location": location})
    i = _editable(unit, interaction_id)
    check_version(i, expected_version, "interaction")
    if i.status is not InteractionStatus.planned:
        raise ValidationError.one(
            "status", i.status.value, N_("only planned work can be rescheduled")
        )
    spec = _kind(unit, i.kind)
    duration = (i.end_at - i.start_at) if i.end_at else None
    if end is None and duration is not None:
        end = start + duration
    i.start_at, i.end_at = _times(spec, start, end, default_now=False)
    if location is not None:
        i.location = clean_text(location)
    i.sequence += 1
    _save_hooks(unit, i, spec, created=False, became_done=False)
    return i


def participants_of(unit: Unit, interaction_id: uuid.UUID) -> list[InteractionParticipant]:
    """Everyone taking part in an interaction."""
    return list(
        unit.session.scalars(
            select(InteractionParticipant)
            .where(InteractionParticipant.interaction_id == interaction_id)
            .order_by(col(InteractionParticipant.account_id).is_(None), InteractionParticipant.role)
        )
    )


def can_read_notes(unit: Unit, interaction: Interaction) -> bool:
    """Whether the acting account may read the notes: anyone who may see an ordinary
    interaction; for a confidential one, only its participants and administrators
    (:func:`crm_core.authz.can_read_notes`)."""
    return authz.can_read_notes(unit, interaction)


def shown(unit: Unit, interaction: Interaction) -> authz.Shown:
    """What the acting account may see of the summary, notes and fields of an
    interaction (:func:`crm_core.authz.shown`): for a confidential one it may not read,
    only that it happened."""
    return authz.shown(unit, interaction)


def shown_all(unit: Unit, items: list[Interaction]) -> dict[uuid.UUID, authz.Shown]:
    """:func:`shown` for a list, by id, in one query."""
    return authz.shown_all(unit, items)


def read_notes(unit: Unit, interaction_id: uuid.UUID | str) -> str | None:
    """The notes of an interaction, or PermissionDenied for a confidential one the
    acting account may not read."""
    i = get_interaction(unit, interaction_id)
    authz.check_notes(unit, i)
    return i.notes


def timeline(
    unit: Unit,
    person_id: uuid.UUID | str,
    *,
    limit: int = 50,
    before: datetime | Interaction | None = None,
    kinds: list[str] | None = None,
) -> list[Interaction]:
    """A person's interactions of every kind, newest first (planned ones included).

    ``before`` pages on: the interactions after the given one in this order (pass the last
    one of the previous page), or those starting before a moment. Items that start at the
    same moment are ordered by id, so paging by item never skips or repeats one."""
    pid = as_uuid(person_id, "person")
    person = unit.session.get(Person, pid)
    if person is not None:
        authz.check_person(unit, person)
    stmt = (
        select(Interaction)
        .join(InteractionParticipant, col(InteractionParticipant.interaction_id) == Interaction.id)
        .where(InteractionParticipant.person_id == pid, *authz.interaction_scope(unit))
    )
    if isinstance(before, Interaction):
        stmt = stmt.where(
            or_(
                col(Interaction.start_at) < before.start_at,
                and_(col(Interaction.start_at) == before.start_at, col(Interaction.id) > before.id),
            )
        )
    elif before is not None:
        stmt = stmt.where(col(Interaction.start_at) < before)
    if kinds:
        stmt = stmt.where(col(Interaction.kind).in_(kinds))
    stmt = stmt.order_by(col(Interaction.start_at).desc(), col(Interaction.id)).limit(limit)
    return list(unit.session.scalars(stmt))


def interaction_json(
    unit: Unit, interaction: Interaction, *, shown: authz.Shown | None = None
) -> dict[str, Any]:
    """The stable JSON form of an interaction (docs/cli-json.md). Of a confidential one
    the unit may not read (:func:`crm_core.authz.shown`), only that it happened shows:
    ``summary``, ``notes`` and ``data`` are null and ``notes_hidden`` is true; kind,
    times, place, participants and status stay. ``shown`` passes a decision already
    taken for a whole list (:func:`crm_core.authz.shown_all`)."""
    seen = shown or authz.shown(unit, interaction)
    return {
        "id": str(interaction.id),
        "kind": interaction.kind,
        "status": interaction.status.value,
        "start": interaction.start_at.isoformat(),
        "end": interaction.end_at.isoformat() if interaction.end_at else None,
        "all_day": interaction.all_day,
        "location": interaction.location,
        "region": interaction.region,
        "summary": seen.summary,
        "notes": seen.notes,
        # Summary, notes and the kind's own fields (topics, what was agreed) of a
        # confidential record are hidden together.
        "notes_hidden": seen.hidden,
        "confidential": interaction.confidential,
        "data": None if seen.hidden else seen.data,
        "participants": [
            {
                "person_id": str(p.person_id) if p.person_id else None,
                "account_id": str(p.account_id) if p.account_id else None,
                "role": p.role,
                "rsvp": p.rsvp.value if p.rsvp else None,
                "attended": p.attended,
            }
            for p in participants_of(unit, interaction.id)
        ],
        "sequence": interaction.sequence,
        "version": interaction.version,
        "updated_at": interaction.updated_at.isoformat(),
    }


# -- participation: invitations, RSVP and attendance -----------------------------------


@dataclass(frozen=True)
class Participation:
    """One participant as a list shows them: a person or an account, the name to show,
    role, RSVP (None: not asked) and attendance (None: not recorded)."""

    person_id: uuid.UUID | None
    account_id: uuid.UUID | None
    name: str
    role: str
    rsvp: Rsvp | None
    attended: bool | None

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form."""
        return {
            "person_id": str(self.person_id) if self.person_id else None,
            "account_id": str(self.account_id) if self.account_id else None,
            "name": self.name,
            "role": self.role,
            "rsvp": self.rsvp.value if self.rsvp else None,
            "attended": self.attended,
        }


def _rsvp(value: Rsvp | str | None) -> Rsvp | None:
    if value is None:
        return None
    try:
        return Rsvp(value.strip() if isinstance(value, str) else value)
    except ValueError:
        allowed = ", ".join(r.value for r in Rsvp)
        raise ValidationError.one(
            "rsvp", value, N_("must be one of {allowed}"), allowed=allowed
        ) from None


def _open_for_participants(i: Interaction) -> None:
    if i.status is InteractionStatus.cancelled:
        raise ValidationError.one(
            "status", i.status.value, N_("a cancelled interaction's participants cannot change")
        )


@_atomic
def add_participants(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    *,
    people: list[uuid.UUID | str] = (),  # type: ignore[assignment]
    accounts: list[uuid.UUID | str] = (),  # type: ignore[assignment]
    role: str | None = None,
    rsvp: Rsvp | str | None = None,
    expected_version: int | None = None,
) -> list[InteractionParticipant]:
    """Add people and accounts to a planned or done interaction (an invitation list
    growing, someone who joined after all); those already taking part are skipped, their
    role and RSVP left as they are. ``role`` defaults to the kind's person or account
    role; ``rsvp`` (invited, accepted, declined) is given to everyone added.

    When anyone was added the interaction's ``sequence`` goes up (calendars notice the
    new attendee list) and plugins see the change through ``validate_interaction`` and
    ``interaction_saved``; a refusal writes nothing. Returns the rows added."""
    validation.check_texts({"role": role})
    i = _editable(unit, interaction_id)
    check_version(i, expected_version, "interaction")
    _open_for_participants(i)
    answer = _rsvp(rsvp)
    spec = _kind(unit, i.kind)
    wanted = _participants(unit, spec, list(people), list(accounts), [])
    present = {(p.person_id, p.account_id) for p in participants_of(unit, i.id)}
    added: list[InteractionParticipant] = []
    for p in wanted:
        if (p.person_id, p.account_id) in present:
            continue
        row = InteractionParticipant(
            interaction_id=i.id,
            person_id=p.person_id,
            account_id=p.account_id,
            role=clean_text(role) or p.role or "participant",
            rsvp=answer,
        )
        unit.session.add(row)
        added.append(row)
    if added:
        i.sequence += 1
        _save_hooks(unit, i, spec, created=False, became_done=False)
    return added


@_atomic
def remove_participants(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    *,
    people: list[uuid.UUID | str] = (),  # type: ignore[assignment]
    accounts: list[uuid.UUID | str] = (),  # type: ignore[assignment]
    expected_version: int | None = None,
) -> int:
    """Take people and accounts off an interaction (an invitation withdrawn); those not
    taking part are skipped. An interaction keeps at least one participant. Like adding,
    bumps ``sequence`` and runs the plugins' save hooks when anyone was removed. Returns
    how many were removed."""
    i = _editable(unit, interaction_id)
    check_version(i, expected_version, "interaction")
    _open_for_participants(i)
    gone_people = {as_uuid(p, "person") for p in people}
    gone_accounts = {as_uuid(a, "account") for a in accounts}
    rows = participants_of(unit, i.id)
    doomed = [
        r for r in rows
        if (r.person_id is not None and r.person_id in gone_people)
        or (r.account_id is not None and r.account_id in gone_accounts)
    ]  # fmt: skip
    if not doomed:
        return 0
    if len(doomed) == len(rows):
        raise ValidationError.one(
            "people",
            sorted(str(x) for x in gone_people | gone_accounts),
            N_("an interaction keeps at least one participant"),
        )
    for r in doomed:
        unit.session.delete(r)
    i.sequence += 1
    _save_hooks(unit, i, _kind(unit, i.kind), created=False, became_done=False)
    return len(doomed)


@_atomic
def set_participation(
    unit: Unit,
    interaction_id: uuid.UUID | str,
    *,
    person_id: uuid.UUID | str | None = None,
    account_id: uuid.UUID | str | None = None,
    rsvp: Rsvp | str | None = None,
    attended: bool | None = None,
) -> InteractionParticipant:
    """Record one participant's answer to an invitation and whether they came.

    Name exactly one of ``person_id`` (a merged record's old id is followed to the kept
    one) and ``account_id``; they must already take part (NotFound otherwise: invite
    them with :func:`add_participants`). ``rsvp`` is invited, accepted or declined and
    may change any number of times while the interaction is not cancelled.
    ``attended`` can be recorded once the interaction has begun (it is done, or its start
    has passed), never for a cancelled one. None leaves a value as it is.

    The attendee list itself does not change, so ``sequence`` stays and the save hooks
    are not called."""
    if (person_id is None) == (account_id is None):
        raise ValidationError.one(
            "person_id", person_id, N_("name exactly one person or account taking part")
        )
    i = _editable(unit, interaction_id)
    answer = _rsvp(rsvp)
    stmt = select(InteractionParticipant).where(InteractionParticipant.interaction_id == i.id)
    if person_id is not None:
        pid = as_uuid(person_id, "person")
        person = unit.session.get(Person, pid)
        seen = {pid}
        while person is not None and person.merged_into_id and person.merged_into_id not in seen:
            seen.add(person.merged_into_id)
            person = unit.session.get(Person, person.merged_into_id)
        who = f"person {person_id}"
        stmt = stmt.where(InteractionParticipant.person_id == (person.id if person else pid))
    else:
        who = f"account {account_id}"
        stmt = stmt.where(InteractionParticipant.account_id == as_uuid(account_id, "account"))  # type: ignore[arg-type]
    row = unit.session.scalars(stmt).one_or_none()
    if row is None:
        raise NotFound("participant", f"{who} in interaction {i.id}")
    if answer is None and attended is None:
        return row
    _open_for_participants(i)
    if attended is not None:
        begun = i.status is InteractionStatus.done or i.start_at <= clock.now()
        if not begun:
            raise ValidationError.one(
                "attended",
                attended,
                N_("attendance is recorded once the {kind} has begun (it starts {start})"),
                kind=i.kind,
                start=i.start_at.isoformat(),
            )
        row.attended = attended
    if answer is not None:
        row.rsvp = answer
    unit.session.flush()
    return row


def participation(unit: Unit, interaction_id: uuid.UUID | str) -> list[Participation]:
    """Everyone taking part in an interaction with the name to show: people in pinyin
    order, then accounts by display name."""
    i = get_interaction(unit, interaction_id)
    out: list[Participation] = []
    people = unit.session.execute(
        select(InteractionParticipant, Person)
        .join(Person, col(Person.id) == col(InteractionParticipant.person_id))
        .where(InteractionParticipant.interaction_id == i.id)
        .order_by(col(Person.name_pinyin), col(Person.id))
    )
    for p, person in people:
        out.append(Participation(p.person_id, None, person.name, p.role, p.rsvp, p.attended))
    accounts = unit.session.execute(
        select(InteractionParticipant, Account)
        .join(Account, col(Account.id) == col(InteractionParticipant.account_id))
        .where(InteractionParticipant.interaction_id == i.id)
        .order_by(col(Account.display_name), col(Account.id))
    )
    for p, account in accounts:
        out.append(
            Participation(None, p.account_id, account.display_name, p.role, p.rsvp, p.attended)
        )
    return out
