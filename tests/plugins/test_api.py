"""crm_core.api's scoped reads: county staff get their region's people, work,
participants and follow-ups, and confidential fields only where they may read them,
without the plugin adding a condition of its own (issue 13). Both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import crm_plugins.heart_talks as heart_talks
import crm_plugins.visits as visits

from crm_core import api
from crm_core.app import Tongxin
from crm_core.services import accounts, contacts, followups

JULY = datetime(2026, 7, 1, tzinfo=UTC)
AUGUST = datetime(2026, 8, 1, tzinfo=UTC)


def test_county_staff_read_their_region_only(
    app: Tongxin, with_plugins: Callable[..., Tongxin]
) -> None:
    with_plugins(visits, heart_talks)
    office, county = "office", "county"
    with app.unit() as unit:
        accounts.create_account(unit, username=office, display_name="办公室", role="admin")
        clerk = accounts.create_account(
            unit, username=county, display_name="宝应县政协", role="county_staff",
            region_scope="baoying",
        )  # fmt: skip
    with app.unit(office) as unit:
        ours = contacts.create_person(
            unit, name="张宝应", region="baoying", categories=["religious"],
            committees=["economy"], membership="member",
        )  # fmt: skip
        theirs = contacts.create_person(
            unit, name="李高邮", region="gaoyou", categories=["religious"],
            committees=["economy"], membership="member",
        )  # fmt: skip
        here = api.log_interaction(
            unit, kind="visit", people=[ours.id], accounts=[clerk.id],
            start=datetime(2026, 7, 10, 2, tzinfo=UTC), region="baoying",
            data={"concerns": ["道路"]},
        )  # fmt: skip
        there = api.log_interaction(
            unit, kind="visit", people=[theirs.id], start=datetime(2026, 7, 11, 2, tzinfo=UTC),
            region="gaoyou", data={"concerns": ["学校"]},
        )  # fmt: skip
        both = api.log_interaction(
            unit, kind="visit", people=[ours.id, theirs.id],
            start=datetime(2026, 7, 12, 2, tzinfo=UTC), region="gaoyou",
        )  # fmt: skip
        ids = [ours.id, theirs.id]
        # The office sees everything.
        assert [p.name for p in api.people(unit, ids=ids)] == ["李高邮", "张宝应"]
        assert len(api.interactions(unit, "visit", start=JULY, end=AUGUST)) == 3
    with app.unit(county) as unit:
        assert [p.name for p in api.people(unit, category="religious")] == ["张宝应"]
        assert [p.name for p in api.people(unit, committees=["economy"])] == ["张宝应"]
        assert api.find_person(unit, theirs.id) is None
        assert api.committees_of(unit, ids) == {ours.id: ["economy"]}
        assert api.categories_of(unit, ids) == {ours.id: ["religious"]}
        # Their region's work and work with their region's people; not Gaoyou's own.
        seen = api.interactions(unit, "visit", start=JULY, end=AUGUST)
        assert [i.id for i in seen] == [here.id, both.id]
        assert api.interactions(unit, "visit", start=AUGUST) == []
        parts = api.participants(unit, [here.id, there.id, both.id])
        assert [a.person.name for a in parts[both.id] if a.person] == ["张宝应"]
        assert parts[there.id] == []  # an interaction they may not see says nothing
        assert [a.account.username for a in parts[here.id] if a.account] == [county]
        titles = {f.title for f in api.follow_ups(unit)}
        assert titles == {"道路"}
        assert [f.title for f in api.follow_ups(unit, interaction_id=there.id)] == []


def test_confidential_fields_are_read_only_by_those_who_may(
    app: Tongxin, with_plugins: Callable[..., Tongxin]
) -> None:
    with_plugins(heart_talks)
    office, leader, staff = "office", "leader", "staff"
    with app.unit() as unit:
        accounts.create_account(unit, username=office, display_name="办公室", role="admin")
        talker = accounts.create_account(
            unit, username=leader, display_name="王主席", role="leader"
        )
        accounts.create_account(unit, username=staff, display_name="工作人员", role="staff")
    with app.unit(office) as unit:
        member = contacts.create_person(unit, name="赵委员", membership="member")
        talk = api.log_interaction(
            unit, kind="heart_talk", people=[member.id], accounts=[talker.id],
            start=datetime(2026, 7, 3, 2, tzinfo=UTC), summary="谈心",
        )  # fmt: skip
    assert talk.confidential  # heart-to-heart talks are confidential by kind
    with app.unit(staff) as unit:
        [seen] = api.interactions(unit, "heart_talk")
        assert seen.id == talk.id
        assert api.interactions(unit, "heart_talk", readable_only=True) == []
        shown = api.shown(unit, seen)
        assert shown.hidden and shown.summary is None and shown.data == {}
    with app.unit(leader) as unit:
        [readable] = api.interactions(unit, "heart_talk", readable_only=True)
        assert api.shown(unit, readable).summary == "谈心"
    with app.unit(office) as unit:
        assert followups.list_follow_ups(unit) == api.follow_ups(unit)
