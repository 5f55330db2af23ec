"""The visits plugin (走访看望, seed 二.6): its kinds, the county check, the follow-ups
of concerns raised (atomic with the visit), disabling it, and its demo data.

Every test runs on SQLite and on PostgreSQL (the ``app`` fixture).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import crm_plugins.heart_talks as heart_talks
import crm_plugins.visits as visits
import pytest
from sqlalchemy import func, select

from crm_core import clock, hookimpl
from crm_core.app import Tongxin
from crm_core.demo_context import DemoContext
from crm_core.errors import ValidationError
from crm_core.models import (
    Account,
    FollowUp,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Person,
)
from crm_core.plugins import PluginHost
from crm_core.services import accounts, contacts, followups, interactions
from crm_core.unit import Unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)  # a Monday morning in Yangzhou
TODAY = NOW.date()
CONCERNS = ["企业用地审批周期长", "县城停车难"]


def count(unit: Unit, model: Any) -> int:
    return unit.session.scalar(select(func.count()).select_from(model)) or 0


@dataclass
class Office:
    """Who exists in the tests: two chair-meeting members, a staffer, two members."""

    chair: uuid.UUID  # username zhuxi
    vice: uuid.UUID  # username fuzhuxi (sorts before zhuxi)
    staff: uuid.UUID  # username xiaowang
    member: uuid.UUID  # 李明, lives in 宝应县
    other: uuid.UUID  # 王芳, lives in 高邮市


@pytest.fixture
def office(with_plugins: Callable[..., Tongxin]) -> Office:
    app = with_plugins(visits)
    clock.freeze(NOW)
    with app.unit() as unit:
        new = accounts.create_account
        chair = new(unit, username="zhuxi", display_name="主席", role="leader", chair_meeting=True)
        vice = new(
            unit, username="fuzhuxi", display_name="副主席", role="leader", chair_meeting=True
        )
        staff = new(unit, username="xiaowang", display_name="小王", role="staff")
        member = contacts.create_person(unit, name="李明", membership="member", region="宝应县")
        other = contacts.create_person(unit, name="王芳", membership="member", region="高邮市")
        return Office(chair.id, vice.id, staff.id, member.id, other.id)


def who(
    unit: Unit, interaction_id: uuid.UUID
) -> set[tuple[str, uuid.UUID | None, uuid.UUID | None]]:
    return {
        (p.role, p.person_id, p.account_id)
        for p in interactions.participants_of(unit, interaction_id)
    }


# -- kinds -----------------------------------------------------------------------------


def test_the_kinds_are_registered_with_their_fields(
    app: Tongxin, with_plugins: Callable[..., Tongxin]
) -> None:
    with_plugins(visits)
    visit, invitation = app.kinds["visit"], app.kinds["invitation"]
    assert (visit.zh, visit.en, visit.default_duration_minutes) == ("走访看望", "Visit", 90)
    assert (visit.person_role, visit.account_role, visit.plugin) == ("visited", "visitor", "visits")
    assert (invitation.zh, invitation.en) == ("约请上门 / 邀请参加视察调研", "Invitation")
    assert invitation.default_duration_minutes == 120
    assert (invitation.person_role, invitation.account_role) == ("invitee", "host")
    assert not visit.confidential and not invitation.confidential
    for kind in (visit, invitation):
        fields = {f["name"]: f for f in kind.fields()}
        assert list(fields) == ["occasion", "county", "discussed", "concerns"]
        assert not any(f["required"] for f in fields.values())
        assert all(" / " in f["description"] for f in fields.values())  # 中文 / English
    info = app.plugins.info["visits"]
    assert (info.status, info.version) == ("ok", visits.__version__)
    assert sorted(info.hooks) == [
        "collect_follow_ups", "populate_demo", "register_kinds", "register_reports",
        "validate_interaction",
    ]  # fmt: skip


def test_the_report_visits_is_the_plugins(
    app: Tongxin, with_plugins: Callable[..., Tongxin]
) -> None:
    """The core knows nothing of visits: its report comes with the plugin (issue 13)."""
    from crm_core.reports import available_reports

    assert "visits" not in available_reports(app)
    with_plugins(visits)
    spec = available_reports(app)["visits"]
    assert (spec.zh, spec.plugin) == ("走访约请统计", "visits")


# -- follow-ups of concerns --------------------------------------------------------------


def test_a_visit_with_two_concerns_raises_two_follow_ups_for_the_visitor(
    app: Tongxin, office: Office
) -> None:
    # The staffer logs the visit the chair made: the chair owns what was raised.
    with app.unit("xiaowang") as unit:
        iid = interactions.log_interaction(
            unit,
            kind="visit",
            people=[office.member],
            accounts=[office.chair],
            summary="宝应县视察途中走访",
            data={
                "occasion": "宝应县视察调研",
                "county": "宝应县",
                "discussed": "了解企业生产经营情况",
                "concerns": CONCERNS,
            },
        ).id
    with app.unit() as unit:
        visit = interactions.get_interaction(unit, iid)
        assert visit.status is InteractionStatus.done
        assert visit.region == "baoying"  # the county, stored as its code
        assert visit.data == {
            "occasion": "宝应县视察调研",
            "county": "baoying",
            "discussed": "了解企业生产经营情况",
            "concerns": CONCERNS,
        }
        assert visit.end_at - visit.start_at == timedelta(minutes=90)
        assert who(unit, iid) == {
            ("visited", office.member, None),
            ("visitor", None, office.chair),
        }
        rows = followups.list_follow_ups(unit)
        assert sorted(f.title for f in rows) == sorted(CONCERNS)
        for f in rows:
            assert (f.interaction_id, f.person_id, f.owner_id) == (iid, office.member, office.chair)
            assert f.due_on == TODAY + timedelta(days=30)
            assert f.status.value == "open"
            assert f.detail == f"{TODAY.isoformat()} 走访看望（宝应县视察调研）"


def test_the_acting_visitor_owns_the_follow_ups_otherwise_the_first_by_username(
    app: Tongxin, office: Office
) -> None:
    both = [office.vice, office.chair]
    with app.unit("zhuxi") as unit:
        mine = interactions.log_interaction(
            unit, kind="visit", people=[office.member], accounts=both,
            data={"concerns": ["路灯不亮"]},
        ).id  # fmt: skip
    with app.unit("xiaowang") as unit:
        logged = interactions.log_interaction(
            unit, kind="invitation", people=[office.other], accounts=both,
            data={"concerns": ["学位紧张"]},
        ).id  # fmt: skip
    with app.unit() as unit:
        owners = {f.interaction_id: f.owner_id for f in followups.list_follow_ups(unit)}
        assert owners == {mine: office.chair, logged: office.vice}
        raised = {f.interaction_id: f.person_id for f in followups.list_follow_ups(unit)}
        assert raised == {mine: office.member, logged: office.other}


def test_concerns_are_trimmed_and_the_same_one_twice_is_one(app: Tongxin, office: Office) -> None:
    with app.unit("zhuxi") as unit:
        iid = interactions.log_interaction(
            unit, kind="visit", people=[office.member],
            data={"county": "baoying", "concerns": ["  县城　停车难 ", "县城 停车难", "路灯"]},
        ).id  # fmt: skip
    with app.unit() as unit:
        assert interactions.get_interaction(unit, iid).data["concerns"] == ["县城 停车难", "路灯"]
        assert sorted(f.title for f in followups.list_follow_ups(unit)) == ["县城 停车难", "路灯"]


@pytest.mark.parametrize(
    ("given", "field", "value"),
    [
        ({"data": {"county": "火星县", "concerns": CONCERNS}}, "data.county", "火星县"),
        # The region of the visit says Gaoyou, the county Baoying: which is it?
        ({"region": "高邮市", "data": {"county": "宝应县", "concerns": CONCERNS}}, "data.county",
         "宝应县"),
        ({"data": {"county": "宝应县", "concerns": ["县城停车难", "  "]}}, "data.concerns.1", "  "),
        ({"data": {"concern": "县城停车难"}}, "data.concern", "县城停车难"),  # a typo is refused
    ],
)  # fmt: skip
def test_a_bad_value_refuses_the_visit_and_writes_nothing(
    app: Tongxin, office: Office, given: dict[str, Any], field: str, value: str
) -> None:
    with pytest.raises(ValidationError) as caught, app.unit("zhuxi") as unit:
        interactions.log_interaction(unit, kind="visit", people=[office.member], **given)
    assert (caught.value.errors[0].field, caught.value.errors[0].value) == (field, value)
    with app.unit() as unit:
        assert count(unit, Interaction) == 0
        assert count(unit, InteractionParticipant) == 0
        assert count(unit, FollowUp) == 0
    assert app.plugins.info["visits"].errors == []  # a refusal is not a plugin failure


class RefusesAfterSaving:
    """A county's rule that refuses, after the follow-ups were made, a visit whose
    concerns mention 拆迁 (they must go through the petition office instead)."""

    @hookimpl
    def interaction_saved(self, unit: Unit, interaction: Interaction) -> None:
        if any("拆迁" in c for c in interaction.data.get("concerns", [])):
            raise ValidationError.one("data.concerns", "拆迁", "请通过信访渠道反映")


def test_the_visit_and_its_follow_ups_are_written_together_or_not_at_all(
    app: Tongxin, office: Office
) -> None:
    app.plugins.register(RefusesAfterSaving(), "county_rule")
    with pytest.raises(ValidationError, match="信访"), app.unit("zhuxi") as unit:
        interactions.log_interaction(
            unit, kind="visit", people=[office.member],
            data={"county": "宝应县", "concerns": ["县城停车难", "拆迁补偿"]},
        )  # fmt: skip
        raise AssertionError("not reached")
    with app.unit() as unit:
        assert (count(unit, Interaction), count(unit, FollowUp)) == (0, 0)
    # A failure after the service returned rolls both back too.
    with pytest.raises(RuntimeError, match="power cut"), app.unit("zhuxi") as unit:
        interactions.log_interaction(
            unit, kind="visit", people=[office.member], data={"concerns": CONCERNS}
        )
        assert count(unit, FollowUp) == 2
        raise RuntimeError("power cut")
    with app.unit() as unit:
        assert (count(unit, Interaction), count(unit, FollowUp)) == (0, 0)


def test_a_planned_visit_raises_follow_ups_when_it_is_completed(
    app: Tongxin, office: Office
) -> None:
    wednesday = NOW + timedelta(days=2, minutes=-30)  # 09:30 on the 17th
    with app.unit("zhuxi") as unit:
        planned = interactions.schedule_interaction(
            unit, kind="visit", people=[office.other], start=wednesday,
            data={"occasion": "高邮市专题调研", "county": "高邮市", "concerns": ["已知的问题"]},
        )  # fmt: skip
        assert planned.data["county"] == "gaoyou" and planned.region == "gaoyou"
        assert who(unit, planned.id) == {("visited", office.other, None)}  # nobody yet
        iid = planned.id
        early = interactions.schedule_interaction(
            unit, kind="invitation", people=[office.member], accounts=[office.vice],
            start=wednesday,
        ).id  # fmt: skip
        cancelled = interactions.schedule_interaction(
            unit, kind="visit", people=[office.member], accounts=[office.vice], start=wednesday
        ).id
    with app.unit() as unit:
        assert followups.list_follow_ups(unit) == []  # planned work raises nothing
        interactions.cancel_interaction(unit, cancelled, reason="对方临时出差")
        # Completed before its day: the concern was raised today.
        interactions.complete_interaction(unit, early, data={"concerns": ["邀请函未收到"]})
    clock.freeze(NOW + timedelta(days=3))  # the visit took place; logged on Thursday
    with app.unit("zhuxi") as unit:
        interactions.complete_interaction(
            unit, iid, summary="走访王芳委员", data={"concerns": ["乡村道路养护不到位"]}
        )
    with app.unit() as unit:
        rows = {f.title: f for f in followups.list_follow_ups(unit)}
        assert set(rows) == {"乡村道路养护不到位", "邀请函未收到"}
        road = rows["乡村道路养护不到位"]
        assert (road.interaction_id, road.person_id) == (iid, office.other)
        # No visitor was named: the core's default owner, the account completing it.
        assert road.owner_id == office.chair
        # Due 30 days after the visit (the 17th), when the member raised it.
        assert road.due_on == date(2026, 7, 17)
        letter = rows["邀请函未收到"]
        assert (letter.owner_id, letter.due_on) == (office.vice, TODAY + timedelta(days=30))
        assert interactions.get_interaction(unit, cancelled).status is InteractionStatus.cancelled


# -- disabling -----------------------------------------------------------------------------


@pytest.mark.parametrize("disabled", ["visits", "heart_talks"])
def test_disabling_one_plugin_leaves_the_other_and_the_core_working(
    app: Tongxin, monkeypatch: pytest.MonkeyPatch, disabled: str
) -> None:
    # The real entry points, as an office's installation loads them.
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "visits,heart_talks")
    host = PluginHost()
    host.load(disabled=[disabled])
    office = Tongxin(app.config, engine=app.engine, plugins=host)
    kept = "heart_talks" if disabled == "visits" else "visits"
    assert host.info[disabled].status == "disabled"
    assert host.info[kept].status == "ok"
    assert host.info[kept].source.startswith("entry point")
    clock.freeze(NOW)
    with office.unit() as unit:
        leader = accounts.create_account(
            unit, username="zhuren", display_name="主任", role="leader"
        )
        pid = contacts.create_person(unit, name="李明", membership="member", party="民盟").id
    lost, there = ("visit", "heart_talk") if disabled == "visits" else ("heart_talk", "visit")
    assert lost not in office.kinds and there in office.kinds
    with office.unit("zhuren") as unit:
        interactions.log_interaction(unit, kind="call", people=[pid])
        interactions.log_interaction(
            unit, kind="meeting", people=[pid], data={"concerns": ["会上反映的问题"]}
        )
        field = "agreed" if there == "heart_talk" else "concerns"
        interactions.log_interaction(unit, kind=there, people=[pid], data={field: ["一件事"]})
    with pytest.raises(ValidationError) as caught, office.unit("zhuren") as unit:
        interactions.log_interaction(unit, kind=lost, people=[pid])
    assert caught.value.errors[0].field == "kind"
    with office.unit() as unit:
        assert count(unit, Interaction) == 3
        titles = sorted(f.title for f in followups.list_follow_ups(unit))
        assert titles == ["一件事", "会上反映的问题"]
        assert all(f.owner_id == leader.id for f in followups.list_follow_ups(unit))
    assert all(i.errors == [] for i in host.plugins())


# -- demo data -----------------------------------------------------------------------------


class _Rollback(Exception):
    """Raised to leave a unit without committing it."""


def _fingerprint(unit: Unit) -> list[Any]:
    """Everything the demo wrote, independent of the random row ids."""
    key: dict[uuid.UUID, tuple[Any, ...]] = {}
    rows = []
    for i in unit.session.scalars(select(Interaction)):
        parts = sorted(
            (p.role, str(p.person_id), str(p.account_id))
            for p in interactions.participants_of(unit, i.id)
        )
        key[i.id] = (i.kind, i.start_at.isoformat(), tuple(parts))
        rows.append((*key[i.id], i.status.value, i.region, i.summary, i.notes, i.data))
    for f in unit.session.scalars(select(FollowUp)):
        rows.append(
            (f.title, key[f.interaction_id] if f.interaction_id else None, str(f.person_id),
             str(f.owner_id), f.due_on, f.status.value, f.response)
        )  # fmt: skip
    return sorted(rows, key=repr)


def test_populate_demo_makes_a_year_of_county_trips_the_same_for_a_seed(
    app: Tongxin, with_plugins: Callable[..., Tongxin]
) -> None:
    with_plugins(visits)
    clock.freeze(NOW)
    counties = ["宝应县", "高邮市", "仪征市", "江都区", "市直"]
    with app.unit() as unit:
        chairs = [
            accounts.create_account(
                unit, username=f"chair{i}", display_name=f"主席会议成员{i}", role="leader",
                chair_meeting=True,
            ).id
            for i in range(3)
        ]  # fmt: skip
        members = [
            contacts.create_person(
                unit, name=f"委员{n}", membership="member", region=counties[n % len(counties)]
            ).id
            for n in range(15)
        ]

    def populate(seed: int) -> list[Any]:
        with pytest.raises(_Rollback), app.unit() as unit:
            demo = DemoContext(
                rng=random.Random(seed),
                today=TODAY,
                members=list(members),
                accounts_by_role={"chair_meeting": [unit.session.get(Account, a) for a in chairs]},
            )
            ran = app.plugins.call("populate_demo", passthrough=(Exception,), unit=unit, demo=demo)
            assert [name for name, _ in ran] == ["visits"]
            written = _fingerprint(unit)
            check(unit)
            raise _Rollback
        return written

    def check(unit: Unit) -> None:
        rows = list(unit.session.scalars(select(Interaction)))
        done = [i for i in rows if i.status is InteractionStatus.done]
        planned = [i for i in rows if i.status is InteractionStatus.planned]
        assert len(done) >= 20 and {i.kind for i in done} == {"visit", "invitation"}
        assert all(TODAY - timedelta(days=370) <= i.start_at.date() < TODAY for i in done)
        monday = TODAY + timedelta(days=7)
        assert len(planned) == 2
        assert all(monday <= i.start_at.astimezone(SHANGHAI).date() < monday + timedelta(7)
                   for i in planned)  # fmt: skip
        for i in rows:
            parts = interactions.participants_of(unit, i.id)
            assert {p.account_id for p in parts if p.account_id} <= set(chairs)
            (person,) = [unit.session.get(Person, p.person_id) for p in parts if p.person_id]
            assert person is not None and person.region == i.region == i.data["county"]
            assert i.region != "city"  # county trips
        fus = list(unit.session.scalars(select(FollowUp)))
        assert fus and {f.status.value for f in fus} >= {"open", "closed"}
        assert all(f.owner_id in chairs for f in fus)

    first, again, other = populate(2019), populate(2019), populate(7)
    assert first == again
    assert first != other
    with app.unit() as unit:
        assert count(unit, Interaction) == 0  # rolled back


def test_with_both_plugins_a_visit_raises_its_follow_ups_once(
    app: Tongxin, with_plugins: Callable[..., Tongxin], office: Office
) -> None:
    with_plugins(heart_talks)
    with app.unit("zhuxi") as unit:
        interactions.log_interaction(
            unit, kind="visit", people=[office.member], data={"concerns": CONCERNS}
        )
    with app.unit() as unit:
        assert count(unit, FollowUp) == 2
