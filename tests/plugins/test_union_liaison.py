"""Tests of the union_liaison plugin (团结联谊, seed 二.7): liaison with organisations,
briefings on documents and who has not had one, and the yearly 中秋联谊会 on its lunar
date with invitations, RSVPs and attendance.

Every test with ``app`` runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from crm_cli.main import run
from crm_plugins import union_liaison as ul
from sqlalchemy import func, select

from crm_core import clock, hookimpl
from crm_core.app import Tongxin
from crm_core.config import Config, load_config
from crm_core.demo_context import DemoContext
from crm_core.errors import NotFound, ValidationError
from crm_core.models import (
    FollowUp,
    Interaction,
    InteractionStatus,
    Organisation,
    Person,
    Rsvp,
    Series,
)
from crm_core.plugins import PluginHost
from crm_core.services import accounts, contacts, followups, interactions, organisations
from crm_core.unit import Unit

DOC = "《中共中央关于进一步全面深化改革 推进中国式现代化的决定》"
OTHER_DOC = "《政府工作报告》"
SHANGHAI_1830_UTC = (10, 30)


@pytest.fixture
def ul_app(with_plugins: Callable[..., Tongxin]) -> Tongxin:
    """The test's app with union_liaison registered."""
    return with_plugins(ul)


def count(unit: Unit, model: Any, *where: Any) -> int:
    return unit.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def person(unit: Unit, name: str, *categories: str, **values: Any) -> uuid.UUID:
    return contacts.create_person(unit, name=name, categories=list(categories), **values).id


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time as an aware datetime."""
    from zoneinfo import ZoneInfo

    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai"))


# -- the plugin's shape ------------------------------------------------------------------


def test_kinds_are_registered_with_chinese_labels_and_described_fields(ul_app: Tongxin) -> None:
    kinds = ul_app.kinds
    assert (kinds["org_liaison"].zh, kinds["briefing"].zh, kinds["gathering"].zh) == (
        "联谊交流", "宣讲通报", "联谊活动",
    )  # fmt: skip
    assert kinds["gathering"].default_duration_minutes == 150
    assert {k.plugin for k in (kinds["org_liaison"], kinds["briefing"])} == {"union_liaison"}
    for code in ("org_liaison", "briefing", "gathering"):
        assert all(" / " in f["description"] for f in kinds[code].fields())
    required = {f["name"] for f in kinds["briefing"].fields() if f["required"]}
    assert required == {"document"}
    info = ul_app.plugins.info["union_liaison"]
    assert (info.status, info.version) == ("ok", ul.__version__)
    assert {
        "register_kinds",
        "validate_interaction",
        "interaction_saved",
        "collect_follow_ups",
        "collect_obligations",
        "register_commands",
        "register_reports",
        "register_palette_commands",
        "populate_demo",
    } == set(info.hooks)


# -- the 中秋联谊会 on its lunar date ------------------------------------------------------


def test_mid_autumn_date_from_config(ul_app: Tongxin) -> None:
    with ul_app.unit() as unit:
        assert ul.mid_autumn_date(unit, 2026) == date(2026, 9, 25)
        assert ul.mid_autumn_date(unit, 2027) == date(2027, 9, 15)
        assert ul.mid_autumn_date(unit, 2025) == date(2025, 10, 6)


def test_ensure_gathering_puts_it_on_the_lunar_date_at_local_time(
    ul_app: Tongxin, admin: str
) -> None:
    clock.freeze(datetime(2026, 8, 1, 2, tzinfo=UTC))
    with ul_app.unit(admin) as unit:
        a, b = person(unit, "赵敏"), person(unit, "钱坤")
        g26 = ul.ensure_gathering(unit, 2026, invitees=[a, str(b)])
        g27 = ul.ensure_gathering(unit, 2027, invitees=[a])
        ids = (g26.id, g27.id)
    with ul_app.unit() as unit:
        g26, g27 = (interactions.get_interaction(unit, i) for i in ids)
        assert g26.start_at == datetime(2026, 9, 25, *SHANGHAI_1830_UTC, tzinfo=UTC)
        assert g26.end_at == g26.start_at + timedelta(minutes=150)
        assert g27.start_at == datetime(2027, 9, 15, *SHANGHAI_1830_UTC, tzinfo=UTC)
        assert g26.start_at.utcoffset() == timedelta(0)
        assert (g26.kind, g26.status, g26.data, g26.summary) == (
            "gathering", InteractionStatus.planned, {"event": "中秋联谊会"}, "2026年中秋联谊会",
        )  # fmt: skip
        series = unit.session.scalars(select(Series)).one()
        assert g26.series_id == g27.series_id == series.id
        assert (
            series.code, series.title, series.kind, series.lunar_month, series.lunar_day,
            series.local_time, series.duration_minutes, series.source, series.all_day,
        ) == ("mid_autumn_gathering", "中秋联谊会", "gathering", 8, 15, "18:30", 150, "config",
              False)  # fmt: skip
        people = [p for p in interactions.participation(unit, g26.id) if p.person_id]
        assert [(p.name, p.role, p.rsvp) for p in people] == [
            ("钱坤", "invitee", Rsvp.invited), ("赵敏", "invitee", Rsvp.invited),
        ]  # fmt: skip
        hosts = [p for p in interactions.participation(unit, g26.id) if p.account_id]
        assert [(p.name, p.role) for p in hosts] == [("办公室", "host")]
        assert ul.find_gathering(unit, 2026).id == g26.id  # type: ignore[union-attr]
        assert ul.find_gathering(unit, 2028) is None


def test_ensure_gathering_is_idempotent(ul_app: Tongxin, admin: str) -> None:
    clock.freeze(datetime(2026, 8, 1, 2, tzinfo=UTC))
    with ul_app.unit(admin) as unit:
        a, b = person(unit, "赵敏"), person(unit, "钱坤")
        first = ul.ensure_gathering(unit, 2026, invitees=[a])
        gid = first.id
    with ul_app.unit(admin) as unit:
        again = ul.ensure_gathering(unit, 2026, invitees=[a])
        assert again.id == gid and again.sequence == 0
        # Naming someone new invites them to the same gathering.
        again = ul.ensure_gathering(unit, 2026, invitees=[a, b])
        assert again.id == gid and again.sequence == 1
    with ul_app.unit(admin) as unit:
        # Moved by a day because of a clash, it is still the year's gathering.
        interactions.reschedule_interaction(
            unit, gid, start=datetime(2026, 9, 26, 10, 30, tzinfo=UTC)
        )
        assert ul.ensure_gathering(unit, 2026).id == gid
        assert count(unit, Interaction, Interaction.kind == "gathering") == 1
        assert count(unit, Series) == 1
        assert len(ul.attendance_summary(unit, gid).people) == 2
        # A cancelled gathering is not silently made again.
        interactions.cancel_interaction(unit, gid, reason="台风")
        assert ul.ensure_gathering(unit, 2026).id == gid
        assert count(unit, Interaction, Interaction.kind == "gathering") == 1


def test_a_county_config_that_moves_the_lunar_date_is_honoured(
    tmp_path: Path, plugins: PluginHost, db_url: str
) -> None:
    cfg = tmp_path / "county.toml"
    cfg.write_text(
        "[[series]]\n"
        'code = "mid_autumn_gathering"\n'
        "lunar_day = 16\n"
        'time = "19:00"\n'
        "duration_minutes = 120\n"
        "[[series]]\n"
        'code = "spring_tea"\n'
        'zh = "新春茶话会"\n'
        "lunar_month = 1\n"
        "lunar_day = 8\n",
        "utf-8",
    )
    plugins.register(ul, "union_liaison")
    app = Tongxin(load_config(cfg), db_url=db_url, plugins=plugins)
    # A bad time in the file is refused when it is read (tests/core/test_config_*); one
    # that reaches the plugin anyway (a config made in code) is still refused by it.
    bad = {"code": "bad_time", "zh": "坏时间", "lunar_month": 1, "lunar_day": 9, "time": "7pm"}
    app.config.series.append(bad)
    try:
        clock.freeze(datetime(2026, 1, 2, tzinfo=UTC))
        with app.unit() as unit:
            a = person(unit, "孙立")
            assert ul.mid_autumn_date(unit, 2026) == date(2026, 9, 26)  # 八月十六
            g = ul.ensure_gathering(unit, 2026, invitees=[a])
            assert g.start_at == datetime(2026, 9, 26, 11, 0, tzinfo=UTC)  # 19:00 Shanghai
            assert g.end_at == g.start_at + timedelta(minutes=120)
            series = unit.session.get(Series, g.series_id)
            assert (series.lunar_month, series.lunar_day, series.local_time) == (8, 16, "19:00")
            # A county's own lunar series, all day (no time in config).
            tea = ul.ensure_gathering(unit, 2026, series_code="spring_tea", invitees=[a])
            assert ul.gathering_date(unit, 2026, series_code="spring_tea") == date(2026, 2, 24)
            assert tea.all_day and tea.data == {"event": "新春茶话会"}
            assert tea.start_at == at(date(2026, 2, 24), 0)
            assert tea.end_at == at(date(2026, 2, 25), 0)
            with pytest.raises(ValidationError) as exc:
                ul.ensure_gathering(unit, 2026, series_code="bad_time", invitees=[a])
            assert (exc.value.errors[0].field, exc.value.errors[0].value) == (
                "series.bad_time.time", "7pm",
            )  # fmt: skip
            with pytest.raises(ValidationError) as exc:
                ul.ensure_gathering(unit, 2026, series_code="yangzhou_forum", invitees=[a])
            assert exc.value.errors[0].field == "series.yangzhou_forum.lunar_month"
            with pytest.raises(ValidationError) as exc:
                ul.mid_autumn_date(unit, 2026) and ul.gathering_date(
                    unit, 2026, series_code="no_such"
                )
            assert exc.value.errors[0].field == "series_code"
            assert "mid_autumn_gathering" in str(exc.value)
    finally:
        app.close()


def test_the_series_row_follows_config(
    ul_app: Tongxin, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.freeze(datetime(2026, 1, 2, tzinfo=UTC))
    with ul_app.unit() as unit:
        ul.ensure_gathering(unit, 2026, invitees=[person(unit, "周正")])
    entry = next(e for e in config.series if e["code"] == "mid_autumn_gathering")
    monkeypatch.setitem(entry, "time", "19:30")
    with ul_app.unit() as unit:
        series = ul.gathering_series(unit)
        assert series.local_time == "19:30"
        assert count(unit, Series) == 1


def test_the_plugin_and_the_core_calendar_agree_on_the_series_row(ul_app: Tongxin) -> None:
    from crm_core.calendar.series import lunar_occurrences, sync_series

    with ul_app.unit() as unit:
        row = ul.gathering_series(unit)
        version = row.version
        sync_series(unit)  # the calendar's own sync of every config series
        assert row.version == version
        ul.gathering_series(unit)
        assert row.version == version
        assert [o.day for o in lunar_occurrences(row, date(2026, 1, 1), date(2028, 1, 1))] == [
            ul.mid_autumn_date(unit, 2026),
            ul.mid_autumn_date(unit, 2027),
        ]


# -- invitations, RSVPs and attendance ---------------------------------------------------


def test_rsvp_transitions_and_attendance(ul_app: Tongxin, admin: str) -> None:
    clock.freeze(datetime(2026, 8, 1, 2, tzinfo=UTC))
    with ul_app.unit(admin) as unit:
        a, b, c, d = (person(unit, n) for n in ("安然", "白露", "陈晨", "丁一"))
        g = ul.ensure_gathering(unit, 2026, invitees=[a, b])
        gid = g.id
        added = ul.invite(unit, gid, [b, c])
        assert [r.person_id for r in added] == [c]
        assert g.sequence == 1
        ul.rsvp(unit, gid, a, "accepted")
        ul.rsvp(unit, gid, b, "declined")
        ul.rsvp(unit, gid, b, Rsvp.accepted)  # changed their mind
        ul.rsvp(unit, gid, c, "declined")
        assert g.sequence == 1
        with pytest.raises(ValidationError) as exc:
            ul.rsvp(unit, gid, a, "maybe")
        assert exc.value.errors[0].field == "rsvp"
        with pytest.raises(NotFound):
            ul.rsvp(unit, gid, d, "accepted")  # not invited
        with pytest.raises(ValidationError) as exc:
            ul.attendance(unit, gid, present=[a])
        assert exc.value.errors[0].field == "attended"
        s = ul.attendance_summary(unit, gid)
        assert (s.invited, s.accepted, s.declined, s.awaiting, s.unrecorded) == (3, 2, 1, 0, 3)
    clock.freeze(datetime(2026, 9, 25, 13, tzinfo=UTC))  # 21:00 in Yangzhou, it is over
    with ul_app.unit(admin) as unit:
        with pytest.raises(ValidationError) as exc:
            ul.attendance(unit, gid, present=[a, b], absent=[b])
        assert exc.value.errors[0].field == "absent"
        interactions.complete_interaction(unit, gid, summary="共叙友情")
        ul.attendance(unit, gid, present=[a], absent=[b])
    with ul_app.unit(admin) as unit:
        s = ul.attendance_summary(unit, gid)
        assert s.status is InteractionStatus.done
        assert (s.invited, s.accepted, s.declined, s.attended, s.absent, s.unrecorded) == (
            3, 2, 1, 1, 1, 1,
        )  # fmt: skip
        assert [(p.name, p.rsvp, p.attended) for p in s.people] == [
            ("安然", Rsvp.accepted, True),
            ("白露", Rsvp.accepted, False),
            ("陈晨", Rsvp.declined, None),
        ]
        assert s.as_json()["attended"] == 1
        # Invitations are for gatherings and briefings only.
        call = interactions.log_interaction(unit, kind="call", people=[d])
        with pytest.raises(ValidationError) as exc:
            ul.invite(unit, call.id, [a])
        assert exc.value.errors[0].field == "interaction_id"


def test_people_on_a_planned_gathering_are_invited(ul_app: Tongxin) -> None:
    with ul_app.unit() as unit:
        a = person(unit, "方圆")
        g = interactions.schedule_interaction(
            unit,
            kind="gathering",
            start=clock.now() + timedelta(days=10),
            people=[a],
            data={"event": "新春茶话会"},
        )
        assert [p.rsvp for p in interactions.participants_of(unit, g.id)] == [Rsvp.invited]
        with pytest.raises(ValidationError) as exc:
            interactions.schedule_interaction(
                unit, kind="gathering", start=clock.now() + timedelta(days=1), people=[a]
            )
        assert exc.value.errors[0].field == "data.event"


# -- briefings ---------------------------------------------------------------------------


def _brief(
    unit: Unit, people: list[uuid.UUID], document: str = DOC, *, days_ago: int = 10, **data: Any
) -> Interaction:
    return interactions.log_interaction(
        unit,
        kind="briefing",
        people=people,
        start=clock.now() - timedelta(days=days_ago),
        data={"document": document, **data},
    )


def test_briefing_coverage(ul_app: Tongxin) -> None:
    clock.freeze(datetime(2026, 11, 27, 2, tzinfo=UTC))
    with ul_app.unit() as unit:
        hk = "hk_macao_member"
        a, b, c = person(unit, "艾伦", hk), person(unit, "贝拉", hk), person(unit, "陈达", hk)
        e, f = person(unit, "尔雅", hk), person(unit, "傅强", hk, status="inactive")
        outsider = person(unit, "葛新", "non_party_member")
        absent = person(unit, "黄河", hk)
        first = _brief(unit, [a, outsider, absent], days_ago=30)
        ul.attendance(unit, first.id, absent=[absent])  # recorded as absent: not briefed
        g = interactions.participants_of(unit, _brief(unit, [e], days_ago=20).id)
        assert [p.role for p in g] == ["briefed"]
        last = _brief(unit, [a], document="中共中央关于进一步全面深化改革推进中国式现代化的决定")
        ul.attendance(unit, last.id, absent=[a])  # briefed the first time: still briefed
        # Planned and cancelled briefings do not count; other documents do not either.
        planned = interactions.schedule_interaction(
            unit,
            kind="briefing",
            start=clock.now() + timedelta(days=3),
            people=[b],
            data={"document": DOC},
        )
        cancelled = interactions.schedule_interaction(
            unit,
            kind="briefing",
            start=clock.now() + timedelta(days=4),
            people=[c],
            data={"document": DOC},
        )
        interactions.cancel_interaction(unit, cancelled.id)
        _brief(unit, [b, c], document=OTHER_DOC, days_ago=12, document_no="国发〔2026〕1号")
        assert planned.status is InteractionStatus.planned
        # A merged record is left out; its briefings moved to the record kept.
        dup = person(unit, "尔雅", hk)
        contacts.merge_people(unit, e, dup)

        assert [p.name for p in ul.briefed_on(unit, DOC)] == ["艾伦", "尔雅", "葛新"]
        # Titles compare after normalising spaces, full-width forms and 《》.
        spaced = " 中共中央关于进一步全面深化改革　推进中国式现代化的决定 "  # a full-width space
        assert [p.name for p in ul.briefed_on(unit, spaced)] == ["艾伦", "尔雅", "葛新"]
        missing = ul.not_briefed(unit, DOC)
        assert [p.name for p in missing] == ["贝拉", "陈达", "黄河"]
        assert f not in [p.id for p in missing] and dup not in [p.id for p in missing]
        assert [p.name for p in ul.not_briefed(unit, DOC, category="党外委员")] == []
        assert [p.name for p in ul.not_briefed(unit, OTHER_DOC)] == ["艾伦", "尔雅", "黄河"]
        assert ul.briefed_on(unit, "《另一份文件》") == []
        with pytest.raises(ValidationError) as exc:
            ul.not_briefed(unit, DOC, category="外星人")
        assert (exc.value.errors[0].field, exc.value.errors[0].value) == ("category", "外星人")
        with pytest.raises(ValidationError) as exc:
            ul.briefed_on(unit, " 《》 ")
        assert exc.value.errors[0].field == "document"

        docs = ul.documents(unit)
        assert [(d.document, d.document_no, d.count, d.people) for d in docs] == [
            ("中共中央关于进一步全面深化改革推进中国式现代化的决定", None, 3, 3),
            (OTHER_DOC, "国发〔2026〕1号", 1, 2),
        ]
        assert docs[0].last == date(2026, 11, 17)
        assert docs[1].as_json()["briefings"] == 1


def test_a_done_briefing_names_who_was_briefed(ul_app: Tongxin, admin: str) -> None:
    with ul_app.unit() as unit:
        who = person(unit, "何平")
    with pytest.raises(ValidationError) as exc, ul_app.unit(admin) as unit:
        interactions.log_interaction(unit, kind="briefing", data={"document": DOC})
    assert exc.value.errors[0].field == "people"
    with pytest.raises(ValidationError) as exc, ul_app.unit(admin) as unit:
        interactions.log_interaction(
            unit, kind="briefing", people=[who], data={"document": " 《》 "}
        )
    assert exc.value.errors[0].field == "data.document"
    with ul_app.unit() as unit:
        assert count(unit, Interaction) == 0


# -- liaison with organisations ------------------------------------------------------------


def _org(unit: Unit) -> tuple[uuid.UUID, uuid.UUID]:
    org = organisations.create_organisation(
        unit, name="民盟扬州市委员会", kind="democratic_party", party="民盟"
    )
    organisations.create_organisation(unit, name="民建扬州市委员会", party="民建")
    contact = person(unit, "蒋文", party="民盟")
    organisations.add_contact(unit, org.id, contact, role="专职副主委")
    return org.id, contact


def test_org_liaison_with_concerns_raises_follow_ups(ul_app: Tongxin, admin: str) -> None:
    clock.freeze(datetime(2026, 11, 27, 2, tzinfo=UTC))
    with ul_app.unit(admin) as unit:
        oid, contact = _org(unit)
        i = interactions.log_interaction(
            unit,
            kind="org_liaison",
            people=[contact],
            data={
                "organisation": "民盟",
                "form": "联合调研",
                "topics": ["运河文化带建设（二期）", " 运河文化带建设（二期）　"],
                "concerns": ["基层组织活动场地紧张", "希望参加重点调研"],
            },
        )
        assert i.data == {
            "organisation": str(oid),
            "form": "joint_research",
            "topics": ["运河文化带建设（二期）"],
            "concerns": ["基层组织活动场地紧张", "希望参加重点调研"],
        }
        iid = i.id
    with ul_app.unit() as unit:
        raised = followups.list_follow_ups(unit)
        assert sorted(f.title for f in raised) == ["基层组织活动场地紧张", "希望参加重点调研"]
        assert {(f.interaction_id, f.person_id, f.due_on) for f in raised} == {
            (iid, contact, date(2026, 12, 27))
        }
        assert all(f.detail.startswith("民盟扬州市委员会反映") for f in raised)  # type: ignore[union-attr]
        # Without concerns, nothing to follow up; planned work raises them when done.
        interactions.log_interaction(
            unit, kind="org_liaison", people=[contact], data={"organisation": str(oid)}
        )
        planned = interactions.schedule_interaction(
            unit,
            kind="org_liaison",
            start=clock.now() + timedelta(days=2),
            people=[contact],
            data={"organisation": "民盟扬州市委员会", "form": "走访", "concerns": ["融资难"]},
        )
        assert count(unit, FollowUp) == 2
        clock.freeze(datetime(2026, 11, 30, 2, tzinfo=UTC))
        interactions.complete_interaction(unit, planned.id)
        assert count(unit, FollowUp) == 3


@pytest.mark.parametrize(
    ("ref", "message"),
    [("不存在的组织", "no such organisation"), ("扬州市委员会", "more than one"), ("", "")],
)
def test_a_bad_organisation_is_refused_naming_the_field(
    ul_app: Tongxin, ref: str, message: str
) -> None:
    with ul_app.unit() as unit:
        _oid, contact = _org(unit)
    with pytest.raises(ValidationError) as exc, ul_app.unit() as unit:
        interactions.log_interaction(
            unit,
            kind="org_liaison",
            people=[contact],
            data={"organisation": ref, "concerns": ["场地紧张"]},
        )
    assert exc.value.errors[0].field == "data.organisation"
    assert exc.value.errors[0].value == ref
    assert message in str(exc.value)
    with ul_app.unit() as unit:
        assert (count(unit, Interaction), count(unit, FollowUp)) == (0, 0)


def test_the_liaison_and_its_follow_ups_are_written_together_or_not_at_all(
    ul_app: Tongxin,
) -> None:
    class Refuser:
        """Refuses every liaison after the follow-ups were raised (interaction_saved)."""

        @hookimpl
        def interaction_saved(self, unit, interaction, created):  # type: ignore[no-untyped-def]
            if interaction.kind == "org_liaison":
                assert count(unit, FollowUp) == 1  # raised already, in this transaction
                raise ValidationError.one("summary", None, "the office wants a summary")

    with ul_app.unit() as unit:
        _org(unit)
    ul_app.plugins.register(Refuser(), "refuser")
    with pytest.raises(ValidationError), ul_app.unit() as unit:
        contact = unit.session.scalars(select(Person.id)).one()
        interactions.log_interaction(
            unit,
            kind="org_liaison",
            people=[contact],
            data={"organisation": "民盟", "concerns": ["场地紧张"]},
        )
    with ul_app.unit() as unit:
        assert (count(unit, Interaction), count(unit, FollowUp)) == (0, 0)


# -- disabling the plugin ----------------------------------------------------------------


def test_disabling_union_liaison_leaves_core_and_the_other_plugins_working(
    monkeypatch: pytest.MonkeyPatch, app: Tongxin, config: Config
) -> None:
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "visits,heart_talks,union_liaison")
    full = PluginHost()
    full.load()
    with_ul = Tongxin(config, engine=app.engine, plugins=full)
    clock.freeze(datetime(2026, 8, 1, 2, tzinfo=UTC))
    with with_ul.unit() as unit:
        a = person(unit, "林木")
        ul.ensure_gathering(unit, 2026, invitees=[a])
    without = PluginHost()
    without.load(disabled=["union_liaison"])
    app_without = Tongxin(config, engine=app.engine, plugins=without)
    assert without.info["union_liaison"].status == "disabled"
    assert set(with_ul.kinds) - set(app_without.kinds) == {"org_liaison", "briefing", "gathering"}
    for name in ("visits", "heart_talks", "crm_core.builtin_kinds"):
        assert without.info[name].status == full.info[name].status
        assert without.info[name].hooks == full.info[name].hooks
    with app_without.unit() as unit:
        # Core work goes on; the gathering already stored is still readable.
        logged = interactions.log_interaction(unit, kind="meeting", people=[a])
        assert [i.kind for i in interactions.timeline(unit, a)] == ["gathering", "meeting"]
        assert interactions.interaction_json(unit, logged)["kind"] == "meeting"
        with pytest.raises(ValidationError) as exc:
            interactions.log_interaction(
                unit, kind="gathering", people=[a], data={"event": "中秋联谊会"}
            )
        assert exc.value.errors[0].field == "kind"


# -- the command line ----------------------------------------------------------------------


@pytest.fixture
def tx(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, str, str]]:
    """Run `tongxin --db URL ARGS...` with union_liaison loaded from its entry point."""
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "union_liaison")

    def call(*args: str) -> tuple[int, str, str]:
        code = run(["--db", db_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def test_cli_briefings_missing_as_json(ul_app: Tongxin, tx: Callable[..., Any]) -> None:
    with ul_app.unit() as unit:
        hk = "hk_macao_member"
        a, b, c = person(unit, "艾伦", hk), person(unit, "贝拉", hk), person(unit, "陈达", hk)
        _brief(unit, [a])
        _brief(unit, [b, c], document=OTHER_DOC)
    code, out, err = tx("briefings", DOC, "--missing", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert (data["document"], data["missing"], data["category"], data["total"]) == (
        DOC, True, "hk_macao_member", 2,
    )  # fmt: skip
    assert [(p["id"], p["name"]) for p in data["people"]] == [(str(b), "贝拉"), (str(c), "陈达")]
    code, out, _ = tx("briefings", DOC, "--json")
    assert [p["name"] for p in json.loads(out)["people"]] == ["艾伦"]
    code, out, _ = tx("briefings", "--json")
    assert [(d["document"], d["briefings"], d["people"]) for d in json.loads(out)["documents"]] == [
        (DOC, 1, 1), (OTHER_DOC, 1, 2),
    ]  # fmt: skip
    code, out, _ = tx("briefings", DOC, "--missing")
    assert code == 0 and "贝拉" in out and "陈达" in out and "艾伦" not in out
    assert "尚未" in out and "港澳委员" in out
    code, _, err = tx("briefings", DOC, "--missing", "--category", "外星人")
    assert code == 1 and "category = '外星人'" in err
    code, _, err = tx("briefings", "--missing")
    assert code == 2
    code, out, _ = tx("briefings", "--help")
    assert code == 0 and "宣讲通报" in out


def test_cli_gathering(ul_app: Tongxin, tx: Callable[..., Any]) -> None:
    clock.freeze(datetime(2026, 8, 1, 2, tzinfo=UTC))
    code, out, _ = tx("gathering", "--year", "2026", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["date"], data["lunar"], data["festival"], data["event"]) == (
        "2026-09-25", "八月十五", "中秋", "中秋联谊会",
    )  # fmt: skip
    assert data["gathering"] is None and data["summary"] is None
    code, out, _ = tx("gathering", "--year", "2026")
    assert code == 0 and "2026-09-25" in out and "八月十五" in out and "--create" in out
    with ul_app.unit() as unit:
        a, b = person(unit, "欧阳春"), person(unit, "司马秋")
        gid = ul.ensure_gathering(unit, 2026, invitees=[a, b]).id
        ul.rsvp(unit, gid, a, "accepted")
    code, out, _ = tx("gathering", "--year", "2026", "--json")
    data = json.loads(out)
    assert data["gathering"]["id"] == str(gid)
    assert data["gathering"]["start"] == "2026-09-25T10:30:00+00:00"
    assert (data["summary"]["invited"], data["summary"]["accepted"]) == (2, 1)
    code, out, _ = tx("gathering", "--year", "2026")
    assert code == 0 and "18:30" in out and "欧阳春" in out and "已接受" in out
    code, _, err = tx("gathering", "--year", "2027", "--create")
    assert code == 1 and "people" in err  # nobody to invite: refused, nothing written
    with ul_app.unit() as unit:
        assert count(unit, Interaction, Interaction.kind == "gathering") == 1
    code, out, _ = tx("gathering", "--year", "2027", "--create", "--invite", "欧阳春", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["gathering"]["start"] == "2027-09-15T10:30:00+00:00"
    assert [p["name"] for p in data["summary"]["people"]] == ["欧阳春"]
    code, out, _ = tx("gathering", "--year", "2027", "--create", "--invite", "smq", "--json")
    assert [p["name"] for p in json.loads(out)["summary"]["people"]] == ["欧阳春", "司马秋"]
    with ul_app.unit() as unit:
        assert count(unit, Interaction, Interaction.kind == "gathering") == 2


# -- demo data -----------------------------------------------------------------------------


def _roster(unit: Unit) -> dict[str, Any]:
    """A small roster like the demo generator's: members, HK/Macao members, party and
    federation figures, and the chair-meeting members' accounts."""
    hk = [
        person(unit, n, "hk_macao_member", membership="member")
        for n in ("甘霖", "韩梅", "何静", "胡适之")
    ]
    members = [person(unit, f"委员{n:02d}", membership="member") for n in range(20)] + hk
    parties = [person(unit, f"党派{n}", "democratic_party") for n in range(16)]
    fic = [person(unit, f"工商{n}", "federation_ic") for n in range(2)]
    chairs = [
        accounts.create_account(
            unit, username=f"chair{n}", display_name=f"副主席{n}", role="leader", chair_meeting=True
        )
        for n in range(2)
    ]
    return {
        "people_by_category": {
            "hk_macao_member": hk, "democratic_party": parties, "federation_ic": fic,
        },
        "members": members,
        "accounts_by_role": {"chair_meeting": chairs, "leader": chairs},
    }  # fmt: skip


