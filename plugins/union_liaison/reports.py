"""The reports of union_liaison, registered through ``register_reports``:

- ``briefings`` (港澳委员通报会情况): per document, the briefings held in the period, their
  dates, the Hong Kong and Macao members they reached and those not yet reached; and each
  briefing with who came;
- ``gatherings`` (联谊活动出席情况): each gathering of the period (the 中秋联谊会 and the
  like) with invitations, answers, attendance and the share who came; and everyone's
  answer and attendance.

Both read through the plugin's services and count only what the acting account may see
(county staff: their region's people, :mod:`crm_core.authz`). A person is "reached" by a
briefing as :func:`~crm_plugins.union_liaison.services.reached` says.
"""

from __future__ import annotations

import uuid
from typing import Any

from crm_core import api
from crm_core.api import (
    Column,
    Interaction,
    InteractionStatus,
    Period,
    ReportSpec,
    ReportTable,
    Rsvp,
    Section,
    Unit,
    share,
)

from . import services
from .kinds import BRIEFING, GATHERING, document_key

CONFIDENTIAL = "（保密）"  # the title of a confidential record the reader may not read
_STATUS = {
    InteractionStatus.planned: ("未举行", "Planned"),
    InteractionStatus.done: ("已举行", "Held"),
    InteractionStatus.cancelled: ("已取消", "Cancelled"),
}
_RSVP = {Rsvp.accepted: "已接受", Rsvp.declined: "已谢绝", Rsvp.invited: "未答复", None: "未答复"}


def _day(unit: Unit, i: Interaction) -> Any:
    return i.start_at.astimezone(unit.config.tz).date()


def _readable(unit: Unit, i: Interaction) -> bool:
    # The document or event is in the kind's fields, which are as private as the notes
    # on a confidential record.
    return not api.shown(unit, i).hidden


