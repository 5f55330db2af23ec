"""`tongxin plugin new`: the generated plugin reads its own config table, whose list
becomes a field's choices in `tongxin kinds` and a drop-down in the terminal UI's form;
and the scaffold refuses names and folders in words of names and files (issue 13)."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from crm_cli.main import run
from crm_tui.app import TongxinApp
from crm_tui.screens.form import InteractionForm
from crm_tui.testing import SIZE, form_field_async, settle
from textual.widgets import Input, Select

from crm_core.app import Tongxin
from crm_core.config import load_config
from crm_core.plugins import PluginHost
from crm_core.services import contacts, interactions

NAME = "dongguan_homes"
HOMES = ["东关街委员活动之家", "个园委员活动之家"]
CONFIG = f"[plugins.{NAME}]\nhomes = {json.dumps(HOMES, ensure_ascii=False)}\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated plugin, pip-installed (with its entry point) into a folder of its own."""
    root = tmp_path_factory.mktemp("scaffold")
    target = root / f"tongxin-{NAME}"
    env = {**os.environ, "TONGXIN_LOAD_PLUGINS": ""}
    exe = str(Path(sys.executable).parent / "tongxin")
    subprocess.run([exe, "plugin", "new", NAME, "--dir", str(target)], check=True, env=env)
    site = root / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--target", str(site), str(target)], check=True)
    return site


@pytest.fixture
def plugin(site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The installed plugin's module, imported from where pip put it."""
    monkeypatch.syspath_prepend(str(site))
    module = importlib.import_module(f"tongxin_{NAME}")
    yield module
    sys.modules.pop(module.__name__, None)


def _tongxin(site: Path, tmp_path: Path, db: str, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, "utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "TONGXIN_LOAD_PLUGINS": NAME,
        "TONGXIN_CONFIG": str(config),
        "TONGXIN_DB": db,
        "COLUMNS": "200",
    }
    exe = str(Path(sys.executable).parent / "tongxin")
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True)


def test_the_generated_plugin_lists_its_config_choices_in_kinds(
    site: Path, tmp_path: Path, db_url: str
) -> None:
    listed = _tongxin(site, tmp_path, db_url, "kinds", "--json")
    assert listed.returncode == 0, listed.stderr
    kind = next(k for k in json.loads(listed.stdout) if k["code"] == NAME)
    home = next(f for f in kind["fields"] if f["name"] == "home")
    assert home["choices"] == HOMES
    shown = _tongxin(site, tmp_path, db_url, "kinds")
    assert shown.returncode == 0, shown.stderr
    assert "home (东关街委员活动之家 | 个园委员活动之家)" in shown.stdout
    plugins = _tongxin(site, tmp_path, db_url, "plugins", "--json")
    info = next(p for p in json.loads(plugins.stdout) if p["name"] == NAME)
    assert info["status"] == "ok" and "plugin_config_model" in info["hooks"]


def test_a_bad_key_in_its_table_stops_tongxin_naming_the_file_and_the_key(
    site: Path, tmp_path: Path, db_url: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[plugins.{NAME}]\nhomse = []\n", "utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "TONGXIN_LOAD_PLUGINS": NAME,
        "TONGXIN_CONFIG": str(config),
        "TONGXIN_DB": db_url,
    }
    exe = str(Path(sys.executable).parent / "tongxin")
    done = subprocess.run([exe, "kinds"], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert f"{config}：[plugins.{NAME}] homse：未知的配置项（是不是 homes？）" in done.stderr


def test_a_table_of_a_plugin_not_installed_is_a_warning_on_stderr(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "office.toml"
    config.write_text('[plugins.vists]\nregion = "宝应县"\n', "utf-8")
    monkeypatch.setenv("TONGXIN_CONFIG", str(config))
    assert run(["--db", db_url, "kinds", "--json"]) == 0
    captured = capsys.readouterr()
    assert f"{config}：[plugins.vists]：没有加载这个名字的插件" in captured.err
    assert json.loads(captured.out)  # the command itself ran


def test_the_generated_plugin_offers_its_config_choices_as_a_drop_down(
    plugin: ModuleType, tmp_path: Path, db_url: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, "utf-8")
    host = PluginHost()
    host.load(entry_points_too=False)
    host.register(plugin, NAME)
    core = Tongxin(load_config(config), db_url=db_url, plugins=host)
    try:
        with core.unit() as unit:
            person = contacts.create_person(unit, name="张三")
        # The harness the generated tests use: the field is a drop-down of the homes.
        field = asyncio.run(form_field_async(core, NAME, "home"))
        assert (field.widget, field.choices) == ("select", HOMES)
        assert field.label.startswith("活动地点")
        asyncio.run(_choose_and_save(core, str(person.id)))
        with core.unit() as unit:
            (saved,) = interactions.timeline(unit, person.id, kinds=[NAME])
            assert saved.data["home"] == "个园委员活动之家"
    finally:
        core.close()


async def _choose_and_save(core: Tongxin, person_id: str) -> None:
    """Pick the second home from the form's drop-down with the keyboard, and save."""
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_form("log", person_id=person_id, kind=NAME)
        await settle(pilot)
        form = app.screen
        assert isinstance(form, InteractionForm)
        form.query_one("#data-topic", Input).value = "界别协商"
        select = form.query_one("#data-home", Select)
        select.focus()
        await pilot.press("enter")  # opens the list: the prompt, then the homes
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert select.value == "个园委员活动之家"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, InteractionForm), "the form was not saved"


def test_the_scaffold_refuses_names_and_folders_in_words_of_names_and_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["plugin", "new", "visits", "--dir", str(tmp_path / "a")]) == 1
    err = capsys.readouterr().err
    assert "'visits'" in err and "crm_plugins.visits" in err  # an installed plugin's name
    assert not (tmp_path / "a").exists()
    assert run(["plugin", "new", "json", "--dir", str(tmp_path / "b")]) == 1
    err = capsys.readouterr().err
    assert "'json'" in err and "json/__init__.py" in err  # shadows an importable module
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("x", "utf-8")
    assert run(["plugin", "new", "tea_chats", "--dir", str(busy)]) == 1
    err = capsys.readouterr().err
    assert f"{busy}：文件夹已存在且不是空的" in err and "nothing" not in err
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]
    assert run(["plugin", "new", "Bad-Name", "--dir", str(tmp_path / "c")]) == 1
    err = capsys.readouterr().err
    assert "'Bad-Name'" in err and "=" not in err  # a name, not a field = value
