"""The liaison work on the command line: log, schedule, kinds, overdue, follow-ups,
assignments and the plugin scaffold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from crm_cli.main import run

from crm_core.app import Tongxin
from crm_core.services import accounts, assignments, contacts


@pytest.fixture
def tx(db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    # 2026-11-27 10:00 in Shanghai; subprocesses and in-process runs alike.
    monkeypatch.setenv("TONGXIN_NOW", "2026-11-27T02:00:00+00:00")

    def call(*args: str) -> tuple[int, str, str]:
        code = run(["--db", db_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


@pytest.fixture
def people(app: Tongxin) -> None:
    with app.unit() as unit:
        accounts.create_account(
            unit, username="chair", display_name="王主席", role="leader", chair_meeting=True
        )
        contacts.create_person(unit, name="张三", categories=["private_economy"])
        contacts.create_person(unit, name="李四")


def test_log_with_concerns_writes_the_interaction_and_its_follow_ups(tx, people) -> None:  # type: ignore[no-untyped-def]
    code, out, err = tx(
        "log",
        "meeting",
        "--with",
        "zs",
        "--by",
        "chair",
        "--at",
        "昨天下午3点",
        "--field",
        "concerns=用地审批慢",
        "--field",
        "concerns=停车难",
        "--summary",
        "座谈",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["status"] == "done" and data["start"] == "2026-11-26T07:00:00+00:00"
    assert data["data"]["concerns"] == ["用地审批慢", "停车难"]
    assert [f["title"] for f in data["follow_ups"]] == ["用地审批慢", "停车难"]
    assert {f["due_on"] for f in data["follow_ups"]} == {"2026-12-27"}
    code, out, _ = tx("followups", "--open", "--json")
    assert [f["title"] for f in json.loads(out)] == ["用地审批慢", "停车难"]


def test_a_bad_field_is_refused_with_its_name_and_nothing_is_written(tx, people) -> None:  # type: ignore[no-untyped-def]
    code, _, err = tx("log", "meeting", "--with", "zs", "--field", "concern=打错字段名")
    assert code == 1 and "data.concern" in err and "concerns" in err
    code, _, err = tx(
        "log", "meeting", "--with", "zs", "--field", "concerns=x", "--at", "2026-02-30"
    )
    assert code == 1 and "--at" in err and "2026-02-30" in err
    code, _, err = tx("log", "teatime", "--with", "zs")
    assert code == 1 and "teatime" in err
    code, out, _ = tx("contacts", "show", "zs", "--json")
    assert json.loads(out)["recent"] == []
    assert json.loads(tx("followups", "--json")[1]) == []


def test_an_unreadable_time_is_refused_with_its_reason_in_the_users_language(tx, people) -> None:  # type: ignore[no-untyped-def]
    code, _, err = tx("log", "meeting", "--with", "张三", "--at", "明天 25:00")
    assert code == 1 and "已拒绝，未写入任何数据" in err
    assert "--at = '明天 25:00': 无法识别日期时间 '明天 25:00'（无此时刻）；可用写法：如 " in err
    assert "cannot read" not in err and "no such time" not in err
    code, _, err = tx("--lang", "en", "log", "meeting", "--with", "张三", "--at", "明天 25:00")
    assert code == 1 and "refused, nothing was written" in err
    assert "cannot read '明天 25:00' as a date/time (no such time); accepted: e.g. " in err
    code, out, _ = tx("contacts", "show", "张三", "--json")
    assert json.loads(out)["recent"] == []


def test_a_person_who_is_not_unique_is_listed(tx, people) -> None:  # type: ignore[no-untyped-def]
    tx("contacts", "add", "--name", "张三", "--employer", "扬州大学")
    code, _, err = tx("log", "call", "--with", "张三")
    assert code == 1 and "扬州大学" in err and "张三" in err


def test_schedule_needs_a_time_and_shows_on_the_timeline(tx, people) -> None:  # type: ignore[no-untyped-def]
    code, out, err = tx("schedule", "call", "--with", "李四", "--at", "下周三 9:30", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["status"], data["start"]) == ("planned", "2026-12-02T01:30:00+00:00")
    code, _, err = tx("schedule", "call", "--with", "李四")
    assert code != 0 and "--at" in err


def test_kinds_lists_fields(tx) -> None:  # type: ignore[no-untyped-def]
    _code, out, _ = tx("kinds", "--json")
    meeting = next(k for k in json.loads(out) if k["code"] == "meeting")
    assert meeting["zh"] == "会面交流" and meeting["plugin"] == "crm_core.builtin_kinds"
    assert [f["name"] for f in meeting["fields"]] == ["topic", "concerns"]


def test_overdue_then_a_contact_of_any_kind_clears_it(tx, people, app: Tongxin) -> None:  # type: ignore[no-untyped-def]
    with app.unit() as unit:
        chair = accounts.resolve_account(unit, "chair")
        person = contacts.resolve_person(unit, "张三")
        assignments.assign(
            unit,
            keeper_id=chair.id,
            contact_id=person.id,
            category="private_economy",
            start_on=datetime(2026, 1, 1, tzinfo=UTC).date(),
        )
    _code, out, _ = tx("overdue", "--json")
    data = json.loads(out)
    assert [(i["contact"], i["level"]) for i in data["overdue"]] == [("张三", "max")]
    assert {g["category"] for g in data["gaps"]} == {"non_party_intellectual", "new_social_stratum"}
    assert tx("log", "note", "--with", "张三", "--by", "chair")[0] == 0
    assert json.loads(tx("overdue", "--json")[1])["overdue"] == []


def test_follow_up_moves_along_by_short_id(tx, people) -> None:  # type: ignore[no-untyped-def]
    tx("log", "meeting", "--with", "zs", "--field", "concerns=路灯坏了")
    fid = json.loads(tx("followups", "--json")[1])[0]["id"]
    code, _, err = tx("followups", "update", fid[:8], "--status", "answered")
    assert code == 1 and "response" in err
    code, out, _ = tx(
        "followups", "update", fid[:8], "--status", "answered", "--response", "已修复", "--json"
    )
    data = json.loads(out)
    assert (data["status"], data["response"], data["answered_on"]) == (
        "answered",
        "已修复",
        "2026-11-27",
    )
    assert json.loads(tx("followups", "--open", "--json")[1]) == []


def test_assignments_add_list_snooze(tx, people) -> None:  # type: ignore[no-untyped-def]
    code, _, err = tx(
        "assignments",
        "add",
        "--keeper",
        "chair",
        "--contact",
        "张三",
        "--category",
        "非公有制经济人士",
    )
    assert code == 0, err
    rows = json.loads(tx("assignments", "list", "--json")[1])
    assert [(r["contact"], r["ideal_days"], r["max_days"]) for r in rows] == [("张三", 60, 90)]
    code, _out, err = tx(
        "assignments", "snooze", rows[0]["id"][:8], "--until", "2027-01-31", "--reason", "出国"
    )
    assert code == 0, err
    assert json.loads(tx("assignments", "list", "--json")[1])[0]["snoozed_until"] == "2027-01-31"


def test_plugin_new_writes_a_package_that_installs_lists_and_passes_its_tests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "tongxin-baoying-tea"
    assert run(["plugin", "new", "baoying_tea", "--dir", str(target)]) == 0
    assert run(["plugin", "new", "Bad-Name", "--dir", str(tmp_path / "x")]) == 1
    assert "Bad-Name" in capsys.readouterr().err
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--target", str(site), str(target)], check=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "TONGXIN_LOAD_PLUGINS": "baoying_tea",
        "TONGXIN_DB": str(tmp_path / "t.db"),
    }
    exe = str(Path(sys.executable).parent / "tongxin")
    listed = subprocess.run([exe, "plugins", "--json"], env=env, capture_output=True, text=True)
    plugin = next(p for p in json.loads(listed.stdout) if p["name"] == "baoying_tea")
    assert (plugin["status"], plugin["version"]) == ("ok", "0.1.0")
    assert plugin["hooks"] == [
        "plugin_config_model",
        "register_dashboard_cards",
        "register_kinds",
        "register_palette_commands",
        "register_panels",
        "validate_interaction",
    ]
    kinds = subprocess.run([exe, "kinds", "--json"], env=env, capture_output=True, text=True)
    assert "baoying_tea" in [k["code"] for k in json.loads(kinds.stdout)]
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target / "tests")],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "8 passed" in tests.stdout


def test_overdue_on_the_demo_database_clears_when_the_keeper_logs_any_kind(
    tx, app: Tongxin
) -> None:  # type: ignore[no-untyped-def]
    from crm_core import demo

    demo.generate(app, contacts=150, seed=7)
    report = json.loads(tx("overdue", "--json")[1])
    assert report["overdue"] and report["gaps"]
    assert report["overdue"][0]["level"] == "max"  # past the maximum first
    first = report["overdue"][0]
    code, _, err = tx("log", "call", "--with", first["contact_id"], "--by", first["keeper_id"])
    assert code == 0, err
    after = json.loads(tx("overdue", "--json")[1])
    assert first["assignment_id"] not in [i["assignment_id"] for i in after["overdue"]]
    assert len(after["overdue"]) == len(report["overdue"]) - 1


def test_a_visit_with_a_concern_through_the_cli_is_written_with_its_follow_up(
    tx, people, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "visits")  # the real entry point
    code, out, err = tx(
        "log",
        "visit",
        "--with",
        "张三",
        "--by",
        "chair",
        "--field",
        "county=宝应县",
        "--field",
        "concerns=企业用工难",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["data"] == {"county": "baoying", "concerns": ["企业用工难"]}
    assert [f["title"] for f in data["follow_ups"]] == ["企业用工难"]
    code, _, err = tx(
        "log", "visit", "--with", "李四", "--field", "county=火星县", "--field", "concerns=x"
    )
    assert code == 1 and "data.county" in err and "火星县" in err
    assert json.loads(tx("contacts", "show", "李四", "--json")[1])["recent"] == []
    assert len(json.loads(tx("followups", "--json")[1])) == 1