def _category_members(unit: Unit, code: str, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``ids`` are of the category ``code``."""
    return {pid for pid, codes in api.categories_of(unit, ids).items() if code in codes}


def _hosts(unit: Unit, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The office's accounts taking part in each interaction (briefers, hosts)."""
    out: dict[uuid.UUID, list[str]] = {}
    for iid, attendees in api.participants(unit, ids).items():
        names = [a.account.display_name for a in attendees if a.account is not None]
        if names:
            out[iid] = names
    return out


# -- briefings per document ------------------------------------------------------------

DOCUMENT_COLUMNS = [
    Column("document", "通报文件", "Document"),
    Column("document_no", "文号", "Number"),
    Column("briefings", "通报会场次", "Briefings", "int"),
    Column("dates", "通报日期", "Dates", "list"),
    Column("hk_macao", "港澳委员", "HK/Macao members", "int"),
    Column("hk_reached", "已通报港澳委员", "HK/Macao members briefed", "int"),
    Column("share", "通报覆盖率", "Coverage", "percent"),
    Column("others", "其他人员", "Others briefed", "int"),
    Column("not_reached", "尚未通报的港澳委员", "HK/Macao members not yet briefed", "list"),
]
BRIEFING_COLUMNS = [
    Column("date", "日期", "Date", "date"),
    Column("document", "通报文件", "Document"),
    Column("location", "地点", "Place"),
    Column("briefers", "通报人", "Briefed by"),
    Column("hk_count", "参加的港澳委员人数", "HK/Macao members", "int"),
    Column("hk_names", "参加的港澳委员", "HK/Macao members briefed", "list"),
    Column("others", "其他人员", "Others briefed", "int"),
    Column("missed", "未参加", "Did not come", "list"),
]


def briefing_report(unit: Unit, period: Period) -> ReportTable:
    """The report ``briefings``: for each document briefed by a done briefing in the
    period (titles grouped as :func:`~crm_plugins.union_liaison.kinds.document_key`
    compares them), how many briefings, on which days, how many of the active Hong Kong
    and Macao members (港澳委员) they reached, the share, the others reached, and the
    members not reached by any of them; then every briefing with who came."""
    category = services.DEFAULT_BRIEFED_CATEGORY
    term = unit.app.categories.get(category)
    members = services.members_of(unit, category) if term else []
    briefings = services.events_between(
        unit, BRIEFING, *period.bounds(unit.config.tz), done_only=True
    )
    people = services.people_at(unit, [i.id for i in briefings])
    everyone = {person.id for rows in people.values() for _p, person in rows}
    hk = _category_members(unit, category, everyone) if term else set()
    hosts = _hosts(unit, [i.id for i in briefings])

    groups: dict[str, list[Interaction]] = {}
    titles: dict[str, str] = {}
    detail: list[dict[str, Any]] = []
    for i in briefings:
        title = str(i.data.get("document", "")) if _readable(unit, i) else CONFIDENTIAL
        key = document_key(title) or title
        groups.setdefault(key, []).append(i)
        titles[key] = title  # as the latest briefing wrote it
        came = [p for part, p in people[i.id] if services.reached(part)]
        detail.append(
            {
                "interaction_id": str(i.id),
                "date": _day(unit, i),
                "document": title,
                "location": i.location or "",
                "briefers": "、".join(hosts.get(i.id, [])),
                "hk_count": sum(p.id in hk for p in came),
                "hk_names": [p.name for p in came if p.id in hk],
                "others": sum(p.id not in hk for p in came),
                "missed": [p.name for part, p in people[i.id] if not services.reached(part)],
            }
        )
    rows: list[dict[str, Any]] = []
    for key, group in groups.items():  # in order of the first briefing
        reached = {p.id for i in group for part, p in people[i.id] if services.reached(part)}
        numbers = [
            str(i.data["document_no"])
            for i in group
            if i.data.get("document_no") and _readable(unit, i)
        ]
        got = sum(m.id in reached for m in members)
        rows.append(
            {
                "document": titles[key],
                "document_no": numbers[-1] if numbers else "",
                "briefings": len(group),
                "dates": sorted({_day(unit, i).isoformat() for i in group}),
                "hk_macao": len(members),
                "hk_reached": got,
                "share": share(got, len(members)),
                "others": len(reached - hk),
                "not_reached": [m.name for m in members if m.id not in reached],
            }
        )
    reached_all = {p.id for rows_ in people.values() for part, p in rows_ if services.reached(part)}
    hk_reached = sum(m.id in reached_all for m in members)
    label = term.zh if term else "港澳委员"
    return ReportTable(
        [
            Section(
                "documents",
                "按文件统计",
                "By document",
                DOCUMENT_COLUMNS,
                rows,
                f"港澳委员：联系对象类别为“{label}”的在册人员。只计本期内已举行的通报会；"
                "登记为缺席、或谢绝且未登记出席的不算已通报。",
                "HK/Macao members: active people of that category. Only briefings held in "
                "the period count; people recorded as absent, or who declined and were not "
                "recorded as present, were not briefed.",
            ),
            Section("briefings", "通报会明细", "Briefings", BRIEFING_COLUMNS, detail),
        ],
        {
            "documents": len(rows),
            "briefings": len(briefings),
            "hk_macao_members": len(members),
            "hk_macao_reached": hk_reached,
            "share": share(hk_reached, len(members)),
            "people": len(reached_all),
        },
    )


# -- gatherings with attendance ----------------------------------------------------------

GATHERING_COLUMNS = [
    Column("date", "日期", "Date", "date"),
    Column("event", "活动", "Event"),
    Column("status", "状态", "Status"),
    Column("invited", "邀请", "Invited", "int"),
    Column("accepted", "接受", "Accepted", "int"),
    Column("declined", "谢绝", "Declined", "int"),
    Column("awaiting", "未答复", "No answer", "int"),
    Column("attended", "出席", "Attended", "int"),
    Column("absent", "缺席", "Absent", "int"),
    Column("unrecorded", "未登记出席", "Attendance not recorded", "int"),
    Column("share", "出席率", "Attendance", "percent"),
]
INVITEE_COLUMNS = [
    Column("date", "日期", "Date", "date"),
    Column("event", "活动", "Event"),
    Column("name", "姓名", "Name"),
    Column("rsvp", "答复", "Answer"),
    Column("attended", "出席情况", "Attendance"),
]


def _attended_word(value: bool | None) -> str:
    return "未登记" if value is None else ("出席" if value else "缺席")


def gathering_report(unit: Unit, period: Period) -> ReportTable:
    """The report ``gatherings``: every gathering (联谊活动, kind ``gathering``) starting
    in the period, held, planned or cancelled: how many people were invited, accepted,
    declined or have not answered, came, did not come or have no attendance recorded,
    and — for those held — the share of the invited who came; then everyone's answer
    and attendance. The summary adds up the gatherings held."""
    events = services.events_between(unit, GATHERING, *period.bounds(unit.config.tz))
    people = services.people_at(unit, [i.id for i in events])
    rows: list[dict[str, Any]] = []
    detail: list[dict[str, Any]] = []
    held = {"gatherings": 0, "invited": 0, "attended": 0}
    for i in events:
        readable = _readable(unit, i)
        event = str(i.data.get("event") or i.summary or "") if readable else CONFIDENTIAL
        parts = [part for part, _p in people[i.id]]
        invited = len(parts)
        attended = sum(p.attended is True for p in parts)
        done = i.status is InteractionStatus.done
        rows.append(
            {
                "interaction_id": str(i.id),
                "date": _day(unit, i),
                "event": event,
                "status": _STATUS[i.status][0],
                "status_code": i.status.value,
                "invited": invited,
                "accepted": sum(p.rsvp == Rsvp.accepted for p in parts),
                "declined": sum(p.rsvp == Rsvp.declined for p in parts),
                "awaiting": sum(p.rsvp in (None, Rsvp.invited) for p in parts),
                "attended": attended,
                "absent": sum(p.attended is False for p in parts),
                "unrecorded": sum(p.attended is None for p in parts),
                "share": share(attended, invited) if done else None,
            }
        )
        if done:
            held["gatherings"] += 1
            held["invited"] += invited
            held["attended"] += attended
        for part, person in people[i.id]:
            detail.append(
                {
                    "date": _day(unit, i),
                    "event": event,
                    "person_id": str(person.id),
                    "name": person.name,
                    "rsvp": _RSVP[part.rsvp],
                    "rsvp_code": part.rsvp.value if part.rsvp else None,
                    "attended": _attended_word(part.attended),
                }
            )
    return ReportTable(
        [
            Section(
                "gatherings",
                "联谊活动出席情况",
                "Gatherings and attendance",
                GATHERING_COLUMNS,
                rows,
                "出席率：已举行的活动中出席人数占邀请人数的比例；未答复含尚未回复邀请的。",
                "Attendance: of the people invited to a gathering held, the share who came; "
                "no answer includes invitations not yet answered.",
            ),
            Section(
                "invitees", "邀请和出席名单", "Invitations and attendance", INVITEE_COLUMNS, detail
            ),
        ],
        {
            "gatherings": len(events),
            "held": held["gatherings"],
            "invited": held["invited"],
            "attended": held["attended"],
            "share": share(held["attended"], held["invited"]),
        },
    )


REPORTS = (
    ReportSpec(
        "briefings",
        "港澳委员通报会情况",
        "HK/Macao briefings per document",
        briefing_report,
        "按文件统计本期向港澳委员宣讲通报的场次、日期、已通报和尚未通报的港澳委员",
    ),
    ReportSpec(
        "gatherings",
        "联谊活动出席情况",
        "Union-liaison events with attendance",
        gathering_report,
        "本期中秋联谊会等联谊活动的邀请、答复、出席人数和出席率",
    ),
)
