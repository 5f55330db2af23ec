"""Institutional series from config on calendars: RRULE ones as recurring events, lunar
ones (中秋联谊会) as one event a year, a county's own edits, and an occurrence that is
being organised as an interaction shown once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import icalendar
from sqlalchemy import select

from crm_core.calendar import calendar_range, export_ics
from crm_core.calendar.series import sync_series
from crm_core.config import load_config
from crm_core.models import Series
from crm_core.services import accounts, interactions

from .conftest import SHANGHAI, World, local, unfold, vevents


def _events(body: bytes) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}


def test_gregorian_series_are_recurring_events(world: World) -> None:
    body = world.export()
    events = _events(body)
    monthly = events["series-theory_study_monthly@tongxin"]
    assert str(monthly["SUMMARY"]) == "党组理论学习中心组月度学习"
    assert monthly.decoded("dtstart") == local(2026, 1, 29, 14, 30)
    assert monthly["RRULE"].to_ical() == b"FREQ=MONTHLY;BYDAY=-1TH"
    assert monthly.decoded("dtend") == local(2026, 1, 29, 16, 30)
    assert "政协工作日程" in str(monthly["DESCRIPTION"])
    week = unfold(vevents(body)["series-sector_week@tongxin"])
    assert b"DTSTART;VALUE=DATE:20260608\r\n" in week
    assert b"DTEND;VALUE=DATE:20260613\r\n" in week  # five days, end exclusive
    for code in (
        "exchange_bimonthly", "study_forum_quarterly", "yangzhou_forum", "brainstorm_yearly",
    ):  # fmt: skip
        assert "RRULE" in events[f"series-{code}@tongxin"]


def test_the_mid_autumn_gathering_is_on_its_lunar_date_each_year(world: World) -> None:
    with world.app.unit() as unit:
        rng = calendar_range(
            unit, scope="institutional", start=date(2026, 1, 1), end=date(2028, 12, 31)
        )
        events = _events(export_ics(unit, rng))
    y2026 = events["series-mid_autumn_gathering-2026@tongxin"]
    assert y2026.decoded("dtstart") == datetime(2026, 9, 25, 18, 30, tzinfo=SHANGHAI)
    assert y2026.decoded("dtstart").astimezone(UTC) == datetime(2026, 9, 25, 10, 30, tzinfo=UTC)
    assert "RRULE" not in y2026
    assert "农历：八月十五" in str(y2026["DESCRIPTION"])
    assert events["series-mid_autumn_gathering-2027@tongxin"].decoded("dtstart").date() == date(
        2027, 9, 15
    )
    assert events["series-mid_autumn_gathering-2028@tongxin"].decoded("dtstart").date() == date(
        2028, 10, 3
    )
    assert "series-mid_autumn_gathering-2029@tongxin" not in events


def test_a_county_edits_its_own_series(world: World, tmp_path: Path) -> None:
    first = _events(world.export())
    assert int(first["series-theory_study_monthly@tongxin"]["SEQUENCE"]) == 0
    with world.app.unit() as unit:
        sync_series(unit)  # published: tongxin serve / remind keep the rows in step
    county = tmp_path / "baoying.toml"
    county.write_text(
        """
[[series]]
code = "theory_study_monthly"
start = "2026-01-29T15:00:00"
location = "宝应县政协三楼"

[[series]]
code = "brainstorm_yearly"
enabled = false