def _snapshot(unit: Unit) -> dict[str, Any]:
    names = {p.id: p.name for p in unit.session.scalars(select(Person))}
    orgs = {str(o.id): o.name for o in unit.session.scalars(select(Organisation))}
    out = []
    for i in unit.session.scalars(select(Interaction).order_by(Interaction.start_at)):
        data = dict(i.data)
        if "organisation" in data:
            data["organisation"] = orgs[data["organisation"]]
        people = [
            (p.name, p.role, p.rsvp.value if p.rsvp else None, p.attended)
            for p in interactions.participation(unit, i.id)
        ]
        out.append((i.kind, i.status.value, i.start_at.isoformat(), i.summary, data, people))
    fus = sorted(
        (f.title, f.due_on.isoformat() if f.due_on else None, names.get(f.person_id))  # type: ignore[arg-type]
        for f in unit.session.scalars(select(FollowUp))
    )
    contacts_ = sorted(
        (o.name, o.kind, o.party, [(p.name, r) for p, r in organisations.contacts_of(unit, o.id)])
        for o in organisations.list_organisations(unit)
    )
    return {"interactions": out, "follow_ups": fus, "organisations": contacts_}


def _populate(app: Tongxin, roster: dict[str, Any], today: date, seed: int) -> dict[str, Any]:
    """Run the plugin's populate_demo through the host in a unit that is rolled back;
    return what it wrote."""

    class Rollback(Exception):
        pass

    snap: dict[str, Any] = {}
    try:
        with app.unit() as unit:
            demo = DemoContext(rng=random.Random(seed), today=today, **roster)
            results = app.plugins.call("populate_demo", unit=unit, demo=demo)
            assert [name for name, _ in results] == ["union_liaison"]
            snap.update(_snapshot(unit))
            raise Rollback
    except Rollback:
        pass
    return snap


