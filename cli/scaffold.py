"""`tongxin plugin new NAME`: a working, tested package skeleton for a county's plugin.

The package has one kind of work whose field ``home`` takes its choices from the plugin's
own config table ``[plugins.NAME]``, a validation hook whose message is in the plugin's own
gettext catalog (``locale/zh_CN/LC_MESSAGES/NAME.po``), a person-page panel, a dashboard
card and a palette command, and tests of each (the UI ones headless, through
:mod:`crm_tui.testing`). A name that is already an installed plugin's, or an importable
module's, is refused: the new plugin would hide it or be hidden by it.
"""

from __future__ import annotations

import importlib.util
import re
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

import typer
from crm_cli.context import out

from crm_core import __version__
from crm_core.errors import TongxinError
from crm_core.i18n import N_, _
from crm_core.plugins import ENTRY_POINT_GROUP

plugin_app = typer.Typer(help=N_("Write new plugins."), no_args_is_help=True)


class ScaffoldError(TongxinError):
    """The plugin cannot be written: a bad or taken name, or a folder in the way. The
    message names the name or the file."""


PYPROJECT = """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "tongxin-@@dist@@"
version = "0.1.0"
description = "A tongxin plugin: @@name@@"
requires-python = ">=3.11"
dependencies = ["tongxin>=@@core_version@@"]

[project.optional-dependencies]
test = ["pytest>=8"]

# This one line is what makes tongxin find the plugin once it is pip-installed.
[project.entry-points."tongxin.plugins"]
@@name@@ = "@@package@@"

[tool.setuptools]
packages = ["@@package@@"]

# The plugin's own translations (gettext domain "@@name@@"), installed with it.
[tool.setuptools.package-data]
@@package@@ = ["locale/*/LC_MESSAGES/*.po", "locale/*/LC_MESSAGES/*.mo"]
"""

MODULE = '''\
"""@@name@@: a tongxin plugin.

Adds the kind of work `@@name@@`, whose field `home` takes its choices from this plugin's
own table in config.toml:

    [plugins.@@name@@]
    homes = ["东关街委员活动之家", "个园委员活动之家"]

and a person-page panel, a dashboard card and a palette command. Edit the field schema,
the labels and the validation below; `tongxin kinds` shows the result. Every hook is
documented in crm_core/hookspecs.py. Messages marked N_() are translated in
locale/zh_CN/LC_MESSAGES/@@name@@.po, this plugin's own catalog.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field

# crm_core.api is everything a plugin may use (docs/plugins.md, "What a plugin may use").
from crm_core.api import (
    N_,
    CardSpec,
    Interaction,
    KindSpec,
    PaletteCommandSpec,
    PanelSpec,
    Person,
    Unit,
    ValidationError,
    hookimpl,
    timeline,
)

__version__ = "0.1.0"

KIND = "@@name@@"
LABEL = "@@name@@"  # 中文名称: change me


class Config(BaseModel):
    """This plugin's table `[plugins.@@name@@]` of config.toml. An unknown key or a bad
    value there stops tongxin with the file and the key named."""

    homes: list[str] = Field(default_factory=list, description="活动地点 / Places")


class Fields(BaseModel):
    """The fields of a `@@name@@` record (shown as form labels and in `tongxin kinds`)."""

    topic: str = Field(max_length=100, description="主题 / Topic")
    home: str | None = Field(default=None, description="活动地点 / Place")
    attendees: int | None = Field(default=None, description="参加人数 / Attendees")
    concerns: list[str] = Field(default_factory=list, description="反映的问题 / Concerns raised")


@hookimpl
def plugin_config_model() -> type[BaseModel]:
    """The shape of `[plugins.@@name@@]`."""
    return Config


@hookimpl
def register_kinds(register: Callable[[KindSpec], None], plugin_config: Config) -> None:
    """Register the kind `@@name@@`; its places are the config's `homes`."""
    register(
        KindSpec(
            KIND,
            LABEL,
            "@@name@@",  # English label
            Fields,
            default_duration_minutes=60,
            person_role="contact",
            account_role="host",
            choices={"home": plugin_config.homes},
        )
    )


@hookimpl
def validate_interaction(interaction: Interaction, kind: KindSpec) -> None:
    """Refuse a `@@name@@` record whose attendance is not a positive number."""
    if kind.code != KIND:
        return
    attendees = interaction.data.get("attendees")
    if attendees is not None and attendees <= 0:
        raise ValidationError.one(
            "data.attendees",
            attendees,
            N_("the attendance must be at least 1, not {n}"),
            n=attendees,
        )


@hookimpl
def register_panels(register: Callable[[PanelSpec], None]) -> None:
    """A panel on each person's page: how many `@@name@@` records they have."""

    def count(unit: Unit, person: Person) -> str:
        n = len(timeline(unit, person.id, kinds=[KIND]))
        return f"{LABEL}：{n} 次"

    register(PanelSpec("@@name@@_count", LABEL, "@@name@@", count))


@hookimpl
def register_dashboard_cards(register: Callable[[CardSpec], None], plugin_config: Config) -> None:
    """A dashboard card: how many places config lists."""
    n = len(plugin_config.homes)
    register(CardSpec("@@name@@_places", "活动地点", "Places", lambda unit: f"{n} 处"))


@hookimpl
def register_palette_commands(
    register: Callable[[PaletteCommandSpec], None], plugin_config: Config
) -> None:
    """A palette command (Ctrl+P) listing the places."""

    def places(unit: Unit) -> str:
        return "\\n".join(plugin_config.homes) or "未配置活动地点"

    code = "@@name@@_places"
    register(PaletteCommandSpec(code, LABEL, "@@name@@", "活动地点", "Places", places))
'''

