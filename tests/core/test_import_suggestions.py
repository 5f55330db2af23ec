"""The closest existing entries offered beside a value the config does not know
(issue 12): the right ones first, both parts of a merged name, and none rather than a
misleading one (SQLite and PostgreSQL for the import; the vocabularies are the shipped
defaults)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from crm_core.app import Tongxin
from crm_core.config import Config, Term
from crm_core.importer import import_roster
from crm_core.roster.closest import suggest


def _bare(config: Config, vocab: str) -> list[Term]:
    """The shipped entries without their aliases (as an office's own list might be)."""
    return [Term(t.code, t.zh, t.en, {}) for t in config.vocab[vocab]]


@pytest.mark.parametrize(
    ("vocab", "value", "first"),
    [
        ("regions", "经开区", "经济技术开发区"),  # an abbreviation
        ("regions", "瘦西湖", "蜀冈-瘦西湖风景名胜区"),  # inside the label
        ("regions", "韩江区", "邗江区"),  # the same sound
        ("regions", "江都", "江都区"),  # without the generic ending
        ("committees", "文史委", "文化文史和学习委员会"),
        ("committees", "港澳台委员会", "港澳台侨和外事委员会"),
        ("sectors", "科技", "科学技术界"),  # not 科协, which shares only 科
        ("sectors", "医卫界", "医药卫生界"),
        ("parties", "民主建国会", "民建"),  # the label is the abbreviation
        ("categories", "宗教人士", "宗教界人士"),
    ],
)
def test_the_entry_meant_comes_first(config: Config, vocab: str, value: str, first: str) -> None:
    for terms in (list(config.vocab[vocab]), _bare(config, vocab)):
        found = [t.zh for t in suggest(value, terms)]
        assert found and found[0] == first, found


def test_a_merged_name_suggests_both_parts_and_nothing_else(config: Config) -> None:
    for value in ("民族宗教和港澳台侨委员会", "民族宗教与港澳台侨委员会"):
        found = [t.code for t in suggest(value, _bare(config, "committees"))]
        assert found == ["ethnic_religious", "hk_macao_taiwan"]


@pytest.mark.parametrize(
    ("vocab", "value"),
    [
        ("committees", "智库委员会"),  # shares only 委员会 with every committee
        ("regions", "维扬区"),  # only 区, and a 扬 many entries hold
        ("regions", "扬州综合保税区"),
    ],
)
def test_no_suggestion_rather_than_a_misleading_one(config: Config, vocab: str, value: str) -> None:
    assert suggest(value, config.vocab[vocab]) == []


def test_the_import_offers_them_beside_each_unknown_value(app: Tongxin, tmp_path: Path) -> None:
    path = tmp_path / "名单.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["姓名", "性别", "所在地", "界别", "专委会"],
                ["张三", "男", "扬州经开区", "科技", "智库委员会"],
                ["李四", "女", "扬州经开区", "医卫", "提案委员会"],
            ]
        )
    with app.unit() as unit:
        report = import_roster(unit, path, dry_run=True)
    near = {u.value: [t.zh for t in u.suggestions] for u in report.unknown_values}
    assert near["扬州经开区"][0] == "经济技术开发区"
    assert near["智库委员会"] == []
    assert report.totals["pending"] == 2 and report.totals["refuse"] == 0
    as_json = {u.value: u.as_json() for u in report.unknown_values}
    assert as_json["扬州经开区"]["suggestions"][0] == {
        "code": "development_zone",
        "label": "经济技术开发区",
    }