def test_populate_demo_is_deterministic_and_complete(ul_app: Tongxin) -> None:
    clock.freeze(datetime(2026, 11, 27, 1, tzinfo=UTC))
    with ul_app.unit() as unit:
        roster = _roster(unit)
    today = date(2026, 11, 27)
    first = _populate(ul_app, roster, today, seed=7)
    assert first == _populate(ul_app, roster, today, seed=7)
    assert first != _populate(ul_app, roster, today, seed=8)

    orgs = first["organisations"]
    assert len(orgs) == 9
    assert {o[1] for o in orgs} == {"democratic_party", "federation_ic"}
    assert ("民盟扬州市委员会", "democratic_party", "cdl") in [o[:3] for o in orgs]
    assert all(len(o[3]) == 2 for o in orgs)
    kinds = [i[0] for i in first["interactions"]]
    assert kinds.count("org_liaison") == 12 and kinds.count("briefing") == 2
    liaisons = [i for i in first["interactions"] if i[0] == "org_liaison"]
    assert [i[1] for i in liaisons].count("planned") == 2
    assert all(i[4]["organisation"].endswith(("扬州市委员会", "工商业联合会")) for i in liaisons)
    gatherings = [i for i in first["interactions"] if i[0] == "gathering"]
    assert [(g[1], g[2]) for g in gatherings] == [
        ("done", "2025-10-06T10:30:00+00:00"),
        ("done", "2026-09-25T10:30:00+00:00"),
    ]
    assert all(any(p[3] is True for p in g[5]) for g in gatherings)
    # One Hong Kong or Macao member missed the first briefing; all had the second.
    briefings = [i for i in first["interactions"] if i[0] == "briefing"]
    assert len([p for p in briefings[0][5] if p[1] == "briefed"]) == 3
    assert len([p for p in briefings[1][5] if p[1] == "briefed"]) == 4
    with ul_app.unit() as unit:  # rolled back: nothing stayed
        assert count(unit, Interaction) == 0 and count(unit, Organisation) == 0


