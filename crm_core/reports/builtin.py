"""The reports every office has: coverage, liaison work of the chair-meeting members,
visits per county and month, and follow-ups by status with their age.

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
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased
from sqlmodel import col

from crm_core import authz, clock
from crm_core.models import (
    Account,
    FollowUpStatus,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Person,
    PersonStatus,
)
from crm_core.reports.spec import Column, Period, ReportSpec, ReportTable, Section, share
from crm_core.services import accounts, assignments, contacts, overdue
from crm_core.unit import Unit

UNSET_ZH, UNSET_EN = "（未填写）", "(not recorded)"


def reached_people(unit: Unit, period: Period, kinds: tuple[str, ...] = ()) -> set[uuid.UUID]:
    """The people who took part in done work (of any kind, or of ``kinds``) that started
    in the period, of the work and the people the unit may see."""
    lo, hi = period.bounds(unit.config.tz)
    stmt = (
        select(InteractionParticipant.person_id)
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


# -- liaison work of the chair-meeting members -----------------------------------

LIAISON_COLUMNS = [
    Column("keeper", "主席会议成员", "Chair-meeting member"),
    Column("position", "职务", "Position"),
    Column("assigned", "联系对象数", "Contacts assigned", "int"),
    Column("by_category", "按类别", "By category"),
    Column("contacts", "本期联系次数", "Contacts in period", "int"),
    Column("reached", "本期联系人数", "People reached in period", "int"),
    Column("last_contact", "最近一次联系", "Last contact", "date"),
    Column("overdue", "逾期未联系", "Overdue", "int"),
    Column("due", "应予联系", "Due", "int"),
    Column("gaps", "缺少类别", "Missing categories"),
]
ASSIGNMENT_COLUMNS = [
    Column("keeper", "主席会议成员", "Chair-meeting member"),
    Column("contact", "联系对象", "Contact"),
    Column("category", "类别", "Category"),
    Column("contacts", "本期联系次数", "Contacts in period", "int"),
    Column("last_contact", "最近一次联系", "Last contact", "date"),
    Column("status", "状态", "Status"),
]
_LEVEL = {"max": ("逾期", "overdue"), "ideal": ("应予联系", "due")}


def joint_work(unit: Unit, end: datetime) -> dict[tuple[uuid.UUID, uuid.UUID], list[datetime]]:
    """When each (account, person) pair took part together in done work starting
    before ``end``, of the work and the people the unit may see: one query for every
    keeper and contact."""
    keeper_p = aliased(InteractionParticipant)
    contact_p = aliased(InteractionParticipant)
    stmt = (
        select(keeper_p.account_id, contact_p.person_id, Interaction.start_at)
        .select_from(keeper_p)
        .join(
            contact_p,
            and_(
                contact_p.interaction_id == keeper_p.interaction_id,
                col(contact_p.person_id).is_not(None),
            ),
        )
        .join(Interaction, col(Interaction.id) == keeper_p.interaction_id)
        .where(
            col(keeper_p.account_id).is_not(None),
            col(Interaction.status) == InteractionStatus.done,
            col(Interaction.start_at) < end,
            *authz.interaction_scope(unit),
            *authz.person_ids_scope(unit, col(contact_p.person_id)),
        )
    )
    out: dict[tuple[uuid.UUID, uuid.UUID], list[datetime]] = defaultdict(list)
    for account_id, person_id, at in unit.session.execute(stmt):
        out[(account_id, person_id)].append(at)
    return out


def liaison(unit: Unit, period: Period) -> ReportTable:
    """Per chair-meeting member (二.9): contacts assigned in the period by category,
    contacts made with them in the period (done work both took part in), the last
    contact, and — as of today, as on the dashboard — how many are overdue (past the
    maximum interval) or due (past the ideal one), and required categories missing.

    For county staff, the members keeping contacts of their region, with those contacts
    only; the missing categories are left blank, as they depend on contacts elsewhere."""
    tz = unit.config.tz
    today = clock.today(tz)
    lo, hi = period.bounds(tz)
    scoped = authz.region_scope(unit) is not None
    categories = unit.app.categories
    together = joint_work(unit, max(hi, clock.now()))
    rows: list[dict[str, Any]] = []
    detail: list[dict[str, Any]] = []
    totals = {"members": 0, "assigned": 0, "contacts": 0, "overdue": 0}
    for keeper in accounts.list_accounts(unit, chair_meeting=True):
        active = [
            a
            for a in assignments.list_assignments(unit, keeper_id=keeper.id, active_on=date.min)
            if a.start_on <= period.end and (a.end_on is None or a.end_on > period.start)
        ]
        if scoped and not active:
            continue  # keeps no contact of this region
        people, _c, _m = contacts.people_by_ids(unit, {a.contact_id for a in active})
        report = overdue.overdue(unit, keeper_id=keeper.id, today=today, include_snoozed=True)
        level_of = {i.assignment_id: i for i in report.items}
        per_category: dict[str | None, int] = defaultdict(int)
        made = 0
        reached: set[uuid.UUID] = set()
        last: datetime | None = None
        for a in active:
            per_category[a.category] += 1
            times = together.get((keeper.id, a.contact_id), [])
            in_period = [t for t in times if lo <= t < hi]
            made += len(in_period)
            if in_period:
                reached.add(a.contact_id)
            seen = max(times) if times else None
            if seen and (last is None or seen > last):
                last = seen
            item = level_of.get(a.id)
            if item is not None and item.snoozed_until is not None:
                status = "暂缓"
            elif item is not None:
                status = _LEVEL[item.level][0]
            else:
                status = "正常"
            person = people.get(a.contact_id)
            term = categories.get(a.category) if a.category else None
            detail.append(
                {
                    "keeper": keeper.display_name,
                    "contact": person.name if person else str(a.contact_id),
                    "category": term.zh if term else (a.category or ""),
                    "contacts": len(in_period),
                    "last_contact": seen.astimezone(tz).date() if seen else None,
                    "status": status,
                }
            )
        counted = [i for i in report.items if i.snoozed_until is None]
        gaps = (
            ""
            if scoped
            else "、".join(
                (categories.get(g.category).zh if categories.get(g.category) else g.category)  # type: ignore[union-attr]
                for g in report.gaps
            )
        )
        by_category = "、".join(
            f"{(categories.get(c).zh if c and categories.get(c) else (c or '未分类'))} {n}"  # type: ignore[union-attr]
            for c, n in sorted(per_category.items(), key=lambda kv: _order(categories, kv[0]))
        )
        row = {
            "keeper": keeper.display_name,
            "keeper_id": str(keeper.id),
            "position": keeper.position or "",
            "assigned": len(active),
            "by_category": by_category,
            "contacts": made,
            "reached": len(reached),
            "last_contact": last.astimezone(tz).date() if last else None,
            "overdue": sum(1 for i in counted if i.level == "max"),
            "due": sum(1 for i in counted if i.level == "ideal"),
            "gaps": gaps,
        }
        rows.append(row)
        totals["members"] += 1
        totals["assigned"] += len(active)
        totals["contacts"] += made
        totals["overdue"] += row["overdue"]
    return ReportTable(
        [
            Section(
                "members",
                "主席会议成员联系工作",
                "Liaison work of the chair-meeting members",
                LIAISON_COLUMNS,
                rows,
                f"逾期、应予联系、最近一次联系截至 {today.isoformat()}。",
                f"Overdue, due and last contact as of {today.isoformat()}.",
            ),
            Section(
                "assignments",
                "联系对象明细",
                "Assigned contacts",
                ASSIGNMENT_COLUMNS,
                detail,
            ),
        ],
        totals,
    )


def _order(vocab: Any, code: str | None) -> tuple[int, str]:
    codes = vocab.codes()
    return (codes.index(code), "") if code in codes else (len(codes), code or "")


# -- visits per county and month ---------------------------------------------------

VISIT_KINDS = (("visit", "走访看望", "Visits"), ("invitation", "约请上门", "Invitations"))


def visits(unit: Unit, period: Period) -> ReportTable:
    """Done visits and invitations (kinds ``visit`` and ``invitation``, from the visits
    plugin) per county and per month, with the people visited; a kind that is not
    installed counts 0. The county is the interaction's region (or its ``county``
    field), else 未注明. County staff get their region's row only (and any other county
    where work with their region's people took place), and count their people."""
    tz = unit.config.tz
    lo, hi = period.bounds(tz)
    codes = tuple(k for k, _zh, _en in VISIT_KINDS)
    labels = {
        k: (
            unit.kinds[k].zh if k in unit.kinds else zh,
            unit.kinds[k].en if k in unit.kinds else en,
        )
        for k, zh, en in VISIT_KINDS
    }
    items = list(
        unit.session.scalars(
            select(Interaction).where(
                col(Interaction.kind).in_(codes),
                col(Interaction.status) == InteractionStatus.done,
                col(Interaction.start_at) >= lo,
                col(Interaction.start_at) < hi,
                *authz.interaction_scope(unit),  # county staff: their region's work
            )
        )
    )
    visited: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    if items:
        for iid, pid in unit.session.execute(
            select(InteractionParticipant.interaction_id, InteractionParticipant.person_id).where(
                col(InteractionParticipant.interaction_id).in_([i.id for i in items]),
                col(InteractionParticipant.person_id).is_not(None),
                *authz.person_ids_scope(unit, col(InteractionParticipant.person_id)),
            )
        ):
            visited[iid].add(pid)
    # The county field of a confidential visit is read only by whoever may read its
    # fields (PostgreSQL does not even give the others the value).
    readable = authz.readable_ids(unit, items)
    regions = unit.config.vocab["regions"]
    months = period.months()
    month_keys = [f"{y:04d}-{m:02d}" for y, m in months]
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    people: dict[str, set[uuid.UUID]] = defaultdict(set)
    for i in items:
        field = (i.data or {}).get("county") if i.id in readable else None
        county = i.region or _county_code(regions, field) or ""
        local = i.start_at.astimezone(tz)
        counts[county][f"{local.year:04d}-{local.month:02d}"] += 1
        by_kind[county][i.kind] += 1
        people[county] |= visited.get(i.id, set())
    scope = authz.region_scope(unit)
    order = [(t.code, t.zh) for t in regions if scope is None or t.code in (scope, *counts)]
    order += [(c, c) for c in counts if c and c not in regions]
    if "" in counts:
        order.append(("", "（未注明）"))
    month_cols = [Column(k, f"{int(k[:4])}年{int(k[5:])}月", k, "int") for k in month_keys]
    matrix_rows = []
    kind_rows = []
    for code, zh in order:
        row: dict[str, Any] = {"county": zh, "code": code}
        for k in month_keys:
            row[k] = counts[code][k]
        row["total"] = sum(counts[code].values())
        matrix_rows.append(row)
        kind_rows.append(
            {
                "county": zh,
                "code": code,
                **{k: by_kind[code][k] for k in codes},
                "total": sum(by_kind[code].values()),
                "people": len(people[code]),
            }
        )
    total_row: dict[str, Any] = {"county": "合计", "code": None}
    for k in month_keys:
        total_row[k] = sum(r[k] for r in matrix_rows)
    total_row["total"] = sum(r["total"] for r in matrix_rows)
    matrix_rows.append(total_row)
    kind_rows.append(
        {
            "county": "合计",
            "code": None,
            **{k: sum(r[k] for r in kind_rows) for k in codes},
            "total": sum(r["total"] for r in kind_rows),
            "people": len(set().union(*people.values())) if people else 0,
        }
    )
    return ReportTable(
        [
            Section(
                "by_month",
                "走访约请按县(市、区)和月份",
                "Visits and invitations by county and month",
                [
                    Column("county", "县(市、区)", "County"),
                    *month_cols,
                    Column("total", "合计", "Total", "int"),
                ],
                matrix_rows,
            ),
            Section(
                "by_kind",
                "走访约请按种类",
                "Visits and invitations by kind",
                [
                    Column("county", "县(市、区)", "County"),
                    *[Column(k, labels[k][0], labels[k][1], "int") for k in codes],
                    Column("total", "合计", "Total", "int"),
                    Column("people", "走访委员人数", "People visited", "int"),
                ],
                kind_rows,
            ),
        ],
        {
            "total": total_row["total"],
            **{k: kind_rows[-1][k] for k in codes},
            "people": kind_rows[-1]["people"],
        },
    )


