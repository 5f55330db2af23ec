"""The `tongxin` command line, run in-process on a real database of each backend."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from crm_cli.main import run

from crm_core import __version__


@pytest.fixture
def tx(db_url: str, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `tongxin --db URL ARGS...`; return (exit code, stdout, stderr)."""

    def call(*args: str) -> tuple[int, str, str]:
        code = run(["--db", db_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def test_version(tx) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = tx("--version")
    assert (code, out.strip()) == (0, f"tongxin {__version__}")


def test_help_is_chinese_by_default_and_english_on_request(tx) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = tx("contacts", "--help")
    assert code == 0
    assert "查找、查看和添加联系人" in out and "命令" in out
    code, out, _ = tx("--lang", "en", "contacts", "--help")
    assert code == 0
    assert "Find, show and add contacts." in out and "Commands" in out


def test_add_then_search_by_initials_as_json(tx) -> None:  # type: ignore[no-untyped-def]
    for name in ("张三丰", "张三", "赵四", "李四"):
        assert tx("contacts", "add", "--name", name)[0] == 0
    code, out, _ = tx("contacts", "search", "zs", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["query"] == "zs" and data["total"] == 3
    names = [r["name"] for r in data["results"]]
    assert set(names[:2]) == {"张三", "赵四"} and names[2] == "张三丰"  # exact initials first
    assert all(r["initials"].startswith("zs") for r in data["results"])
    assert set(data["results"][0]) == {
        "id", "name", "pinyin", "initials", "gender", "sector", "party", "region",
        "employer", "title", "membership", "categories",
    }  # fmt: skip


def test_show_by_name_and_json(tx) -> None:  # type: ignore[no-untyped-def]
    tx("contacts", "add", "--name", "欧阳修", "--party", "民盟", "--mobile", "+86 139-0000-1111",
       "--category", "党外知识分子", "--committee", "提案委员会")  # fmt: skip
    code, out, _ = tx("contacts", "show", "oyx")
    assert code == 0
    assert "欧阳修" in out and "民盟" in out and "139 0000 1111" in out and "党外知识分子" in out
    code, out, _ = tx("contacts", "show", "欧阳修", "--json")
    data = json.loads(out)
    assert (data["party"], data["mobile"], data["categories"], data["committees"]) == (
        "cdl", "+8613900001111", ["non_party_intellectual"], ["proposals"],
    )  # fmt: skip
    assert data["recent"] == []


def test_bad_input_is_refused_naming_field_and_value_and_nothing_written(tx) -> None:  # type: ignore[no-untyped-def]
    code, _, err = tx("contacts", "add", "--name", "李四", "--gender", "未知", "--birth", "1965-13")
    assert code == 1
    assert "gender = '未知'" in err and "birth = '1965-13'" in err and "未写入" in err
    code, out, _ = tx("contacts", "search", "李四", "--json")
    assert json.loads(out)["total"] == 0


def test_ambiguous_and_missing_people(tx) -> None:  # type: ignore[no-untyped-def]
    tx("contacts", "add", "--name", "王芳", "--employer", "扬州大学")
    tx("contacts", "add", "--name", "王芳", "--employer", "苏北人民医院")
    code, _, err = tx("contacts", "show", "王芳")
    assert code == 1 and "扬州大学" in err and "苏北人民医院" in err
    code, _, err = tx("contacts", "show", "nobody")
    assert code == 1 and "nobody" in err


def test_db_current_and_plugins_json(tx) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = tx("db", "current", "--json")
    assert code == 0 and json.loads(out)["revision"] == json.loads(out)["head"]
    code, out, _ = tx("plugins", "--json")
    assert code == 0
    core = next(p for p in json.loads(out) if p["name"] == "crm_core.builtin_kinds")
    assert core == {
        "name": "crm_core.builtin_kinds", "version": None, "source": "core", "status": "ok",
        "hooks": ["collect_follow_ups", "register_kinds"], "last_error": None,
        "last_error_at": None,
    }  # fmt: skip


def test_a_broken_plugin_warns_and_the_rest_works(
    tx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "broken.py").write_text("raise ImportError('missing dependency xlrd')\n", "utf-8")
    (folder / "hello.py").write_text(
        textwrap.dedent(
            """
            import typer
            from crm_core import hookimpl

            @hookimpl
            def register_commands(cli):
                @cli.command("hello")
                def hello() -> None:
                    print("你好")
            """
        ),
        "utf-8",
    )
    (folder / "raising.py").write_text(
        "from crm_core import hookimpl\n\n"
        "@hookimpl\ndef register_commands(cli):\n    raise RuntimeError('oops')\n",
        "utf-8",
    )
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f'[plugins]\nfolders = ["{folder}"]\n', "utf-8")
    monkeypatch.setenv("TONGXIN_CONFIG", str(cfg))
    code, out, err = tx("hello")
    assert (code, out.strip()) == (0, "你好")
    assert "broken" in err and "xlrd" in err and "raising" in err and "oops" in err
    code, out, _ = tx("plugins", "--json")
    status = {p["name"]: p["status"] for p in json.loads(out)}
    assert (
        status["broken"] == "error" and status["raising"] == "failing" and status["hello"] == "ok"
    )


def test_unreachable_database_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["--db", "postgresql://nobody@127.0.0.1:1/none", "contacts", "search", "x"])
    err = capsys.readouterr().err
    assert code == 1 and "无法使用数据库" in err and "Traceback" not in err


def test_console_script_runs_in_a_fresh_process(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "tongxin"
    result = subprocess.run(
        [str(exe), "--db", str(tmp_path / "fresh.db"), "contacts", "search", "zs", "--json"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"] == 0
