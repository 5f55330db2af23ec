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

from sqlalchemy import select
from sqlmodel import col

from crm_core import authz
from crm_core.models import (
    Interaction,
    InteractionParticipant,
    InteractionStatus,
)
from crm_core.reports.coverage import COVERAGE_COLUMNS, NAMES_COLUMNS, UNSET_EN, UNSET_ZH, coverage
from crm_core.reports.followups import FOLLOWUP_COLUMNS, FOLLOWUP_STATUS_COLUMNS, followups
from crm_core.reports.liaison import ASSIGNMENT_COLUMNS, LIAISON_COLUMNS, joint_work, liaison
from crm_core.reports.spec import Period, ReportSpec
from crm_core.unit import Unit


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
    "UNSET_EN",
    "UNSET_ZH",
    "coverage",
    "followups",
    "joint_work",
    "liaison",
    "reached_people",
]
