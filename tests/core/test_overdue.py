"""Who is overdue (二.9): cadence, reset by any done interaction with both keeper and
contact, ordering, gaps in the required categories, snoozing, and plugin cadences."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from crm_core import clock, hookimpl
from crm_core.app import Tongxin
from crm_core.errors import ValidationError
from crm_core.kinds import KindSpec
from crm_core.services import accounts, assignments, contacts, interactions, overdue
from crm_core.services.assignments import Cadence

TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def team(app: Tongxin) -> dict[str, object]:
    clock.freeze(NOW)
    with app.unit() as unit:
        chair = accounts.create_account(
            unit, username="chair", display_name="王主席", role="leader", chair_meeting=True
        )
        vice = accounts.create_account(
            unit, username="vice", display_name="李副主席", role="leader", chair_meeting=True
        )
        people = {
            code: contacts.create_person(unit, name=name, categories=[code])
            for code, name in (
                ("non_party_intellectual", "张教授"),
                ("private_economy", "赵总"),
                ("new_social_stratum", "钱律师"),
            )
        }
        start = TODAY - timedelta(days=400)
        rows = {
            code: assignments.assign(
                unit, keeper_id=chair.id, contact_id=p.id, category=code, start_on=start
            )
            for code, p in people.items()
        }
        return {"chair": chair, "vice": vice, "people": people, "assignments": rows}


def _meet(app: Tongxin, keeper: str, person_id: object, days_ago: int, kind: str = "call") -> None:
    with app.unit(keeper) as unit:
        interactions.log_interaction(
            unit, kind=kind, people=[person_id], start=NOW - timedelta(days=days_ago)
        )


def test_past_maximum_first_then_past_ideal_with_days_overdue(app: Tongxin, team: dict) -> None:
    people = team["people"]
    _meet(app, "chair", people["non_party_intellectual"].id, 100)  # 60/90: 10 past max
    _meet(app, "chair", people["private_economy"].id, 70)  # 10 past ideal
    _meet(app, "chair", people["new_social_stratum"].id, 5)  # fine
    with app.unit() as unit:
        report = overdue.overdue(unit)
    assert [(i.contact, i.level, i.days_overdue) for i in report.items] == [
        ("张教授", "max", 10),
        ("赵总", "ideal", 10),
    ]
    assert report.items[0].last_contact == NOW - timedelta(days=100)
    assert report.items[0].keeper == "王主席"


def test_never_contacted_counts_from_the_start_of_the_assignment(app: Tongxin, team: dict) -> None:
    with app.unit() as unit:
        report = overdue.overdue(unit)
    assert len(report.items) == 3
    assert all(i.last_contact is None and i.days_since == 400 for i in report.items)
    assert all(i.level == "max" and i.days_overdue == 400 - 90 for i in report.items)


def test_any_done_kind_with_both_resets_the_clock_but_not_planned_or_others(
    app: Tongxin, team: dict
) -> None:
    person = team["people"]["private_economy"]
    with app.unit("vice") as unit:  # someone else meeting the contact does not count
        interactions.log_interaction(unit, kind="meeting", people=[person.id])
    with app.unit("chair") as unit:  # planned work does not count either
        interactions.schedule_interaction(
            unit, kind="call", people=[person.id], start=NOW + timedelta(days=1)
        )
    with app.unit() as unit:
        assert "赵总" in [i.contact for i in overdue.overdue(unit).items]
    _meet(app, "chair", person.id, 0, kind="note")
    with app.unit() as unit:
        assert "赵总" not in [i.contact for i in overdue.overdue(unit).items]


def test_gaps_list_chair_meeting_members_missing_a_required_category(
    app: Tongxin, team: dict
) -> None:
    with app.unit() as unit:
        report = overdue.overdue(unit)
        gaps = [(g.keeper, g.category) for g in report.gaps]
        assert gaps == [
            ("李副主席", "non_party_intellectual"),
            ("李副主席", "private_economy"),
            ("李副主席", "new_social_stratum"),
        ]
        assignments.end_assignment(unit, team["assignments"]["private_economy"].id)
        chair_gaps = overdue.overdue(unit, keeper_id=team["chair"].id).gaps
        assert [(g.keeper, g.category) for g in chair_gaps] == [("王主席", "private_economy")]


def test_snooze_needs_a_reason_and_a_future_date_and_hides_until_then(
    app: Tongxin, team: dict
) -> None:
    row = team["assignments"]["new_social_stratum"]
    with app.unit() as unit:
        with pytest.raises(ValidationError, match="reason"):
            assignments.snooze_assignment(
                unit, row.id, until=TODAY + timedelta(days=30), reason=" "
            )
        with pytest.raises(ValidationError, match="until"):
            assignments.snooze_assignment(unit, row.id, until=TODAY, reason="出国")
        assignments.snooze_assignment(
            unit, row.id, until=TODAY + timedelta(days=30), reason="出国访问"
        )
    with app.unit() as unit:
        assert "钱律师" not in [i.contact for i in overdue.overdue(unit).items]
        snoozed = overdue.overdue(unit, include_snoozed=True).items
        assert [i.snoozed_until for i in snoozed if i.contact == "钱律师"] == [
            TODAY + timedelta(days=30)
        ]
        later = overdue.overdue(unit, today=TODAY + timedelta(days=31)).items
        assert "钱律师" in [i.contact for i in later]


def test_adjust_cadence_hook_strictest_wins_but_the_assignments_own_cadence_rules(
    app: Tongxin, team: dict
) -> None:
    class StandingMonthly:
        @hookimpl
        def adjust_cadence(self, contact, cadence):  # type: ignore[no-untyped-def]
            if contact.name == "钱律师":
                return Cadence(10, 20)
            return Cadence(500, 900)  # looser than config: ignored

    app.plugins.register(StandingMonthly(), "standing_monthly")
    person = team["people"]["new_social_stratum"]
    _meet(app, "chair", person.id, 25)
    _meet(app, "chair", team["people"]["private_economy"].id, 0)
    _meet(app, "chair", team["people"]["non_party_intellectual"].id, 0)
    with app.unit() as unit:
        row = unit.session.get(
            type(team["assignments"]["new_social_stratum"]),
            team["assignments"]["new_social_stratum"].id,
        )
        assert assignments.cadence(unit, row) == Cadence(10, 20)
        items = overdue.overdue(unit).items
        assert [(i.contact, i.level, i.days_overdue, i.max_days) for i in items] == [
            ("钱律师", "max", 5, 20)
        ]
        own = assignments.assign(
            unit, keeper_id=team["vice"].id, contact_id=person.id, ideal_days=100, max_days=200
        )
        assert assignments.cadence(unit, own) == Cadence(100, 200)


def test_overdue_json_is_stable(app: Tongxin, team: dict) -> None:
    with app.unit() as unit:
        data = overdue.overdue_json(overdue.overdue(unit))
    assert set(data) == {"overdue", "gaps", "obligations", "plugins_failed"}
    assert set(data["overdue"][0]) == {
        "assignment_id", "keeper_id", "keeper", "contact_id", "contact", "category",
        "ideal_days", "max_days", "last_contact", "days_since", "level", "days_overdue",
        "snoozed_until",
    }  # fmt: skip
    assert set(data["gaps"][0]) == {"keeper_id", "keeper", "category"}


def test_a_plugin_kind_resets_the_clock_too(app: Tongxin, team: dict) -> None:
    class Tea:
        @hookimpl
        def register_kinds(self, register):  # type: ignore[no-untyped-def]
            register(KindSpec("tea", "茶叙", "Tea"))

    app.plugins.register(Tea(), "tea")
    app.refresh_registries()
    person = team["people"]["non_party_intellectual"]
    _meet(app, "chair", person.id, 1, kind="tea")
    with app.unit() as unit:
        assert "张教授" not in [i.contact for i in overdue.overdue(unit).items]
