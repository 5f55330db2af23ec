"""Hostile values at the service boundary (issue 11, item 9a), on SQLite and PostgreSQL.

Every service that stores text a person typed (contacts, organisations, accounts,
interactions, follow-ups, assignments, a plugin kind's fields) refuses control
characters, lone surrogates, bidirectional overrides and overlong values with a
ValidationError naming the field (and the limit); dates outside 1900-2200 and local
times the clocks skip are refused. After every refusal the row counts of every table
are what they were: nothing is half-written.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, field_validator
from sqlalchemy import func, select, text

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.errors import ValidationError
from crm_core.hookspecs import hookimpl
from crm_core.i18n import language, set_language
from crm_core.kinds import KindSpec
from crm_core.models import (
    Account,
    Assignment,
    AuditLog,
    FollowUp,
    Interaction,
    InteractionParticipant,
    Organisation,
    Person,
    PersonCategory,
)
from crm_core.services import (
    accounts,
    assignments,
    contacts,
    followups,
    interactions,
    organisations,
)
from crm_core.timeparse import TimeParseError, parse_when

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)

# What an attacker (or a broken phone, or a pasted terminal dump) puts in a text field.
HOSTILE = {
    "NUL": "张\x00三",
    "ESC": "张三\x1b[2J\x1b]0;pwned\x07",
    "BEL": "张三\x07",
    "BS": "张三\x08\x08",
    "CR": "张三\r李四",
    "DEL": "张三\x7f",
    "C1 CSI": "张三\x9b31m",
    "lone surrogate": "张三\udcff",
    "RTL override": "张三\u202egnp.exe",
    "isolate": "张三\u2066x\u2069",
}
TABLES = (
    Person,
    PersonCategory,
    Organisation,
    Account,
    Interaction,
    InteractionParticipant,
    FollowUp,
    Assignment,
    AuditLog,
)


def counts(app: Tongxin) -> dict[str, int]:
    """Rows in every table the services write."""
    with app.unit() as unit:
        return {
            m.__tablename__: unit.session.scalar(select(func.count()).select_from(m)) or 0  # type: ignore[attr-defined]
            for m in TABLES
        }


def refused(app: Tongxin, work: Any) -> ValidationError:
    """Run ``work(unit)`` in a unit; it must be refused, and leave every table as it was."""
    before = counts(app)
    with pytest.raises(ValidationError) as caught, app.unit() as unit:
        work(unit)
    assert counts(app) == before, "a refused write left rows behind"
    return caught.value


def fields_of(error: ValidationError) -> list[str]:
    return [e.field for e in error.errors]


@pytest.fixture
def office(app: Tongxin) -> dict[str, Any]:
    """A person, an account, an organisation, a planned meeting and a follow-up."""
    clock.freeze(NOW)
    with app.unit() as unit:
        keeper = accounts.create_account(unit, username="keeper", display_name="联络员")
        pid = contacts.create_person(unit, name="王委员").id
        org = organisations.create_organisation(unit, name="民盟市委会", kind="other")
        planned = interactions.schedule_interaction(
            unit, kind="meeting", start=NOW + timedelta(days=2), people=[pid]
        )
        follow = followups.raise_follow_up(unit, title="停车难", person_id=pid)
        assignment = assignments.assign(unit, keeper_id=keeper.id, contact_id=pid)
        return {
            "person": pid,
            "account": keeper.id,
            "org": org.id,
            "planned": planned.id,
            "follow_up": follow.id,
            "assignment": assignment.id,
        }


# -- control characters ------------------------------------------------------------------


def test_every_person_text_field_refuses_every_control_character(app: Tongxin) -> None:
    for field in ("name", "title", "employer", "address", "ethnicity", "notes", "mobile"):
        for what, value in HOSTILE.items():
            values = {"name": "李四", field: value}
            error = refused(app, lambda unit, v=values: contacts.create_person(unit, **v))
            assert fields_of(error) == [field], (field, what, error)
    # The refusal says what and where, in English and in Chinese.
    error = refused(app, lambda unit: contacts.create_person(unit, name=HOSTILE["ESC"]))
    assert "U+001B ESC at position 3" in str(error)
    was = language()
    set_language("zh")
    try:
        assert "不接受控制字符" in error.text and "U+001B" in error.text
    finally:
        set_language(was)


def test_updating_a_person_with_a_control_character_changes_nothing(
    app: Tongxin, office: dict[str, Any]
) -> None:
    error = refused(
        app,
        lambda unit: contacts.update_person(
            unit, office["person"], title="主委", address=HOSTILE["C1 CSI"]
        ),
    )
    assert fields_of(error) == ["address"]
    with app.unit() as unit:
        p = contacts.get_person(unit, office["person"])
        assert (p.title, p.address, p.version) == (None, None, 1)


def test_lists_and_extra_values_are_checked_item_by_item(app: Tongxin) -> None:
    error = refused(
        app,
        lambda unit: contacts.create_person(unit, name="李四", phones=["051487331234", "\x00"]),
    )
    assert fields_of(error) == ["phones"]
    error = refused(
        app,
        lambda unit: contacts.create_person(
            unit, name="李四", extra={"微信": ["ok", HOSTILE["ESC"]], "k\x1b": 1}
        ),
    )
    assert fields_of(error) == ["extra.微信[1]", "extra['k\\x1b']"]


def test_tab_and_line_breaks_are_text_not_controls(app: Tongxin, office: dict[str, Any]) -> None:
    with app.unit() as unit:
        # A line break pasted from a spreadsheet cell folds into a space in a one-line field.
        p = contacts.create_person(unit, name="李四", address="北京市\n海淀区\t1号")
        assert p.address == "北京市 海淀区 1号"
        i = interactions.log_interaction(
            unit, kind="meeting", people=[p.id], notes="第一行\r\n第二行\n\t第三行"
        )
        assert i.notes == "第一行\n第二行\n\t第三行"  # CR LF stored as one line feed


def test_every_service_refuses_hostile_text_naming_the_field(
    app: Tongxin, office: dict[str, Any]
) -> None:
    bad = HOSTILE["ESC"]
    pid, planned = office["person"], office["planned"]
    cases: list[tuple[str, Any]] = [
        ("name", lambda u: organisations.create_organisation(u, name=bad)),
        ("notes", lambda u: organisations.update_organisation(u, office["org"], notes=bad)),
        ("phone", lambda u: organisations.create_organisation(u, name="致公", phone=bad)),
        ("display_name", lambda u: accounts.create_account(u, username="x", display_name=bad)),
        ("username", lambda u: accounts.create_account(u, username="\x00x")),
        ("position", lambda u: accounts.create_account(u, username="y", position=bad)),
        ("summary", lambda u: interactions.log_interaction(
            u, kind="call", people=[pid], summary=bad)),
        ("location", lambda u: interactions.schedule_interaction(
            u, kind="call", people=[pid], start=NOW + timedelta(days=1), location=bad)),
        ("notes", lambda u: interactions.log_interaction(u, kind="call", people=[pid], notes=bad)),
        ("summary", lambda u: interactions.complete_interaction(u, planned, summary=bad)),
        ("location", lambda u: interactions.reschedule_interaction(
            u, planned, start=NOW + timedelta(days=3), location=bad)),
        ("reason", lambda u: interactions.cancel_interaction(u, planned, reason=bad)),
        ("role", lambda u: interactions.add_participants(
            u, planned, accounts=[office["account"]], role=bad)),
        ("title", lambda u: followups.raise_follow_up(u, title=bad, person_id=pid)),
        ("detail", lambda u: followups.raise_follow_up(u, title="t", detail="\x00")),
        ("response", lambda u: followups.update_follow_up(
            u, office["follow_up"], status="answered", response=bad)),
        ("notes", lambda u: assignments.assign(
            u, keeper_id=office["account"], contact_id=contacts.create_person(u, name="赵").id,
            notes=bad)),
        ("reason", lambda u: assignments.snooze_assignment(
            u, office["assignment"], until=date(2026, 6, 1), reason=bad)),
        ("query", lambda u: contacts.search_people(u, "\x00")),
        ("query", lambda u: contacts.resolve_person(u, "王\x00")),
        ("account", lambda u: accounts.resolve_account(u, "\x00")),
    ]  # fmt: skip
    for field, work in cases:
        error = refused(app, work)
        assert fields_of(error) == [field], (field, error)
    with app.unit() as unit:  # the planned meeting is as it was
        i = interactions.get_interaction(unit, planned)
        assert (i.status.value, i.location, i.summary, i.version) == ("planned", None, None, 1)


def test_a_refused_interaction_leaves_nothing_even_when_the_caller_commits(
    app: Tongxin, office: dict[str, Any]
) -> None:
    before = counts(app)
    with app.unit() as unit:
        contacts.create_person(unit, name="钱委员")
        with pytest.raises(ValidationError):
            interactions.log_interaction(
                unit, kind="meeting", people=[office["person"]], data={"concerns": ["\x1b[31m"]}
            )
    after = counts(app)
    assert after["person"] == before["person"] + 1
    assert (after["interaction"], after["interaction_participant"]) == (
        before["interaction"],
        before["interaction_participant"],
    )


# -- a plugin's fields, whatever the plugin ------------------------------------------------


class _Topics(BaseModel):
    topic: str | None = None
    concerns: list[str] = []
    tags: dict[str, str] = {}
    visit_day: date | None = None
    shout: str | None = None

    @field_validator("shout")
    @classmethod
    def _shout(cls, v: str | None) -> str | None:
        # A careless plugin that makes a control character of its own.
        return f"\x1b[1m{v}" if v else v


class CountyKind:
    @hookimpl
    def register_kinds(self, register: Any) -> None:
        register(KindSpec("county_visit", "县里走访", "County visit", _Topics))


def test_every_string_inside_a_plugins_data_is_checked(
    app: Tongxin, office: dict[str, Any]
) -> None:
    app.plugins.register(CountyKind(), name="county_kind")
    app.refresh_registries()
    pid = office["person"]

    def log(data: dict[str, Any]) -> Any:
        return lambda u: interactions.log_interaction(
            u, kind="county_visit", people=[pid], data=data
        )

    assert fields_of(refused(app, log({"topic": "\x00"}))) == ["data.topic"]
    assert fields_of(refused(app, log({"concerns": ["ok", "a\x9b"]}))) == ["data.concerns[1]"]
    assert fields_of(refused(app, log({"tags": {"a": "\u202e"}}))) == ["data.tags.a"]
    assert fields_of(refused(app, log({"shout": "hi"}))) == ["data.shout"]
    assert fields_of(refused(app, log({"visit_day": "1899-12-31"}))) == ["data.visit_day"]
    error = refused(app, log({"topic": "话" * 2001}))
    assert fields_of(error) == ["data.topic"] and "at most 2000" in str(error)
    # The built-in kinds too, and completing planned work with new fields.
    assert fields_of(
        refused(app, lambda u: interactions.complete_interaction(
            u, office["planned"], data={"concerns": ["\x1b"]}))
    ) == ["data.concerns[0]"]  # fmt: skip
    with app.unit() as unit:
        ok = interactions.log_interaction(
            unit, kind="county_visit", people=[pid], data={"topic": "话" * 2000}
        )
        assert ok.data["topic"] == "话" * 2000


# -- lengths -------------------------------------------------------------------------------


def test_lengths_are_bounded_per_field_with_the_limit_in_the_message(
    app: Tongxin, office: dict[str, Any]
) -> None:
    pid = office["person"]
    for field, limit, work in (
        ("name", 100, lambda v: lambda u: contacts.create_person(u, name=v)),
        ("title", 200, lambda v: lambda u: contacts.create_person(u, name="李", title=v)),
        ("summary", 500, lambda v: lambda u: interactions.log_interaction(
            u, kind="call", people=[pid], summary=v)),
        ("location", 200, lambda v: lambda u: interactions.log_interaction(
            u, kind="call", people=[pid], location=v)),
        ("notes", 20_000, lambda v: lambda u: interactions.log_interaction(
            u, kind="call", people=[pid], notes=v)),
        ("title", 200, lambda v: lambda u: followups.raise_follow_up(u, title=v)),
        ("name", 100, lambda v: lambda u: organisations.create_organisation(u, name=v)),
    ):  # fmt: skip
        error = refused(app, work("字" * (limit + 1)))
        assert fields_of(error) == [field]
        assert f"is {limit + 1} characters long; at most {limit} are allowed" in str(error)
        with app.unit() as unit:  # exactly the limit is fine
            work("字" * limit)(unit)
    # A megabyte is refused quickly and not repeated back in full.
    error = refused(app, lambda u: contacts.create_person(u, name="x" * 1_000_000))
    assert len(str(error)) < 500


def test_the_bulk_import_path_keeps_the_same_rules(app: Tongxin) -> None:
    rows = [
        {"name": "甲", "employer": "扬州大学"},
        {"name": "乙", "employer": "扬州\x1b[31m大学"},  # already "in stored form" otherwise
        {"name": "丙", "title": "t" * 201},
        {"name": "丁", "birth": "0001-01"},
        {"name": "戊", "extra": {"备注": "\x00"}},
    ]
    error = refused(app, lambda u: contacts.bulk_create_people(u, rows))
    assert fields_of(error) == [
        "rows[1].employer",
        "rows[2].title",
        "rows[3].birth",
        "rows[4].extra.备注",
    ]


# -- dates and times -------------------------------------------------------------------------


def test_dates_outside_1900_to_2200_are_refused(app: Tongxin, office: dict[str, Any]) -> None:
    pid = office["person"]
    for birth in ("1899-12", "2201", "0001-01", "9999"):
        error = refused(app, lambda u, b=birth: contacts.create_person(u, name="李", birth=b))
        assert fields_of(error) == ["birth"]
    for start in (
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1, 1, 1, 0, 0, tzinfo=SHANGHAI),  # its UTC time is before year 1
        datetime(9999, 12, 31, 23, 59, tzinfo=SHANGHAI),
        datetime(1899, 12, 31, 12, tzinfo=UTC),
        datetime(2201, 1, 1, tzinfo=UTC),
    ):
        error = refused(
            app,
            lambda u, s=start: interactions.schedule_interaction(
                u, kind="call", people=[pid], start=s
            ),
        )
        assert fields_of(error) == ["start"], start
        assert "outside the dates this program keeps (1900-01-01 to 2200-12-31)" in str(error)
    error = refused(
        app,
        lambda u: interactions.schedule_interaction(
            u, kind="call", people=[pid], start=NOW, end=datetime(9999, 1, 1, tzinfo=UTC)
        ),
    )
    assert fields_of(error) == ["end"]
    for field, work in (
        ("due_on", lambda u: followups.raise_follow_up(u, title="t", due_on=date(1, 1, 1))),
        ("due_on", lambda u: followups.update_follow_up(
            u, office["follow_up"], due_on=date(9999, 12, 31))),
        ("start_on", lambda u: assignments.assign(
            u, keeper_id=office["account"], contact_id=contacts.create_person(u, name="赵").id,
            start_on=date(1800, 1, 1))),
        ("until", lambda u: assignments.snooze_assignment(
            u, office["assignment"], until=date(2300, 1, 1), reason="出国")),
        ("end_on", lambda u: assignments.end_assignment(
            u, office["assignment"], end_on=date(9999, 1, 1))),
    ):  # fmt: skip
        assert fields_of(refused(app, work)) == [field]
    with app.unit() as unit:  # the edges themselves are kept
        contacts.create_person(unit, name="老人", birth="1900-01")
        followups.raise_follow_up(unit, title="远", due_on=date(2200, 12, 31))


@pytest.mark.parametrize(
    ("zone", "wall", "before", "after"),
    [
        (NEW_YORK, datetime(2026, 3, 8, 2, 30), "02:00", "03:00"),
        (SHANGHAI, datetime(1986, 5, 4, 2, 30), "02:00", "03:00"),  # China's summer time
    ],
)
def test_a_local_time_the_clocks_skip_is_refused_never_shifted(
    app: Tongxin, office: dict[str, Any], zone: ZoneInfo, wall: datetime, before: str, after: str
) -> None:
    gap = wall.replace(tzinfo=zone)
    error = refused(
        app,
        lambda u: interactions.log_interaction(
            u, kind="call", people=[office["person"]], start=gap
        ),
    )
    assert fields_of(error) == ["start"]
    message = str(error)
    assert f"{wall:%Y-%m-%d %H:%M} does not exist in {zone.key}" in message
    assert f"from {before} to {after}" in message
    error = refused(
        app,
        lambda u: interactions.reschedule_interaction(
            u, office["planned"], start=NOW + timedelta(days=1), end=gap
        ),
    )
    assert fields_of(error) == ["end"]
    # Typed on the command line or in a form: the same refusal, naming the time.
    with pytest.raises(TimeParseError) as typed:
        parse_when(f"{wall:%Y-%m-%d %H:%M}", now=NOW, tz=zone)
    assert "does not exist" in str(typed.value) and before in str(typed.value)
    # A minute before the gap is an ordinary time.
    ok = parse_when(f"{wall:%Y-%m-%d} 01:59", now=NOW, tz=zone).start
    assert ok.astimezone(UTC).astimezone(zone).strftime("%H:%M") == "01:59"


def test_a_time_the_clocks_show_twice_is_its_first_occurrence(app: Tongxin) -> None:
    first = parse_when("2026-11-01 01:30", now=NOW, tz=NEW_YORK).start
    assert first.utcoffset() == timedelta(hours=-4)  # still summer time: the earlier instant
    second = parse_when("2026-11-01 01:30-05:00", now=NOW, tz=NEW_YORK).start
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    # Shanghai, 1986-09-14: the clocks went back from 02:00 to 01:00.
    repeated = parse_when("1986-09-14 01:30", now=NOW, tz=SHANGHAI).start
    assert repeated.utcoffset() == timedelta(hours=9)
    with pytest.raises(TimeParseError, match="outside the dates"):
        parse_when("9999-12-31 23:00", now=NOW, tz=SHANGHAI)
    with pytest.raises(TimeParseError, match="outside the dates"):
        parse_when("0001-01-01 00:00", now=NOW, tz=SHANGHAI)


def test_no_refused_value_reaches_the_database(app: Tongxin, office: dict[str, Any]) -> None:
    for hostile in HOSTILE.values():
        refused(app, lambda u, h=hostile: contacts.create_person(u, name=h))
    with app.unit() as unit:
        names = [n for (n,) in unit.session.execute(text("SELECT name FROM person"))]
    assert names == ["王委员"]
