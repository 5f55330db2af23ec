"""A plugin's own config table ``[plugins.NAME]``: validated by the model the plugin
declares, passed to its hooks as ``plugin_config``, and able to give a field its choices;
and the schema's errors in the user's language (issue 13, items 2 and 5)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import BaseModel, Field

from crm_core import hookimpl
from crm_core.app import Tongxin
from crm_core.config import load_config
from crm_core.errors import ConfigError, ValidationError
from crm_core.i18n import set_language
from crm_core.kinds import KindSpec
from crm_core.plugins import PluginHost
from crm_core.services import contacts, interactions
from crm_core.testing import make_test_app

HOMES = '[plugins.homes]\nhomes = ["东关街委员活动之家", "个园委员活动之家"]\n'


class HomesConfig(BaseModel):
    """The plugin's table: the homes of the county, and the smallest attendance."""

    homes: list[str] = []
    min_attendees: int = Field(default=1, ge=1)


class HomeFields(BaseModel):
    """An activity at a home."""

    home: str = Field(description="活动之家 / Home")
    attendees: int = Field(ge=1, le=500, description="参加人数 / Attendees")
    theme: str = Field(default="", max_length=20, description="主题 / Theme")


class HomesPlugin:
    """A county plugin whose kind's field ``home`` takes its choices from config."""

    seen: ClassVar[list[object]] = []

    @hookimpl
    def plugin_config_model(self) -> type[BaseModel]:
        return HomesConfig

    @hookimpl
    def register_kinds(
        self, register: Callable[[KindSpec], None], plugin_config: HomesConfig
    ) -> None:
        register(
            KindSpec(
                "home_activity",
                "委员活动之家活动",
                "Home activity",
                HomeFields,
                choices={"home": plugin_config.homes},
            )
        )

    @hookimpl
    def validate_interaction(self, interaction: object, plugin_config: HomesConfig) -> None:
        self.seen.append(plugin_config)


class PlainPlugin:
    """A plugin that declares no model: it gets its table as a dict."""

    got: ClassVar[list[object]] = []

    @hookimpl
    def register_kinds(self, register: Callable[[KindSpec], None], plugin_config: object) -> None:
        self.got.append(plugin_config)


@pytest.fixture
def homes_app(db_url: str, tmp_path: Path) -> Iterator[Tongxin]:
    """The homes plugin with its table, on both backends."""
    config_file = tmp_path / "config.toml"
    config_file.write_text(HOMES, "utf-8")
    host = PluginHost()
    host.load(entry_points_too=False)
    host.register(HomesPlugin(), "homes")
    application = Tongxin(load_config(config_file), db_url=db_url, plugins=host)
    yield application
    application.close()


def test_the_config_list_becomes_the_fields_choices(homes_app: Tongxin) -> None:
    kind = homes_app.kinds["home_activity"]
    home = next(f for f in kind.fields() if f["name"] == "home")
    assert home["choices"] == ["东关街委员活动之家", "个园委员活动之家"]
    assert next(f for f in kind.fields() if f["name"] == "theme")["choices"] == []


def test_a_value_outside_the_choices_is_refused_in_chinese_and_nothing_is_written(
    homes_app: Tongxin,
) -> None:
    with pytest.raises(ValidationError) as caught, homes_app.unit() as unit:
        person = contacts.create_person(unit, name="周七")
        interactions.log_interaction(
            unit,
            kind="home_activity",
            people=[person.id],
            data={"home": "不存在之家", "attendees": 5},
        )
    (error,) = caught.value.errors
    assert (error.field, error.value) == ("data.home", "不存在之家")
    assert error.text == "必须是以下之一：东关街委员活动之家, 个园委员活动之家"
    with homes_app.unit() as unit:
        assert contacts.search_people(unit, "周七").total == 0


def test_every_hook_gets_the_validated_config(homes_app: Tongxin) -> None:
    HomesPlugin.seen.clear()
    with homes_app.unit() as unit:
        person = contacts.create_person(unit, name="周七")
        interactions.log_interaction(
            unit,
            kind="home_activity",
            people=[person.id],
            data={"home": "个园委员活动之家", "attendees": 5},
        )
    (seen,) = HomesPlugin.seen
    assert isinstance(seen, HomesConfig) and seen.min_attendees == 1


def test_an_unknown_key_is_a_config_error_naming_file_and_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        make_test_app(
            tmp_path,
            plugins={"homes": HomesPlugin()},
            config_text='[plugins.homes]\nhomse = ["东关街委员活动之家"]\n',
        )
    text = str(caught.value)
    assert "tongxin-test-config.toml: [plugins.homes] homse: unknown key" in text
    assert "did you mean homes?" in text


