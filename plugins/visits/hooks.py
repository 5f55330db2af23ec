"""The hook implementations of the visits plugin: kinds, county check, follow-ups."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta

from crm_core import api
from crm_core.api import (
    N_,
    FollowUpDraft,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    KindSpec,
    Unit,
    ValidationError,
    hookimpl,
    participants_of,
)

from .schema import INVITATION, VISIT, VisitFields


@hookimpl
def register_reports(register: Callable[[api.ReportSpec], None]) -> None:
    """走访约请统计 (``visits``): visits and invitations per county and month."""
    from .report import REPORT

    register(REPORT)


@hookimpl
def register_kinds(register: Callable[[KindSpec], None]) -> None:
    """走访看望 and 约请上门 / 邀请参加视察调研."""
    register(VISIT)
    register(INVITATION)


def _ours(kind: KindSpec) -> bool:
    # Compare the schema, not the code: if another plugin registered "visit" first,
    # its kind is not ours to check.
    return kind.schema is VisitFields


@hookimpl
def validate_interaction(unit: Unit, interaction: Interaction, kind: KindSpec) -> None:
    """Check ``data.county`` against the configured regions and store it as the code.

    A county given as a label (宝应县, Baoying County) is stored as its code; one that
    is not a configured region is refused naming ``data.county`` and the value. The
    interaction's region is the county when it has none; a region that names another
    place is refused. A cancellation is never refused (the config may have changed
    since the visit was planned).
    """
    if not _ours(kind) or interaction.status is InteractionStatus.cancelled:
        return
    given = interaction.data.get("county")
    if not given:
        return
    regions = unit.config.vocab["regions"]
    term = regions.resolve(str(given))
    if term is None:
        known = "、".join(f"{t.zh} ({t.code})" for t in regions)
        raise ValidationError.one(
            "data.county", given, N_("not one of the configured regions: {known}"), known=known
        )
    if interaction.region and interaction.region != term.code:
        raise ValidationError.one(
            "data.county",
            given,
            N_("the interaction's region is {region!r}, not {code!r}"),
            region=interaction.region,
            code=term.code,
        )
    if interaction.region is None:
        interaction.region = term.code
    if given != term.code:
        # A new dict, so the change of the JSON column is seen and saved.
        interaction.data = {**interaction.data, "county": term.code}


def _raiser(parts: list[InteractionParticipant], role: str) -> uuid.UUID | None:
    """The visited person (the first with the kind's person role, else the first person)."""
    people = [p for p in parts if p.person_id is not None]
    chosen = next((p for p in people if p.role == role), people[0] if people else None)
    return chosen.person_id if chosen else None


def _owner(unit: Unit, parts: list[InteractionParticipant], role: str) -> uuid.UUID | None:
    """Who owns the follow-ups: the acting account if it made the visit, otherwise the
    first visitor (by username, so the choice never depends on the database)."""
    visitors = [p.account_id for p in parts if p.account_id is not None and p.role == role]
    if not visitors:
        return None  # the core's default: the acting account
    if unit.actor is not None and unit.actor.id in visitors:
        return unit.actor.id
    accounts = [api.find_account(unit, a) for a in visitors]
    return min((a for a in accounts if a is not None), key=lambda a: a.username).id


def raised_on(unit: Unit, interaction: Interaction) -> date:
    """The day a concern was raised: the visit's day in the office's zone, or today for
    a visit completed before its planned start."""
    today = api.today(unit.config.tz)
    return min(interaction.start_at.astimezone(unit.config.tz).date(), today)


@hookimpl
def collect_follow_ups(
    unit: Unit, interaction: Interaction, kind: KindSpec
) -> list[FollowUpDraft] | None:
    """One follow-up per concern raised in a done visit or invitation.

    Raised by the visited person (the first one, if several), owned by the visitor
    (the acting account if it is one of them), due ``follow_up_days`` (config) after
    the day of the visit: the member raised the concern then, not when it was logged.
    """
    if not _ours(kind) or interaction.status is not InteractionStatus.done:
        return None
    concerns = [c for c in interaction.data.get("concerns") or [] if c]
    if not concerns:
        return None
    parts = participants_of(unit, interaction.id)
    owner = _owner(unit, parts, kind.account_role)
    day = raised_on(unit, interaction)
    occasion = interaction.data.get("occasion")
    detail = f"{day.isoformat()} {kind.zh}" + (f"（{occasion}）" if occasion else "")
    return [
        FollowUpDraft(
            title=concern,
            detail=detail,
            person_id=_raiser(parts, kind.person_role),
            owner_id=owner,
            due_on=day + timedelta(days=unit.config.follow_up_days),
        )
        for concern in concerns
    ]
