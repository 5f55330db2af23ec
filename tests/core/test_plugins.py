"""The plugin host: discovery from entry points and folders, disabling in config, and
isolation of plugins that fail to import or whose hooks raise."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from crm_core import hookimpl
from crm_core.app import Tongxin
from crm_core.config import Config, load_config
from crm_core.kinds import CategorySpec, KindSpec
from crm_core.plugins import PluginHost
from crm_core.services import contacts, interactions

GOOD = """
from crm_core import hookimpl
from crm_core.kinds import KindSpec
__version__ = "1.2"

@hookimpl
def register_kinds(register):
    register(KindSpec("tea", "茶叙", "Tea chat", default_duration_minutes=45))
"""

BROKEN_IMPORT = """
import a_module_that_does_not_exist  # the county forgot a dependency
"""


def _install_dist(site: Path, name: str, version: str, module_source: str) -> None:
    """A real installed distribution on sys.path, with a `tongxin.plugins` entry point."""
    (site / f"{name}.py").write_text(textwrap.dedent(module_source), "utf-8")
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", "utf-8"
    )
    (info / "entry_points.txt").write_text(f"[tongxin.plugins]\n{name} = {name}\n", "utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    return path


def test_entry_point_plugins_load_and_a_broken_one_is_reported_and_skipped(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_dist(site, "tx_good", "1.2", GOOD)
    _install_dist(site, "tx_broken", "0.1", BROKEN_IMPORT)
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "tx_good,tx_broken")
    host = PluginHost()
    host.load()
    good, broken = host.info["tx_good"], host.info["tx_broken"]
    assert (good.status, good.version, good.source) == ("ok", "1.2", "entry point: tx_good")
    assert good.hooks == ["register_kinds"]
    assert broken.status == "error"
    assert broken.version == "0.1"
    assert "a_module_that_does_not_exist" in (broken.last_error or "")
    assert host.pm.get_plugin("tx_broken") is None


def test_the_rest_keeps_working_beside_a_broken_plugin(
    site: Path, monkeypatch: pytest.MonkeyPatch, app: Tongxin
) -> None:
    _install_dist(site, "tx_good", "1.2", GOOD)
    _install_dist(site, "tx_broken", "0.1", BROKEN_IMPORT)
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "tx_good,tx_broken")
    host = PluginHost()
    host.load()
    with_plugins = Tongxin(app.config, engine=app.engine, plugins=host)
    assert {"tea", "call", "meeting"} <= set(with_plugins.kinds)
    with with_plugins.unit() as unit:
        person = contacts.create_person(unit, name="李明")
        logged = interactions.log_interaction(unit, kind="tea", people=[person.id])
        assert logged.end_at - logged.start_at == __import__("datetime").timedelta(minutes=45)


def test_plugins_can_be_disabled_in_config(
    site: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _install_dist(site, "tx_good", "1.2", GOOD)
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "tx_good")
    cfg = tmp_path / "county.toml"
    cfg.write_text('[plugins]\ndisabled = ["tx_good"]\n', "utf-8")
    config = load_config(cfg)
    host = PluginHost()
    host.load(disabled=config.plugins_disabled)
    assert host.info["tx_good"].status == "disabled"
    assert host.info["tx_good"].source == "entry point: tx_good"
    assert host.pm.get_plugin("tx_good") is None


def test_folder_plugins_from_config(tmp_path: Path, config: Config) -> None:
    folder = tmp_path / "county-plugins"
    folder.mkdir()
    (folder / "tea.py").write_text(textwrap.dedent(GOOD), "utf-8")
    (folder / "typo.py").write_text("def register_kinds(register) -> None\n", "utf-8")
    host = PluginHost()
    host.load(folders=[folder], entry_points_too=False)
    assert host.info["tea"].status == "ok"
    assert host.info["tea"].version == "1.2"
    assert host.info["tea"].source == f"folder: {folder / 'tea.py'}"
    assert host.info["typo"].status == "error"
    assert "SyntaxError" in (host.info["typo"].last_error or "")


def test_a_hook_with_no_spec_is_refused_with_its_name(plugins: PluginHost) -> None:
    class Misspelt:
        @hookimpl
        def register_kind(self, register):  # type: ignore[no-untyped-def]  # missing "s"
            pass

    plugins.register(Misspelt(), "misspelt")
    info = plugins.info["misspelt"]
    assert info.status == "error"
    assert "register_kind" in (info.last_error or "")
    assert plugins.pm.get_plugin("misspelt") is None


def test_a_raising_registration_hook_is_skipped_and_recorded(app: Tongxin) -> None:
    class HalfDone:
        @hookimpl
        def register_kinds(self, register):  # type: ignore[no-untyped-def]
            register(KindSpec("half", "半", "Half"))
            raise RuntimeError("forgot to finish")

    class Fine:
        @hookimpl
        def register_kinds(self, register):  # type: ignore[no-untyped-def]
            register(KindSpec("fine", "好", "Fine"))

    app.plugins.register(HalfDone(), "half_done")
    app.plugins.register(Fine(), "fine")
    app.refresh_registries()
    assert "fine" in app.kinds
    assert "half" not in app.kinds  # half a plugin is worse than none
    assert app.plugins.info["half_done"].status == "error"  # marked failed: a part is missing
    assert "forgot to finish" in (app.plugins.info["half_done"].last_error or "")
    assert app.plugins.info["fine"].status == "ok"


def test_a_kind_code_registered_twice_keeps_the_first_and_reports_the_clash(app: Tongxin) -> None:
    class Clash:
        @hookimpl
        def register_kinds(self, register):  # type: ignore[no-untyped-def]
            register(KindSpec("call", "另一个电话", "Another call"))

    app.plugins.register(Clash(), "clash")
    app.refresh_registries()
    assert app.kinds["call"].zh == "电话联系"
    assert app.kinds["call"].plugin == "crm_core.builtin_kinds"
    assert "already registered" in (app.plugins.info["clash"].last_error or "")


def test_categories_from_plugins_and_config_wins(
    tmp_path: Path, plugins: PluginHost, db_url: str
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[[categories]]\ncode = "overseas_returnees"\nzh = "留学归国人员"\nmax_days = 30\n', "utf-8"
    )

    class County:
        @hookimpl
        def register_categories(self, register):  # type: ignore[no-untyped-def]
            register(CategorySpec("overseas_returnees", "归国", "Returnees", 10, 20))
            register(CategorySpec("rural_talent", "乡土人才", "Rural talent", 45, 90))

    plugins.register(County(), "county")
    app = Tongxin(load_config(cfg), db_url=db_url, plugins=plugins)
    try:
        assert app.categories.get("overseas_returnees").zh == "留学归国人员"  # type: ignore[union-attr]
        rural = app.categories.get("rural_talent")
        assert rural is not None and rural.extra["max_days"] == 90
        with app.unit() as unit:
            p = contacts.create_person(unit, name="王乡", categories=["乡土人才"])
            assert contacts.categories_of(unit, p.id) == ["rural_talent"]
    finally:
        app.close()


def test_guarded_calls_run_the_others_when_one_raises(plugins: PluginHost) -> None:
    calls: list[str] = []

    class A:
        @hookimpl
        def register_commands(self, cli):  # type: ignore[no-untyped-def]
            calls.append("a")
            raise ValueError("boom")

    class B:
        @hookimpl
        def register_commands(self, cli):  # type: ignore[no-untyped-def]
            calls.append("b")

    plugins.register(A(), "a")
    plugins.register(B(), "b")
    results = plugins.call("register_commands", cli=object())
    assert calls == ["a", "b"]
    assert [name for name, _ in results] == ["b"]
    assert plugins.info["a"].last_error == "register_commands: ValueError: boom"
    assert [p.as_json()["name"] for p in plugins.plugins()] == ["a", "b", "crm_core.builtin_kinds"]
