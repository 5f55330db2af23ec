"""`tongxin groups` and `tongxin bulk` (issue 18), and `--group` on contacts search,
export people and report, run in-process on a real database of each backend."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from crm_cli.main import run


@pytest.fixture
def tx(db_url: str, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `tongxin --db URL ARGS...`; return (exit code, stdout, stderr)."""

    def call(*args: str) -> tuple[int, str, str]:
        code = run(["--db", db_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    for name, cat, region in (
        ("张三", "党外知识分子", "guangling"),
        ("张三丰", "党外知识分子", "baoying"),
        ("李四", None, "guangling"),
    ):
        extra = ["--category", cat] if cat else []
        assert call("contacts", "add", "--name", name, "--region", region, *extra)[0] == 0
    return call


def test_save_list_show_and_use_a_group(tx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = tx("groups", "save", "知识分子", "--category", "党外知识分子", "--shared",
                        "--json")  # fmt: skip
    assert code == 0, err
    saved = json.loads(out)
    assert (saved["name"], saved["kind"], saved["shared"], saved["count"]) == (
        "知识分子", "smart", True, 2,
    )  # fmt: skip
    code, out, _ = tx("groups", "save", "姓张", "zs", "--json")
    assert json.loads(out)["query"] == "zs"
    code, out, _ = tx("groups", "list", "--json")
    assert [(g["name"], g["count"]) for g in json.loads(out)] == [("姓张", 2), ("知识分子", 2)]
    code, out, _ = tx("groups", "show", "知识分子", "--json")
    assert sorted(m["name"] for m in json.loads(out)["members"]) == ["张三", "张三丰"]
    # --group on contacts search: the query within the group's members.
    code, out, _ = tx("contacts", "search", "", "--group", "知识分子", "--region", "广陵区",
                      "--json")  # fmt: skip
    assert [r["name"] for r in json.loads(out)["results"]] == ["张三"]
    # export people --group
    target = tmp_path / "group.csv"
    code, out, err = tx("export", "people", "-o", str(target), "--group", "知识分子")
    assert code == 0, err
    with target.open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert sorted(r[0] for r in rows[1:]) == ["张三", "张三丰"]
    # report --group
    code, out, err = tx("report", "coverage", "--year", "2026", "--group", "知识分子", "--json")
    assert code == 0, err
    region_rows = [
        r for r in json.loads(out)["sections"][0]["rows"] if r["dimension"] == "县(市、区)"
    ]
    assert sum(r["total"] for r in region_rows) == 2
    code, _, err = tx("groups", "show", "没有的组")
    assert code != 0 and "没有的组" in err


def test_a_picked_group_and_bulk_actions_with_a_dry_run(tx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = tx("groups", "add", "茶叙", "张三", "李四", "--json")
    assert code == 0, err
    assert (json.loads(out)["kind"], json.loads(out)["added"]) == ("static", 2)
    code, out, _ = tx("bulk", "set", "title", "委员", "--group", "茶叙", "--dry-run", "--json")
    dry = json.loads(out)
    assert (dry["dry_run"], dry["people"], dry["changed"]) == (True, 2, 2)
    assert {c["name"] for c in dry["changes"]} == {"张三", "李四"}
    assert {(c["field"], c["before"], c["after"]) for c in dry["changes"]} == {
        ("title", None, "委员")
    }
    code, out, _ = tx("contacts", "search", "", "--group", "茶叙", "--json")
    assert {r["title"] for r in json.loads(out)["results"]} == {None}  # nothing written
    code, out, _ = tx("bulk", "set", "title", "委员", "--group", "茶叙", "--json")
    assert json.loads(out)["changed"] == 2
    code, out, _ = tx("contacts", "search", "", "--group", "茶叙", "--json")
    assert {r["title"] for r in json.loads(out)["results"]} == {"委员"}
    code, out, _ = tx("bulk", "add-category", "党外知识分子", "--group", "茶叙", "--json")
    assert (json.loads(out)["changed"], json.loads(out)["unchanged"]) == (1, 1)
    code, out, err = tx("bulk", "set", "membership", "大人物", "--group", "茶叙")
    assert code != 0 and "membership" in err
    code, out, err = tx("bulk", "schedule", "meeting", "--at", "2026-12-20 14:00", "--group",
                        "茶叙", "--dry-run", "--json")  # fmt: skip
    assert code == 0, err
    assert (json.loads(out)["changed"], json.loads(out)["created_id"]) == (2, None)
    code, out, err = tx("bulk", "schedule", "meeting", "--at", "2026-12-20 14:00", "--group",
                        "茶叙", "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["created_id"], err
    code, out, _ = tx("contacts", "show", "李四", "--json")
    assert len(json.loads(out)["recent"]) == 1  # the meeting, planned with both
    target = tmp_path / "tea.csv"
    code, out, err = tx("bulk", "export", "-o", str(target), "--group", "茶叙")
    assert code == 0, err
    with target.open(encoding="utf-8-sig") as f:
        assert sorted(r[0] for r in list(csv.reader(f))[1:]) == ["张三", "李四"]
    code, out, _ = tx("groups", "remove", "茶叙", "李四", "--json")
    assert json.loads(out)["count"] == 1
    code, _, err = tx("groups", "save", "茶叙", "x")  # not a second group of that name
    assert code != 0
    assert tx("groups", "delete", "茶叙")[0] == 0
    assert json.loads(tx("groups", "list", "--json")[1]) == []
