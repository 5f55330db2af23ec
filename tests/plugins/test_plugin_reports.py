"""The liaison plugins' reports, registered through ``register_reports``: heart-to-heart
talk coverage per special committee (heart_talks: ``talks``), HK/Macao briefings per
document and union-liaison events with attendance (union_liaison: ``briefings``,
``gatherings``).

One small office, its figures worked out by hand for the third quarter of 2026. The
reports count only what the acting account may see (county staff: their region); the
CLI's ``--json`` gives the same figures as the Excel and Word files it writes, and every
file converts to PDF in LibreOffice. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import crm_plugins.heart_talks as heart_talks
import pytest
from crm_cli.main import run
from crm_plugins import union_liaison as ul

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.reports import Period, available_reports, report_json, run_report
from crm_core.reports.output import cell_text
from crm_core.services import accounts, contacts, interactions

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = datetime(2026, 10, 15, 4, 0, tzinfo=UTC)  # noon in Yangzhou
Q3 = Period.quarter(2026, 3)
DOC = "《中共中央关于进一步全面深化改革 推进中国式现代化的决定》"
DOC_AGAIN = "中共中央关于进一步全面深化改革推进中国式现代化的决定"  # the same, typed otherwise
OTHER_DOC = "《政府工作报告》"
CODES = ("talks", "briefings", "gatherings")


def _libreoffice_pdf() -> Callable[[list[Path], Path, Path], None]:
    """The conversion helper of tests/core/test_reports.py (its own LibreOffice profile,
    a clear failure when LibreOffice is missing)."""
    path = Path(__file__).parents[1] / "core" / "test_reports.py"
    spec = importlib.util.spec_from_file_location("_core_report_tests", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.libreoffice_pdf  # type: ignore[no-any-return]


libreoffice_pdf = _libreoffice_pdf()


def at(day: str, hour: int = 15, minute: int = 0) -> datetime:
    """``day`` (YYYY-MM-DD) at ``hour``:``minute`` in Yangzhou."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), SHANGHAI).replace(
        hour=hour, minute=minute
    )


