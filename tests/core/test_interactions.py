"""Tests of crm_core.services.interactions: logging, scheduling, the timeline,
confidential notes, and what plugins see of every save.

Every test runs on SQLite and on PostgreSQL (the ``app`` fixture).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from crm_core.hookspecs import hookimpl
from crm_core.kinds import KindSpec
from crm_core.models import AuditLog, FollowUp, Interaction, InteractionParticipant
from crm_core.services import accounts, contacts, followups, interactions
from crm_core.unit import Unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Yangzhou


def count(unit: Unit, model: Any) -> int:
    return unit.session.scalar(select(func.count()).select_from(model)) or 0


def person(app: Tongxin, name: str = "王委员") -> uuid.UUID:
    with app.unit() as unit:
        return contacts.create_person(unit, name=name).id


def account(app: Tongxin, username: str, **values: Any) -> uuid.UUID:
    with app.unit() as unit:
        return accounts.create_account(
            unit, username=username, display_name=values.pop("display_name", username), **values
        ).id


def who(unit: Unit, interaction_id: uuid.UUID) -> set[tuple[str, str | None, str | None]]:
    """(role, person id, account id) of everyone taking part."""
    return {
        (
            p.role,
            str(p.person_id) if p.person_id else None,
            str(p.account_id) if p.account_id else None,
        )
        for p in interactions.participants_of(unit, interaction_id)
    }


# -- logging ---------------------------------------------------------------------------


def test_log_starts_now_and_lasts_the_kinds_duration(app: Tongxin) -> None:
    clock.freeze(NOW)
    pid = person(app)
    with app.unit() as unit:
        meeting = interactions.log_interaction(unit, kind="meeting", people=[pid])
        call = interactions.log_interaction(unit, kind="call", people=[pid], summary=" 问候 ")
        ids = meeting.id, call.id
    with app.unit() as unit:
        meeting, call = (interactions.get_interaction(unit, i) for i in ids)
        assert meeting.status == "done"
        assert meeting.start_at == NOW
        assert meeting.end_at == NOW + timedelta(minutes=60)
        assert call.end_at == NOW + timedelta(minutes=15)
        assert call.summary == "问候"


def test_log_adds_the_acting_account_as_a_participant(app: Tongxin) -> None:
    clock.freeze(NOW)
    pid = person(app)
    staff = account(app, "xiaoli", display_name="小李")
    chair = account(app, "wang", display_name="王主席")
    with app.unit("xiaoli") as unit:
        mine = interactions.log_interaction(unit, kind="meeting", people=[pid]).id
        # Logged for someone else: the one who made the contact is named instead.
        theirs = interactions.log_interaction(unit, kind="meeting", people=[pid], accounts=[chair])
        theirs_id = theirs.id
    with app.unit() as unit:  # the operating-system login, no account
        anonymous = interactions.log_interaction(unit, kind="call", people=[pid]).id
    with app.unit() as unit:
        assert who(unit, mine) == {("contact", str(pid), None), ("host", None, str(staff))}
        assert who(unit, theirs_id) == {("contact", str(pid), None), ("host", None, str(chair))}
        assert who(unit, anonymous) == {("contact", str(pid), None)}
        assert interactions.get_interaction(unit, mine).created_by_id == staff


def test_log_needs_someone_and_refuses_unknown_people(app: Tongxin) -> None:
    clock.freeze(NOW)
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            interactions.log_interaction(unit, kind="call")
        assert caught.value.errors[0].field == "people"
        ghost = uuid.uuid4()
        with pytest.raises(ValidationError) as caught:
            interactions.log_interaction(unit, kind="call", people=[ghost])
        assert (caught.value.errors[0].field, caught.value.errors[0].value) == (
            "people",
            str(ghost),
        )
        assert count(unit, Interaction) == 0


def test_schedule_needs_a_start(app: Tongxin) -> None:
    pid = person(app)
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            interactions.schedule_interaction(unit, kind="meeting", start=None, people=[pid])  # type: ignore[arg-type]
        assert caught.value.errors[0].field == "start"
        assert count(unit, Interaction) == 0


def test_done_work_in_the_future_is_refused(app: Tongxin) -> None:
    clock.freeze(NOW)
    pid = person(app)
    tomorrow = NOW + timedelta(days=1)
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            interactions.log_interaction(unit, kind="meeting", people=[pid], start=tomorrow)
        error = caught.value.errors[0]
        assert (error.field, error.value) == ("start", tomorrow.isoformat())
        assert "schedule" in error.message
        assert count(unit, Interaction) == 0
        # A few minutes ahead is a clock difference, not the future.
        interactions.log_interaction(
            unit, kind="call", people=[pid], start=NOW + timedelta(minutes=3)
        )
        # The future is what scheduling is for.
        interactions.schedule_interaction(unit, kind="meeting", people=[pid], start=tomorrow)


def test_times_without_a_zone_or_ending_before_they_start_are_refused(app: Tongxin) -> None:
    clock.freeze(NOW)
    pid = person(app)
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            interactions.log_interaction(
                unit, kind="call", people=[pid], start=datetime(2026, 3, 9, 9, 30)
            )
        assert caught.value.errors[0].field == "start"
        with pytest.raises(ValidationError) as caught:
            interactions.log_interaction(
                unit,
                kind="call",
                people=[pid],
                start=NOW - timedelta(hours=1),
                end=NOW - timedelta(hours=2),
            )
        assert caught.value.errors[0].field == "end"
        assert count(unit, Interaction) == 0


def test_unknown_kind_is_refused_naming_it(app: Tongxin) -> None:
    clock.freeze(NOW)
    pid = person(app)
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            interactions.log_interaction(unit, kind="banquet", people=[pid])
        error = caught.value.errors[0]
        assert (error.field, error.value) == ("kind", "banquet")
        assert "call" in error.message and "meeting" in error.message
        assert count(unit, Interaction) == 0


def test_kind_data_is_checked_by_the_kinds_schema(app: Tongxin) -> None:
    clock.freeze(NOW)
    pid = person(app)
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            interactions.log_interaction(
                unit, kind="meeting", people=[pid], data={"concerns": "路灯不亮"}
            )
        assert [(e.field, e.value) for e in caught.value.errors] == [("data.concerns", "路灯不亮")]
        with pytest.raises(ValidationError) as caught:
            interactions.log_interaction(unit, kind="note", people=[pid], data={"topic": "x"})
        assert caught.value.errors[0].field == "data.topic"
        assert count(unit, Interaction) == 0
        ok = interactions.log_interaction(
            unit,
            kind="meeting",
            people=[pid],
            data={"topic": "民营企业融资", "concerns": ["路灯不亮", "停车难"]},
        )
        ok_id = ok.id
    with app.unit() as unit:
        assert interactions.get_interaction(unit, ok_id).data == {
            "topic": "民营企业融资",
            "concerns": ["路灯不亮", "停车难"],
        }


# -- planned work ----------------------------------------------------------------------


def test_complete_cancel_and_reschedule_only_planned_work(app: Tongxin) -> None:
    clock.freeze(NOW)
    pid = person(app)
    start = NOW + timedelta(days=2)
    with app.unit() as unit:
        a = interactions.schedule_interaction(unit, kind="meeting", people=[pid], start=start)
        b = interactions.schedule_interaction(unit, kind="meeting", people=[pid], start=start)
        assert (a.status, a.sequence) == ("planned", 0)
        a_id, b_id = a.id, b.id
    with app.unit() as unit:
        done = interactions.complete_interaction(
            unit, a_id, summary="谈了融资", data={"concerns": ["贷款难"]}
        )
        assert (done.status, done.sequence, done.summary) == ("done", 1, "谈了融资")
        assert done.data == {"concerns": ["贷款难"]}
        cancelled = interactions.cancel_interaction(unit, b_id, reason=" 委员出差 ")
        assert (cancelled.status, cancelled.sequence) == ("cancelled", 1)
        assert cancelled.cancel_reason == "委员出差"
    with app.unit() as unit:
        for action in (
            lambda i: interactions.complete_interaction(unit, i),
            lambda i: interactions.cancel_interaction(unit, i),
            lambda i: interactions.reschedule_interaction(unit, i, start=start),
        ):
            for iid, status in ((a_id, "done"), (b_id, "cancelled")):
                with pytest.raises(ValidationError) as caught:
                    action(iid)
                assert (caught.value.errors[0].field, caught.value.errors[0].value) == (
                    "status",
                    status,
                )
    with app.unit() as unit:
        assert interactions.get_interaction(unit, a_id).sequence == 1
        assert interactions.get_interaction(unit, b_id).status == "cancelled"


def test_complete_checks_the_data_against_the_schema(app: Tongxin) -> None:
    clock.freeze(NOW)
    pid = person(app)
    with app.unit() as unit:
        iid = interactions.schedule_interaction(
            unit, kind="meeting", people=[pid], start=NOW + timedelta(hours=1), data={"topic": "t"}
        ).id
    with pytest.raises(ValidationError) as caught, app.unit() as unit:
        interactions.complete_interaction(unit, iid, data={"concerns": "一条"})
    assert caught.value.errors[0].field == "data.concerns"
    with app.unit() as unit:
        assert interactions.get_interaction(unit, iid).status == "planned"


def test_reschedule_keeps_the_duration_and_bumps_the_sequence(app: Tongxin) -> None:
    clock.freeze(NOW)
    pid = person(app)
    start = datetime(2026, 3, 20, 9, 0, tzinfo=SHANGHAI)
    with app.unit() as unit:
        iid = interactions.schedule_interaction(
            unit,
            kind="meeting",
            people=[pid],
            start=start,
            end=start + timedelta(minutes=90),
            location="政协303会议室",
        ).id
    later = datetime(2026, 3, 27, 14, 30, tzinfo=SHANGHAI)
    with app.unit() as unit:
        moved = interactions.reschedule_interaction(unit, iid, start=later, location="委员之家")
        assert moved.sequence == 1
    with app.unit() as unit:
        moved = interactions.get_interaction(unit, iid)
        assert moved.start_at == later
        assert moved.end_at == later + timedelta(minutes=90)
        assert moved.location == "委员之家"
        again = interactions.reschedule_interaction(
            unit, iid, start=later + timedelta(days=1), end=later + timedelta(days=1, hours=3)
        )
        assert again.end_at - again.start_at == timedelta(hours=3)
        assert again.sequence == 2
        assert again.location == "委员之家"


def test_a_stale_expected_version_is_a_conflict(app: Tongxin) -> None:
    clock.freeze(NOW)
    pid = person(app)
    with app.unit() as unit:
        iid = interactions.schedule_interaction(
            unit, kind="meeting", people=[pid], start=NOW + timedelta(days=1)
        ).id
    with app.unit() as unit:
        interactions.reschedule_interaction(
            unit, iid, start=NOW + timedelta(days=2), expected_version=1
        )
    with pytest.raises(Conflict), app.unit() as unit:
        interactions.complete_interaction(unit, iid, summary="谈了", expected_version=1)
    with app.unit() as unit:
        assert interactions.get_interaction(unit, iid).status == "planned"


# -- timeline --------------------------------------------------------------------------


def test_timeline_is_newest_first_across_kinds_with_paging(app: Tongxin) -> None:
    clock.freeze(NOW)
    pid = person(app)
    other = person(app, "李四")
    with app.unit() as unit:

        def at(day: int) -> datetime:
            return datetime(2026, 3, day, 10, 0, tzinfo=SHANGHAI)

        ids = {
            "call": interactions.log_interaction(unit, kind="call", people=[pid], start=at(1)).id,
            "note": interactions.log_interaction(unit, kind="note", people=[pid], start=at(3)).id,
            "meeting": interactions.log_interaction(
                unit, kind="meeting", people=[pid, other], start=at(5)
            ).id,
            "planned": interactions.schedule_interaction(
                unit, kind="meeting", people=[pid], start=at(20)
            ).id,
        }
        interactions.log_interaction(unit, kind="call", people=[other], start=at(6))
    newest_first = [ids["planned"], ids["meeting"], ids["note"], ids["call"]]
    with app.unit() as unit:
        assert [i.id for i in interactions.timeline(unit, pid)] == newest_first
        first = interactions.timeline(unit, pid, limit=2)
        assert [i.id for i in first] == newest_first[:2]
        second = interactions.timeline(unit, pid, limit=2, before=first[-1].start_at)
        assert [i.id for i in second] == newest_first[2:]
        assert interactions.timeline(unit, pid, limit=2, before=second[-1].start_at) == []
        calls = interactions.timeline(unit, pid, kinds=["call", "note"])
        assert [i.id for i in calls] == [ids["note"], ids["call"]]
        assert len(interactions.timeline(unit, other)) == 2
        assert interactions.timeline(unit, uuid.uuid4()) == []


def test_timeline_pages_by_item_through_items_at_the_same_moment(app: Tongxin) -> None:
    # A Mid-Autumn gathering and the calls made at its start share one start time; paging
    # by the last item of a page must give each exactly once.
    at = datetime(2026, 9, 25, 18, 0, tzinfo=SHANGHAI)
    with app.unit() as unit:
        pid = contacts.create_person(unit, name="王同时").id
        made = {
            interactions.log_interaction(unit, kind="call", people=[pid], start=at).id
            for _ in range(5)
        }
    with app.unit() as unit:
        seen: list[uuid.UUID] = []
        page = interactions.timeline(unit, pid, limit=2)
        while page:
            seen += [i.id for i in page]
            page = interactions.timeline(unit, pid, limit=2, before=page[-1])
        assert len(seen) == 5
        assert set(seen) == made
        # A moment, by contrast, means strictly before it: the rest of that moment is not
        # "before" it.
        first = interactions.timeline(unit, pid, limit=2)
        assert interactions.timeline(unit, pid, limit=2, before=first[-1].start_at) == []


# -- confidential notes ----------------------------------------------------------------


def test_confidential_notes_are_for_participants_and_administrators(
    app: Tongxin, admin: str
) -> None:
    clock.freeze(NOW)
    pid = person(app)
    account(app, "talker", display_name="王主席", role="leader")
    account(app, "other", display_name="小李")
    account(app, "member", display_name="王委员本人", person_id=pid)
    with app.unit("talker") as unit:
        talk = interactions.log_interaction(
            unit,
            kind="meeting",
            people=[pid],
            summary="谈心谈话",
            notes="谈到子女就业问题",
            data={"topic": "家庭情况"},
            confidential=True,
        )
        open_call = interactions.log_interaction(unit, kind="call", people=[pid], notes="问候")
        talk_id, call_id = talk.id, open_call.id

    for reader in ("talker", admin, "member"):
        with app.unit(reader) as unit:
            assert interactions.read_notes(unit, talk_id) == "谈到子女就业问题", reader
            data = interactions.interaction_json(unit, interactions.get_interaction(unit, talk_id))
            assert (data["notes"], data["notes_hidden"]) == ("谈到子女就业问题", False), reader

    for reader in ("other", None):
        with app.unit(reader) as unit:
            with pytest.raises(PermissionDenied, match="保密"):
                interactions.read_notes(unit, talk_id)
            data = interactions.interaction_json(unit, interactions.get_interaction(unit, talk_id))
            assert data["notes"] is None
            assert data["notes_hidden"] is True
            assert "谈到子女就业问题" not in repr(data)
            # That there was a talk is no secret; its summary is as private as the notes.
            assert (data["summary"], data["kind"]) == (None, "meeting")
            assert data["confidential"] is True
            # An ordinary interaction's notes are for everyone.
            assert interactions.read_notes(unit, call_id) == "问候"
            call = interactions.interaction_json(unit, interactions.get_interaction(unit, call_id))
            assert (call["notes"], call["notes_hidden"]) == ("问候", False)


def test_confidential_by_kind_default(app: Tongxin) -> None:
    class TalkKind:
        @hookimpl
        def register_kinds(self, register: Any) -> None:
            register(KindSpec("talk", "谈心谈话", "Heart-to-heart talk", confidential=True))

    app.plugins.register(TalkKind(), name="talk_kind")
    app.refresh_registries()
    clock.freeze(NOW)
    pid = person(app)
    account(app, "other")
    with app.unit() as unit:
        talk = interactions.log_interaction(unit, kind="talk", people=[pid], notes="内容")
        assert talk.confidential is True
        talk_id = talk.id
    with app.unit("other") as unit, pytest.raises(PermissionDenied):
        interactions.read_notes(unit, talk_id)


INTERACTION_JSON_KEYS = {
    "id",
    "kind",
    "status",
    "start",
    "end",
    "all_day",
    "location",
    "region",
    "summary",
    "notes",
    "notes_hidden",
    "confidential",
    "data",
    "participants",
    "sequence",
    "version",
    "updated_at",
}


def test_times_round_trip_as_aware_utc(app: Tongxin) -> None:
    clock.freeze(NOW)
    pid = person(app)
    morning = datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
    with app.unit() as unit:
        logged = interactions.log_interaction(
            unit, kind="meeting", people=[pid], start=morning, region="广陵区", location="东关街"
        ).id
        planned = interactions.schedule_interaction(
            unit, kind="call", people=[pid], start=datetime(2026, 3, 12, 1, 30, tzinfo=UTC)
        ).id
    with app.unit() as unit:
        i = interactions.get_interaction(unit, logged)
        assert i.start_at == datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
        assert i.start_at.tzinfo is not None and i.start_at.utcoffset() == timedelta(0)
        assert i.end_at is not None and i.end_at.utcoffset() == timedelta(0)
        assert i.created_at == NOW and i.created_at.utcoffset() == timedelta(0)
        assert i.region == "guangling"
        data = interactions.interaction_json(unit, i)
        assert set(data) == INTERACTION_JSON_KEYS
        assert data["start"] == "2026-03-02T01:30:00+00:00"
        assert data["end"] == "2026-03-02T02:30:00+00:00"
        assert data["status"] == "done"
        assert data["participants"] == [
            {
                "person_id": str(pid),
                "account_id": None,
                "role": "contact",
                "rsvp": None,
                "attended": None,
            }
        ]
        p = interactions.get_interaction(unit, planned)
        assert p.start_at.astimezone(SHANGHAI) == datetime(2026, 3, 12, 9, 30, tzinfo=SHANGHAI)
        after = interactions.timeline(
            unit, pid, before=datetime(2026, 3, 2, 9, 31, tzinfo=SHANGHAI)
        )
        assert [x.id for x in after] == [logged]
        assert (
            interactions.timeline(unit, pid, before=datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI))
            == []
        )


def test_unknown_interaction_is_not_found(app: Tongxin) -> None:
    with app.unit() as unit:
        for ref in (uuid.uuid4(), "not-an-id"):
            with pytest.raises(NotFound):
                interactions.get_interaction(unit, ref)


# -- plugins ---------------------------------------------------------------------------


class NeedsATopic:
    """A county plugin: a meeting must name its topic."""

    @hookimpl
    def validate_interaction(self, unit: Unit, interaction: Interaction, kind: KindSpec) -> None:
        if kind.code == "meeting" and not interaction.data.get("topic"):
            raise ValidationError.one("data.topic", None, "a meeting needs its topic (县政协规定)")


class WritesThenFails:
    """A plugin that writes a follow-up and then breaks."""

    @hookimpl
    def interaction_saved(self, unit: Unit, interaction: Interaction, created: bool) -> None:
        followups.raise_follow_up(unit, title="半截的跟进", interaction_id=interaction.id)
        raise RuntimeError("mailer down")


class CallsBack:
    """A plugin that puts a call-back on the follow-up list after every call."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool]] = []

    @hookimpl
    def interaction_saved(self, unit: Unit, interaction: Interaction, created: bool) -> None:
        self.seen.append((interaction.status.value, created))
        if interaction.kind == "call" and interaction.status == "done":
            title = f"回访{interaction.summary}"
            followups.raise_follow_up(unit, title=title, interaction_id=interaction.id)