CATALOG = """\
# The @@name@@ plugin's own translations (gettext domain "@@name@@").
# Add an entry for every message marked N_() or _() in the package; tongxin reads this
# file as it is (compiling it to a .mo beside it with `pybabel compile` is optional).
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: zh_CN\\n"

msgid "the attendance must be at least 1, not {n}"
msgstr "参加人数至少为 1，不能是 {n}"
"""

TEST = '''\
"""Tests of the @@name@@ plugin, on a real (throw-away) tongxin database; the panel,
the card, the palette command and the form are run headless, on the real screens."""

from __future__ import annotations

import pytest
from crm_tui.testing import card, form_field, palette_command, panel

import @@package@@
from crm_core.errors import ConfigError, ValidationError
from crm_core.services import contacts, interactions
from crm_core.testing import make_test_app

HOMES = ["东关街委员活动之家", "个园委员活动之家"]
CONFIG = '[plugins.@@name@@]\\nhomes = ["东关街委员活动之家", "个园委员活动之家"]\\n'


@pytest.fixture
def app(tmp_path):
    application = make_test_app(
        tmp_path, plugins={"@@name@@": @@package@@}, config_text=CONFIG
    )
    yield application
    application.close()


def test_the_kind_is_registered_with_its_fields_and_config_choices(app):
    kind = app.kinds["@@name@@"]
    assert [f["name"] for f in kind.fields()] == ["topic", "home", "attendees", "concerns"]
    assert kind.choices_of("home") == HOMES
    assert app.plugins.info["@@name@@"].status == "ok"


def test_log_one(app):
    with app.unit() as unit:
        person = contacts.create_person(unit, name="张三")
        item = interactions.log_interaction(
            unit,
            kind="@@name@@",
            people=[person.id],
            data={"topic": "座谈", "home": HOMES[0], "attendees": 12},
        )
        assert item.data == {"topic": "座谈", "home": HOMES[0], "attendees": 12, "concerns": []}


def test_a_bad_value_is_refused_in_chinese_and_nothing_is_written(app):
    with pytest.raises(ValidationError) as caught:
        with app.unit() as unit:
            person = contacts.create_person(unit, name="李四")
            interactions.log_interaction(
                unit,
                kind="@@name@@",
                people=[person.id],
                data={"topic": "座谈", "attendees": 0},
            )
    (error,) = caught.value.errors
    assert error.field == "data.attendees"
    assert error.text == "参加人数至少为 1，不能是 0"  # from this plugin's own catalog
    with app.unit() as unit:  # the whole unit was rolled back: not even the person is there
        assert contacts.search_people(unit, "李四").total == 0


def test_a_missing_topic_and_a_place_not_in_config_are_refused(app):
    with pytest.raises(ValidationError) as caught:
        with app.unit() as unit:
            person = contacts.create_person(unit, name="王五")
            interactions.log_interaction(unit, kind="@@name@@", people=[person.id], data={})
    assert [(e.field, e.value, e.text) for e in caught.value.errors] == [
        ("data.topic", None, "必填")
    ]
    with pytest.raises(ValidationError) as caught:
        with app.unit() as unit:
            person = contacts.create_person(unit, name="王五")
            interactions.log_interaction(
                unit,
                kind="@@name@@",
                people=[person.id],
                data={"topic": "座谈", "home": "别处"},
            )
    assert [(e.field, e.value) for e in caught.value.errors] == [("data.home", "别处")]


def test_a_bad_config_key_stops_with_the_file_and_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"\\[plugins.@@name@@\\] homse"):
        make_test_app(
            tmp_path,
            plugins={"@@name@@": @@package@@},
            config_text="[plugins.@@name@@]\\nhomse = []\\n",
        )


def test_the_form_offers_the_places_as_a_drop_down(app):
    field = form_field(app, "@@name@@", "home")
    assert (field.widget, field.choices) == ("select", HOMES)


def test_the_panel_counts_a_persons_records(app):
    with app.unit() as unit:
        person = contacts.create_person(unit, name="张三")
        interactions.log_interaction(
            unit, kind="@@name@@", people=[person.id], data={"topic": "座谈"}
        )
    shown = panel(app, person.id, "@@name@@_count")
    assert shown is not None and not shown.error
    assert shown.text == "@@name@@：1 次"


def test_the_card_and_the_palette_command(app):
    with app.unit() as unit:  # an empty database shows a welcome instead of the dashboard
        contacts.create_person(unit, name="张三")
    shown = card(app, "@@name@@_places")
    assert shown is not None and (shown.title, shown.text) == ("活动地点", "2 处")
    ran = palette_command(app, "@@name@@_places")
    assert ran.errors == [] and ran.output == "\\n".join(HOMES)
'''