@pytest.fixture
def office(with_plugins: Callable[..., Tongxin]) -> dict[str, uuid.UUID]:
    """Accounts, people, talks, briefings and gatherings around the third quarter.

    Non-party members (for talks): 安然 (economy, 宝应), 白云 (economy, 高邮), 陈晨
    (economy and education, 宝应), 丁一 (education, 高邮), 黄河 (no committee, 宝应);
    not counted: a CPC member and an inactive member.
    HK/Macao members (for briefings): 艾伦 (宝应), 贝拉 (高邮), 陈达 (宝应), 戴维 (高邮);
    not counted: 傅强 (inactive). 葛新 (宝应) is another figure briefed too.
    """
    app = with_plugins(heart_talks, ul)
    ids: dict[str, uuid.UUID] = {}
    clock.freeze(at("2026-07-01", 9))
    with app.unit() as unit:
        new = accounts.create_account
        ids["bangong"] = new(unit, username="bangong", display_name="办公室", role="admin").id
        ids["zhuren"] = new(
            unit, username="zhuren", display_name="经济委主任", role="leader", committee="economy"
        ).id
        ids["county"] = new(
            unit, username="county", display_name="宝应县联络员", role="county_staff",
            region_scope="baoying",
        ).id  # fmt: skip
        for name, party, committees, region, status in [
            ("安然", "民盟", ["经济委员会"], "baoying", "active"),
            ("白云", "民进", ["经济委员会"], "gaoyou", "active"),
            ("陈晨", "无党派", ["经济委员会", "教科卫体委员会"], "baoying", "active"),
            ("丁一", "九三学社", ["教科卫体委员会"], "gaoyou", "active"),
            ("黄河", None, [], "baoying", "active"),  # party not recorded: non-party
            ("中共委员", "中共", ["经济委员会"], "baoying", "active"),
            ("金晶", "民盟", ["经济委员会"], "baoying", "inactive"),
        ]:
            ids[name] = contacts.create_person(
                unit, name=name, party=party, membership="member", committees=committees,
                region=region, status=status,
            ).id  # fmt: skip
        for name, category, region, status in [
            ("艾伦", "hk_macao_member", "baoying", "active"),
            ("贝拉", "hk_macao_member", "gaoyou", "active"),
            ("陈达", "hk_macao_member", "baoying", "active"),
            ("戴维", "hk_macao_member", "gaoyou", "active"),
            ("傅强", "hk_macao_member", "gaoyou", "inactive"),
            ("葛新", "non_party_member", "baoying", "active"),
        ]:
            ids[name] = contacts.create_person(
                unit, name=name, categories=[category], region=region, status=status
            ).id
    with app.unit("zhuren") as unit:
        # Planned now, still planned or cancelled when the quarter is over: not counted.
        cancelled = interactions.schedule_interaction(
            unit, kind="heart_talk", people=[ids["白云"]], accounts=[ids["zhuren"]],
            start=at("2026-09-15"),
        )  # fmt: skip
        interactions.cancel_interaction(unit, cancelled.id, reason="出差")
    with app.unit("bangong") as unit:
        interactions.schedule_interaction(
            unit, kind="briefing", people=[ids["戴维"]], start=at("2026-09-25"),
            data={"document": DOC},
        )  # fmt: skip
        summer = interactions.schedule_interaction(
            unit, kind="gathering", people=[ids["艾伦"]], start=at("2026-08-20", 19),
            data={"event": "夏季联谊座谈会"},
        )  # fmt: skip
        interactions.cancel_interaction(unit, summer.id, reason="台风")
        national = interactions.schedule_interaction(
            unit, kind="gathering", people=[ids["贝拉"], ids["葛新"]],
            start=at("2026-09-30", 19), data={"event": "迎国庆联谊会"},
        )  # fmt: skip
        ul.rsvp(unit, national.id, ids["贝拉"], "accepted")
        mid_autumn = ul.ensure_gathering(
            unit, 2026, invitees=[ids[n] for n in ("艾伦", "贝拉", "陈达", "戴维", "葛新")]
        )
        for name, answer in (("艾伦", "accepted"), ("贝拉", "accepted"), ("陈达", "declined"),
                             ("葛新", "accepted")):  # fmt: skip
            ul.rsvp(unit, mid_autumn.id, ids[name], answer)  # 戴维 never answers
    clock.freeze(at("2026-09-25", 21))  # the 中秋联谊会 (18:30) is over
    with app.unit("bangong") as unit:
        interactions.complete_interaction(unit, mid_autumn.id, summary="共叙友情")
        ul.attendance(unit, mid_autumn.id, present=[ids["艾伦"], ids["葛新"]], absent=[ids["贝拉"]])
    clock.freeze(TODAY)
    with app.unit("zhuren") as unit:
        log = interactions.log_interaction
        log(unit, kind="heart_talk", people=[ids["安然"]], start=at("2026-07-10"))
        log(unit, kind="heart_talk", people=[ids["陈晨"], ids["丁一"]], start=at("2026-08-05"))
        log(unit, kind="heart_talk", people=[ids["安然"]], start=at("2026-09-20"))
        # 23:00 on June 30 in Yangzhou: the second quarter.
        log(unit, kind="heart_talk", people=[ids["白云"]], start=at("2026-06-30", 23))
        # 00:30 on July 1 in Yangzhou (still June 30 in UTC): the third quarter.
        log(unit, kind="heart_talk", people=[ids["黄河"]], start=at("2026-07-01", 0, 30))
        log(unit, kind="call", people=[ids["白云"]], start=at("2026-08-01"))  # not a talk
    with app.unit("bangong") as unit:
        log = interactions.log_interaction
        b1 = log(
            unit, kind="briefing", start=at("2026-07-08"), location="市政协会议室",
            people=[ids[n] for n in ("艾伦", "贝拉", "葛新", "陈达")], data={"document": DOC},
        )  # fmt: skip
        ul.attendance(unit, b1.id, absent=[ids["陈达"]])
        b2 = log(unit, kind="briefing", start=at("2026-08-12"), people=[ids["贝拉"], ids["戴维"]],
                 data={"document": DOC_AGAIN})  # fmt: skip
        ul.rsvp(unit, b2.id, ids["戴维"], "declined")  # declined, not recorded as present
        log(unit, kind="briefing", start=at("2026-09-02"), people=[ids["陈达"]],
            data={"document": OTHER_DOC, "document_no": "国发〔2026〕1号"})  # fmt: skip
        log(unit, kind="briefing", start=at("2026-06-20"), people=[ids["戴维"]],
            data={"document": DOC})  # the second quarter  # fmt: skip
        # The fourth quarter: a confidential briefing and another gathering.
        log(unit, kind="briefing", start=at("2026-10-05"), people=[ids["艾伦"]],
            data={"document": "《内部通报材料》"}, confidential=True)  # fmt: skip
        log(unit, kind="gathering", start=at("2026-10-10"), people=[ids["艾伦"]],
            data={"event": "重阳敬老联谊"})  # fmt: skip
    return ids


