"""The report of the follow-ups by status and time taken (``followups``)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core import authz, clock
from crm_core.models import (
    Account,
    FollowUpStatus,
    Person,
)
from crm_core.reports.spec import Column, Period, ReportTable, Section
from crm_core.unit import Unit

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
                "跟踪事项按状态",
                "Follow-ups by status",
                FOLLOWUP_STATUS_COLUMNS,
                by_status,
                "本期提出的事项，以及此前提出、至今未办结的事项；"
                f"用时算至答复或办结，未办结的算至 {today.isoformat()}。",
                "Raised in the period, and older ones still open; age up to the answer or "
                f"closing, or to {today.isoformat()} while open.",
            ),
            Section("list", "跟踪事项明细", "Follow-ups", FOLLOWUP_COLUMNS, detail),
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


__all__ = ["FOLLOWUP_COLUMNS", "FOLLOWUP_STATUS_COLUMNS", "followups"]