[[series]]
code = "baoying_shangsi"
zh = "宝应县政协三月三联谊"
lunar_month = 3
lunar_day = 3
""",
        "utf-8",
    )
    world.app.config = load_config(county)
    body = world.export(start=date(2026, 1, 1), end=date(2027, 12, 31))
    events = _events(body)
    monthly = events["series-theory_study_monthly@tongxin"]
    assert monthly.decoded("dtstart") == local(2026, 1, 29, 15, 0)
    assert str(monthly["LOCATION"]) == "宝应县政协三楼"
    assert int(monthly["SEQUENCE"]) == 1  # changed in config: phones update it
    assert "series-brainstorm_yearly@tongxin" not in events
    assert events["series-baoying_shangsi-2026@tongxin"].decoded("dtstart") == date(2026, 4, 19)
    assert events["series-baoying_shangsi-2027@tongxin"].decoded("dtstart") == date(2027, 4, 9)
    # Unchanged series keep their bytes and SEQUENCE.
    assert int(events["series-yangzhou_forum@tongxin"]["SEQUENCE"]) == 0
    assert world.export(start=date(2026, 1, 1), end=date(2027, 12, 31)) == body
    with world.app.unit() as unit:
        rows = {r.code: r for r in unit.session.scalars(select(Series))}
    assert rows["brainstorm_yearly"].active is True  # exporting wrote nothing
    with world.app.unit() as unit:
        sync_series(unit)
        rows = {r.code: r for r in unit.session.scalars(select(Series))}
    assert rows["brainstorm_yearly"].active is False
    # Written as shown: the same SEQUENCE (the change time is now the write's).
    again = _events(world.export(start=date(2026, 1, 1), end=date(2027, 12, 31)))
    assert int(again["series-theory_study_monthly@tongxin"]["SEQUENCE"]) == 1


def test_sync_writes_nothing_when_in_step(world: World) -> None:
    world.export()
    with world.app.unit() as unit:
        sync_series(unit)
    with world.app.unit() as unit:
        before = {r.code: r.version for r in unit.session.scalars(select(Series))}
        sync_series(unit)
        assert not unit.session.dirty and not unit.session.new
    with world.app.unit() as unit:
        after = {r.code: r.version for r in unit.session.scalars(select(Series))}
    assert before == after


def test_an_occurrence_organised_as_an_interaction_shows_once(world: World) -> None:
    import crm_plugins.union_liaison as union

    world.app.plugins.register(union, "union_liaison")
    world.app.refresh_registries()
    with world.app.unit("wangzx") as unit:
        gathering = union.ensure_gathering(unit, 2026, hosts=[world.leader], invitees=[world.zhang])
        study = interactions.schedule_interaction(
            unit,
            kind="meeting",
            start=local(2026, 9, 24, 14, 30),
            accounts=[world.leader],
            people=[world.li],
            summary="九月理论学习",
            series_id=next(s.id for s in sync_series(unit) if s.code == "theory_study_monthly"),
        )
    body = world.export()
    events = _events(body)
    assert f"interaction-{gathering.id}@tongxin" in events
    assert "series-mid_autumn_gathering-2026@tongxin" not in events
    assert "series-mid_autumn_gathering-2027@tongxin" in events
    exdates = [d.dts[0].dt for d in [events["series-theory_study_monthly@tongxin"]["EXDATE"]]]
    assert exdates == [local(2026, 9, 24, 14, 30)]
    assert f"interaction-{study.id}@tongxin" in events
    # The plugin's own sync of the series row and ours agree: nothing moves.
    assert world.export() == body
    # Someone not taking part still sees the institutional occurrence.
    with world.app.unit() as unit:
        other = accounts.create_account(unit, username="staff1", display_name="工作人员")
        theirs = _events(export_ics(unit, calendar_range(unit, account=other)))
    assert "series-mid_autumn_gathering-2026@tongxin" in theirs
    assert "EXDATE" not in theirs["series-theory_study_monthly@tongxin"]


def _dump(world: World) -> list[tuple[str, list[tuple[str, ...]]]]:
    """Every row of every table, as text (what a database dump compares)."""
    from sqlmodel import SQLModel

    out = []
    with world.app.unit() as unit:
        for table in SQLModel.metadata.sorted_tables:
            rows = unit.session.execute(table.select()).all()
            out.append((table.name, sorted(tuple(str(v) for v in r) for r in rows)))
    return out


def _export_in(world: World, zone: str, scope: str | None = None) -> bytes:
    world.app.config.timezone = zone  # what TONGXIN_TZ sets: the display zone
    with world.app.unit() as unit:
        if scope:
            rng = calendar_range(unit, scope=scope)
        else:
            rng = calendar_range(unit, account=accounts.resolve_account(unit, "wangzx"))
        return export_ics(unit, rng)


def test_display_zones_neither_move_the_series_nor_write(world: World) -> None:
    with world.app.unit() as unit:
        sync_series(unit)  # what tongxin serve / remind do: rows in step with config
    first = _export_in(world, "Asia/Shanghai")
    before = _dump(world)
    for zone in ("UTC", "America/New_York", "Europe/Berlin"):
        body = _export_in(world, zone)
        events = _events(body)
        monthly = events["series-theory_study_monthly@tongxin"]
        # 14:30 in Yangzhou, written with the office's zone, whatever the display zone.
        assert monthly.decoded("dtstart") == local(2026, 1, 29, 14, 30)
        assert b"DTSTART;TZID=Asia/Shanghai:20260129T143000" in unfold(body)
        assert b"BEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai" in body
        assert b"TZID:" + zone.encode() in body  # the display zone's too
        assert str(monthly["SEQUENCE"]) == "0"
        _export_in(world, zone, "institutional")
        with world.app.unit() as unit:
            sync_series(unit)  # a program under another display zone writes nothing
        assert _dump(world) == before
    assert _export_in(world, "Asia/Shanghai") == first


def test_a_config_change_is_shown_before_any_write_and_bumps_sequence_once(
    world: World,
) -> None:
    with world.app.unit() as unit:
        sync_series(unit)
    before = _dump(world)
    entry = next(e for e in world.app.config.series if e["code"] == "theory_study_monthly")
    entry["location"] = "市政协三楼会议室（新）"
    a = _events(_export_in(world, "Asia/Shanghai"))["series-theory_study_monthly@tongxin"]
    b = _events(_export_in(world, "UTC"))["series-theory_study_monthly@tongxin"]
    assert str(a["LOCATION"]) == str(b["LOCATION"]) == "市政协三楼会议室（新）"
    assert str(a["SEQUENCE"]) == str(b["SEQUENCE"]) == "1"
    assert _dump(world) == before  # shown, not written
    with world.app.unit() as unit:
        sync_series(unit)
    with world.app.unit() as unit:
        sync_series(unit)
    c = _events(_export_in(world, "Asia/Shanghai"))["series-theory_study_monthly@tongxin"]
    assert str(c["SEQUENCE"]) == "1"  # written once, still 1


def test_office_timezone_setting_keeps_series_in_that_zone(world: World) -> None:
    world.app.config.sections.settings.office_timezone = "Asia/Urumqi"
    body = _export_in(world, "Asia/Shanghai", "institutional")
    monthly = _events(body)["series-theory_study_monthly@tongxin"]
    assert monthly.decoded("dtstart").utcoffset().total_seconds() == 6 * 3600
    assert b"BEGIN:VTIMEZONE\r\nTZID:Asia/Urumqi" in body