def section(result: Any, key: str) -> list[dict[str, Any]]:
    return next(s for s in result.sections if s.key == key).rows


def build(app: Tongxin, code: str, period: Period = Q3, actor: str | None = None) -> Any:
    with app.unit(actor) as unit:
        _spec, result = run_report(unit, code, period)
    return result


# -- heart-to-heart talks ---------------------------------------------------------------


def test_talk_coverage_per_committee(app: Tongxin, office: dict[str, uuid.UUID]) -> None:
    result = build(app, "talks")
    rows = {r["committee"]: r for r in section(result, "committees")}
    figures = {
        name: (r["total"], r["talked"], r["not_talked"], r["share"], r["talks"], r["names"])
        for name, r in rows.items()
    }
    # Committees without non-party members are left out; the 08-05 talk with 陈晨 and
    # 丁一 is one talk; 合计 counts 陈晨 once.
    assert figures == {
        "经济委员会": (3, 2, 1, pytest.approx(2 / 3), 3, ["白云"]),
        "教科卫体委员会": (2, 2, 0, 1.0, 1, []),
        "（未分专委会）": (1, 1, 0, 1.0, 1, []),
        "合计": (5, 4, 1, 0.8, 4, ["白云"]),
    }
    assert list(rows) == ["经济委员会", "教科卫体委员会", "（未分专委会）", "合计"]
    assert result.summary == {"members": 5, "talked": 4, "share": 0.8, "talks": 4}
    members = [
        (r["committee"], r["name"], r["talks"], r["last_talk"]) for r in section(result, "members")
    ]
    assert members == [
        ("经济委员会", "安然", 2, date(2026, 9, 20)),
        ("经济委员会", "白云", 0, None),
        ("经济委员会", "陈晨", 1, date(2026, 8, 5)),
        ("教科卫体委员会", "陈晨", 1, date(2026, 8, 5)),
        ("教科卫体委员会", "丁一", 1, date(2026, 8, 5)),
        ("（未分专委会）", "黄河", 1, date(2026, 7, 1)),  # the office's day, not UTC's
    ]
    q2 = build(app, "talks", Period.quarter(2026, 2))
    assert q2.summary == {"members": 5, "talked": 1, "share": 0.2, "talks": 1}  # 白云, June 30
    assert {r["committee"]: r["talked"] for r in section(q2, "committees")} == {
        "经济委员会": 1, "教科卫体委员会": 0, "（未分专委会）": 0, "合计": 1,
    }  # fmt: skip
    # The plugin's own coverage for a period agrees, and still takes a year.
    with app.unit() as unit:
        economy = heart_talks.coverage(unit, period=Q3, committee="economy")[0]
        assert [m.name for m in economy.not_talked] == ["白云"]
        assert heart_talks.coverage(unit, year=2026, committee="economy")[0].total == 3


# -- briefings ------------------------------------------------------------------------------


