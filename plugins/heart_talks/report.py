"""Coverage of heart-to-heart talks (seed 二.5): for each special committee, which of
its non-party members have had a talk this year and which have not."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import col

from crm_core.errors import ValidationError
from crm_core.models import (
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Membership,
    Person,
    PersonCommittee,
    PersonStatus,
)
from crm_core.unit import Unit

from .schema import HEART_TALK

MEMBERSHIPS = (Membership.member, Membership.standing)
PARTY_CODE = "ccp"  # the party code of CPC members in config; everyone else is non-party


def is_non_party_member(person: Person) -> bool:
    """Whether ``person`` is a non-party member of the committee (党外委员): a member or
    standing member whose party is not the CPC (an unrecorded party counts as non-party)."""
    return person.membership in MEMBERSHIPS and person.party != PARTY_CODE


@dataclass(frozen=True)
class MemberTalks:
    """One non-party member of a committee and their talks in the year."""

    person_id: uuid.UUID
    name: str
    talks: int = 0
    last_talk: date | None = None

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form."""
        return {
            "id": str(self.person_id),
            "name": self.name,
            "talks": self.talks,
            "last_talk": self.last_talk.isoformat() if self.last_talk else None,
        }


@dataclass(frozen=True)
class CommitteeCoverage:
    """A special committee's non-party members in a year: those who had a done
    heart-to-heart talk (``talked``) and those who had none (``not_talked``), each in
    pinyin order."""

    committee: str
    zh: str
    en: str
    year: int
    talked: list[MemberTalks] = field(default_factory=list)
    not_talked: list[MemberTalks] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many non-party members the committee has."""
        return len(self.talked) + len(self.not_talked)

    @property
    def ratio(self) -> float | None:
        """The share of them talked with (None for a committee without any)."""
        return len(self.talked) / self.total if self.total else None

    def label(self, lang: str) -> str:
        """The committee's name in ``lang``."""
        return self.en if lang == "en" else self.zh

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form (``talks coverage --json`` prints a list of these)."""
        return {
            "committee": self.committee,
            "name": self.zh,
            "year": self.year,
            "total": self.total,
            "coverage": round(self.ratio, 4) if self.ratio is not None else None,
            "talked": [m.as_json() for m in self.talked],
            "not_talked": [m.as_json() for m in self.not_talked],
        }


def _committees(unit: Unit, committee: str | None) -> list[tuple[str, str, str]]:
    vocab = unit.config.vocab["committees"]
    if committee is None:
        return [(t.code, t.zh, t.en) for t in vocab]
    term = vocab.resolve(committee)
    if term is None:
        known = "、".join(f"{t.zh} ({t.code})" for t in vocab)
        raise ValidationError.one(
            "committee", committee, f"not one of the configured committees: {known}"
        )
    return [(term.code, term.zh, term.en)]


def non_party_members(unit: Unit, committees: list[str]) -> list[tuple[str, Person]]:
    """(committee code, person) for every active non-party member of ``committees``,
    by committee, then pinyin."""
    stmt = (
        select(col(PersonCommittee.committee), Person)
        .join(Person, col(Person.id) == PersonCommittee.person_id)
        .where(
            col(PersonCommittee.committee).in_(committees),
            col(Person.membership).in_(MEMBERSHIPS),
            or_(col(Person.party).is_(None), col(Person.party) != PARTY_CODE),
            col(Person.status) == PersonStatus.active,
        )
        .order_by(PersonCommittee.committee, col(Person.name_pinyin), col(Person.id))
    )
    return [(code, person) for code, person in unit.session.execute(stmt).all()]


def talks_in_year(unit: Unit, year: int) -> dict[uuid.UUID, list[datetime]]:
    """The start of every done heart-to-heart talk of ``year`` (in the office's zone),
    by the person talked with."""
    tz = unit.config.tz
    start, end = datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)
    stmt = (
        select(col(InteractionParticipant.person_id), col(Interaction.start_at))
        .join(Interaction, col(Interaction.id) == InteractionParticipant.interaction_id)
        .where(
            col(Interaction.kind) == HEART_TALK.code,
            col(Interaction.status) == InteractionStatus.done,
            col(Interaction.start_at) >= start,
            col(Interaction.start_at) < end,
            col(InteractionParticipant.person_id).is_not(None),
        )
    )
    talks: dict[uuid.UUID, list[datetime]] = {}
    for person_id, at in unit.session.execute(stmt).all():
        if person_id is not None:
            talks.setdefault(person_id, []).append(at)
    return talks


def coverage(unit: Unit, *, year: int, committee: str | None = None) -> list[CommitteeCoverage]:
    """For each special committee in config (or only ``committee``, a code or label):
    its active non-party members who had a done heart-to-heart talk in ``year`` (in
    the office's time zone) and those who had none. Planned and cancelled talks do not
    count; neither do talks of other years. A member of two committees counts in both.
    """
    if not 1900 <= year <= 2999:
        raise ValidationError.one("year", year, "not a plausible year")
    wanted = _committees(unit, committee)
    members = non_party_members(unit, [code for code, _zh, _en in wanted])
    talks = talks_in_year(unit, year)
    tz = unit.config.tz
    result = []
    for code, zh, en in wanted:
        talked: list[MemberTalks] = []
        not_talked: list[MemberTalks] = []
        for member_code, person in members:
            if member_code != code:
                continue
            times = talks.get(person.id)
            if times:
                last = max(times).astimezone(tz).date()
                talked.append(MemberTalks(person.id, person.name, len(times), last))
            else:
                not_talked.append(MemberTalks(person.id, person.name))
        result.append(CommitteeCoverage(code, zh, en, year, talked, not_talked))
    return result
