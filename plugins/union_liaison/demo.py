"""Demo data of union_liaison, written through the services by ``populate_demo``.

Deterministic: every choice comes from ``demo.rng`` and every date from ``demo.today``
(ids are the services' own). Work is only logged as done if it lies in the past of both
``demo.today`` and the clock, since the services refuse done work in the future.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from crm_core import api
from crm_core.api import (
    Account,
    InteractionStatus,
    Organisation,
    Rsvp,
    Unit,
)

from . import services
from .kinds import BRIEFING, ORG_LIAISON

if TYPE_CHECKING:
    from crm_core.api import DemoContext

# The eight democratic parties' municipal committees and the federation of industry and
# commerce, as the office's roster names them.
DEMOCRATIC_PARTIES = (
    ("rcck", "民革"), ("cdl", "民盟"), ("cndca", "民建"), ("capd", "民进"),
    ("cpwdp", "农工党"), ("czgp", "致公党"), ("jiusan", "九三学社"), ("tdsgl", "台盟"),
)  # fmt: skip
FEDERATION = "扬州市工商业联合会"

DOCUMENTS = (
    ("《中共中央关于进一步全面深化改革 推进中国式现代化的决定》", None),
    ("《中共扬州市委关于制定扬州市国民经济和社会发展第十五个五年规划的建议》", "扬发〔2025〕20号"),
)
TOPICS = (
    "年度重点协商议题", "民营企业营商环境", "运河文化带建设", "乡村振兴专题调研",
    "加强自身建设", "参政议政成果交流", "界别协商活动安排", "“十五五”规划建议",
)  # fmt: skip
CONCERNS = (
    "希望市政协在重点调研中吸收党派成员参加",
    "建议建立党派提案办理情况定期反馈机制",
    "基层组织活动场地紧张，希望协调解决",
    "民营企业融资难，希望组织银企对接",
    "希望加大对党派成员履职培训的支持",
)
FORMS = ("talk", "visit", "joint_research")
PLACES = ("政协扬州市委员会会议室", "扬州会议中心", "扬州迎宾馆")


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _organisations(unit: Unit, demo: DemoContext) -> list[Organisation]:
    """The demo's organisations, or the parties and the federation made now."""
    if demo.organisations:
        found = [api.get_organisation(unit, oid) for oid in demo.organisations]
        return [o for o in found if o.kind in ("democratic_party", "federation_ic")] or found
    existing = [
        o for o in api.list_organisations(unit) if o.kind in ("democratic_party", "federation_ic")
    ]
    if existing:
        return existing
    parties = unit.config.vocab["parties"]
    made = []
    for code, short in DEMOCRATIC_PARTIES:
        if code not in parties:
            continue
        made.append(
            api.create_organisation(
                unit,
                name=f"{short}扬州市委员会",
                kind="democratic_party",
                party=code,
                region="city" if "city" in unit.config.vocab["regions"] else None,
                phone=f"0514-87{demo.rng.randrange(1_000_000):06d}",
            )
        )
    made.append(
        api.create_organisation(
            unit,
            name=FEDERATION,
            kind="federation_ic",
            region="city" if "city" in unit.config.vocab["regions"] else None,
            phone=f"0514-87{demo.rng.randrange(1_000_000):06d}",
        )
    )
    # Two contact persons each, from the democratic-party and federation figures.
    pool = {
        "democratic_party": list(demo.people_by_category.get("democratic_party", [])),
        "federation_ic": list(demo.people_by_category.get("federation_ic", [])),
    }
    for org in made:
        candidates = pool[org.kind]
        if org.party:
            same = [pid for pid in candidates if api.get_person(unit, pid).party == org.party]
            candidates = same or candidates
        for pid, role in zip(candidates[:2], ("主要负责人", "联络人"), strict=False):
            api.add_contact(unit, org.id, pid, role=role)
            pool[org.kind].remove(pid)
    return made


def _hosts(unit: Unit, demo: DemoContext) -> list[Account]:
    roles = demo.accounts_by_role
    return roles.get("chair_meeting") or roles.get("leader") or roles.get("admin") or []