def test_briefings_per_document(app: Tongxin, office: dict[str, uuid.UUID]) -> None:
    result = build(app, "briefings")
    docs = section(result, "documents")
    assert [
        (d["document"], d["document_no"], d["briefings"], d["dates"], d["hk_macao"],
         d["hk_reached"], d["share"], d["others"], d["not_reached"])
        for d in docs
    ] == [
        # 陈达 was recorded absent, 戴维 declined; the planned briefing and the one of
        # June do not count. The title is as the latest briefing wrote it.
        (DOC_AGAIN, "", 2, ["2026-07-08", "2026-08-12"], 4, 2, 0.5, 1, ["陈达", "戴维"]),
        (OTHER_DOC, "国发〔2026〕1号", 1, ["2026-09-02"], 4, 1, 0.25, 0, ["艾伦", "贝拉", "戴维"]),
    ]  # fmt: skip
    detail = [
        (b["date"], b["document"], b["location"], b["briefers"], b["hk_count"], b["hk_names"],
         b["others"], b["missed"])
        for b in section(result, "briefings")
    ]  # fmt: skip
    assert detail == [
        (date(2026, 7, 8), DOC, "市政协会议室", "办公室", 2, ["艾伦", "贝拉"],
         1, ["陈达"]),
        (date(2026, 8, 12), DOC_AGAIN, "", "办公室", 1, ["贝拉"], 0, ["戴维"]),
        (date(2026, 9, 2), OTHER_DOC, "", "办公室", 1, ["陈达"], 0, []),
    ]  # fmt: skip
    assert result.summary == {
        "documents": 2, "briefings": 3, "hk_macao_members": 4, "hk_macao_reached": 3,
        "share": 0.75, "people": 4,
    }  # fmt: skip


def test_a_confidential_briefing_keeps_its_document_to_those_who_may_read_it(
    app: Tongxin, office: dict[str, uuid.UUID]
) -> None:
    q4 = Period.quarter(2026, 4)
    assert [
        d["document"] for d in section(build(app, "briefings", q4, "bangong"), "documents")
    ] == ["《内部通报材料》"]
    seen = build(app, "briefings", q4, "county")  # sees the briefing (艾伦), not its fields
    assert [(d["document"], d["hk_reached"]) for d in section(seen, "documents")] == [
        ("（保密）", 1)
    ]
    assert "内部" not in json.dumps(report_json(available_reports(app)["briefings"], q4, seen))


# -- gatherings -----------------------------------------------------------------------------


def test_gatherings_with_attendance(app: Tongxin, office: dict[str, uuid.UUID]) -> None:
    result = build(app, "gatherings")
    rows = [
        (r["date"], r["event"], r["status"], r["invited"], r["accepted"], r["declined"],
         r["awaiting"], r["attended"], r["absent"], r["unrecorded"], r["share"])
        for r in section(result, "gatherings")
    ]  # fmt: skip
    assert rows == [
        (date(2026, 8, 20), "夏季联谊座谈会", "已取消", 1, 0, 0, 1, 0, 0, 1, None),
        (date(2026, 9, 25), "中秋联谊会", "已举行", 5, 3, 1, 1, 2, 1, 2, 0.4),
        (date(2026, 9, 30), "迎国庆联谊会", "未举行", 2, 1, 0, 1, 0, 0, 2, None),
    ]  # the 重阳 gathering of October is in the fourth quarter
    mid_autumn = [
        (r["name"], r["rsvp"], r["attended"])
        for r in section(result, "invitees")
        if r["event"] == "中秋联谊会"
    ]
    assert mid_autumn == [
        ("艾伦", "已接受", "出席"),
        ("贝拉", "已接受", "缺席"),
        ("陈达", "已谢绝", "未登记"),
        ("戴维", "未答复", "未登记"),
        ("葛新", "已接受", "出席"),
    ]
    assert result.summary == {
        "gatherings": 3, "held": 1, "invited": 5, "attended": 2, "share": 0.4,
    }  # fmt: skip
    q4 = build(app, "gatherings", Period.quarter(2026, 4))
    assert [(r["event"], r["status"], r["share"]) for r in section(q4, "gatherings")] == [
        ("重阳敬老联谊", "已举行", 0.0)  # logged done, nobody recorded as present
    ]


# -- authorization --------------------------------------------------------------------------


