"""Reports computed by grouped SQL (issue 16, item 1): the day arithmetic of
:mod:`crm_core.sqldays` against Python's own, and the follow-up report's figures against
a count by hand, for the office and for county staff (their region's only), on SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import literal, select, type_coerce

from crm_core import clock, sqldays
from crm_core.app import Tongxin
from crm_core.authz import acting_for
from crm_core.reports import Period, run_report
from crm_core.services import accounts, contacts, followups
from crm_core.types import UTCDateTime

INSTANTS = [
    datetime(2026, 3, 8, 6, 59, tzinfo=UTC),  # New York: 01:59 EST, the night clocks jump
    datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
    datetime(2026, 6, 30, 15, 59, tzinfo=UTC),  # Shanghai: 23:59 on June 30
    datetime(2026, 6, 30, 16, 0, tzinfo=UTC),  # Shanghai: midnight, July 1
    datetime(2026, 11, 1, 4, 30, tzinfo=UTC),  # New York: 00:30 EDT, Nov 1
    datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # New York: 01:30 EDT (the hour repeats)
    datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "UTC"])
def test_local_day_and_days_between_agree_with_python(app: Tongxin, zone: str) -> None:
    tz = ZoneInfo(zone)
    assert (sqldays.fixed_offset_minutes(tz) is None) == (zone == "America/New_York")
    with app.unit() as unit:
        conn = unit.session.connection()
        for instant in INSTANTS:
            value = type_coerce(literal(instant, UTCDateTime()), UTCDateTime())
            day = sqldays.local_day(conn, value, tz)
            since = sqldays.days_between(conn, sqldays.day_literal(conn, date(2027, 1, 10)), day)
            got_day, got_days = conn.execute(select(day, since)).one()
            want = instant.astimezone(tz).date()
            assert date.fromisoformat(str(got_day)[:10]) == want, (zone, instant)
            assert got_days == (date(2027, 1, 10) - want).days, (zone, instant)


def _at(day: str, hour: int = 4) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def test_followups_by_sql_match_a_hand_count_and_county_staff_see_their_region(
    app: Tongxin,
) -> None:
    """Five follow-ups about people of two counties; raised at the edges of the local
    days (16:00 UTC is midnight in Yangzhou). The figures are worked out by hand below."""
    clock.freeze(_at("2026-06-01"))
    with app.unit() as unit:
        by = contacts.create_person(unit, name="宝一", region="baoying")
        go = contacts.create_person(unit, name="高二", region="gaoyou")
        clerk = accounts.create_account(
            unit, username="by", display_name="宝应县工作人员", role="county_staff",
            region_scope="baoying",
        )  # fmt: skip
        boss = accounts.create_account(unit, username="boss", display_name="主任", role="admin")
    plan = [
        # raised (UTC), person, owner, due, later status
        (_at("2026-06-30", 16), by, boss, date(2026, 7, 31), None),  # July 1 locally
        (_at("2026-06-30", 15), by, boss, None, ("2026-07-02", "closed")),  # June 30: before
        (_at("2026-07-15"), go, boss, date(2026, 8, 1), ("2026-07-20", "in_progress")),
        (_at("2026-08-01"), go, clerk, None, ("2026-08-11", "answered")),  # the clerk's own
        (_at("2026-09-30", 17), by, boss, None, None),  # Oct 1 locally: after the quarter
    ]
    for raised, person, owner, due, then in plan:
        clock.freeze(raised)
        with app.unit() as unit:
            f = followups.raise_follow_up(
                unit, title=f"{person.name}{raised:%m%d%H}", person_id=person.id,
                owner_id=owner.id, due_on=due,
            )  # fmt: skip
        if then:
            clock.freeze(_at(then[0]))
            with app.unit() as unit:
                followups.update_follow_up(unit, f.id, status=then[1], response="好")
    clock.freeze(_at("2026-10-15"))
    q3 = Period.quarter(2026, 3)

    def figures(reader: object) -> tuple[dict[object, tuple[object, ...]], list[tuple[str, str]]]:
        _spec, result = run_report(reader, "followups", q3)  # type: ignore[arg-type]
        by_status, listed = result.sections
        return (
            {
                r["status_code"]: (r["count"], r["average_days"], r["oldest_days"], r["overdue"])
                for r in by_status.rows
            },
            [(r["person"], r["status_code"]) for r in listed.rows],
        )

    with app.unit() as unit:
        office, office_list = figures(unit)
        county, county_list = figures(acting_for(unit, clerk))
    # Office: the July 1 one (open, 106 days to Oct 15, past due), the in-progress one
    # (92 days, past due), the answered one (10 days). The June 30 one (local day) was
    # raised before the quarter and is closed: left out; so is the October 1 one.
    assert office == {
        "open": (1, 106.0, 106, 1),
        "in_progress": (1, 92.0, 92, 1),
        "answered": (1, 10.0, 10, 0),
        "closed": (0, None, None, 0),
        None: (3, 69.3, 106, 2),
    }
    assert office_list == [("宝一", "open"), ("高二", "in_progress"), ("高二", "answered")]
    # County staff of Baoying: their region's follow-up, and the clerk's own about a
    # person of Gaoyou, whose name they may not see.
    assert county == {
        "open": (1, 106.0, 106, 1),
        "in_progress": (0, None, None, 0),
        "answered": (1, 10.0, 10, 0),
        "closed": (0, None, None, 0),
        None: (2, 58.0, 106, 1),
    }
    assert county_list == [("宝一", "open"), ("", "answered")]
