"""The hook implementations of union_liaison (re-exported by the package)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crm_core import api
from crm_core.api import (
    N_,
    FollowUpDraft,
    Interaction,
    InteractionStatus,
    KindSpec,
    Rsvp,
    Unit,
    ValidationError,
)

from . import services
from .kinds import KINDS, BriefingFields, GatheringFields, OrgLiaisonFields

if TYPE_CHECKING:
    from crm_core.api import DemoContext


@api.hookimpl
def register_kinds(register: Callable[[KindSpec], None]) -> None:
    """联谊交流 (org_liaison), 宣讲通报 (briefing) and 联谊活动 (gathering)."""
    for spec in KINDS:
        register(spec)


@api.hookimpl
def validate_interaction(unit: Unit, interaction: Interaction, kind: KindSpec) -> None:
    """A liaison names an existing organisation (stored as its id, whatever name or id
    was given); a done briefing names the people briefed."""
    # Compare schemas, not codes: if another plugin registered a kind of the same code
    # first, that kind is not ours to check.
    if kind.schema is OrgLiaisonFields:
        # The kind's schema has made it a string; "" (no such organisation) if absent.
        ref = interaction.data.get("organisation", "")
        org = services.organisation_of(unit, ref)
        if ref != str(org.id):
            # A new dict, so the ORM sees the JSON column change.
            interaction.data = {**interaction.data, "organisation": str(org.id)}
    elif kind.schema is BriefingFields and interaction.status is InteractionStatus.done:
        who = api.participants_of(unit, interaction.id)
        if not any(p.person_id for p in who):
            raise ValidationError.one("people", [], N_("a briefing names the people briefed"))


@api.hookimpl
def interaction_saved(unit: Unit, interaction: Interaction, created: bool) -> None:
    """People on a planned gathering without an answer yet are invited (RSVP "invited")."""
    spec = unit.kinds.get(interaction.kind)
    if spec is None or spec.schema is not GatheringFields:
        return
    if interaction.status is not InteractionStatus.planned:
        return
    for p in api.participants_of(unit, interaction.id):
        if p.person_id is not None and p.rsvp is None:
            api.set_participation(unit, interaction.id, person_id=p.person_id, rsvp=Rsvp.invited)


@api.hookimpl
def collect_follow_ups(
    unit: Unit, interaction: Interaction, kind: KindSpec
) -> list[FollowUpDraft] | None:
    """Each concern an organisation raised in a done liaison is followed up."""
    if kind.schema is not OrgLiaisonFields:
        return None
    concerns = interaction.data.get("concerns") or []
    if not concerns:
        return None
    org = api.get_organisation(unit, interaction.data["organisation"])
    return [FollowUpDraft(title=c, detail=f"{org.name}反映：{c}") for c in concerns]


@api.hookimpl
def register_reports(register: Callable[[Any], None]) -> None:
    """``briefings`` (港澳委员通报会情况, per document) and ``gatherings`` (联谊活动出席情况)."""
    from .reports import REPORTS

    for spec in REPORTS:
        register(spec)


@api.hookimpl
def register_commands(cli: Any) -> None:
    """`tongxin briefings` and `tongxin gathering`."""
    from .cli import add_commands

    add_commands(cli)


@api.hookimpl
def populate_demo(unit: Unit, demo: DemoContext) -> None:
    """The democratic parties and the federation (if the demo has none), a year of
    liaison with them, two briefings of the Hong Kong and Macao members, and last
    year's and this year's 中秋联谊会."""
    from .demo import populate

    populate(unit, demo)