def _county_code(regions: Any, value: Any) -> str | None:
    if not value:
        return None
    term = regions.resolve(str(value))
    return term.code if term else str(value)


# -- follow-ups --------------------------------------------------------------------

_STATUS_ZH = {
    FollowUpStatus.open: ("未办理", "Open"),
    FollowUpStatus.in_progress: ("办理中", "In progress"),
    FollowUpStatus.answered: ("已答复", "Answered"),
    FollowUpStatus.closed: ("已办结", "Closed"),
}
FOLLOWUP_STATUS_COLUMNS = [
    Column("status", "状态", "Status"),
    Column("count", "件数", "Count", "int"),
    Column("average_days", "平均用时（天）", "Average age (days)", "float"),
    Column("oldest_days", "最长用时（天）", "Oldest (days)", "int"),
    Column("overdue", "超期未办结", "Past due", "int"),
]
FOLLOWUP_COLUMNS = [
    Column("title", "事项", "Concern"),
    Column("person", "反映人", "Raised by"),
    Column("owner", "承办人", "Owner"),
    Column("raised_on", "提出日期", "Raised on", "date"),
    Column("due_on", "应办结日期", "Due", "date"),
    Column("status", "状态", "Status"),
    Column("age_days", "用时（天）", "Age (days)", "int"),
    Column("answered_on", "答复日期", "Answered on", "date"),
    Column("response", "答复情况", "Response"),
]


