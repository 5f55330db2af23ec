"""Demo data of the heart-talks plugin: this year's talks of the committee leaders."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta

from crm_core import api
from crm_core.api import Account, DemoContext, Unit, hookimpl

from .report import non_party_members
from .schema import HEART_TALK

_TOPICS = (
    "履职情况",
    "界别活动开展",
    "思想和工作近况",
    "对专委会工作的意见建议",
    "年度协商计划",
    "提案撰写",
    "家庭和身体状况",
    "参加专题调研的意愿",
)
_AGREED = (
    "邀请参加下一次专题协商会",
    "协助联系有关部门了解政策",
    "推荐参加界别活动周座谈",
    "年内牵头撰写一件集体提案",
    "安排参加委员履职培训",
)
_NOTES = (
    "谈话记录：对本届履职情况总体满意，希望多参加专题调研。",
    "谈话记录：工作压力较大，希望组织多关心。",
    "谈话记录：对界别活动安排提出改进建议，愿意承担更多任务。",
    "谈话记录：关注民营经济发展，愿意就营商环境牵头调研。",
)
_RESPONSES = (
    "已落实，已向委员反馈。",
    "已协调有关部门办理，委员表示满意。",
)


def _settle(unit: Unit, rng: random.Random, interaction_id: uuid.UUID, age_days: int) -> None:
    """What was agreed months ago is mostly done by now."""
    rows = sorted(api.follow_ups(unit, interaction_id=interaction_id), key=lambda f: f.title)
    for row in rows:
        if age_days >= 45 and rng.random() < 0.8:
            api.update_follow_up(unit, row.id, status="closed", response=rng.choice(_RESPONSES))


@hookimpl
def populate_demo(unit: Unit, demo: DemoContext) -> None:
    """Talks this year by each special-committee leader (a "leader" account with a
    committee) with about 60% of the non-party members of their committee, with topics,
    notes and sometimes an agreement (a follow-up); a few more planned in the coming
    weeks; the rest have had no talk yet, so the coverage report shows gaps. Uses only
    ``demo.rng``.
    """
    rng = demo.rng
    leaders: list[Account] = [a for a in demo.accounts_by_role.get("leader", []) if a.committee]
    if not leaders:
        return
    tz = unit.config.tz
    now = api.now()
    jan1 = date(demo.today.year, 1, 1)
    days_so_far = (demo.today - jan1).days  # days of this year before today
    by_committee: dict[str, list[uuid.UUID]] = {}
    for code, member in non_party_members(
        unit, sorted({a.committee for a in leaders if a.committee})
    ):
        by_committee.setdefault(code, []).append(member.id)
    for leader in leaders:
        for person in by_committee.get(leader.committee or "", []):
            r = rng.random()
            if r < 0.6 and days_so_far > 0:
                day = jan1 + timedelta(days=rng.randrange(days_so_far))
                friday = day - timedelta(days=max(0, day.weekday() - 4))
                day = friday if friday >= jan1 else day  # weekdays, within this year
                start = datetime.combine(day, time(rng.choice((9, 10, 14, 15)), 0), tz)
                if start > now:
                    continue
                agreed = [rng.choice(_AGREED)] if rng.random() < 0.4 else []
                talk = api.log_interaction(
                    unit,
                    kind=HEART_TALK.code,
                    people=[person],
                    accounts=[leader.id],
                    start=start,
                    summary="谈心谈话，交流思想和履职情况",
                    notes=rng.choice(_NOTES),
                    data={"topics": rng.sample(_TOPICS, rng.randint(1, 3)), "agreed": agreed},
                )
                if agreed:
                    _settle(unit, rng, talk.id, (demo.today - day).days)
            elif r < 0.7:
                day = demo.today + timedelta(days=rng.randint(3, 21))
                day -= timedelta(days=max(0, day.weekday() - 4))
                api.schedule_interaction(
                    unit,
                    kind=HEART_TALK.code,
                    people=[person],
                    accounts=[leader.id],
                    start=datetime.combine(day, time(15, 0), tz),
                    summary="谈心谈话",
                    data={"topics": [rng.choice(_TOPICS)]},
                )
            # Otherwise: no talk yet this year.