def test_county_staff_see_only_their_regions_people(
    app: Tongxin, office: dict[str, uuid.UUID]
) -> None:
    talks = build(app, "talks", actor="county")
    assert {r["committee"]: (r["total"], r["talked"], r["talks"]) for r in section(
        talks, "committees")} == {
        "经济委员会": (2, 2, 3), "教科卫体委员会": (1, 1, 1), "（未分专委会）": (1, 1, 1),
        "合计": (3, 3, 4),
    }  # fmt: skip
    briefings = build(app, "briefings", actor="county")
    assert [
        (d["document"], d["briefings"], d["hk_macao"], d["hk_reached"], d["others"],
         d["not_reached"])
        for d in section(briefings, "documents")
    ] == [
        (DOC, 1, 2, 1, 1, ["陈达"]),  # the 08-12 briefing had none of theirs
        (OTHER_DOC, 1, 2, 1, 0, ["艾伦"]),
    ]  # fmt: skip
    gatherings = build(app, "gatherings", actor="county")
    assert [
        (r["event"], r["invited"], r["accepted"], r["declined"], r["awaiting"], r["attended"],
         r["share"])
        for r in section(gatherings, "gatherings")
    ] == [
        ("夏季联谊座谈会", 1, 0, 0, 1, 0, None),
        ("中秋联谊会", 3, 2, 1, 0, 2, pytest.approx(2 / 3)),
        ("迎国庆联谊会", 1, 0, 0, 1, 0, None),
    ]  # fmt: skip
    # No name of another county's people in any of the three.
    for code, result in (("talks", talks), ("briefings", briefings), ("gatherings", gatherings)):
        text = json.dumps(report_json(available_reports(app)[code], Q3, result), ensure_ascii=False)
        for name in ("白云", "丁一", "贝拉", "戴维"):
            assert name not in text, (code, name)


# -- listing, the command line and the files ----------------------------------------------


def test_the_reports_are_listed_like_the_built_in_ones(
    app: Tongxin, office: dict[str, uuid.UUID], tx: Callable[..., tuple[int, str, str]]
) -> None:
    reports = available_reports(app)
    assert [(c, reports[c].plugin, reports[c].zh) for c in CODES] == [
        ("talks", "heart_talks", "谈心谈话覆盖情况"),
        ("briefings", "union_liaison", "港澳委员通报会情况"),
        ("gatherings", "union_liaison", "联谊活动出席情况"),
    ]
    assert [app.plugins.info[n].status for n in ("heart_talks", "union_liaison")] == ["ok", "ok"]
    code, out, _ = tx("report", "--list", "--json")
    listed = {r["code"]: r for r in json.loads(out)}
    assert listed["talks"] == {
        "code": "talks", "title": "谈心谈话覆盖情况", "plugin": "heart_talks"
    }  # fmt: skip
    assert {listed[c]["plugin"] for c in ("briefings", "gatherings")} == {"union_liaison"}
    code, out, _ = tx("report", "--list")
    assert code == 0 and all(
        t in out for t in ("谈心谈话覆盖情况", "港澳委员通报会情况", "联谊活动出席情况")
    )
    code, out, _ = tx("--lang", "en", "report", "--list")
    assert "Heart-to-heart talk coverage" in out and "Union-liaison events" in out
    code, out, _ = tx("report", "--help")
    assert code == 0 and "--quarter" in out
    # The table on screen, and the plugin's own command still works.
    code, out, _ = tx("report", "talks", "--quarter", "2026Q3")
    assert code == 0 and "谈心谈话覆盖情况" in out and "经济委员会" in out and "66.7%" in out
    code, out, _ = tx("talks", "coverage", "--year", "2026", "--committee", "economy", "--json")
    assert code == 0
    (economy,) = json.loads(out)["committees"]  # the whole year: 白云's talk of June too
    assert [m["name"] for m in economy["talked"]] == ["安然", "白云", "陈晨"]
    assert economy["not_talked"] == []


