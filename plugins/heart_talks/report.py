"""Coverage of heart-to-heart talks (seed 二.5): for each special committee, which of
its non-party members have had a talk in a year (or any period) and which have not.

:func:`coverage` serves ``tongxin talks coverage``; :func:`talk_report` is the same
figures as the registered report ``talks`` (``tongxin report talks --year 2026``), in
Word, Excel, CSV or JSON like the built-in reports. Both show only the people the acting
account may see (county staff: their region's, :func:`crm_core.api.people`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from crm_core import api
from crm_core.api import (
    N_,
    Column,
    Membership,
    Period,
    Person,
    ReportTable,
    Section,
    Unit,
    ValidationError,
    share,
)

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
    """A special committee's non-party members in a year (or a period ending in
    ``year``): those who had a done heart-to-heart talk (``talked``) and those who had
    none (``not_talked``), each in pinyin order."""

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
            "committee", committee, N_("not one of the configured committees: {known}"), known=known
        )
    return [(term.code, term.zh, term.en)]


def _non_party(unit: Unit, committees: list[str] | None = None) -> list[Person]:
    """Active non-party members the unit may see (county staff: of their region), on
    one of ``committees`` when given, in pinyin order."""
    return [
        p
        for p in api.people(unit, committees=committees, memberships=MEMBERSHIPS)
        if is_non_party_member(p)
    ]


def non_party_members(unit: Unit, committees: list[str]) -> list[tuple[str, Person]]:
    """(committee code, person) for every active non-party member of ``committees``
    the unit may see, by committee, then pinyin."""
    people = _non_party(unit, committees)
    codes = api.committees_of(unit, [p.id for p in people])
    wanted = set(committees)
    rows = [(code, p) for p in people for code in codes.get(p.id, []) if code in wanted]
    return sorted(rows, key=lambda row: row[0])  # stable: pinyin within a committee


def _talks(
    unit: Unit, start: datetime, end: datetime
) -> dict[uuid.UUID, dict[uuid.UUID, datetime]]:
    """Done heart-to-heart talks from ``start`` to before ``end`` that the unit may see:
    by the person talked with, each talk's id and start."""
    held = api.interactions(unit, HEART_TALK.code, start=start, end=end, done_only=True)
    at = {i.id: i.start_at for i in held}
    talks: dict[uuid.UUID, dict[uuid.UUID, datetime]] = {}
    for interaction_id, attendees in api.participants(unit, at).items():
        for a in attendees:
            if a.person is not None:
                talks.setdefault(a.person.id, {})[interaction_id] = at[interaction_id]
    return talks


def talks_between(unit: Unit, start: datetime, end: datetime) -> dict[uuid.UUID, list[datetime]]:
    """The start of every done heart-to-heart talk from ``start`` to before ``end``
    (aware instants) that the unit may see, by the person talked with."""
    return {pid: list(by_id.values()) for pid, by_id in _talks(unit, start, end).items()}


def talks_in_year(unit: Unit, year: int) -> dict[uuid.UUID, list[datetime]]:
    """The start of every done heart-to-heart talk of ``year`` (in the office's zone),
    by the person talked with."""
    return talks_between(unit, *Period.year(year).bounds(unit.config.tz))


def _member(person: Person, times: list[datetime] | None, tz: Any) -> MemberTalks:
    if not times:
        return MemberTalks(person.id, person.name)
    return MemberTalks(person.id, person.name, len(times), max(times).astimezone(tz).date())


def coverage(
    unit: Unit,
    *,
    year: int | None = None,
    period: Period | None = None,
    committee: str | None = None,
) -> list[CommitteeCoverage]:
    """For each special committee in config (or only ``committee``, a code or label):
    its active non-party members who had a done heart-to-heart talk in ``year`` (in
    the office's time zone) or in ``period`` (give one of them), and those who had none.
    Planned and cancelled talks do not count; neither do talks outside the year or
    period. A member of two committees counts in both. County staff see only their
    region's members.
    """
    if (year is None) == (period is None):
        raise ValidationError.one("year", year, N_("give a year or a period, not both or neither"))
    if period is None:
        assert year is not None
        if not 1900 <= year <= 2999:
            raise ValidationError.one("year", year, N_("not a plausible year"))
        period = Period.year(year)
    wanted = _committees(unit, committee)
    members = non_party_members(unit, [code for code, _zh, _en in wanted])
    tz = unit.config.tz
    talks = talks_between(unit, *period.bounds(tz))
    result = []
    for code, zh, en in wanted:
        talked: list[MemberTalks] = []
        not_talked: list[MemberTalks] = []
        for member_code, person in members:
            if member_code != code:
                continue
            row = _member(person, talks.get(person.id), tz)
            (talked if row.talks else not_talked).append(row)
        result.append(CommitteeCoverage(code, zh, en, period.end.year, talked, not_talked))
    return result


