"""The agenda (日程): interactions between two moments, and counts of work by kind.

What a calendar view, a dashboard's "today / this week" and a monthly tally read. Every
front end asks these questions the same way, so they live here and not in a screen.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import col

from crm_core import authz
from crm_core.errors import ValidationError
from crm_core.models import Account, Interaction, InteractionParticipant, InteractionStatus, Person
from crm_core.unit import Unit


@dataclass
class AgendaPage:
    """Interactions in a time range, earliest first, with the count of all that match."""

    items: list[Interaction]
    total: int


def _range(start: datetime, end: datetime) -> None:
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise ValidationError.one(name, value.isoformat(), "the time has no zone")
    if end < start:
        raise ValidationError.one("end", end.isoformat(), "ends before it starts")


def between(
    unit: Unit,
    start: datetime,
    end: datetime,
    *,
    statuses: Iterable[InteractionStatus | str] | None = None,
    kinds: list[str] | None = None,
    limit: int = 200,
) -> AgendaPage:
    """Interactions starting in ``[start, end)`` (aware datetimes), earliest first: at
    most ``limit`` of them, and how many match in all. ``statuses`` (planned, done,
    cancelled) and ``kinds`` narrow the result; by default cancelled work is left out."""
    _range(start, end)
    wanted = (
        [InteractionStatus(s) for s in statuses]
        if statuses is not None
        else [InteractionStatus.planned, InteractionStatus.done]
    )
    conds = [
        col(Interaction.status).in_(wanted),
        col(Interaction.start_at) >= start,
        col(Interaction.start_at) < end,
        *authz.interaction_scope(unit),  # county staff: their region's work only
    ]
    if kinds:
        conds.append(col(Interaction.kind).in_(kinds))
    total = unit.session.scalar(select(func.count()).select_from(Interaction).where(*conds)) or 0
    stmt = (
        select(Interaction)
        .where(*conds)
        .order_by(col(Interaction.start_at), col(Interaction.id))
        .limit(limit)
    )
    return AgendaPage(list(unit.session.scalars(stmt)), total)


def counts_by_kind(
    unit: Unit,
    start: datetime,
    end: datetime,
    *,
    status: InteractionStatus | str = InteractionStatus.done,
) -> dict[str, int]:
    """How many interactions of each kind started in ``[start, end)`` with ``status``
    (done by default): the "this month's work" tally. Kinds with none are absent."""
    _range(start, end)
    stmt = (
        select(Interaction.kind, func.count())
        .where(
            col(Interaction.status) == InteractionStatus(status),
            col(Interaction.start_at) >= start,
            col(Interaction.start_at) < end,
            *authz.interaction_scope(unit),
        )
        .group_by(Interaction.kind)
    )
    return {kind: int(n) for kind, n in unit.session.execute(stmt)}


def names_of(unit: Unit, interaction_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The names of everyone taking part in each of ``interaction_ids`` (people in
    pinyin order, then accounts), in two queries whatever the count: for lists that show
    "who" beside each line."""
    ids = list(dict.fromkeys(interaction_ids))
    out: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
    if not ids:
        return out
    people = (
        select(InteractionParticipant.interaction_id, Person.name)
        .join(Person, col(Person.id) == col(InteractionParticipant.person_id))
        .where(col(InteractionParticipant.interaction_id).in_(ids))
        .order_by(col(Person.name_pinyin))
    )
    accounts = (
        select(InteractionParticipant.interaction_id, Account.display_name)
        .join(Account, col(Account.id) == col(InteractionParticipant.account_id))
        .where(col(InteractionParticipant.interaction_id).in_(ids))
        .order_by(col(Account.display_name))
    )
    for stmt in (people, accounts):
        for iid, name in unit.session.execute(stmt):
            out[iid].append(name)
    return out
