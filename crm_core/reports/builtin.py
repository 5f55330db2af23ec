"""The reports every office has: coverage, liaison work of the chair-meeting members
and follow-ups by status with their age.

All of them read only, through the services where the services have what is needed, and
count times in the office's zone: an interaction belongs to the local day it starts on.

Every report is what the acting account may see (:mod:`crm_core.authz`): the services
filter, and each query of its own here adds the same scopes, so county staff get a
report over their region's people and interactions only, with the same numbers on
SQLite and on PostgreSQL (whose row-level security would filter the same rows). A
report shows counts and names, never an interaction's notes.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core import authz
from crm_core.models import (
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Person,
    PersonStatus,
)
from crm_core.reports.followups import FOLLOWUP_COLUMNS, FOLLOWUP_STATUS_COLUMNS, followups
from crm_core.reports.liaison import ASSIGNMENT_COLUMNS, LIAISON_COLUMNS, joint_work, liaison
from crm_core.reports.spec import Column, Period, ReportSpec, ReportTable, Section, share
from crm_core.services import contacts
from crm_core.unit import Unit

UNSET_ZH, UNSET_EN = "（未填写）", "(not recorded)"


def reached_people(unit: Unit, period: Period, kinds: tuple[str, ...] = ()) -> set[uuid.UUID]:
    """The people who took part in done work (of any kind, or of ``kinds``) that started
    in the period, of the work and the people the unit may see."""
    lo, hi = period.bounds(unit.config.tz)
    stmt = (
        select(col(InteractionParticipant.person_id))
        .join(Interaction, col(Interaction.id) == InteractionParticipant.interaction_id)
        .where(
            col(Interaction.status) == InteractionStatus.done,
            col(Interaction.start_at) >= lo,
            col(Interaction.start_at) < hi,
            col(InteractionParticipant.person_id).is_not(None),
            *authz.interaction_scope(unit),
            *authz.person_ids_scope(unit, col(InteractionParticipant.person_id)),
        )
        .distinct()
    )
    if kinds:
        stmt = stmt.where(col(Interaction.kind).in_(kinds))
    return {pid for (pid,) in unit.session.execute(stmt)}


# -- coverage ----------------------------------------------------------------------


COVERAGE_COLUMNS = [
    Column("dimension", "分组方式", "Grouped by"),
    Column("group", "分组", "Group"),
    Column("total", "人数", "People", "int"),
    Column("reached", "已联系", "Reached", "int"),
    Column("share", "覆盖率", "Coverage", "percent"),
    Column("not_reached", "未联系", "Not reached", "int"),
]
NAMES_COLUMNS = [
    Column("dimension", "分组方式", "Grouped by"),
    Column("group", "分组", "Group"),
    Column("not_reached", "未联系人数", "Not reached", "int"),
    Column("names", "未联系名单", "Names not yet reached", "list"),
]


def coverage(unit: Unit, period: Period) -> ReportTable:
    """Of all active people, and of each category, sector, region, special committee
    and membership: how many were contacted at least once in the period (any done work
    of any kind, by anyone), the share, and the names not yet reached."""
    people = contacts.list_people(unit, limit=10_000_000, status=PersonStatus.active).items
    _, cats, comms = contacts.people_by_ids(unit, {p.id for p in people})
    reached = reached_people(unit, period)
    vocab = unit.config.vocab
    dims: list[tuple[str, str, list[tuple[str | None, str, str]], Any]] = [
        (
            "类别",
            "Category",
            [(t.code, t.zh, t.en) for t in unit.app.categories],
            lambda p: cats.get(p.id, []),
        ),
        (
            "界别",
            "Sector",
            [(t.code, t.zh, t.en) for t in vocab["sectors"]],
            lambda p: [p.sector],
        ),
        (
            "县(市、区)",
            "Region",
            [(t.code, t.zh, t.en) for t in vocab["regions"]],
            lambda p: [p.region],
        ),
        (
            "专委会",
            "Special committee",
            [(t.code, t.zh, t.en) for t in vocab["committees"]],
            lambda p: comms.get(p.id, []),
        ),
        (
            "委员身份",
            "Membership",
            [
                ("standing", "常委", "Standing member"),
                ("member", "委员", "Member"),
                ("none", "非委员", "Not a member"),
            ],
            lambda p: [p.membership.value],
        ),
    ]
    summary_rows: list[dict[str, Any]] = []
    name_rows: list[dict[str, Any]] = []

    def add(
        dim_zh: str, dim_en: str, code: str | None, zh: str, en: str, members: list[Person]
    ) -> None:
        if not members:
            return
        got = sum(1 for p in members if p.id in reached)
        missing = [p.name for p in members if p.id not in reached]  # pinyin order
        base = {"dimension": dim_zh, "dimension_en": dim_en, "code": code, "group": zh}
        summary_rows.append(
            {
                **base,
                "group_en": en,
                "total": len(members),
                "reached": got,
                "share": share(got, len(members)),
                "not_reached": len(missing),
            }
        )
        if missing:
            name_rows.append({**base, "not_reached": len(missing), "names": missing})

    add("全部", "All", None, "全部联系对象", "Everyone", list(people))
    for dim_zh, dim_en, terms, values_of in dims:
        by_code: dict[str | None, list[Person]] = defaultdict(list)
        for p in people:
            values = values_of(p) or [None]
            for v in values:
                by_code[v].append(p)
        for code, zh, en in terms:
            add(dim_zh, dim_en, code, zh, en, by_code.pop(code, []))
        for code, members in by_code.items():  # unset, or a code config no longer has
            add(dim_zh, dim_en, code, code or UNSET_ZH, code or UNSET_EN, members)
    total = len(people)
    got = sum(1 for p in people if p.id in reached)
    return ReportTable(
        [
            Section(
                "coverage",
                "联系覆盖情况",
                "Coverage",
                COVERAGE_COLUMNS,
                summary_rows,
                "已联系：本期内至少参加过一次已完成的工作（任何种类、任何人开展）。",
                "Reached: took part in at least one done piece of work of any kind in the period.",
            ),
            Section("not_reached", "未联系名单", "Not yet reached", NAMES_COLUMNS, name_rows),
        ],
        {"people": total, "reached": got, "share": share(got, total)},
    )


REPORTS = [
    ReportSpec(
        "coverage",
        "联系覆盖情况",
        "Coverage of contact work",
        coverage,
        "全体联系对象及各类别、界别、县(市、区)、专委会中本期已联系的比例和未联系名单",
    ),
    ReportSpec(
        "liaison",
        "主席会议成员联系工作",
        "Liaison work of the chair-meeting members",
        liaison,
        "每位主席会议成员的联系对象（按类别）、本期联系次数、最近一次联系、逾期情况",
    ),
    ReportSpec(
        "followups",
        "跟踪事项办理情况",
        "Follow-ups by status",
        followups,
        "社情民意、诉求等跟踪事项按状态统计及用时",
    ),
]

# The liaison and follow-up reports live in crm_core.reports.liaison and .followups; their
# public names stay importable from here.
__all__ = [
    "ASSIGNMENT_COLUMNS",
    "COVERAGE_COLUMNS",
    "FOLLOWUP_COLUMNS",
    "FOLLOWUP_STATUS_COLUMNS",
    "LIAISON_COLUMNS",
    "NAMES_COLUMNS",
    "REPORTS",
    "coverage",
    "followups",
    "joint_work",
    "liaison",
    "reached_people",
]
