"""Exports: people and interactions to Excel and CSV as the office opens them, and vCards a
phone imports, checked by reading the files back."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from crm_core import clock, exporter
from crm_core.app import Tongxin
from crm_core.config import Config, load_config
from crm_core.errors import ValidationError
from crm_core.importer import import_roster
from crm_core.services import accounts, contacts, interactions

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"


@pytest.fixture
def config() -> Config:
    return load_config(DATA / "office-config.toml")


@pytest.fixture
def roster(app: Tongxin) -> Tongxin:
    with app.unit() as unit:
        import_roster(unit, DATA / "sample-roster.xlsx")
    return app


def test_people_to_excel_typed_frozen_fitted_and_back(roster: Tongxin, tmp_path: Path) -> None:
    path = tmp_path / "people.xlsx"
    with roster.unit() as unit:
        assert exporter.export_people(unit, path) == 40
    wb = load_workbook(path)
    ws = wb.active
    assert ws is not None
    header = [c.value for c in ws[1]]
    assert header[:6] == ["姓名", "拼音", "性别", "出生年月", "民族", "党派"]
    assert ws.freeze_panes == "A2"
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    cao = rows["曹荣"]
    birth = cao[header.index("出生年月")]
    assert birth.value == datetime(1984, 10, 1) and birth.number_format == "yyyy.mm"  # a date
    mobile = cao[header.index("手机")]
    assert mobile.value == "198 8660 1364" and mobile.data_type == "s"  # every digit kept
    assert cao[header.index("党派")].value == "九三学社"
    assert cao[header.index("专委会")].value == "经济委员会、教科卫体委员会"
    assert rows["廖𠇔柏"][header.index("性别")].value == "女"
    address_col = ws.column_dimensions["N"].width
    longest = max(exporter.text_width(str(r[13].value or "")) for r in ws.iter_rows(min_row=2))
    assert header[13] == "通讯地址" and address_col >= longest  # Chinese counts double
    # The file is a roster the importer reads back as the same people.
    with roster.unit() as unit:
        report = import_roster(unit, path)
    assert report.totals["unchanged"] == 40 and not report.errors


def test_people_to_csv_with_bom_and_filters(roster: Tongxin, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    with roster.unit() as unit:
        count = exporter.export_people(unit, path, category="宗教界人士", region="广陵区")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel on a Chinese Windows reads it as UTF-8
    with path.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    names = {r[0] for r in table[1:]}
    assert count == len(names) > 0
    with roster.unit() as unit:
        expected = {
            p.name
            for p in contacts.list_people(
                unit, limit=100, category="religious", region="guangling"
            ).items
        }
    assert names == expected
    with pytest.raises(ValidationError), roster.unit() as unit:
        exporter.export_people(unit, path, sector="火星界")


def test_interactions_of_a_period_and_kind(roster: Tongxin, tmp_path: Path) -> None:
    clock.freeze(datetime(2026, 10, 20, 2, 0, tzinfo=UTC))
    with roster.unit() as unit:
        office = accounts.create_account(unit, username="wang", display_name="王主席", role="admin")
        lin = contacts.resolve_person(unit, "林宁").id
        ma = contacts.resolve_person(unit, "马军宁").id
        # 2026-09-30 23:30 in Yangzhou is still September there.
        interactions.log_interaction(
            unit, kind="call", people=[lin], accounts=[office.id],
            start=datetime(2026, 9, 30, 15, 30, tzinfo=UTC), summary="电话问候",
        )  # fmt: skip
        interactions.log_interaction(
            unit, kind="meeting", people=[lin, ma], accounts=[office.id],
            start=datetime(2026, 10, 8, 1, 0, tzinfo=UTC), summary="座谈", notes="谈了三件事",
            confidential=True, location="市政协",
        )  # fmt: skip
        interactions.log_interaction(
            unit, kind="call", people=[ma], start=datetime(2026, 10, 9, 1, 0, tzinfo=UTC)
        )
    path = tmp_path / "work.xlsx"
    with roster.unit() as unit:  # not an admin, not a participant: no confidential notes
        n = exporter.export_interactions(
            unit,
            path,
            start=datetime(2026, 9, 1).date(),
            end=datetime(2026, 10, 8).date(),
            kinds=["会面交流", "call"],
        )
    assert n == 2
    ws = load_workbook(path).active
    assert ws is not None
    header = [c.value for c in ws[1]]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert header[:4] == ["开始时间", "结束时间", "工作种类", "状态"]
    assert rows[0][0] == datetime(2026, 9, 30, 23, 30)  # local time, a real date cell
    assert rows[0][2:6] == ["电话联系", "已完成", "林宁", "王主席"]
    assert rows[1][2] == "会面交流" and rows[1][4] == "林宁、马军宁"
    assert rows[1][header.index("详细记录")] == "（保密）"
    with roster.unit("wang") as unit:  # the admin reads the notes
        exporter.export_interactions(unit, path, kinds=["meeting"])
    ws = load_workbook(path).active
    assert ws is not None
    assert [c.value for c in ws[2]][header.index("详细记录")] == "谈了三件事"


def unfold(raw: bytes) -> list[str]:
    """Content lines of a vCard file, checked strictly: CRLF only, no physical line over
    75 octets, every physical line valid UTF-8 on its own (no character cut in two)."""
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
    assert raw.endswith(b"\r\n")
    physical = raw.split(b"\r\n")[:-1]
    lines: list[str] = []
    for p in physical:
        assert len(p) <= 75, p
        text = p.decode("utf-8")  # raises if a fold split a character
        if text.startswith(" "):
            lines[-1] += text[1:]
        else:
            lines.append(text)
    return lines


def parse_vcards(raw: bytes) -> list[dict[str, list[str]]]:
    cards: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] | None = None
    for line in unfold(raw):
        name, _, value = line.partition(":")
        assert re.fullmatch(r"[A-Z-]+(;[A-Z]+=[A-Z]+)*", name), line
        if line == "BEGIN:VCARD":
            assert current is None
            current = {}
        elif line == "END:VCARD":
            assert current is not None
            cards.append(current)
            current = None
        else:
            assert current is not None
            if not current:
                assert line == "VERSION:3.0", "VERSION must follow BEGIN"
            current.setdefault(name, []).append(value)
    assert current is None
    return cards


def test_vcards_with_chinese_names_pinyin_and_folded_lines(roster: Tongxin, tmp_path: Path) -> None:
    with roster.unit() as unit:
        person = contacts.resolve_person(unit, "欧阳兰")
        contacts.update_person(
            unit,
            person.id,
            employer="扬州市第一人民医院, 心内科; 主任",
            address="江苏省扬州市邗江区文昌中路一千二百三十四号扬州市政协委员活动之家三楼东侧会议室旁",
        )
    path = tmp_path / "contacts.vcf"
    with roster.unit() as unit:
        assert exporter.export_vcf(unit, path) == 40
    cards = {c["FN"][0]: c for c in parse_vcards(path.read_bytes())}
    assert len(cards) == 40
    oy = cards["欧阳兰"]
    assert oy["N"] == ["欧阳;兰;;;"]
    assert (oy["X-PHONETIC-LAST-NAME"], oy["X-PHONETIC-FIRST-NAME"]) == (["Ouyang"], ["Lan"])
    assert oy["TEL;TYPE=CELL"] == ["+8618480939073"]
    assert oy["ORG"] == ["扬州市第一人民医院\\, 心内科\\; 主任"]  # escaped, not split
    assert oy["ADR;TYPE=WORK"][0].startswith(";;江苏省扬州市邗江区") and oy["ADR;TYPE=WORK"][
        0
    ].endswith("旁;;;;")
    assert len(oy["ADR;TYPE=WORK"][0].encode()) > 75  # so it was folded, and survived
    assert cards["盖伟"]["X-PHONETIC-LAST-NAME"] == ["Ge"]  # the surname reading
    assert cards["上官静勇"]["N"] == ["上官;静勇;;;"]
    assert cards["廖𠇔柏"]["N"] == ["廖;𠇔柏;;;"]
    assert all(c["UID"][0].startswith("urn:uuid:") for c in cards.values())


def test_split_name() -> None:
    assert exporter.split_name("张三") == ("张", "三")
    assert exporter.split_name("欧阳修") == ("欧阳", "修")
    assert exporter.split_name("爱新觉罗溥仪") == ("爱新觉罗", "溥仪")
    assert exporter.split_name("阿依古丽·买买提") == ("", "阿依古丽·买买提")
    assert exporter.split_name("Mary Smith") == ("", "Mary Smith")
    assert exporter.fold("A" * 80) == "A" * 75 + "\r\n " + "A" * 5 + "\r\n"
