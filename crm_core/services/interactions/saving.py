"""What every save of an interaction goes through: one transaction, the kind's schema,
the participants and times checked, the plugins' ``validate_interaction`` and
``interaction_saved`` hooks; and reading one interaction to change it."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import select
from sqlmodel import col

from crm_core import authz, clock, validation
from crm_core.errors import ValidationError
from crm_core.i18n import N_
from crm_core.kinds import FollowUpDraft, KindSpec
from crm_core.models import (
    Account,
    Interaction,
    InteractionParticipant,
    Person,
    Rsvp,
)
from crm_core.services._common import as_uuid, fetch
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


def require_kind(unit: Unit, code: str, *, field: str = "kind") -> KindSpec:
    """The registered kind ``code``, or a ValidationError on ``field`` that says why
    there is none: the plugin it comes from failed to load (naming the plugin and its
    error), is disabled or is not installed; or the code is unknown (listing the
    registered kinds and any plugin marked failed)."""
    spec = unit.kinds.get(code)
    if spec is not None:
        return spec
    missing = unit.plugins.missing_kind(code)
    if missing is not None:
        plugin, state, error = missing
        if state == "failed":
            raise ValidationError.one(
                field,
                code,
                N_("kind {kind} comes from the plugin {plugin}, which failed to load: {error}"),
                kind=code,
                plugin=plugin,
                error=error or "?",
            )
        if state == "disabled":
            raise ValidationError.one(
                field,
                code,
                N_("kind {kind} comes from the plugin {plugin}, which is disabled in config"),
                kind=code,
                plugin=plugin,
            )
        raise ValidationError.one(
            field,
            code,
            N_("kind {kind} comes from the plugin {plugin}, which is not installed or not loaded"),
            kind=code,
            plugin=plugin,
        )
    known = ", ".join(sorted(unit.kinds))
    failed = unit.plugins.failed_plugins()
    if failed:
        raise ValidationError.one(
            field,
            code,
            N_("unknown kind; registered kinds: {known}; plugins that failed to load: {failed}"),
            known=known,
            failed=", ".join(failed),
        )
    raise ValidationError.one(
        field, code, N_("unknown kind; registered kinds: {known}"), known=known
    )


_kind = require_kind


def _participants(
    unit: Unit,
    spec: KindSpec,
    people: Sequence[uuid.UUID | str],
    accounts: Sequence[uuid.UUID | str],
    participants: Sequence[Participant],
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
    # Fail closed: a check that crashed did not pass (PluginFailed refuses the write).
    unit.plugins.call_validating(
        "validate_interaction",
        unit=unit,
        interaction=interaction,
        kind=spec,
    )
    if became_done:
        _raise_follow_ups(unit, interaction, spec)
    # Each reaction runs in its own savepoint: one that fails leaves nothing behind.
    unit.plugins.call_collecting(
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
    for _plugin, result in unit.plugins.call_collecting(
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


def participants_of(unit: Unit, interaction_id: uuid.UUID | str) -> list[InteractionParticipant]:
    """Everyone taking part in an interaction (NotFound for a malformed id)."""
    wanted = as_uuid(interaction_id, "interaction")
    return list(
        unit.session.scalars(
            select(InteractionParticipant)
            .where(col(InteractionParticipant.interaction_id) == wanted)
            .order_by(col(InteractionParticipant.account_id).is_(None), InteractionParticipant.role)
        )
    )
