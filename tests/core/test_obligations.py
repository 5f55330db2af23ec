"""Plugins' obligations (issue 13 item 4, the ``collect_obligations`` hook): a plugin's
rows in ``tongxin overdue`` (table and ``--json``), filtered per keeper, read in the
reader's county scope; a raising plugin is skipped with a warning and recorded."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from crm_cli.main import run

from crm_core import clock, hookimpl
from crm_core.app import Tongxin
from crm_core.kinds import Obligation, OpenTarget
from crm_core.services import accounts, contacts, interactions, overdue
from crm_core.services import obligations as obligation_service
from crm_core.unit import Unit

TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai

# A 委员活动之家 plugin as a county would write it: a home (a person of the region) with
# no activity this month is owed one; it reads only through the scoped services.
HOMES_PLUGIN = """
from datetime import timedelta

from crm_core import hookimpl
from crm_core.kinds import Obligation, OpenTarget
from crm_core.services import contacts, interactions


@hookimpl
def collect_obligations(unit, as_of):
    first = as_of.replace(day=1)
    rows = []
    for home in contacts.list_people(unit, limit=100).items:
        if not home.name.endswith("活动之家"):
            continue
        done = [i for i in interactions.timeline(unit, home.id) if i.start_at.date() >= first]
        if done:
            continue
        rows.append(
            Obligation(
                f"home_activity:{home.id}:{first:%Y-%m}",
                f"{home.name}：本月尚无活动",
                detail="每月至少一次",
                due_on=as_of - timedelta(days=3),
                link=OpenTarget("person", str(home.id)),
            )
        )
    return rows
"""

BROKEN_PLUGIN = """
from crm_core import hookimpl


@hookimpl
def collect_obligations(unit, as_of):
    raise RuntimeError("the homes table is gone")
