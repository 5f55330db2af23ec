"""The syncs an office configures once (`[caldav.accounts]`), against the office
Radicale of deploy/radicale: `tongxin sync all` runs each account into its own home,
the reminder service (`tongxin remind --once`, as its long-running form does every
`sync_minutes`) runs them too, a second run writes nothing, a phone's move comes back
through the service, and one account's failure neither hides nor stops the others."""

from __future__ import annotations

import json
import logging
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from crm_cli.main import run

from crm_core.calendar.ics import interaction_uid

from . import test_office_radicale
from .conftest import World
from .test_office_radicale import PASSWORDS, Office

office = test_office_radicale.office  # the same fixture: the office Radicale of deploy/


def _configure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, server: Office, accounts: str
) -> None:
    """A config file syncing ``accounts`` with ``server`` as the sync account, and that
    account's password in the environment, as an office sets them."""
    path = tmp_path / "dav.toml"
    lines = [
        "[caldav]",
        f'home_url = "{server.url}/{{user}}/"',
        'username = "tongxin"',
        'password_env = "DAV_PASSWORD"',
        accounts,
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    monkeypatch.setenv("TONGXIN_CONFIG", str(path))
    monkeypatch.setenv("DAV_PASSWORD", PASSWORDS["tongxin"])


WANGZX = '[caldav.accounts.wangzx]\ncalendar = "同心日程"\ncontacts = "同心通讯录"\n'


def test_sync_all_puts_each_account_in_its_home_and_a_second_run_writes_nothing(
    world: World,
    office: Office,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _configure(monkeypatch, tmp_path, office, WANGZX)
    capsys.readouterr()
    assert run(["--db", db_url, "sync", "all", "--json"]) == 0
    [first] = json.loads(capsys.readouterr().out)
    assert first["user"] == "wangzx" and first["errors"] == []
    assert first["calendar"]["created"] > 0 and first["contacts"]["created"] > 0
    calendars = {c.get_display_name() for c in office.phone("wangzx").principal().calendars()}
    assert calendars == {"同心日程"}

    assert run(["--db", db_url, "sync", "all"]) == 0
    out = capsys.readouterr().out
    assert "wangzx:" in out
    assert "新建 0，更新 0，删除 0" in out  # CalDAV
    assert out.count("新建 0，更新 0，删除 0") == 2  # and CardDAV


def test_the_reminder_service_syncs_and_brings_back_what_the_phone_moved(
    world: World,
    office: Office,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _configure(monkeypatch, tmp_path, office, WANGZX)
    assert run(["--db", db_url, "--as", "office", "remind", "--once"]) == 0
    [cal] = office.phone("wangzx").principal().calendars()
    uid = interaction_uid(world.visit)
    event = cal.event_by_uid(uid)
    component = event.icalendar_component
    moved = component.decoded("dtstart") + timedelta(hours=2)
    component.pop("DTSTART")
    component.add("dtstart", moved)
    component.pop("DTEND", None)
    component.add("dtend", moved + timedelta(hours=1))
    event.save()

    assert run(["--db", db_url, "--as", "office", "remind", "--once"]) == 0
    from crm_core.models import Interaction

    with world.app.unit() as unit:
        visit = unit.session.get(Interaction, world.visit)
        assert visit is not None
        start = visit.start_at if visit.start_at.tzinfo else visit.start_at.replace(tzinfo=UTC)
        assert start == moved  # two hours later, as the phone has it


def test_one_account_s_failure_is_reported_and_the_others_still_sync(
    world: World,
    office: Office,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # An account tongxin does not know comes first: its sync fails, wangzx's goes on.
    accounts = '[caldav.accounts.nobody]\ncalendar = "同心日程"\n' + WANGZX
    _configure(monkeypatch, tmp_path, office, accounts)
    capsys.readouterr()
    assert run(["--db", db_url, "sync", "all", "--json"]) == 1
    nobody, wangzx = json.loads(capsys.readouterr().out)
    assert nobody["errors"] and "nobody" in nobody["errors"][0]
    assert wangzx["errors"] == [] and wangzx["calendar"]["created"] > 0

    with caplog.at_level(logging.ERROR, logger="tongxin.caldav"):
        assert run(["--db", db_url, "--as", "office", "remind", "--once"]) == 0
    assert any("nobody" in r.getMessage() for r in caplog.records)


def test_an_incomplete_section_is_a_config_error_naming_the_key(
    world: World,
    office: Office,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _configure(monkeypatch, tmp_path, office, WANGZX)
    monkeypatch.delenv("DAV_PASSWORD", raising=False)
    capsys.readouterr()
    assert run(["--db", db_url, "sync", "all"]) == 1
    assert "DAV_PASSWORD" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('[caldav]\nhome_url = "https://dav.example.org/"\n', "utf-8")
    monkeypatch.setenv("TONGXIN_CONFIG", str(bad))
    assert run(["--db", db_url, "sync", "all"]) == 1
    err = capsys.readouterr().err
    assert "home_url" in err and "{user}" in err and str(bad) in err
