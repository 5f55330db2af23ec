"""The hook implementations of the heart-talks plugin: the kind, who may talk with whom,
the follow-ups of what was agreed, and the coverage report."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from crm_core import api
from crm_core.api import (
    N_,
    FieldError,
    FollowUpDraft,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    KindSpec,
    ReportSpec,
    Role,
    Unit,
    ValidationError,
    describe,
    hookimpl,
    participants_of,
)

from .report import PARTY_CODE, is_non_party_member, talk_report
from .schema import HEART_TALK, HeartTalkFields

# Party-group members, office leaders and special-committee leaders have the role
# "leader"; the general office ("admin") may hold a talk too.
TALKER_ROLES = (Role.leader, Role.admin)


@hookimpl
def register_kinds(register: Callable[[KindSpec], None]) -> None:
    """谈心谈话, confidential by default."""
    register(HEART_TALK)


@hookimpl
def register_reports(register: Callable[[ReportSpec], None]) -> None:
    """``talks`` (谈心谈话覆盖情况): per special committee, the non-party members
    talked with in the period, the share, and the names not yet talked with."""
    register(
        ReportSpec(
            "talks",
            "谈心谈话覆盖情况",
            "Heart-to-heart talk coverage",
            talk_report,
            "各专委会党外委员本期谈心谈话人数、覆盖率和尚未谈话名单",
        )
    )


def _ours(kind: KindSpec) -> bool:
    # Compare the schema, not the code: a "heart_talk" another plugin registered first
    # is not ours to check.
    return kind.schema is HeartTalkFields


@hookimpl
def validate_interaction(unit: Unit, interaction: Interaction, kind: KindSpec) -> None:
    """Refuse a heart-to-heart talk unless every talker is an account of a leader
    (role ``leader`` or ``admin``) and every person is a non-party member of the
    committee (a member or standing member whose party is not the CPC).

    Every fault is named: ``accounts`` with the username, ``people`` with the person
    (talkers first, then people). A cancellation is never refused: someone may have
    joined the party since.
    """
    if not _ours(kind) or interaction.status is InteractionStatus.cancelled:
        return
    parts = participants_of(unit, interaction.id)
    errors: list[FieldError] = []
    talkers = [p for p in parts if p.account_id is not None and p.role == kind.account_role]
    if not talkers:
        errors.append(
            FieldError.of(
                "accounts",
                [],
                N_("name the talker: a party-group member, office or committee leader"),
            )
        )
    for p in talkers:
        account = api.find_account(unit, p.account_id)
        if account is not None and account.role not in TALKER_ROLES:
            errors.append(
                FieldError.of(
                    "accounts",
                    account.username,
                    N_(
                        "{name} has the role {role!r}: heart-to-heart talks are held by "
                        "party-group members, office leaders and special-committee leaders "
                        "(role leader or admin)"
                    ),
                    name=account.display_name,
                    role=account.role.value,
                )
            )
    people = [p for p in parts if p.person_id is not None]
    if not people:
        errors.append(FieldError.of("people", [], N_("name the member talked with")))
    for p in people:
        person = api.find_person(unit, p.person_id)
        if person is None or is_non_party_member(person):
            continue
        reason = (
            N_(
                "{name} is a CPC member: heart-to-heart talks are held with non-party "
                "members (党外委员)"
            )
            if person.party == PARTY_CODE
            else N_(
                "{name} is not a member of the committee: heart-to-heart talks are held with "
                "non-party members (党外委员)"
            )
        )
        errors.append(FieldError.of("people", describe(person), reason, name=person.name))
    if errors:
        raise ValidationError(errors)


def _owner(unit: Unit, parts: list[InteractionParticipant], role: str) -> uuid.UUID | None:
    """The talker who follows up: the acting account if it held the talk, otherwise
    the first talker by username (never dependent on the database's order)."""
    talkers = [p.account_id for p in parts if p.account_id is not None and p.role == role]
    if not talkers:
        return None
    if unit.actor is not None and unit.actor.id in talkers:
        return unit.actor.id
    accounts = [api.find_account(unit, a) for a in talkers]
    return min((a for a in accounts if a is not None), key=lambda a: a.username).id


@hookimpl
def collect_follow_ups(
    unit: Unit, interaction: Interaction, kind: KindSpec
) -> list[FollowUpDraft] | None:
    """One follow-up per item agreed in a done talk: raised by the member, owned by the
    talker, due ``follow_up_days`` (config) after the day of the talk.

    Follow-ups are not confidential: their title is the agreed item as written, and
    their detail only says it was agreed in a talk on that day, nothing of the notes.
    """
    if not _ours(kind) or interaction.status is not InteractionStatus.done:
        return None
    agreed = [a for a in interaction.data.get("agreed") or [] if a]
    if not agreed:
        return None
    parts = participants_of(unit, interaction.id)
    member = next(
        (p.person_id for p in parts if p.person_id is not None and p.role == kind.person_role),
        next((p.person_id for p in parts if p.person_id is not None), None),
    )
    day = min(interaction.start_at.astimezone(unit.config.tz).date(), api.today(unit.config.tz))
    return [
        FollowUpDraft(
            title=item,
            detail=f"{day.isoformat()} 谈心谈话商定事项",
            person_id=member,
            owner_id=_owner(unit, parts, kind.account_role),
            due_on=day + timedelta(days=unit.config.follow_up_days),
        )
        for item in agreed
    ]