@pytest.fixture
def tx(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, str, str]]:
    """Run `tongxin --db URL ARGS...` with both plugins loaded from their entry points."""
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "heart_talks,union_liaison")
    monkeypatch.setenv("TONGXIN_NOW", TODAY.isoformat())

    def call(*args: str) -> tuple[int, str, str]:
        code = run(["--db", db_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def _xlsx_cell(value: Any, kind: str) -> Any:
    """A ``--json`` value as the Excel file holds it (read back by openpyxl)."""
    if value is None or value == "":
        return None
    if kind == "list":
        return "、".join(value) or None
    if kind == "date":
        return datetime.fromisoformat(value)
    return value


def _docx_cell(value: Any, kind: str) -> str:
    """A ``--json`` value as the Word table prints it (dates are ISO already)."""
    return cell_text(value, kind)


def test_cli_json_matches_the_excel_and_word_files_which_open_in_libreoffice(
    app: Tongxin,
    office: dict[str, uuid.UUID],
    tx: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
    libreoffice_profile: Path,
) -> None:
    from docx import Document
    from openpyxl import load_workbook

    files = []
    for code in CODES:
        with app.unit() as unit:
            spec, result = run_report(unit, code, Q3)
            expected = report_json(spec, Q3, result)
        status, out, err = tx("report", code, "--quarter", "2026Q3", "--json")
        assert (status, err) == (0, "")
        data = json.loads(out)
        assert data == expected
        status, out, _ = tx("report", code, "--from", "2026-07-01", "--to", "2026-09-30", "--json")
        assert json.loads(out) == expected
        paths = {s: tmp_path / f"{code}{s}" for s in (".xlsx", ".docx", ".csv")}
        for path in paths.values():
            status, out, err = tx("report", code, "--quarter", "2026Q3", "-o", str(path), "--json")
            assert (status, err) == (0, "")
            written = json.loads(out)
            assert written.pop("output") == str(path) and written == data
            files.append(path)

        with paths[".csv"].open(encoding="utf-8-sig", newline="") as fh:
            csv_rows = list(csv.reader(fh))
        assert csv_rows[0] == [data["title"]]
        wb = load_workbook(paths[".xlsx"])
        doc = Document(str(paths[".docx"]))
        assert (
            doc.paragraphs[0].text == data["title"] and "2026年第三季度" in doc.paragraphs[1].text
        )
        assert len(wb.worksheets) == len(doc.tables) == len(data["sections"])
        for ws, table, sec in zip(wb.worksheets, doc.tables, data["sections"], strict=True):
            cols = sec["columns"]
            assert ws.title == sec["title"] and ws.freeze_panes == "A4"
            assert [c.value for c in ws[3]] == [c["title"] for c in cols]
            assert [c.text for c in table.rows[0].cells] == [c["title"] for c in cols]
            assert len(table.rows) == len(sec["rows"]) + 1
            for n, row in enumerate(sec["rows"]):
                got = [c.value for c in ws[4 + n]][: len(cols)]
                want = [_xlsx_cell(row[c["key"]], c["kind"]) for c in cols]
                where = (code, sec["key"], n)
                # --json rounds shares to 4 places; the workbook keeps the exact value.
                near = [pytest.approx(w, abs=5e-5) if isinstance(w, float) else w for w in want]
                assert got == near, where
                texts = [_docx_cell(row[c["key"]], c["kind"]) for c in cols]
                assert [c.text for c in table.rows[n + 1].cells] == texts, where
                assert csv_rows[csv_rows.index([c["title"] for c in cols]) + 1 + n] == texts
    # Concrete figures a reader checks in the files themselves.
    ws = load_workbook(tmp_path / "talks.xlsx").worksheets[0]
    assert [c.value for c in ws[4]][:5] == ["经济委员会", 3, 2, 1, pytest.approx(2 / 3)]
    assert ws["E4"].number_format == "0.0%" and ws["G4"].value == "白云"
    table = Document(str(tmp_path / "briefings.docx")).tables[0]
    assert [c.text for c in table.rows[2].cells][-3:] == ["25.0%", "0", "艾伦、贝拉、戴维"]
    table = Document(str(tmp_path / "gatherings.docx")).tables[0]
    assert [c.text for c in table.rows[2].cells] == [
        "2026-09-25", "中秋联谊会", "已举行", "5", "3", "1", "1", "2", "1", "2", "40.0%",
    ]  # fmt: skip
    libreoffice_pdf(files, tmp_path / "pdf", libreoffice_profile)


def test_english_titles_and_columns(
    app: Tongxin, office: dict[str, uuid.UUID], tx: Callable[..., tuple[int, str, str]]
) -> None:
    expected = {
        "talks": (
            "Heart-to-heart talk coverage", "Non-party members", "Members not yet talked with"
        ),
        "briefings": (
            "HK/Macao briefings per document", "Document", "HK/Macao members not yet briefed"
        ),
        "gatherings": ("Union-liaison events with attendance", "Invited", "Attendance"),
    }  # fmt: skip
    for code, (title, column, last) in expected.items():
        status, out, _ = tx("--lang", "en", "report", code, "--quarter", "2026Q3", "--json")
        assert status == 0
        data = json.loads(out)
        titles = [c["title"] for c in data["sections"][0]["columns"]]
        assert data["title"] == title and column in titles and titles[-1] == last
