"""A person's liaison record (联系档案, issue 18 item 4): every contact of a period by
kind and by whom, talks (a confidential one shows only that it happened to those who
may not read it), concerns and how each was handled, gatherings attended, briefings
received; the figures of `tongxin record --json` are those the Word, PDF and Excel
files print, and LibreOffice opens every file (converted for real). On both backends."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import crm_plugins.heart_talks
import crm_plugins.union_liaison
import pytest
from crm_cli.main import run

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.errors import PermissionDenied
from crm_core.reports import Period
from crm_core.services import accounts, contacts, followups, interactions, liaison_record
from crm_core.services.interactions import Participant

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 2, 0, tzinfo=UTC)


@pytest.fixture
def office(app: Tongxin) -> dict[str, uuid.UUID]:
    for module in (crm_plugins.heart_talks, crm_plugins.union_liaison):
        app.plugins.register(module, module.__name__.rsplit(".", 1)[-1])
    app.refresh_registries()
    clock.freeze(NOW)
    ids: dict[str, uuid.UUID] = {}
    with app.unit() as unit:
        accounts.create_account(unit, username="office", display_name="办公室", role="admin")
        chair = accounts.create_account(unit, username="chair", display_name="王主席",
                                        role="leader").id  # fmt: skip
        xiaoli = accounts.create_account(unit, username="xiaoli", display_name="小李",
                                         role="staff").id  # fmt: skip
        zhang = contacts.create_person(
            unit, name="张三", committees=["economy"], membership="member", party="民盟"
        ).id
        li = contacts.create_person(unit, name="李四", committees=["economy"]).id
        ids.update(zhang=zhang, li=li, chair=chair, xiaoli=xiaoli)
    with app.unit("chair") as unit:
        meeting = interactions.log_interaction(
            unit, kind="meeting", people=[zhang], start=at(3, 10), summary="座谈",
            data={"concerns": ["路灯不亮"]},
        )  # fmt: skip
        ids["meeting"] = meeting.id
        interactions.log_interaction(
            unit, kind="heart_talk", people=[zhang], start=at(5, 1), summary="谈工作安排",
            notes="绝密", data={"agreed": ["调整分工"]},
        )  # fmt: skip
        interactions.log_interaction(
            unit, kind="gathering", participants=[Participant(person_id=zhang, attended=True),
                                                  Participant(person_id=li, attended=False)],
            start=at(9, 15), summary="中秋联谊会", data={"event": "中秋联谊会"},
        )  # fmt: skip
        interactions.log_interaction(
            unit, kind="briefing", people=[zhang, li], start=at(6, 1), summary="全会精神",
            data={"document": "全会公报"},
        )  # fmt: skip
        interactions.log_interaction(unit, kind="call", people=[zhang], start=at(12, 1, 2025))
        interactions.schedule_interaction(unit, kind="call", people=[zhang], start=at(12, 20))
    with app.unit("xiaoli") as unit:
        interactions.log_interaction(unit, kind="call", people=[zhang], start=at(4, 1),
                                     summary="电话问候")  # fmt: skip
    with app.unit() as unit:
        concern = followups.list_follow_ups(unit, interaction_id=ids["meeting"])[0]
        followups.update_follow_up(unit, concern.id, status="answered", response="已修复")
    return ids


def _record(app: Tongxin, who: str, person: uuid.UUID) -> dict[str, Any]:
    with app.unit(who) as unit:
        rec = liaison_record.liaison_record(unit, person, Period.year(2026))
        return liaison_record.record_json(rec)


def test_the_record_counts_every_contact_by_kind_and_by_whom(
    app: Tongxin, office: dict[str, uuid.UUID]
) -> None:
    data = _record(app, "chair", office["zhang"])
    assert data["totals"] == {
        "contacts": 5,
        "talks": 1,
        "concerns": 2,
        "concerns_handled": 1,
        "gatherings": 1,
        "briefings": 1,
    }  # fmt: skip (the 2025 call and the planned one are not counted)
    assert {k["kind"]: k["count"] for k in data["by_kind"]} == {
        "meeting": 1, "heart_talk": 1, "gathering": 1, "briefing": 1, "call": 1,
    }  # fmt: skip
    assert {w["name"]: w["count"] for w in data["by_whom"]} == {"王主席": 4, "小李": 1}
    assert data["talks"][0]["summary"] == "谈工作安排" and not data["talks"][0]["hidden"]
    concerns = {c["title"]: (c["status"], c["response"]) for c in data["concerns"]}
    assert concerns == {"路灯不亮": ("answered", "已修复"), "调整分工": ("open", None)}
    assert [g["summary"] for g in data["gatherings"]] == ["中秋联谊会"]
    assert [b["summary"] for b in data["briefings"]] == ["全会精神"]
    li = _record(app, "chair", office["li"])
    assert li["totals"]["gatherings"] == 0 and li["totals"]["briefings"] == 1  # absent


def test_a_confidential_talk_shows_only_that_it_happened(
    app: Tongxin, office: dict[str, uuid.UUID]
) -> None:
    data = _record(app, "xiaoli", office["zhang"])
    assert data["totals"]["talks"] == 1 and data["totals"]["contacts"] == 5
    talk = data["talks"][0]
    assert talk["hidden"] and talk["summary"] == "谈心谈话（保密）" and talk["by"] == ["王主席"]
    titles = [c["title"] for c in data["concerns"]]
    assert "调整分工" not in titles and "（保密）" in titles and "路灯不亮" in titles
    assert "谈工作安排" not in json.dumps(data, ensure_ascii=False)


def _tx(db_url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["--db", db_url, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _soffice_text(files: list[Path], outdir: Path, profile: Path, to: str) -> dict[str, str]:
    """Every file converted by LibreOffice (``to``: txt:Text, csv …), as text."""
    soffice = shutil.which("libreoffice") or shutil.which("soffice")
    assert soffice, "LibreOffice is needed: apt-get install -y libreoffice-writer libreoffice-calc"
    result = subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
         to, "--outdir", str(outdir), *map(str, files)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    suffix = "." + to.split(":")[0]
    return {f.name: (outdir / (f.stem + suffix)).read_bytes().decode("utf-8-sig") for f in files}


def test_the_files_print_the_figures_of_the_json_and_open_in_libreoffice(
    app: Tongxin,
    office: dict[str, uuid.UUID],
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    libreoffice_profile: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "heart_talks,union_liaison")  # their kinds
    code, out, err = _tx(db_url, capsys, "--as", "chair", "record", "张三", "--year", "2026",
                         "--json")  # fmt: skip
    assert code == 0, err
    shown = json.loads(out)
    assert shown == _record(app, "chair", office["zhang"])
    docx, pdf = tmp_path / "zhang.docx", tmp_path / "zhang.pdf"
    for path in (docx, pdf):
        code, _out, err = _tx(db_url, capsys, "--as", "chair", "record", "张三", "--year",
                              "2026", "-o", str(path))  # fmt: skip
        assert code == 0, err
    assert pdf.read_bytes().startswith(b"%PDF")
    summary = tmp_path / "economy.xlsx"
    code, out, err = _tx(db_url, capsys, "--as", "chair", "record", "summary", "--committee",
                         "economy", "--year", "2026", "-o", str(summary), "--json")  # fmt: skip
    assert code == 0, err
    table = json.loads(out)
    text = _soffice_text([docx], tmp_path / "txt", libreoffice_profile,
                         "txt:Text (encoded):UTF8")["zhang.docx"]  # fmt: skip
    assert "张三 联系档案" in text and "2026年" in text
    for word, figure in (("联系次数", 5), ("谈心谈话", 1), ("反映问题", 2), ("已办理", 1)):
        assert f"{word}\n{figure}\n" in text, word
    assert "路灯不亮" in text and "已修复" in text
    sheet = _soffice_text([summary], tmp_path / "csv", libreoffice_profile,
                          "csv:Text - txt - csv (StarCalc):44,34,76")  # fmt: skip
    rows = list(csv.reader(io.StringIO(sheet["economy.xlsx"])))
    by_name = {r[0]: r for r in rows if r and r[0] in ("张三", "李四")}
    people = {r["name"]: r for r in table["sections"][0]["rows"]}
    for name in ("张三", "李四"):
        assert by_name[name][1:7] == [
            str(people[name][k])
            for k in ("contacts", "talks", "concerns", "concerns_handled", "gatherings",
                      "briefings")
        ], name  # fmt: skip
    assert people["张三"]["contacts"] == shown["totals"]["contacts"]
    # The PDF is LibreOffice's own print of the Word document: whole, not truncated.
    assert pdf.read_bytes().rstrip().endswith(b"%%EOF") and pdf.stat().st_size > 5000


def test_a_county_clerk_gets_records_of_their_region_only(app: Tongxin) -> None:
    clock.freeze(NOW)
    with app.unit() as unit:
        accounts.create_account(unit, username="gl", role="county_staff", region_scope="guangling")
        zhang = contacts.create_person(
            unit, name="张三", region="guangling", committees=["economy"]
        )
        li = contacts.create_person(unit, name="李四", region="hanjiang", committees=["economy"])
        interactions.log_interaction(unit, kind="call", people=[li.id], start=at(3, 1))
    with app.unit("gl") as unit:
        with pytest.raises(PermissionDenied):
            liaison_record.liaison_record(unit, li.id, Period.year(2026))
        _spec, table = liaison_record.record_summary(unit, Period.year(2026), committee="economy")
        assert [r["name"] for r in table.sections[0].rows] == [zhang.name]