"""


class Homes:
    """The same plugin as a class, for the service tests."""

    @hookimpl
    def collect_obligations(self, unit: Unit, as_of: date) -> list[Obligation]:
        first = as_of.replace(day=1)
        rows = []
        for home in contacts.list_people(unit, limit=100).items:
            if not home.name.endswith("活动之家"):
                continue
            if any(i.start_at.date() >= first for i in interactions.timeline(unit, home.id)):
                continue
            rows.append(
                Obligation(
                    f"home_activity:{home.id}:{first:%Y-%m}",
                    f"{home.name}：本月尚无活动",
                    due_on=as_of - timedelta(days=3),
                    link=OpenTarget("person", str(home.id)),
                )
            )
        return rows


class OwedByChair:
    """A row one account owes, and one the office owes, both still in time."""

    @hookimpl
    def collect_obligations(self, unit: Unit, as_of: date) -> list[Obligation]:
        chair = accounts.resolve_account(unit, "chair")
        return [
            Obligation(
                "report", "年度履职报告未交", due_on=date(2026, 12, 31), account_id=chair.id
            ),
            Obligation(
                "gathering",
                "中秋联谊会邀请未发",
                severity="late",
                link=OpenTarget("agenda", "2026-09", kind="gathering"),
            ),
        ]


class Broken:
    @hookimpl
    def collect_obligations(self, unit: Unit, as_of: date) -> list[Obligation]:
        raise RuntimeError("the homes table is gone")


@pytest.fixture
def office(app: Tongxin) -> dict[str, object]:
    clock.freeze(NOW)
    with app.unit() as unit:
        accounts.create_account(
            unit, username="chair", display_name="王主席", role="leader", chair_meeting=True
        )
        accounts.create_account(
            unit,
            username="gl",
            display_name="广陵区政协",
            role="county_staff",
            region_scope="guangling",
        )
        east = contacts.create_person(unit, name="东关活动之家", region="guangling")
        west = contacts.create_person(unit, name="西湖活动之家", region="hanjiang")
        busy = contacts.create_person(unit, name="文昌活动之家", region="guangling")
    with app.unit("chair") as unit:
        interactions.log_interaction(
            unit, kind="call", people=[busy.id], start=NOW - timedelta(days=2)
        )
    return {"east": east.id, "west": west.id, "busy": busy.id}


def test_a_plugin_row_comes_with_the_overdue_report(app: Tongxin, office: dict) -> None:
    app.plugins.register(Homes(), "homes")
    with app.unit() as unit:
        report = overdue.overdue(unit, today=TODAY)
    duties = report.obligations
    assert [o.label for o in duties.rows] == [
        "东关活动之家：本月尚无活动",
        "西湖活动之家：本月尚无活动",
    ]
    first = duties.rows[0]
    assert (first.plugin, first.level(TODAY), first.days_overdue(TODAY)) == ("homes", "late", 3)
    assert first.link == OpenTarget("person", str(office["east"]))
    assert duties.failed == []


def test_plugin_rows_are_read_in_the_readers_county_scope(app: Tongxin, office: dict) -> None:
    app.plugins.register(Homes(), "homes")
    with app.unit("gl") as unit:
        rows = overdue.overdue(unit, today=TODAY).obligations.rows
    assert [o.label for o in rows] == ["东关活动之家：本月尚无活动"]  # not 邗江's home


def test_a_keeper_gets_its_own_rows_and_an_administrator_the_offices(
    app: Tongxin, office: dict, admin: str
) -> None:
    app.plugins.register(OwedByChair(), "owed")
    with app.unit() as unit:
        chair = accounts.resolve_account(unit, "chair")
        office_admin = accounts.resolve_account(unit, admin)
        everyone = overdue.overdue(unit, today=TODAY).obligations.rows
        mine = overdue.overdue(unit, keeper_id=chair.id, today=TODAY).obligations.rows
        admins = overdue.overdue(unit, keeper_id=office_admin.id, today=TODAY).obligations.rows
    # Late first (the office's, severity given), then the chair's, still due.
    assert [(o.key, o.level(TODAY)) for o in everyone] == [("gathering", "late"), ("report", "due")]
    assert [o.key for o in mine] == ["report"]
    assert [o.key for o in admins] == ["gathering"]


def test_a_raising_plugin_is_skipped_recorded_and_the_rest_shown(
    app: Tongxin, office: dict, caplog: pytest.LogCaptureFixture
) -> None:
    app.plugins.register(Broken(), "broken")
    app.plugins.register(Homes(), "homes")
    with app.unit() as unit, caplog.at_level("WARNING", logger="tongxin.plugins"):
        duties = obligation_service.collect(unit, as_of=TODAY)
    assert duties.failed == ["broken"]
    assert {o.plugin for o in duties.rows} == {"homes"}
    assert any(
        "broken" in r.getMessage() and "homes table" in r.getMessage() for r in caplog.records
    )
    info = {p.name: p for p in app.plugins.plugins()}["broken"]
    assert info.status == "failing" and "collect_obligations" in info.last_error


def test_a_row_that_is_not_an_obligation_is_dropped_and_recorded(
    app: Tongxin, office: dict
) -> None:
    class Sloppy:
        @hookimpl
        def collect_obligations(self, unit: Unit, as_of: date) -> list[object]:
            return ["东关活动之家没有活动", Obligation("ok", "一条好的")]

    app.plugins.register(Sloppy(), "sloppy")
    with app.unit() as unit:
        duties = obligation_service.collect(unit, as_of=TODAY)
    assert [o.key for o in duties.rows] == ["ok"] and duties.failed == ["sloppy"]


def test_an_obligation_refuses_a_bad_severity_or_link() -> None:
    with pytest.raises(ValueError, match="severity"):
        Obligation("k", "label", severity="urgent")
    with pytest.raises(ValueError, match="OpenTarget"):
        Obligation("k", "label", link="person 1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind"):
        OpenTarget("person", "1", kind="visit")


@pytest.fixture
def tx(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):  # type: ignore[no-untyped-def]
    """``tongxin`` in process, with the homes plugin (and a broken one) in a plugin folder."""
    monkeypatch.setenv("TONGXIN_NOW", NOW.isoformat())
    folder = tmp_path / "county-plugins"
    folder.mkdir()
    (folder / "homes.py").write_text(HOMES_PLUGIN, "utf-8")
    (folder / "wrecked.py").write_text(BROKEN_PLUGIN, "utf-8")
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f'[plugins]\nfolders = ["{folder}"]\n', "utf-8")
    monkeypatch.setenv("TONGXIN_CONFIG", str(cfg))

    def call(*args: str) -> tuple[int, str, str]:
        code = run(["--db", db_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def test_tongxin_overdue_shows_a_plugin_row_with_its_link(tx, office: dict) -> None:  # type: ignore[no-untyped-def]
    code, out, err = tx("overdue")
    assert code == 0, err
    assert "东关活动之家：本月尚无活动" in out and "每月至少一次" in out
    assert f"person {office['east']}" in out and "homes" in out
    assert "文昌活动之家" not in out  # it had its activity this month
    assert "wrecked" in err  # the raising plugin: skipped, with a warning on stderr
    code, out, err = tx("overdue", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["plugins_failed"] == ["wrecked"]
    east = data["obligations"][0]
    assert east == {
        "plugin": "homes",
        "key": f"home_activity:{office['east']}:2026-11",
        "label": "东关活动之家：本月尚无活动",
        "detail": "每月至少一次",
        "due_on": "2026-11-24",
        "level": "late",
        "days_overdue": 3,
        "account_id": None,
        "link": {"screen": "person", "ref": str(office["east"]), "kind": None},
        "link_text": f"person {office['east']}",
    }
    assert [o["label"] for o in data["obligations"]] == [
        "东关活动之家：本月尚无活动",
        "西湖活动之家：本月尚无活动",
    ]