def _active(unit: Unit, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    alive = {p.id for p in api.people(unit, ids=ids)}  # active ones only
    return [pid for pid in ids if pid in alive]


def populate(unit: Unit, demo: DemoContext) -> None:
    """Fill the demo: organisations, liaison, briefings and two 中秋联谊会."""
    rng = demo.rng
    tz = unit.config.tz
    # Done work must lie in the past of the demo's today and of the clock alike.
    now = min(datetime.combine(demo.today, time(8), tz).astimezone(UTC), api.now())
    orgs = _organisations(unit, demo)
    hosts = _hosts(unit, demo)

    # A year of liaison with the organisations: a talk, visit or joint research with
    # each, some raising concerns (followed up), and two on the calendar.
    for n, org in enumerate(orgs + orgs[: max(0, 12 - len(orgs))]):
        upcoming = n >= len(orgs) + max(0, 12 - len(orgs)) - 2
        ago = -rng.randint(5, 25) if upcoming else rng.randint(10, 350)
        day = _weekday(demo.today - timedelta(days=ago))
        start = datetime.combine(day, time(rng.choice((9, 10, 14, 15)), 30), tz).astimezone(UTC)
        people = [p.id for p, _role in api.contacts_of(unit, org.id)][:2]
        host = [rng.choice(hosts).id] if hosts else []
        if not people and not host:
            continue
        data = {
            "organisation": str(org.id),
            "form": rng.choice(FORMS),
            "topics": rng.sample(TOPICS, rng.randint(1, 2)),
        }
        if start + timedelta(hours=2) > now:
            api.schedule_interaction(
                unit, kind=ORG_LIAISON, start=start, people=people, accounts=host,
                location=org.address or rng.choice(PLACES), data=data,
                summary=f"与{org.name}{'、'.join(data['topics'])}交流",
            )  # fmt: skip
            continue
        if rng.random() < 0.4:
            data["concerns"] = rng.sample(CONCERNS, 1)
        done = api.log_interaction(
            unit, kind=ORG_LIAISON, start=start, people=people, accounts=host,
            location=org.address or rng.choice(PLACES), data=data,
            summary=f"与{org.name}{'、'.join(data['topics'])}交流",
        )  # fmt: skip
        # Concerns are due a month after they were raised, not after the demo was made.
        for fu in api.follow_ups(unit, interaction_id=done.id):
            api.update_follow_up(
                unit, fu.id, due_on=day + timedelta(days=unit.config.follow_up_days)
            )

    # Two briefings of the Hong Kong and Macao members; someone misses the first.
    hk = _active(unit, list(demo.people_by_category.get(services.DEFAULT_BRIEFED_CATEGORY, [])))
    if hk:
        first = rng.sample(hk, len(hk) - 1) if len(hk) > 1 else []
        for (title, number), briefed, ago in (
            (DOCUMENTS[0], first, rng.randint(120, 200)),
            (DOCUMENTS[1], hk, rng.randint(20, 60)),
        ):
            if not briefed:
                continue
            start = datetime.combine(_weekday(demo.today - timedelta(days=ago)), time(15), tz)
            if start.astimezone(UTC) + timedelta(hours=2) > now:
                continue
            data = {"document": title}
            if number:
                data["document_no"] = number
            api.log_interaction(
                unit, kind=BRIEFING, start=start.astimezone(UTC), people=briefed,
                accounts=[rng.choice(hosts).id] if hosts else [],
                location=rng.choice(PLACES), data=data, summary=f"向港澳委员通报{title}",
            )  # fmt: skip

    # Last year's and this year's 中秋联谊会.
    members = list(demo.members)
    guests = rng.sample(members, min(len(members), 24)) + hk
    for org in orgs:
        guests += [p.id for p, _role in api.contacts_of(unit, org.id)][:1]
    invitees = _active(unit, list(dict.fromkeys(guests)))
    if not invitees:
        return
    for year in (demo.today.year - 1, demo.today.year):
        gathering = services.ensure_gathering(
            unit,
            year,
            invitees=invitees,
            hosts=[a.id for a in hosts[:2]],
            location="扬州迎宾馆",
        )
        if gathering.status is not InteractionStatus.planned:
            continue
        over = gathering.end_at is not None and gathering.end_at <= now
        for pid in invitees:
            r = rng.random()
            answer: Rsvp | None
            if over:
                answer = Rsvp.accepted if r < 0.85 else Rsvp.declined
            else:
                answer = Rsvp.accepted if r < 0.5 else Rsvp.declined if r < 0.65 else None
            if answer is not None:
                services.rsvp(unit, gathering.id, pid, answer)
        if not over:
            continue
        api.complete_interaction(unit, gathering.id, summary=f"{year}年中秋联谊会，共叙乡情友情")
        came, missed = [], []
        for p in services.attendance_summary(unit, gathering.id).people:
            if p.person_id is None:
                continue
            if p.rsvp == Rsvp.accepted and rng.random() < 0.95:
                came.append(p.person_id)
            else:
                missed.append(p.person_id)
        services.attendance(unit, gathering.id, present=came, absent=missed)
