"""Demo data of the visits plugin: a year of county trips by chair-meeting members."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from crm_core import api
from crm_core.api import Account, DemoContext, Unit, hookimpl

from .schema import INVITATION, VISIT

# How visits come about; {county} is the county's Chinese name.
_VISIT_OCCASIONS = (
    "{county}视察途中走访",
    "{county}专题调研期间走访",
    "赴{county}督办重点提案期间走访",
)
# Visits of the season: before the Spring Festival (January, February) and the
# Mid-Autumn Festival (September).
_SEASON_OCCASIONS = {1: "春节前走访慰问", 2: "春节前走访慰问", 9: "中秋节前走访看望"}
# What members are invited to join.
_INSPECTIONS = (
    "{county}乡村振兴专题视察",
    "{county}营商环境民主监督调研",
    "{county}生态环境保护专题视察",
    "{county}重点项目建设情况视察",
)
_DISCUSSED = (
    "了解企业生产经营和发展情况",
    "听取对县域经济社会发展的意见建议",
    "交流委员履职情况和界别活动开展情况",
    "了解家庭和工作近况，听取意见诉求",
    "通报市政协年度重点协商议题，征求意见",
)
_CONCERNS = (
    "中小企业融资难、融资贵",
    "企业用地审批周期长",
    "民营企业应收账款拖欠",
    "乡村道路养护不到位",
    "农村饮用水管网老化",
    "县城老城区停车难",
    "中小学课后服务师资不足",
    "基层医疗机构人才流失",
    "老旧小区加装电梯推进慢",
    "农产品冷链物流设施不足",
    "养老服务设施不足",
    "外来务工人员子女入学难",
    "河道保洁长效管护机制不健全",
)
_RESPONSES = (
    "已转县政府办公室研究办理，有关部门已上门对接，并向委员反馈。",
    "已纳入相关部门年度重点工作，分步推进，已向委员当面反馈。",
    "已召开专题协调会明确责任单位，委员对办理结果表示满意。",
)


def _at(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tz)


def _weekday(day: date) -> date:
    """``day``, or the Friday before it if it falls on a weekend."""
    return day - timedelta(days=max(0, day.weekday() - 4))


def _occasion(rng: random.Random, day: date, county: str) -> str:
    """Why a visit on ``day`` in ``county`` was made: the season's, or a county trip."""
    season = _SEASON_OCCASIONS.get(day.month)
    if season and rng.random() < 0.5:
        return season
    return rng.choice(_VISIT_OCCASIONS).format(county=county)


def _members_by_county(
    unit: Unit, demo: DemoContext
) -> tuple[dict[str, list[uuid.UUID]], dict[uuid.UUID, str]]:
    """The demo's members in each county (not the municipal level), in the demo's
    order; and the names of all of them."""
    rows = [(p.id, p.region, p.name) for p in api.people(unit, ids=demo.members, active_only=False)]
    region_of = {pid: region for pid, region, _name in rows}
    counties = [t.code for t in unit.config.vocab["regions"] if t.code != "city"]
    by_county = {c: [p for p in demo.members if region_of.get(p) == c] for c in counties}
    names = {pid: name for pid, _region, name in rows}
    return {c: people for c, people in by_county.items() if people}, names


def _settle_old_follow_ups(
    unit: Unit, rng: random.Random, interaction_id: uuid.UUID, age_days: int
) -> None:
    """Most concerns raised months ago have been answered, many of them closed."""
    rows = sorted(api.follow_ups(unit, interaction_id=interaction_id), key=lambda f: f.title)
    for row in rows:
        r = rng.random()
        if age_days < 45 or r < 0.2:
            continue  # still open
        status = "closed" if r < 0.7 else "answered"
        api.update_follow_up(unit, row.id, status=status, response=rng.choice(_RESPONSES))


@hookimpl
def populate_demo(unit: Unit, demo: DemoContext) -> None:
    """A year of county trips by chair-meeting members (accounts_by_role
    "chair_meeting"): on each trip one to three members who live in the county are
    visited or invited to join the inspection, some raise concerns (which become
    follow-ups, the older ones mostly answered); and two visits are planned for next
    week. Uses only ``demo.rng``, so a seed gives the same data.
    """
    rng = demo.rng
    visitors: list[Account] = list(demo.accounts_by_role.get("chair_meeting", []))
    by_county, names = _members_by_county(unit, demo)
    if not visitors or not by_county:
        return
    tz = unit.config.tz
    county_zh = {t.code: t.zh for t in unit.config.vocab["regions"]}
    counties = list(by_county)
    now = api.now()
    # A trip every two or three weeks over the past year.
    ago = 365
    while ago > 3:
        day = _weekday(demo.today - timedelta(days=ago))
        ago -= rng.randint(14, 24)
        visitor = rng.choice(visitors)
        county = rng.choice(counties)
        pool = by_county[county]
        visited = rng.sample(pool, min(len(pool), rng.randint(1, 3)))
        for i, person in enumerate(visited):
            invite = rng.random() < 0.25
            spec = INVITATION if invite else VISIT
            if invite:
                occasion = rng.choice(_INSPECTIONS).format(county=county_zh[county])
                summary = f"邀请{names[person]}委员参加{occasion}"
            else:
                occasion = _occasion(rng, day, county_zh[county])
                summary = f"走访看望{names[person]}委员"
            concerns = rng.sample(_CONCERNS, rng.choice((1, 1, 2))) if rng.random() < 0.4 else []
            start = _at(day, 9 + 2 * i, rng.choice((0, 30)), tz)
            if start > now:
                continue  # a demo dated in the future: nothing is done there yet
            logged = api.log_interaction(
                unit,
                kind=spec.code,
                people=[person],
                accounts=[visitor.id],
                start=start,
                summary=summary,
                # The county as people type it, by its Chinese name: stored as the code.
                data={
                    "occasion": occasion,
                    "county": county_zh[county],
                    "discussed": rng.choice(_DISCUSSED),
                    "concerns": concerns,
                },
            )
            if concerns:
                _settle_old_follow_ups(unit, rng, logged.id, (demo.today - day).days)
    # Two visits planned for next week.
    monday = demo.today + timedelta(days=7 - demo.today.weekday())
    for offset in (1, 3):
        county = rng.choice(counties)
        day = monday + timedelta(days=offset)
        person = rng.choice(by_county[county])
        occasion = _occasion(rng, day, county_zh[county])
        api.schedule_interaction(
            unit,
            kind=VISIT.code,
            people=[person],
            accounts=[rng.choice(visitors).id],
            start=_at(day, 9, 30, tz),
            summary=f"走访看望{names[person]}委员",
            data={"occasion": occasion, "county": county},
        )
