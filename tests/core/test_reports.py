"""The office's reports on a small fixed dataset whose figures are worked out by hand:
coverage, liaison work, visits, follow-ups, and a plugin's report registered through
``register_reports``. The CLI's ``--json`` gives the same figures, and every Excel, Word
and CSV file converts to PDF in LibreOffice."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from crm_cli.main import run
from crm_plugins import visits as visits_plugin

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.config import Config, load_config
from crm_core.errors import NotFound, ValidationError
from crm_core.models import FollowUpStatus
from crm_core.plugins import PluginHost
from crm_core.reports import Period, available_reports, period_from_options, report_json, run_report
from crm_core.reports.output import ReportOutputError, write_report
from crm_core.services import accounts, assignments, contacts, followups, interactions

TODAY = datetime(2026, 10, 15, 4, 0, tzinfo=UTC)  # 12:00 in Yangzhou
Q3 = Period.quarter(2026, 3)

PLUGIN = textwrap.dedent(
    '''
    """A county's plugin for the report tests: a report of its own."""
    from crm_core import hookimpl
    from crm_core.reports import Column, ReportSpec, ReportTable, Section


    def tea_chats(unit, period):
        rows = [{"county": "宝应县", "count": 3, "share": 0.5, "day": period.start}]
        cols = [
            Column("county", "县(市、区)", "County"),
            Column("count", "次数", "Count", "int"),
            Column("share", "占比", "Share", "percent"),
            Column("day", "起始日", "From", "date"),
        ]
        return ReportTable([Section("teas", "茶叙", "Tea chats", cols, rows)], {"count": 3})


    @hookimpl
    def register_reports(register):
        register(ReportSpec("teas", "茶叙统计", "Tea chats", tea_chats))
        register(ReportSpec("coverage", "冒名", "Clash", tea_chats))  # refused: taken
    '''
)


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "county-plugins"
    folder.mkdir()
    (folder / "report_test_plugin.py").write_text(PLUGIN, "utf-8")
    return folder


@pytest.fixture
def config_file(tmp_path: Path, plugin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "office.toml"
    path.write_text(f'[plugins]\nfolders = ["{plugin_dir}"]\n', "utf-8")
    monkeypatch.setenv("TONGXIN_CONFIG", str(path))  # the CLI runs read it too
    monkeypatch.setenv("TONGXIN_NOW", TODAY.isoformat())
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "visits")  # the report "visits" is its
    return path


@pytest.fixture
def config(config_file: Path) -> Config:
    return load_config(config_file)


@pytest.fixture
def plugins(plugin_dir: Path) -> PluginHost:
    host = PluginHost()
    host.load(entry_points_too=False, folders=[plugin_dir])
    host.register(visits_plugin, "visits")  # the report "visits" is the visits plugin's
    return host


def at(day: str, hour: int = 4, minute: int = 0) -> datetime:
    """``day`` at ``hour`` UTC (04:00 UTC is noon in Yangzhou)."""
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour, minute, tzinfo=UTC)


@pytest.fixture
def office(app: Tongxin) -> dict[str, Any]:
    """Five active people and one inactive, two chair-meeting members, eight pieces of
    work around the third quarter of 2026, seven follow-ups."""
    ids: dict[str, Any] = {}
    clock.freeze(at("2026-06-01"))
    with app.unit() as unit:
        for name, cats, sector, region, comms, membership in [
            ("张一", ["non_party_intellectual"], "economy", "baoying", ["proposals"], "member"),
            ("李二", ["private_economy"], "economy", "baoying", ["proposals", "economy"], "member"),
            ("王三", ["new_social_stratum"], "education", "gaoyou", ["economy"], "member"),
            ("赵四", ["non_party_intellectual", "religious"], "education", None, [], "member"),
            ("钱五", [], None, "gaoyou", [], "none"),
            ("孙六", ["religious"], "economy", "baoying", [], "member"),
        ]:
            p = contacts.create_person(
                unit, name=name, categories=cats, sector=sector, region=region,
                committees=comms, membership=membership,
            )  # fmt: skip
            ids[name] = p.id
        contacts.update_person(unit, ids["孙六"], status="inactive")
        a = accounts.create_account(
            unit, username="wang", display_name="王主席", chair_meeting=True, position="主席"
        )
        b = accounts.create_account(
            unit, username="li", display_name="李副主席", chair_meeting=True, position="副主席"
        )
        s = accounts.create_account(unit, username="office", display_name="办公室", role="admin")
        ids.update(A=a.id, B=b.id, S=s.id)
        for keeper, contact, category in [
            ("A", "张一", "non_party_intellectual"),
            ("A", "李二", "private_economy"),
            ("B", "王三", "new_social_stratum"),
            ("B", "赵四", "non_party_intellectual"),
            ("B", "钱五", None),
        ]:
            assignments.assign(
                unit, keeper_id=ids[keeper], contact_id=ids[contact], category=category,
                start_on=date(2026, 1, 1),
            )  # fmt: skip
    clock.freeze(TODAY)
    with app.unit() as unit:
        log = interactions.log_interaction
        log(unit, kind="meeting", people=[ids["张一"]], accounts=[a.id], start=at("2026-07-10"))
        log(unit, kind="call", people=[ids["张一"]], accounts=[a.id], start=at("2026-08-05"))
        log(unit, kind="visit", people=[ids["王三"]], accounts=[b.id], start=at("2026-09-20"),
            region="gaoyou")  # fmt: skip
        # 2026-06-30 23:00 in Yangzhou: the day before the quarter.
        log(unit, kind="call", people=[ids["李二"]], accounts=[a.id], start=at("2026-06-30", 15))
        # 2026-07-01 00:30 in Yangzhou, though still June 30 in UTC: in the quarter.
        log(unit, kind="invitation", people=[ids["钱五"]], accounts=[s.id],
            start=at("2026-06-30", 16, 30), region="gaoyou")  # fmt: skip
        interactions.schedule_interaction(
            unit, kind="meeting", people=[ids["李二"]], accounts=[a.id], start=at("2026-09-10")
        )  # planned, never done: not a contact
        log(unit, kind="call", people=[ids["李二"]], accounts=[a.id], start=at("2026-10-05"))
        log(unit, kind="visit", people=[ids["赵四"]], accounts=[b.id], start=at("2026-09-25"))
    for raised, title, due, then in [
        ("2026-07-05", "F1 道路", "2026-08-05", None),
        ("2026-08-01", "F2 学校", "2026-12-31", ("2026-08-02", "in_progress")),
        ("2026-07-10", "F3 医院", None, ("2026-07-20", "answered")),
        ("2026-09-01", "F4 停车", None, ("2026-09-11", "closed")),
        ("2026-06-01", "F5 旧事", "2026-06-30", None),
        ("2026-06-01", "F6 旧事已结", None, ("2026-06-10", "closed")),
        ("2026-10-02", "F7 新事", None, None),
    ]:
        clock.freeze(at(raised))
        with app.unit() as unit:
            f = followups.raise_follow_up(
                unit, title=title, person_id=ids["张一"], owner_id=ids["S"],
                due_on=date.fromisoformat(due) if due else None,
            )  # fmt: skip
        if then:
            clock.freeze(at(then[0]))
            with app.unit() as unit:
                followups.update_follow_up(unit, f.id, status=then[1], response="已答复")
    clock.freeze(TODAY)
    return ids


def rows_of(result: Any, key: str) -> list[dict[str, Any]]:
    return next(s for s in result.sections if s.key == key).rows


def test_periods() -> None:
    assert (Q3.start, Q3.end, Q3.label(), Q3.label("en")) == (
        date(2026, 7, 1), date(2026, 9, 30), "2026年第三季度", "2026 Q3",
    )  # fmt: skip
    assert Period.parse_quarter("2026q4") == Period.parse_quarter("2026年第四季度")
    assert Period.year(2026).label() == "2026年" and Q3.months() == [
        (2026, 7),
        (2026, 8),
        (2026, 9),
    ]
    today = date(2026, 10, 15)
    assert period_from_options(today=today) == Period.quarter(2026, 4)
    assert period_from_options(year=2025, today=today) == Period.year(2025)
    assert period_from_options(start=date(2026, 3, 1), today=today) == Period(
        date(2026, 3, 1), today
    )
    assert Period(date(2026, 3, 1), date(2026, 3, 31)).label() == "2026-03-01 至 2026-03-31"
    for bad in ({"quarter": "2026Q5"}, {"quarter": "2026", "year": 2026}):
        with pytest.raises(ValidationError):
            period_from_options(today=today, **bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Period(date(2026, 3, 2), date(2026, 3, 1))


def test_coverage(app: Tongxin, office: dict[str, Any]) -> None:
    with app.unit() as unit:
        _spec, result = run_report(unit, "coverage", Q3)
    assert result.summary == {"people": 5, "reached": 4, "share": 0.8}  # 孙六 is inactive
    table = {
        (r["dimension"], r["group"]): (r["total"], r["reached"], r["share"])
        for r in rows_of(result, "coverage")
    }
    assert table == {
        ("全部", "全部联系对象"): (5, 4, 0.8),
        ("类别", "党外知识分子"): (2, 2, 1.0),
        ("类别", "非公有制经济人士"): (1, 0, 0.0),
        ("类别", "新的社会阶层人士"): (1, 1, 1.0),
        ("类别", "宗教界人士"): (1, 1, 1.0),
        ("类别", "（未填写）"): (1, 1, 1.0),
        ("界别", "经济界"): (2, 1, 0.5),
        ("界别", "教育界"): (2, 2, 1.0),
        ("界别", "（未填写）"): (1, 1, 1.0),
        ("县(市、区)", "宝应县"): (2, 1, 0.5),
        ("县(市、区)", "高邮市"): (2, 2, 1.0),
        ("县(市、区)", "（未填写）"): (1, 1, 1.0),
        ("专委会", "提案委员会"): (2, 1, 0.5),
        ("专委会", "经济委员会"): (2, 1, 0.5),
        ("专委会", "（未填写）"): (2, 2, 1.0),
        ("委员身份", "委员"): (4, 3, 0.75),
        ("委员身份", "非委员"): (1, 1, 1.0),
    }
    names = {(r["dimension"], r["group"]): r["names"] for r in rows_of(result, "not_reached")}
    assert all(v == ["李二"] for v in names.values())
    assert set(names) == {
        ("全部", "全部联系对象"), ("类别", "非公有制经济人士"), ("界别", "经济界"),
        ("县(市、区)", "宝应县"), ("专委会", "提案委员会"), ("专委会", "经济委员会"),
        ("委员身份", "委员"),
    }  # fmt: skip
    with app.unit() as unit:  # the second quarter: only 李二's call of June 30
        _spec, q2 = run_report(unit, "coverage", Period.quarter(2026, 2))
    assert q2.summary == {"people": 5, "reached": 1, "share": 0.2}


def test_liaison(app: Tongxin, office: dict[str, Any]) -> None:
    with app.unit() as unit:
        _spec, result = run_report(unit, "liaison", Q3)
    members = {r["keeper"]: r for r in rows_of(result, "members")}
    assert set(members) == {"李副主席", "王主席"}
    wang = members["王主席"]
    assert {k: wang[k] for k in ("position", "assigned", "by_category", "contacts", "reached")} == {
        "position": "主席", "assigned": 2, "by_category": "党外知识分子 1、非公有制经济人士 1",
        "contacts": 2, "reached": 1,
    }  # fmt: skip
    # As of today (Oct 15): 张一 last met Aug 5 (71 days: past the ideal 60, not the
    # maximum 90), 李二 on Oct 5.
    assert (wang["last_contact"], wang["overdue"], wang["due"]) == (date(2026, 10, 5), 0, 1)
    assert wang["gaps"] == "新的社会阶层人士"
    li = members["李副主席"]
    assert (li["assigned"], li["contacts"], li["reached"], li["last_contact"]) == (
        3, 2, 2, date(2026, 9, 25),
    )  # fmt: skip
    assert li["by_category"] == "党外知识分子 1、新的社会阶层人士 1、未分类 1"
    assert (li["overdue"], li["due"], li["gaps"]) == (1, 0, "非公有制经济人士")  # 钱五, never met
    detail = {
        (r["keeper"], r["contact"]): (r["contacts"], r["status"])
        for r in rows_of(result, "assignments")
    }
    assert detail == {
        ("王主席", "张一"): (2, "应予联系"), ("王主席", "李二"): (0, "正常"),
        ("李副主席", "王三"): (1, "正常"), ("李副主席", "赵四"): (1, "正常"),
        ("李副主席", "钱五"): (0, "逾期"),
    }  # fmt: skip
    assert result.summary == {"members": 2, "assigned": 5, "contacts": 4, "overdue": 1}


def test_visits(app: Tongxin, office: dict[str, Any]) -> None:
    with app.unit() as unit:
        _spec, result = run_report(unit, "visits", Q3)
    by_month = {r["county"]: r for r in rows_of(result, "by_month")}
    assert list(by_month) == [
        "市直", "广陵区", "邗江区", "江都区", "宝应县", "仪征市", "高邮市",
        # The functional zones the shipped defaults know (issue 12): rows of zeros here.
        "经济技术开发区", "蜀冈-瘦西湖风景名胜区", "生态科技新城",
        "（未注明）", "合计",
    ]  # fmt: skip
    assert [by_month["生态科技新城"][k] for k in ("2026-07", "total")] == [0, 0]
    months = ("2026-07", "2026-08", "2026-09", "total")
    assert [by_month["高邮市"][k] for k in months] == [1, 0, 1, 2]
    assert [by_month["（未注明）"][k] for k in months] == [0, 0, 1, 1]
    assert [by_month["合计"][k] for k in months] == [1, 0, 2, 3]
    assert [by_month["宝应县"][k] for k in months] == [0, 0, 0, 0]
    by_kind = {r["county"]: r for r in rows_of(result, "by_kind")}
    assert [by_kind["高邮市"][k] for k in ("visit", "invitation", "total", "people")] == [
        1,
        1,
        2,
        2,
    ]
    assert [by_kind["合计"][k] for k in ("visit", "invitation", "total", "people")] == [2, 1, 3, 3]
    assert result.summary == {"total": 3, "visit": 2, "invitation": 1, "people": 3}


def test_visits_without_visits_count_zero(tmp_path: Path) -> None:
    from crm_core.testing import make_test_app

    app = make_test_app(tmp_path / "plain", plugins={"visits": visits_plugin})
    with app.unit() as unit:
        _spec, result = run_report(unit, "visits", Q3)
    assert result.summary == {"total": 0, "visit": 0, "invitation": 0, "people": 0}
    assert rows_of(result, "by_month")[-1] == {
        "county": "合计", "code": None, "2026-07": 0, "2026-08": 0, "2026-09": 0, "total": 0,
    }  # fmt: skip
    kinds = [c.zh for c in next(s for s in result.sections if s.key == "by_kind").columns]
    assert kinds[1:3] == [visits_plugin.VISIT.zh, visits_plugin.INVITATION.zh]
    app.close()


def test_followups(app: Tongxin, office: dict[str, Any]) -> None:
    with app.unit() as unit:
        _spec, result = run_report(unit, "followups", Q3)
    by_status = {r["status_code"]: r for r in rows_of(result, "by_status")}
    figures = {
        k: (r["count"], r["average_days"], r["oldest_days"], r["overdue"])
        for k, r in by_status.items()
    }
    assert figures == {
        "open": (2, 119.0, 136, 2),  # F1 102 days, F5 (older, still open) 136
        "in_progress": (1, 75.0, 75, 0),
        "answered": (1, 10.0, 10, 0),
        "closed": (1, 10.0, 10, 0),  # F6 closed before the quarter, F7 raised after it
        None: (5, 66.6, 136, 2),
    }
    titles = [r["title"] for r in rows_of(result, "list")]
    assert titles == ["F5 旧事", "F1 道路", "F3 医院", "F2 学校", "F4 停车"]
    assert result.summary == {"total": 5, "open": 3, "overdue": 2}
    assert FollowUpStatus.open.value == "open"


def test_a_plugin_report_is_listed_and_runs_like_the_built_in_ones(
    app: Tongxin, office: dict[str, Any]
) -> None:
    reports = available_reports(app)
    assert list(reports) == ["coverage", "liaison", "followups", "teas", "visits"]
    assert (
        reports["teas"].plugin == "report_test_plugin" and reports["coverage"].zh == "联系覆盖情况"
    )
    info = app.plugins.info["report_test_plugin"]
    assert info.status == "failing" and "already registered" in (info.last_error or "")
    with app.unit() as unit:
        spec, result = run_report(unit, "茶叙统计", Q3)
        with pytest.raises(NotFound):
            run_report(unit, "nonesuch", Q3)
    data = report_json(spec, Q3, result)
    assert data["sections"][0]["rows"] == [
        {"county": "宝应县", "count": 3, "share": 0.5, "day": "2026-07-01"}
    ]


def cli(db_url: str, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = run(["--db", db_url, *args])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("name", ["coverage", "liaison", "followups", "teas", "visits"])
def test_cli_json_gives_the_same_figures(
    app: Tongxin, office: dict[str, Any], db_url: str, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with app.unit() as unit:
        spec, result = run_report(unit, name, Q3)
        expected = report_json(spec, Q3, result)
    code, out = cli(db_url, "report", name, "--quarter", "2026Q3", "--json", capsys=capsys)
    assert code == 0, out
    assert json.loads(out) == expected
    code, out = cli(
        db_url,
        "report",
        name,
        "--from",
        "2026-07-01",
        "--to",
        "2026-09-30",
        "--json",
        capsys=capsys,
    )
    assert json.loads(out) == expected


def test_cli_lists_reports(app: Tongxin, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(db_url, "report", "--list", "--json", capsys=capsys)
    assert code == 0
    listed = {r["code"]: r for r in json.loads(out)}
    assert listed["teas"] == {"code": "teas", "title": "茶叙统计", "plugin": "report_test_plugin"}
    assert listed["coverage"]["plugin"] is None
    code, out = cli(db_url, "report", "--list", capsys=capsys)
    assert "茶叙统计" in out and "联系覆盖情况" in out


def libreoffice_pdf(files: list[Path], outdir: Path, profile: Path) -> None:
    """Convert ``files`` to PDF with LibreOffice, in one run (its start is most of the
    time), with ``profile`` as its user profile (the ``libreoffice_profile`` fixture:
    one per test worker, so parallel workers do not share one); fail clearly if it is
    not installed."""
    soffice = shutil.which("libreoffice") or shutil.which("soffice")
    assert soffice, (
        "LibreOffice is needed to check that reports open: "
        "apt-get install -y libreoffice-writer libreoffice-calc"
    )
    result = subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
         "pdf", "--outdir", str(outdir), *map(str, files)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for f in files:
        pdf = outdir / (f.stem + ".pdf")
        assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF"), (
            f"{f.name}: {result.stdout} {result.stderr}"
        )


def test_every_report_file_opens_in_libreoffice(
    app: Tongxin, office: dict[str, Any], tmp_path: Path, libreoffice_profile: Path
) -> None:
    # Every report in every format, converted in one LibreOffice run.
    files = []
    with app.unit() as unit:
        for code in available_reports(app):
            spec, result = run_report(unit, code, Q3)
            for suffix in (".docx", ".xlsx", ".csv"):
                path = tmp_path / f"{code}-{suffix[1:]}{suffix}"
                write_report(spec, Q3, result, path)
                files.append(path)
    libreoffice_pdf(files, tmp_path / "pdf", libreoffice_profile)


def test_word_and_excel_layout(app: Tongxin, office: dict[str, Any], tmp_path: Path) -> None:
    from docx import Document
    from openpyxl import load_workbook

    with app.unit() as unit:
        spec, result = run_report(unit, "coverage", Q3)
    docx_path = write_report(spec, Q3, result, tmp_path / "c.docx")
    doc = Document(str(docx_path))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "联系覆盖情况" and "2026年第三季度" in texts[1]
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == [
        "分组方式",
        "分组",
        "人数",
        "已联系",
        "覆盖率",
        "未联系",
    ]
    assert "w:tblHeader" in table.rows[0]._tr.xml  # repeated on every page
    assert [c.text for c in table.rows[1].cells] == ["全部", "全部联系对象", "5", "4", "80.0%", "1"]
    footer = doc.sections[0].footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and "NUMPAGES" in footer
    xlsx_path = write_report(spec, Q3, result, tmp_path / "c.xlsx")
    wb = load_workbook(xlsx_path)
    ws = wb.worksheets[0]
    assert wb.sheetnames == ["联系覆盖情况", "未联系名单"]
    assert ws["A1"].value == "联系覆盖情况 · 联系覆盖情况" and ws.freeze_panes == "A4"
    assert [c.value for c in ws[3]] == ["分组方式", "分组", "人数", "已联系", "覆盖率", "未联系"]
    assert ws["C4"].value == 5 and ws["E4"].value == 0.8 and ws["E4"].number_format == "0.0%"
    with pytest.raises(ReportOutputError, match=r"c\.pdf"):
        write_report(spec, Q3, result, tmp_path / "c.pdf")
