"""`tongxin import` and `tongxin export` as the office runs them, in Chinese, on each
backend."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from crm_cli.main import run
from openpyxl import load_workbook

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
XLSX = DATA / "sample-roster.xlsx"


@pytest.fixture
def tx(db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run `tongxin --db URL ARGS...` with the office's config; (exit code, out, err)."""
    monkeypatch.setenv("TONGXIN_CONFIG", str(DATA / "office-config.toml"))

    def call(*args: str) -> tuple[int, str, str]:
        code = run(["--db", db_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def people(tx) -> list[str]:  # type: ignore[no-untyped-def]
    code, out, _ = tx("contacts", "search", "", "--limit", "1000", "--json")
    assert code == 0
    return sorted(r["name"] for r in json.loads(out)["results"])


def test_import_the_sample_roster_in_chinese(tx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    errors = tmp_path / "待改正.xlsx"
    code, out, err = tx("import", str(XLSX), "--errors", str(errors))
    assert code == 4, err  # three rows refused: scripts are told (docs/cli-json.md)
    assert "表头在第 3 行" in out
    assert "新增 40；文件内重复 2；未导入 3" in out
    assert "第 8 行，出生年月 '1970.00'：没有 00 月（应为 1–12）" in out
    assert "第 42 行，手机 '138001380'：手机号应为 11 位，这里是 9 位" in out
    assert "第 43 行，性别 '未知'：性别应为“男”或“女”" in out
    assert "第 48 行 韦涛玲：姓名和出生年月与第 22 行相同，文件内重复" in out
    assert "第 24 行 (空行)" in out and "第 25 行 (重复的表头)" in out
    assert "界别 '科技界' → 科学技术界" in out
    assert f"未导入的行已写入 {errors}" in out
    ws = load_workbook(errors).active
    assert ws is not None
    assert [c.value for c in ws[1]][-2:] == ["原行号", "错误说明"]
    assert [r[-2].value for r in ws.iter_rows(min_row=2)] == [8, 42, 43]
    assert len(people(tx)) == 40 and "廖𠇔柏" in people(tx)
    # Again: nothing changes.
    code, out, _ = tx("import", str(XLSX), "--json")
    data = json.loads(out)
    assert data["totals"] == {
        "create": 0, "update": 0, "unchanged": 40, "duplicate": 2, "skip": 0, "refuse": 3,
        "left_out": 0, "pending": 0,
    }  # fmt: skip
    assert data["errors"][0] == {
        "row": 8, "column": "出生年月", "value": "1970.00", "reason": "没有 00 月（应为 1–12）",
    }  # fmt: skip
    assert {r["row"]: r["duplicate_of"] for r in data["rows"] if r["action"] == "duplicate"} == {
        48: "row 22",
        50: "row 12",
    }


def test_dry_run_and_ask_without_a_terminal_write_nothing(tx) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = tx("import", str(DATA / "sample-roster-gb18030.csv"), "--dry-run")
    assert code == 4 and "编码：gb18030" in out and "新增 40" in out
    assert "试运行" in out or "未写入" in out
    assert people(tx) == []
    code, _, err = tx("import", str(XLSX), "--on-duplicate", "ask")
    assert code == 1 and "--on-duplicate ask" in err and "未写入任何内容" in err
    assert people(tx) == []


def test_map_and_unknown_columns(tx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "名单.csv"
    with path.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(
            [["名字", "联系人电话", "籍贯"], ["张三", "13800138000", "扬州"], ["李四", "", "镇江"]]
        )
    code, out, err = tx("import", str(path), "--map", "联系人电话=mobile", "--membership", "member")
    assert code == 0, err
    assert "未识别的列（作为附加字段保存）：籍贯" in out
    code, out, _ = tx("contacts", "show", "张三", "--json")
    data = json.loads(out)
    assert (data["mobile"], data["membership"]) == ("+8613800138000", "member")
    code, _, err = tx("import", str(path), "--map", "联系人电话")
    assert code == 1 and "HEADER=field" in err


def test_exports(tx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tx("import", str(XLSX))
    code, out, _ = tx("export", "people", "--category", "宗教界人士", "-o", str(tmp_path / "p.csv"))
    assert code == 0 and "人写入" in out
    with (tmp_path / "p.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:4] == ["姓名", "拼音", "性别", "出生年月"]
    assert all("宗教界人士" in r[rows[0].index("联系对象类别")] for r in rows[1:]) and len(rows) > 5
    code, out, _ = tx("export", "people", "-o", str(tmp_path / "p.xlsx"))
    assert code == 0 and "已将 40 人写入" in out
    code, out, _ = tx("export", "vcf", "-o", str(tmp_path / "p.vcf"), "--region", "高邮市")
    assert code == 0 and "位联系人写入" in out
    assert (tmp_path / "p.vcf").read_bytes().count(b"BEGIN:VCARD\r\n") > 0
    code, out, _ = tx(
        "export", "interactions", "--from", "2026-01-01", "--to", "2026-12-31",
        "-o", str(tmp_path / "w.xlsx"),
    )  # fmt: skip
    assert code == 0 and "条工作记录写入" in out
    code, _, err = tx("export", "people", "-o", str(tmp_path / "p.pdf"))
    assert code == 1 and "p.pdf" in err


def test_ask_prompts_for_each_duplicate_on_a_terminal(tx, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    tx("contacts", "add", "--name", "韦涛玲", "--birth", "1967-01")  # the roster has more
    tx("contacts", "add", "--name", "林宁", "--birth", "1968-08")
    master, slave = pty.openpty()
    env = {**os.environ, "TONGXIN_CONFIG": str(DATA / "office-config.toml"), "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "crm_cli.main", "--db", db_url, "import", str(XLSX),
         "--on-duplicate", "ask"],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    # Answer each prompt by the row it names, not by arrival order: a prompt printed
    # again (Rich re-asks after input it did not take) gets the same answer.
    answers = {20: b"u\n", 22: b"s\n"}  # row 20 林宁: update; row 22 韦涛玲: skip
    asked: list[int] = []
    answered_up_to = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the other side closed: the command ended
                break
            if not chunk:
                break
            seen += chunk
            while (at := seen.find(b"[u/s]", answered_up_to)) != -1:
                rows = re.findall(r"第 (\d+) 行", seen[:at].decode("utf-8", "replace"))
                row = int(rows[-1]) if rows else -1
                asked.append(row)
                os.write(master, answers.get(row, b"s\n"))
                answered_up_to = at + len(b"[u/s]")
        elif proc.poll() is not None:
            break
    if proc.poll() is None:
        proc.kill()
    assert proc.wait(timeout=60) == 4, seen.decode("utf-8", "replace")  # 3 rows refused
    os.close(master)
    text = seen.decode("utf-8", "replace")
    # One question per stored person the file changes (row 48 repeats 韦涛玲: not asked
    # again), with labels, not codes.
    assert sorted(set(asked)) == [20, 22], text
    assert "第 20 行：林宁 已有记录" in text and "第 22 行：韦涛玲 已有记录" in text
    assert "党派: — → 民建" in text and "性别: — → 男" in text
    _, out, _ = tx("contacts", "show", "林宁", "--json")
    assert json.loads(out)["employer"] == "大明寺总经理"  # updated (u)
    _, out, _ = tx("contacts", "show", "韦涛玲", "--json")
    assert json.loads(out)["employer"] is None  # skipped (s)


def test_the_aliases_of_the_shipped_config_are_read_by_contacts_search_and_bulk(  # type: ignore[no-untyped-def]
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """经开区 (an alias of the shipped Yangzhou config's 经济技术开发区) is read as that zone
    by `contacts add`, the --region filter and `bulk set`, as by the import."""

    def call(*args: str) -> tuple[int, str, str]:
        code = run(["--db", db_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    code, out, err = call("contacts", "add", "--name", "王经开", "--region", "经开区", "--json")
    assert code == 0, err
    assert json.loads(out)["region"] == "development_zone"
    code, _, err = call("contacts", "add", "--name", "李瘦西", "--region", "瘦西湖景区")
    assert code == 0, err
    code, out, err = call("contacts", "search", "", "--region", "扬州开发区", "--json")
    assert code == 0, err
    assert [r["name"] for r in json.loads(out)["results"]] == ["王经开"]
    code, out, err = call("bulk", "set", "region", "开发区", "--query", "李瘦西")
    assert code == 0, (out, err)
    code, out, _ = call("contacts", "search", "", "--region", "development_zone", "--json")
    assert sorted(r["name"] for r in json.loads(out)["results"]) == ["李瘦西", "王经开"]
    code, _, err = call("contacts", "add", "--name", "钱四", "--region", "经开")
    assert code == 1 and "经开" in err