def test_a_plugin_refusal_writes_nothing(app: Tongxin) -> None:
    app.plugins.register(NeedsATopic(), name="county_rules")
    app.refresh_registries()
    clock.freeze(NOW)
    pid = person(app)
    account(app, "xiaoli")
    with pytest.raises(ValidationError) as caught, app.unit("xiaoli") as unit:
        interactions.log_interaction(unit, kind="meeting", people=[pid])
    assert caught.value.errors[0].field == "data.topic"
    assert "县政协规定" in str(caught.value)
    with app.unit() as unit:
        assert count(unit, Interaction) == 0
        assert count(unit, InteractionParticipant) == 0
        assert (
            unit.session.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.entity == "interaction")
            )
            == 0
        )
    # A refusal is the hook's job, not a failure of the plugin.
    assert app.plugins.info["county_rules"].errors == []
    with app.unit("xiaoli") as unit:
        interactions.log_interaction(unit, kind="meeting", people=[pid], data={"topic": "融资"})
        interactions.log_interaction(unit, kind="call", people=[pid])
    with app.unit() as unit:
        assert count(unit, Interaction) == 2


def test_a_failing_reaction_is_undone_alone_and_reported(app: Tongxin) -> None:
    app.plugins.register(WritesThenFails(), name="broken_mailer")
    app.plugins.register(CallsBack(), name="call_backs")
    app.refresh_registries()
    clock.freeze(NOW)
    pid = person(app)
    with app.unit() as unit:
        iid = interactions.log_interaction(unit, kind="call", people=[pid], summary="停车难").id
    with app.unit() as unit:
        assert interactions.get_interaction(unit, iid).status == "done"
        assert count(unit, InteractionParticipant) == 1
        # The broken plugin's half-written follow-up is gone; the other plugin's stays.
        titles = [f.title for f in unit.session.scalars(select(FollowUp))]
        assert titles == ["回访停车难"]
    info = app.plugins.info["broken_mailer"]
    assert len(info.errors) == 1
    assert "interaction_saved" in info.errors[0] and "mailer down" in info.errors[0]
    assert info.status == "failing"
    assert app.plugins.info["call_backs"].errors == []


def test_a_reaction_commits_and_rolls_back_with_the_interaction(app: Tongxin) -> None:
    plugin = CallsBack()
    app.plugins.register(plugin, name="call_backs")
    app.refresh_registries()
    clock.freeze(NOW)
    pid = person(app)
    with pytest.raises(RuntimeError, match="power cut"), app.unit() as unit:
        interactions.log_interaction(unit, kind="call", people=[pid], summary="路灯不亮")
        assert [f.title for f in unit.session.scalars(select(FollowUp))] == ["回访路灯不亮"]
        raise RuntimeError("power cut")
    with app.unit() as unit:
        assert count(unit, Interaction) == 0
        assert count(unit, FollowUp) == 0
    with app.unit() as unit:
        iid = interactions.schedule_interaction(
            unit, kind="call", people=[pid], start=NOW + timedelta(hours=1)
        ).id
    with app.unit() as unit:
        assert followups.list_follow_ups(unit) == []
        interactions.complete_interaction(unit, iid, summary="学位紧张")
    with app.unit() as unit:
        rows = followups.list_follow_ups(unit)
        assert [(f.title, f.interaction_id) for f in rows] == [("回访学位紧张", iid)]
    assert plugin.seen == [("done", True), ("planned", True), ("done", False)]
