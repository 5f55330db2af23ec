"""The report of the follow-ups by status and time taken (``followups``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import col

from crm_core import authz, clock, sqldays
from crm_core.models import (
    Account,
    FollowUp,
    FollowUpStatus,
    Person,
)
from crm_core.reports.spec import Column, Period, ReportTable, Section
from crm_core.unit import Unit

OPEN_STATES = (FollowUpStatus.open, FollowUpStatus.in_progress)  # as services.followups

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


def _figures(unit: Unit, period: Period, today: date) -> tuple[Any, Any, Any, Any, Any]:
    """The follow-ups of the report as a subquery (scoped to the reader), with their
    local raising day, age in days and past-due flag computed in SQL; and the columns."""
    conn = unit.session.connection()
    tz = unit.config.tz
    lo, hi = period.bounds(tz)
    open_ = col(FollowUp.status).in_(OPEN_STATES)
    raised = sqldays.local_day(conn, col(FollowUp.created_at), tz)
    finished = case((~open_, func.coalesce(col(FollowUp.closed_on), col(FollowUp.answered_on))))
    age = sqldays.days_between(
        conn, func.coalesce(finished, sqldays.day_literal(conn, today)), raised
    )
    late = case(
        (
            and_(open_, col(FollowUp.due_on).is_not(None), col(FollowUp.due_on) < today),
            1,
        ),
        else_=0,
    )
    where = [
        col(FollowUp.created_at) < hi,
        or_(col(FollowUp.created_at) >= lo, open_),
        *authz.follow_up_scope(unit),  # county staff: their region's, and their own
    ]
    return raised, age, late, where, open_


def followups(unit: Unit, period: Period) -> ReportTable:
    """Follow-ups (社情民意、诉求) raised in the period, and older ones still open: by
    status, with their age in days (raised to answered or closed; to today while
    open) and how many open ones are past their due date. County staff: those about
    their region's people, and their own.

    Two statements: the figures by status (``GROUP BY status``, ages by
    :mod:`crm_core.sqldays`), and the list with the names joined in (a person's name
    only when the reader may see the person)."""
    tz = unit.config.tz
    today = clock.today(tz)
    raised, age, late, where, _open = _figures(unit, period, today)
    conn = unit.session.connection()  # Core rows: no ORM result processing
    grouped = (
        select(
            col(FollowUp.status),
            func.count(),
            func.sum(age),
            func.max(age),
            func.sum(late),
        )
        .where(*where)
        .group_by(col(FollowUp.status))
    )
    found = {
        FollowUpStatus(st): (int(n), int(total or 0), oldest, int(past or 0))
        for st, n, total, oldest, past in conn.execute(grouped)
    }
    person_ok = and_(col(Person.id) == FollowUp.person_id, *authz.person_scope(unit))
    listed = (
        select(
            col(FollowUp.title),
            col(Person.name),
            col(Account.display_name),
            raised.label("raised"),
            col(FollowUp.due_on),
            col(FollowUp.status),
            age.label("age"),
            col(FollowUp.answered_on),
            col(FollowUp.response),
        )
        .select_from(FollowUp)
        .outerjoin(Person, person_ok)
        .outerjoin(Account, col(Account.id) == FollowUp.owner_id)
        .where(*where)
        .order_by(col(FollowUp.created_at), col(FollowUp.id))
    )
    detail = [
        {
            "title": title,
            "person": person or "",
            "owner": owner or "",
            "raised_on": _as_date(day),
            "due_on": due_on,
            "status": _STATUS_ZH[FollowUpStatus(status)][0],
            "status_code": FollowUpStatus(status).value,
            "age_days": int(days),
            "answered_on": answered_on,
            "response": response or "",
        }
        for title, person, owner, day, due_on, status, days, answered_on, response in (
            conn.execute(listed)
        )
    ]

    def row(
        label: str, code: str | None, figures: list[tuple[int, int, Any, int]]
    ) -> dict[str, Any]:
        n = sum(f[0] for f in figures)
        oldest = [int(f[2]) for f in figures if f[2] is not None]
        return {
            "status": label,
            "status_code": code,
            "count": n,
            "average_days": round(sum(f[1] for f in figures) / n, 1) if n else None,
            "oldest_days": max(oldest) if oldest else None,
            "overdue": sum(f[3] for f in figures),
        }

    by_status = [
        row(_STATUS_ZH[s][0], s.value, [found[s]] if s in found else []) for s in FollowUpStatus
    ]
    by_status.append(row("合计", None, list(found.values())))
    total = by_status[-1]
    still_open = sum(found[s][0] for s in OPEN_STATES if s in found)
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
        {"total": total["count"], "open": still_open, "overdue": total["overdue"]},
    )


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


__all__ = ["FOLLOWUP_COLUMNS", "FOLLOWUP_STATUS_COLUMNS", "followups"]
