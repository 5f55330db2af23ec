"""The agenda service: interactions in a time range, counts by kind, names of who took
part, and the institutional series' occurrences between two days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.errors import ValidationError
from crm_core.services import accounts, agenda, contacts, interactions

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def test_between_counts_and_names(app: Tongxin) -> None:
    clock.freeze(NOW)
    with app.unit() as unit:
        office = accounts.create_account(unit, username="office", display_name="办公室")
        zs = contacts.create_person(unit, name="张三")
        ls = contacts.create_person(unit, name="李四")
        done = interactions.log_interaction(
            unit,
            kind="meeting",
            people=[zs.id, ls.id],
            accounts=[office.id],
            start=NOW - timedelta(hours=1),
        )
        planned = interactions.schedule_interaction(
            unit, kind="call", people=[ls.id], start=NOW + timedelta(hours=3)
        )
        gone = interactions.schedule_interaction(
            unit, kind="call", people=[ls.id], start=NOW + timedelta(hours=4)
        )
        interactions.cancel_interaction(unit, gone.id)
        interactions.log_interaction(
            unit, kind="call", people=[zs.id], start=NOW - timedelta(days=40)
        )
    with app.unit() as unit:
        day = agenda.between(unit, NOW - timedelta(hours=10), NOW + timedelta(hours=10))
        assert [i.id for i in day.items] == [done.id, planned.id]  # earliest first
        assert day.total == 2  # the cancelled one is left out
        only_planned = agenda.between(
            unit, NOW - timedelta(hours=10), NOW + timedelta(hours=10), statuses=["planned"]
        )
        assert [i.id for i in only_planned.items] == [planned.id]
        limited = agenda.between(unit, NOW - timedelta(days=60), NOW + timedelta(days=1), limit=1)
        assert (len(limited.items), limited.total) == (1, 3)
        kinds = agenda.between(
            unit, NOW - timedelta(days=60), NOW + timedelta(days=1), kinds=["meeting"]
        )
        assert [i.kind for i in kinds.items] == ["meeting"]
        month = agenda.counts_by_kind(unit, NOW - timedelta(days=20), NOW + timedelta(days=1))
        assert month == {"meeting": 1}
        planned_counts = agenda.counts_by_kind(unit, NOW, NOW + timedelta(days=1), status="planned")
        assert planned_counts == {"call": 1}
        names = agenda.names_of(unit, [done.id, planned.id])
        assert names[done.id] == ["李四", "张三", "办公室"]  # people by pinyin, then accounts
        assert names[planned.id] == ["李四"]
        assert agenda.names_of(unit, []) == {}


def test_between_refuses_naive_or_reversed_ranges(app: Tongxin) -> None:
    with app.unit() as unit:
        with pytest.raises(ValidationError) as exc:
            agenda.between(unit, datetime(2026, 1, 1), NOW)
        assert exc.value.errors[0].field == "start"
        with pytest.raises(ValidationError) as exc:
            agenda.counts_by_kind(unit, NOW, NOW - timedelta(days=1))
        assert exc.value.errors[0].field == "end"


def _local(item: agenda.InstitutionalItem) -> tuple[str | None, str]:
    return item.code, item.start.strftime("%Y-%m-%d %H:%M")


def test_institutional_series_between_two_days(app: Tongxin) -> None:
    with app.unit() as unit:
        september = agenda.institutional(unit, date(2026, 9, 1), date(2026, 10, 1))
        assert september.errors == []
        # The defaults' Gregorian RRULEs (2nd Wednesday every two months, 3rd Tuesday
        # quarterly, last Thursday monthly) and the lunar 中秋联谊会 (八月十五 → 09-25).
        assert [_local(i) for i in september.items] == [
            ("exchange_bimonthly", "2026-09-09 14:30"),
            ("study_forum_quarterly", "2026-09-15 09:00"),
            ("theory_study_monthly", "2026-09-24 14:30"),
            ("mid_autumn_gathering", "2026-09-25 18:30"),
        ]
        mid_autumn = september.items[-1]
        assert (mid_autumn.title, mid_autumn.kind, mid_autumn.lunar_text) == (
            "中秋联谊会",
            "gathering",
            "八月十五",
        )
        assert mid_autumn.end - mid_autumn.start == timedelta(minutes=150)
        assert str(mid_autumn.start.tzinfo) == "Asia/Shanghai"
        assert september.items[0].lunar_text is None
        # 界别活动周: all day, Monday to Friday of the 2nd week of June.
        june = agenda.institutional(unit, date(2026, 6, 1), date(2026, 7, 1))
        week = next(i for i in june.items if i.code == "sector_week")
        assert week.all_day and (week.start.date(), week.end.date()) == (
            date(2026, 6, 8),
            date(2026, 6, 13),
        )
        # One day, the end excluded, a kind, a limit.
        assert [
            _local(i)
            for i in agenda.institutional(unit, date(2026, 9, 25), date(2026, 9, 26)).items
        ] == [("mid_autumn_gathering", "2026-09-25 18:30")]
        assert agenda.institutional(unit, date(2026, 9, 26), date(2026, 9, 26)).items == []
        only = agenda.institutional(unit, date(2026, 1, 1), date(2028, 1, 1), kinds=["gathering"])
        assert [i.start.date() for i in only.items] == [date(2026, 9, 25), date(2027, 9, 15)]
        coming = agenda.institutional(unit, date(2026, 11, 27), date(2027, 3, 1), limit=3)
        assert [_local(i) for i in coming.items] == [
            ("study_forum_quarterly", "2026-12-15 09:00"),
            ("brainstorm_yearly", "2026-12-18 09:00"),
            ("theory_study_monthly", "2026-12-31 14:30"),
        ]


def test_an_occurrence_held_as_an_interaction_shows_once(app: Tongxin) -> None:
    from crm_core.calendar.series import calendar_series

    clock.freeze(datetime(2026, 8, 1, 2, 0, tzinfo=UTC))  # before both, so they can be planned
    with app.unit() as unit:
        series = {s.code: s for s in calendar_series(unit)}
        zs = contacts.create_person(unit, name="张三")
        # The 2026 gathering, moved a day; the September study at its usual time.
        interactions.schedule_interaction(
            unit,
            kind="meeting",
            people=[zs.id],
            start=datetime(2026, 9, 26, 10, 30, tzinfo=UTC),
            series_id=series["mid_autumn_gathering"].id,
        )
        interactions.schedule_interaction(
            unit,
            kind="meeting",
            people=[zs.id],
            start=datetime(2026, 9, 24, 6, 30, tzinfo=UTC),
            series_id=series["theory_study_monthly"].id,
        )
    with app.unit() as unit:
        codes = [
            _local(i) for i in agenda.institutional(unit, date(2026, 8, 1), date(2027, 10, 1)).items
        ]
        assert ("mid_autumn_gathering", "2026-09-25 18:30") not in codes
        assert ("mid_autumn_gathering", "2027-09-15 18:30") in codes  # another year
        assert ("theory_study_monthly", "2026-09-24 14:30") not in codes
        assert ("theory_study_monthly", "2026-08-27 14:30") in codes


def test_a_bad_rule_is_reported_by_series_and_the_rest_shows(app: Tongxin) -> None:
    from crm_core.models import Series

    with app.unit() as unit:
        unit.session.add(
            Series(
                code="broken_rule",
                title="坏规则",
                rrule="FREQ=SOMETIMES",
                start_at=datetime(2026, 1, 1, 1, 0, tzinfo=UTC),
            )
        )
    with app.unit() as unit:
        page = agenda.institutional(unit, date(2026, 9, 1), date(2026, 10, 1))
        assert len(page.errors) == 1
        assert "broken_rule" in page.errors[0] and "FREQ=SOMETIMES" in page.errors[0]
        assert len(page.items) == 4
        with pytest.raises(ValidationError) as exc:
            agenda.institutional(unit, NOW, date(2026, 10, 1))  # type: ignore[arg-type]
        assert exc.value.errors[0].field == "start"
        with pytest.raises(ValidationError) as exc:
            agenda.institutional(unit, date(2026, 10, 1), date(2026, 9, 1))
        assert exc.value.errors[0].field == "end"