def followups(unit: Unit, period: Period) -> ReportTable:
    """Follow-ups (社情民意、诉求) raised in the period, and older ones still open: by
    status, with their age in days (raised to answered or closed; to today while
    open) and how many open ones are past their due date. County staff: those about
    their region's people, and their own."""
    from crm_core.services import followups as followup_service

    tz = unit.config.tz
    today = clock.today(tz)
    rows = []
    for f in followup_service.list_follow_ups(unit):
        raised = f.created_at.astimezone(tz).date()
        in_period = period.start <= raised <= period.end
        still_open = raised <= period.end and f.status in followup_service.OPEN_STATES
        if in_period or still_open:
            rows.append(f)
    names = _names(unit, Person, {f.person_id for f in rows if f.person_id})
    owners = _names(unit, Account, {f.owner_id for f in rows if f.owner_id})
    detail = []
    stats: dict[FollowUpStatus, list[int]] = {s: [] for s in FollowUpStatus}
    late: dict[FollowUpStatus, int] = defaultdict(int)
    for f in sorted(rows, key=lambda r: (r.created_at, str(r.id))):
        raised = f.created_at.astimezone(tz).date()
        finished = (
            f.closed_on or f.answered_on if f.status not in followup_service.OPEN_STATES else None
        )
        age = ((finished or today) - raised).days
        stats[f.status].append(age)
        if f.status in followup_service.OPEN_STATES and f.due_on and f.due_on < today:
            late[f.status] += 1
        detail.append(
            {
                "title": f.title,
                "person": names.get(f.person_id, "") if f.person_id else "",
                "owner": owners.get(f.owner_id, "") if f.owner_id else "",
                "raised_on": raised,
                "due_on": f.due_on,
                "status": _STATUS_ZH[f.status][0],
                "status_code": f.status.value,
                "age_days": age,
                "answered_on": f.answered_on,
                "response": f.response or "",
            }
        )
    by_status = []
    for status in FollowUpStatus:
        ages = stats[status]
        by_status.append(
            {
                "status": _STATUS_ZH[status][0],
                "status_code": status.value,
                "count": len(ages),
                "average_days": round(sum(ages) / len(ages), 1) if ages else None,
                "oldest_days": max(ages) if ages else None,
                "overdue": late[status],
            }
        )
    all_ages = [a for ages in stats.values() for a in ages]
    by_status.append(
        {
            "status": "合计",
            "status_code": None,
            "count": len(all_ages),
            "average_days": round(sum(all_ages) / len(all_ages), 1) if all_ages else None,
            "oldest_days": max(all_ages) if all_ages else None,
            "overdue": sum(late.values()),
        }
    )
    return ReportTable(
        [
            Section(
                "by_status",
                "督办事项按状态",
                "Follow-ups by status",
                FOLLOWUP_STATUS_COLUMNS,
                by_status,
                "本期提出的事项，以及此前提出、至今未办结的事项；"
                f"用时算至答复或办结，未办结的算至 {today.isoformat()}。",
                "Raised in the period, and older ones still open; age up to the answer or "
                f"closing, or to {today.isoformat()} while open.",
            ),
            Section("list", "督办事项明细", "Follow-ups", FOLLOWUP_COLUMNS, detail),
        ],
        {
            "total": len(all_ages),
            "open": len(stats[FollowUpStatus.open]) + len(stats[FollowUpStatus.in_progress]),
            "overdue": sum(late.values()),
        },
    )


def _names(unit: Unit, model: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    # People the unit may not see stay nameless (county staff's own follow-up about
    # someone of another region).
    scope = authz.person_scope(unit) if model is Person else []
    rows = unit.session.scalars(select(model).where(col(model.id).in_(list(ids)), *scope))
    return {r.id: (r.name if model is Person else r.display_name) for r in rows}


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
        "visits",
        "走访约请统计",
        "Visits per county and month",
        visits,
        "走访看望、约请上门按县(市、区)和月份统计",
    ),
    ReportSpec(
        "followups",
        "督办事项办理情况",
        "Follow-ups by status",
        followups,
        "社情民意、诉求等督办事项按状态统计及用时",
    ),
]