def test_populate_demo_before_mid_autumn_plans_it_and_uses_the_demos_organisations(
    ul_app: Tongxin,
) -> None:
    clock.freeze(datetime(2026, 8, 1, 1, tzinfo=UTC))
    with ul_app.unit() as unit:
        roster = _roster(unit)
        made = [
            organisations.create_organisation(
                unit, name=name, kind="democratic_party", party=party
            ).id
            for name, party in (("民革扬州市委员会", "rcck"), ("民盟扬州市委员会", "cdl"))
        ]
        roster["organisations"] = made
    with ul_app.unit() as unit:
        demo = DemoContext(rng=random.Random(1), today=date(2026, 8, 1), **roster)
        ul.populate_demo(unit=unit, demo=demo)
        assert count(unit, Organisation) == 2
        g26 = ul.find_gathering(unit, 2026)
        assert g26 is not None and g26.status is InteractionStatus.planned
        s = ul.attendance_summary(unit, g26.id)
        assert s.invited >= 24 and s.accepted > 0 and s.awaiting > 0 and s.unrecorded == s.invited
        g25 = ul.find_gathering(unit, 2025)
        assert g25 is not None and g25.status is InteractionStatus.done
        missing = ul.not_briefed(unit, "中共中央关于进一步全面深化改革 推进中国式现代化的决定")
        assert len(missing) == 1