def test_a_bad_value_is_a_config_error_naming_file_key_and_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        make_test_app(
            tmp_path,
            plugins={"homes": HomesPlugin()},
            config_text='[plugins.homes]\nhomes = ["东关街委员活动之家", 3]\nmin_attendees = 0\n',
        )
    assert "tongxin-test-config.toml: [plugins.homes] homes[2] = 3" in str(caught.value)
    assert "不是文字" in caught.value.text or "not a text" in str(caught.value)


def test_a_table_of_a_plugin_not_loaded_is_a_warning_not_an_error(tmp_path: Path) -> None:
    app = make_test_app(
        tmp_path,
        plugins={"homes": HomesPlugin()},
        config_text=HOMES + "[plugins.vists]\nregion = 1\n",
    )
    try:
        (warning,) = app.plugins.config_warnings
        assert "tongxin-test-config.toml" in warning and "[plugins.vists]" in warning
        assert app.kinds["home_activity"].choices["home"][0] == "东关街委员活动之家"
    finally:
        app.close()


def test_the_table_of_a_disabled_plugin_is_kept_silently(tmp_path: Path) -> None:
    app = make_test_app(
        tmp_path,
        config_text='[plugins]\ndisabled = ["visits"]\n[plugins.visits]\nregion = 1\n',
    )
    try:
        assert app.plugins.config_warnings == []
    finally:
        app.close()


def test_a_plugin_without_a_model_gets_its_table_as_a_dict(tmp_path: Path) -> None:
    PlainPlugin.got.clear()
    app = make_test_app(
        tmp_path, plugins={"plain": PlainPlugin()}, config_text="[plugins.plain]\nx = 1\n"
    )
    try:
        assert app.kinds  # registration ran
        assert PlainPlugin.got == [{"x": 1}]
    finally:
        app.close()


def test_schema_errors_are_in_chinese_and_a_missing_field_is_that_field() -> None:
    kind = KindSpec("home_activity", "活动", "Activity", HomeFields)
    with pytest.raises(ValidationError) as caught:
        kind.validate_data({"attendees": 0, "theme": "很" * 21})
    by_field = {e.field: e for e in caught.value.errors}
    assert by_field["data.home"].value is None
    assert by_field["data.home"].text == "必填"
    assert by_field["data.attendees"].text == "不能小于 1"
    assert by_field["data.theme"].text == "最多 20 个字符"
    with pytest.raises(ValidationError) as caught:
        kind.validate_data({"home": "x", "attendees": "很多"})
    assert caught.value.errors[0].text == "不是整数"
    set_language("en")
    assert caught.value.errors[0].text == "not a whole number"


PLUGIN_SOURCE = """
from crm_core import hookimpl
from crm_core.errors import ValidationError
from crm_core.i18n import N_


@hookimpl
def validate_interaction(interaction, kind):
    if interaction.data.get("topic") == "禁":
        raise ValidationError.one("data.topic", "禁", N_("this topic is not allowed here"))
"""


def _plugin_package(root: Path, package_name: str, domain: str, po: str) -> None:
    package = root / package_name
    (package / "locale" / "zh_CN" / "LC_MESSAGES").mkdir(parents=True)
    (package / "__init__.py").write_text(PLUGIN_SOURCE, "utf-8")
    (package / "locale" / "zh_CN" / "LC_MESSAGES" / f"{domain}.po").write_text(po, "utf-8")


def test_a_plugin_ships_its_own_catalog_and_its_messages_are_shown_in_chinese(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    po = (
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "this topic is not allowed here"\nmsgstr "这里不能用这个主题"\n'
    )
    # The catalog's domain is the plugin's name, not its package's.
    _plugin_package(tmp_path / "site", "tongxin_catalog_test", "catalog_test", po)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    import tongxin_catalog_test  # type: ignore[import-not-found]

    host = PluginHost()
    host.load(entry_points_too=False)
    host.register(tongxin_catalog_test, "catalog_test")
    app = Tongxin(load_config(), db_url=db_url, plugins=host)
    try:
        with pytest.raises(ValidationError) as caught, app.unit() as unit:
            person = contacts.create_person(unit, name="周七")
            interactions.log_interaction(
                unit, kind="meeting", people=[person.id], data={"topic": "禁"}
            )
        assert caught.value.errors[0].text == "这里不能用这个主题"
        # The core's own messages still come from the core's catalog, however often the
        # language is switched (the plugins' catalogs do not pile up).
        for _ in range(3):
            set_language("zh")
        assert caught.value.errors[0].text == "这里不能用这个主题"
        assert KindSpec("x", "x", "x", HomeFields).fields()  # the core works on
        set_language("en")
        assert caught.value.errors[0].text == "this topic is not allowed here"
    finally:
        app.close()
        sys.modules.pop("tongxin_catalog_test", None)