README = """\
# tongxin-@@dist@@

A tongxin plugin. Install it next to tongxin and it appears in `tongxin plugins` and
`tongxin kinds`:

    pip install .
    tongxin plugins
    tongxin kinds

Its places (the choices of the field `home`) come from the office's config.toml:

    [plugins.@@name@@]
    homes = ["东关街委员活动之家", "个园委员活动之家"]

Its Chinese messages are in `@@package@@/locale/zh_CN/LC_MESSAGES/@@name@@.po`.

Test it:

    pip install ".[test]" && pytest
"""

NAME_RULE = N_(
    "{name!r} cannot be a plugin name: use lower-case letters, digits and _, starting with "
    "a letter (e.g. baoying_visits)"
)
TAKEN = N_(
    "{name!r} is already the name of an installed plugin ({value}); choose another name, "
    "or the two would hide each other"
)
SHADOWS = N_("{name!r} would shadow the importable module {module} ({path}); choose another name")
NOT_EMPTY = N_(
    "{path}: the folder exists and is not empty; nothing was written (choose another "
    "folder with --dir)"
)
CANNOT_WRITE = N_("{path}: cannot be written: {error}")


def _render(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace(f"@@{key}@@", value)
    return template


def check_name(name: str) -> None:
    """Refuse (:class:`ScaffoldError`) a name that is not a plugin name, one an installed
    plugin has, or one that is an importable module (as ``NAME`` or ``tongxin_NAME``)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", name):
        raise ScaffoldError.of(NAME_RULE, name=name)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            raise ScaffoldError.of(TAKEN, name=name, value=ep.value)
    for module in (name, f"tongxin_{name}"):
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        if spec is not None:
            where = spec.origin or ", ".join(spec.submodule_search_locations or []) or "?"
            raise ScaffoldError.of(SHADOWS, name=name, module=module, path=where)


def new_plugin(
    name: Annotated[
        str,
        typer.Argument(
            help=N_("Plugin name: lower-case letters, digits and _, e.g. baoying_visits.")
        ),
    ],
    directory: Annotated[
        Path | None, typer.Option("--dir", help=N_("Where to write it (default: ./tongxin-NAME)."))
    ] = None,
) -> None:
    """Write a plugin package skeleton."""
    check_name(name)
    dist = name.replace("_", "-")
    package = f"tongxin_{name}"
    target = directory or Path.cwd() / f"tongxin-{dist}"
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError.of(NOT_EMPTY, path=target)
    values = {"name": name, "dist": dist, "package": package, "core_version": __version__}
    locale = target / package / "locale" / "zh_CN" / "LC_MESSAGES"
    files = {
        target / "pyproject.toml": PYPROJECT,
        target / package / "__init__.py": MODULE,
        locale / f"{name}.po": CATALOG,
        target / "tests" / f"test_{name}.py": TEST,
        target / "README.md": README,
    }
    for path, template in files.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_render(template, values), "utf-8")
        except OSError as exc:
            raise ScaffoldError.of(CANNOT_WRITE, path=path, error=exc.strerror or exc) from exc
    out.print(
        _("Plugin written to {path}. Next: cd there, pip install ., tongxin plugins").format(
            path=target
        )
    )
