"""The plugin host: discovery from entry points and folders, disabling in config, and
isolation of plugins that fail to import or whose hooks raise."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from crm_core import hookimpl
from crm_core.app import Tongxin
from crm_core.config import Config, load_config
from crm_core.errors import ValidationError
from crm_core.kinds import CategorySpec, KindSpec
from crm_core.plugins import PluginFailed, PluginHost, restored_on_error
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


# -- failure rules (docs/plugins.md, "When a plugin fails") ---------------------------


class Flaky:
    """Crashes in the hooks named in ``crash``; refuses a meeting without a topic."""

    def __init__(self, crash: set[str]) -> None:
        self.crash = crash

    @hookimpl
    def validate_interaction(self, interaction, kind):  # type: ignore[no-untyped-def]
        if "validate_interaction" in self.crash:
            raise KeyError("topic")
        if kind.code == "meeting" and not interaction.data.get("topic"):
            raise ValidationError.one("data.topic", None, "say the topic")

    @hookimpl
    def register_commands(self, cli):  # type: ignore[no-untyped-def]
        if "register_commands" in self.crash:
            raise RuntimeError("no typer here")


def test_a_crashing_validator_fails_closed_and_a_refusal_is_no_failure(
    plugins: PluginHost,
) -> None:
    plugins.register(Flaky({"validate_interaction"}), "flaky")
    with pytest.raises(PluginFailed) as caught:
        plugins.call_validating("validate_interaction", interaction=None, kind=None)
    assert (caught.value.plugin, caught.value.hook) == ("flaky", "validate_interaction")
    assert "KeyError" in caught.value.text and "什么也没有写入" in caught.value.text
    assert plugins.info["flaky"].status == "failing"

    mended = PluginHost()
    mended.register(Flaky(set()), "flaky")
    meeting = KindSpec("meeting", "会面", "Meeting")
    with pytest.raises(ValidationError):
        mended.call_validating(
            "validate_interaction", interaction=type("I", (), {"data": {}})(), kind=meeting
        )
    assert mended.info["flaky"].errors == [] and mended.info["flaky"].status == "ok"


def test_a_failure_is_told_once_kept_across_runs_and_cleared_by_a_clean_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    status = tmp_path / "data" / "plugin-status.json"
    told: list[str] = []
    first = PluginHost(status_file=status)
    first.register(Flaky({"register_commands"}), "flaky")
    with first.listening(lambda f: told.append(f.message)), caplog.at_level("WARNING"):
        for _ in range(3):  # as decorate_event is called once per event
            assert first.call_collecting("register_commands", cli=None) == []
    assert told == ["插件 flaky 的 register_commands 出错，已跳过：RuntimeError: no typer here"]
    assert sum("flaky" in r.getMessage() for r in caplog.records) == 3
    assert oct(status.stat().st_mode & 0o777) == "0o600"

    second = PluginHost(status_file=status)  # the next run: the hook not called yet
    second.register(Flaky(set()), "flaky")
    kept = second.info["flaky"]
    assert kept.status == "failing"
    assert kept.last_error == "register_commands: RuntimeError: no typer here"
    assert kept.as_json()["last_error_at"] is not None and kept.errors == []
    second.call_collecting("register_commands", cli=None)  # runs cleanly: cleared
    assert (second.info["flaky"].status, second.info["flaky"].last_error) == ("ok", None)
    third = PluginHost(status_file=status)  # and stays cleared
    third.register(Flaky(set()), "flaky")
    assert third.info["flaky"].status == "ok"


def test_a_decorator_that_raises_leaves_the_event_as_it_was() -> None:
    import icalendar

    event = icalendar.Event()
    event.add("summary", "走访")
    event.add("categories", ["走访看望"])
    with pytest.raises(RuntimeError), restored_on_error(event):
        event.pop("CATEGORIES")
        event.add_component(icalendar.Alarm())
        raise RuntimeError("half done")
    assert [str(c) for c in event["categories"].cats] == ["走访看望"]
    assert event.subcomponents == []
