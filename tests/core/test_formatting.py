"""One value formatter: a value reads the same in a table export, a report and an imported
cell (crm_core.formatting.value_text), checked on the files the office opens."""

from __future__ import annotations

import csv
import enum
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crm_core import exporter
from crm_core.formatting import value_text
from crm_core.i18n import set_language
from crm_core.reports.output import cell_text
from crm_core.roster import cell_text as roster_cell_text


class Seat(enum.Enum):
    STANDING = "standing"


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (None, "text", ""),
        ("经济委员会", "text", "经济委员会"),
        (True, "text", "是"),
        (False, "text", "否"),
        (Seat.STANDING, "text", "standing"),
        (["经济委员会", "教科卫体委员会"], "text", "经济委员会、教科卫体委员会"),
        (("甲", "乙"), "list", "甲、乙"),
        (datetime(2026, 11, 27, 15, 0), "datetime", "2026-11-27 15:00"),
        (datetime(2026, 11, 27), "datetime", "2026-11-27 00:00"),
        (date(2026, 11, 27), "date", "2026-11-27"),
        (date(1984, 10, 1), "month", "1984.10"),
        (0.125, "percent", "12.5%"),
        (2 / 3, "float", "0.666667"),
        (3.0, "float", "3"),
        (1234567.0, "float", "1234567"),
        (Decimal("12.50"), "float", "12.50"),
        (42, "int", "42"),
    ],
)
def test_value_text(value: Any, kind: str, text: str) -> None:
    assert value_text(value, kind) == text  # the suite runs in Chinese


def test_yes_no_follow_the_language_but_an_imported_cell_is_always_chinese() -> None:
    set_language("en")
    try:
        assert value_text(True) == "yes" and value_text(False) == "no"
        assert roster_cell_text(True) == "是"
    finally:
        set_language("zh")
    assert roster_cell_text(datetime(1965, 3, 1)) == "1965-03-01"  # Excel's date at 00:00
    assert roster_cell_text(1965.03) == "1965.03" and roster_cell_text(13812345678.0) == (
        "13812345678"
    )


def test_report_and_export_show_a_value_alike() -> None:
    values = [None, True, ["甲", "乙"], datetime(2026, 1, 2, 9, 30), date(2026, 1, 2), 0.5, 2.5]
    for v in values:
        for kind in ("text", "percent", "list"):
            assert cell_text(v, kind) == value_text(v, kind)


def test_csv_export_writes_lists_and_yes_no_as_the_office_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    columns = [
        exporter.TableColumn("专委会"),
        exporter.TableColumn("常委"),
        exporter.TableColumn("出生年月", "month"),
        exporter.TableColumn("时间", "datetime"),
        exporter.TableColumn("界别", "text"),
    ]
    exporter.write_table(
        path,
        columns,
        [
            [
                ["经济委员会", "教科卫体委员会"],
                True,
                date(1984, 10, 1),
                datetime(2026, 3, 4, 8, 5),
                Seat.STANDING,
            ]
        ],
    )
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[1] == [
        "经济委员会、教科卫体委员会",
        "是",
        "1984.10",
        "2026-03-04 08:05",
        "standing",
    ]
