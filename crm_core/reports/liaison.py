"""The report of the liaison work of the chair-meeting members (``liaison``)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, select, type_coerce
from sqlalchemy.orm import aliased
from sqlmodel import col

from crm_core import authz, clock
from crm_core.models import (
    Assignment,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
)
from crm_core.reports.spec import Column, Period, ReportTable, Section
from crm_core.services import accounts, assignments, contacts, overdue
from crm_core.types import UTCDateTime
from crm_core.unit import Unit

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
        select(col(keeper_p.account_id), col(contact_p.person_id), col(Interaction.start_at))
        .select_from(keeper_p)
        .join(
            contact_p,
            and_(
                col(contact_p.interaction_id) == keeper_p.interaction_id,
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


def joint_figures(
    unit: Unit, lo: datetime, hi: datetime, end: datetime
) -> dict[tuple[uuid.UUID, uuid.UUID], tuple[int, datetime | None]]:
    """For every assigned (keeper, contact) pair the unit may see: how many done pieces
    of work both took part in started from ``lo`` to before ``hi``, and when the latest
    one before ``end`` started; one grouped statement, over the assigned pairs only.

    The contacts are those the unit may see (:func:`crm_core.authz.assignment_scope`);
    work a contact of county staff's region takes part in is work they may see, so no
    interaction condition is needed (adding one made the plan a correlated scan)."""
    keeper_p = aliased(InteractionParticipant)
    contact_p = aliased(InteractionParticipant)
    pairs = (
        select(col(Assignment.keeper_id), col(Assignment.contact_id))
        .where(*authz.assignment_scope(unit))
        .distinct()
        .subquery("pairs")
    )
    start = col(Interaction.start_at)
    in_period = func.count(case((and_(start >= lo, start < hi), 1)))
    latest = type_coerce(func.max(start), UTCDateTime())
    stmt = (
        select(pairs.c.keeper_id, pairs.c.contact_id, in_period, latest)
        .select_from(pairs)
        .join(contact_p, col(contact_p.person_id) == pairs.c.contact_id)
        .join(
            keeper_p,
            and_(
                col(keeper_p.interaction_id) == contact_p.interaction_id,
                col(keeper_p.account_id) == pairs.c.keeper_id,
            ),
        )
        .join(Interaction, col(Interaction.id) == contact_p.interaction_id)
        .where(col(Interaction.status) == InteractionStatus.done, start < end)
        .group_by(pairs.c.keeper_id, pairs.c.contact_id)
    )
    return {(k, c): (int(n), last) for k, c, n, last in unit.session.execute(stmt)}


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

    def zh_of(code: str | None) -> str | None:
        """The Chinese label of category ``code``; None if there is no such category."""
        term = categories.get(code) if code else None
        return term.zh if term else None

    together = joint_figures(unit, lo, hi, max(hi, clock.now()))
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
            in_period, seen = together.get((keeper.id, a.contact_id), (0, None))
            made += in_period
            if in_period:
                reached.add(a.contact_id)
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
                    "contacts": in_period,
                    "last_contact": seen.astimezone(tz).date() if seen else None,
                    "status": status,
                }
            )
        counted = [i for i in report.items if i.snoozed_until is None]
        gaps = "" if scoped else "、".join(zh_of(g.category) or g.category for g in report.gaps)
        by_category = "、".join(
            f"{(c and zh_of(c)) or c or '未分类'} {n}"
            for c, n in sorted(per_category.items(), key=lambda kv: _order(categories, kv[0]))
        )
        overdue_count = sum(1 for i in counted if i.level == "max")
        row = {
            "keeper": keeper.display_name,
            "keeper_id": str(keeper.id),
            "position": keeper.position or "",
            "assigned": len(active),
            "by_category": by_category,
            "contacts": made,
            "reached": len(reached),
            "last_contact": last.astimezone(tz).date() if last else None,
            "overdue": overdue_count,
            "due": sum(1 for i in counted if i.level == "ideal"),
            "gaps": gaps,
        }
        rows.append(row)
        totals["members"] += 1
        totals["assigned"] += len(active)
        totals["contacts"] += made
        totals["overdue"] += overdue_count
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


__all__ = ["ASSIGNMENT_COLUMNS", "LIAISON_COLUMNS", "joint_figures", "joint_work", "liaison"]