# -- the registered report ---------------------------------------------------------------

NO_COMMITTEE = ("（未分专委会）", "(no special committee)")

COMMITTEE_COLUMNS = [
    Column("committee", "专委会", "Special committee"),
    Column("total", "党外委员", "Non-party members", "int"),
    Column("talked", "已谈心谈话", "Talked with", "int"),
    Column("not_talked", "尚未谈话", "Not yet", "int"),
    Column("share", "覆盖率", "Coverage", "percent"),
    Column("talks", "谈话次数", "Talks held", "int"),
    Column("names", "尚未谈话名单", "Members not yet talked with", "list"),
]
MEMBER_COLUMNS = [
    Column("committee", "专委会", "Special committee"),
    Column("name", "姓名", "Name"),
    Column("talks", "谈话次数", "Talks", "int"),
    Column("last_talk", "最近一次谈话", "Last talk", "date"),
]


def talk_report(unit: Unit, period: Period) -> ReportTable:
    """The report ``talks`` (谈心谈话覆盖情况): for each special committee with
    non-party members (in config's order, then codes config no longer has, then members
    of no committee), how many there are, how many had a done heart-to-heart talk in the
    period, the share, the talks held with them, and the names not yet talked with; a
    合计 row counts each member once. A second table lists every member with their
    talks and last talk. Only the people the acting account may see are counted."""
    tz = unit.config.tz
    people = _non_party(unit)
    committees = api.committees_of(unit, [p.id for p in people])
    held = _talks(unit, *period.bounds(tz))
    talks = {pid: list(by_id.values()) for pid, by_id in held.items()}
    vocab = unit.config.vocab["committees"]
    groups: dict[str | None, list[Person]] = {}
    for p in people:  # pinyin order, kept within each group
        codes: list[str | None] = [*sorted(committees.get(p.id, []))]
        for code in codes or [None]:
            groups.setdefault(code, []).append(p)
    order: list[tuple[str | None, str, str]] = [(t.code, t.zh, t.en) for t in vocab]
    known = {code for code, _zh, _en in order}
    order += [(c, c, c) for c in sorted(c for c in groups if c is not None and c not in known)]
    order.append((None, *NO_COMMITTEE))
    summary_rows: list[dict[str, Any]] = []
    member_rows: list[dict[str, Any]] = []

    def row(code: str | None, zh: str, en: str, members: list[Person]) -> dict[str, Any]:
        done = [m for m in members if talks.get(m.id)]
        missing = [m.name for m in members if not talks.get(m.id)]
        return {
            "code": code,
            "committee": zh,
            "committee_en": en,
            "total": len(members),
            "talked": len(done),
            "not_talked": len(missing),
            "share": share(len(done), len(members)),
            # Talks, not people: a talk with two of the members counts once.
            "talks": len({iid for m in done for iid in held[m.id]}),
            "names": missing,
        }

    for code, zh, en in order:
        members = groups.get(code, [])
        if not members:
            continue
        summary_rows.append(row(code, zh, en, members))
        for m in members:
            one = _member(m, talks.get(m.id), tz)
            member_rows.append(
                {
                    "code": code,
                    "committee": zh,
                    "person_id": str(m.id),
                    "name": m.name,
                    "talks": one.talks,
                    "last_talk": one.last_talk,
                }
            )
    total = row(None, "合计", "Total", people)
    summary_rows.append(total)
    return ReportTable(
        [
            Section(
                "committees",
                "各专委会党外委员谈心谈话覆盖情况",
                "Heart-to-heart talks with non-party members per special committee",
                COMMITTEE_COLUMNS,
                summary_rows,
                "党外委员：非中共党员的委员、常委。只计本期内已完成的谈心谈话；"
                "同属两个专委会的委员在两处都计入，合计中只计一次。",
                "Non-party members: members and standing members who are not CPC members. "
                "Only talks done in the period count; a member of two committees counts in "
                "both, once in the total.",
            ),
            Section(
                "members",
                "党外委员谈心谈话明细",
                "Non-party members and their talks",
                MEMBER_COLUMNS,
                member_rows,
            ),
        ],
        {
            "members": total["total"],
            "talked": total["talked"],
            "share": total["share"],
            "talks": total["talks"],
        },
    )
