"""`tongxin plugin new NAME`: a working, tested package skeleton for a county's plugin."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from crm_cli.context import out

from crm_core import __version__
from crm_core.errors import ValidationError
from crm_core.i18n import N_, _

plugin_app = typer.Typer(help=N_("Write new plugins."), no_args_is_help=True)

PYPROJECT = """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "tongxin-{dist}"
version = "0.1.0"
description = "A tongxin plugin: {name}"
requires-python = ">=3.11"
dependencies = ["tongxin>={core_version}"]

[project.optional-dependencies]
test = ["pytest>=8"]

# This one line is what makes tongxin find the plugin once it is pip-installed.
[project.entry-points."tongxin.plugins"]
{name} = "{package}"

[tool.setuptools]
packages = ["{package}"]
"""

MODULE = '''\
"""{name}: a tongxin plugin.

Adds the kind of work `{name}`. Edit the field schema, the labels and the validation
below; `tongxin kinds` shows the result. Every hook is documented in
crm_core/hookspecs.py.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field

from crm_core import hookimpl
from crm_core.errors import ValidationError
from crm_core.kinds import KindSpec
from crm_core.models import Interaction

__version__ = "0.1.0"

KIND = "{name}"


class Fields(BaseModel):
    """The fields of a `{name}` record (shown as form labels and in `tongxin kinds`)."""

    topic: str = Field(description="主题 / Topic")
    attendees: int | None = Field(default=None, description="参加人数 / Attendees")
    concerns: list[str] = Field(default_factory=list, description="反映的问题 / Concerns raised")


@hookimpl
def register_kinds(register: Callable[[KindSpec], None]) -> None:
    """Register the kind `{name}`."""
    register(
        KindSpec(
            KIND,
            "{name}",  # 中文名称: change me
            "{name}",  # English label
            Fields,
            default_duration_minutes=60,
            person_role="contact",
            account_role="host",
        )
    )


@hookimpl
def validate_interaction(interaction: Interaction, kind: KindSpec) -> None:
    """Refuse a `{name}` record whose attendance is not a positive number."""
    if kind.code != KIND:
        return
    attendees = interaction.data.get("attendees")
    if attendees is not None and attendees <= 0:
        raise ValidationError.one("data.attendees", attendees, "must be at least 1")
'''

TEST = '''\
"""Tests of the {name} plugin, on a real (throw-away) tongxin database."""

from __future__ import annotations

import pytest

import {package}
from crm_core.errors import ValidationError
from crm_core.services import contacts, interactions
from crm_core.testing import make_test_app


@pytest.fixture
def app(tmp_path):
    application = make_test_app(tmp_path, plugins={{"{name}": {package}}})
    yield application
    application.close()


def test_the_kind_is_registered_with_its_fields(app):
    kind = app.kinds["{name}"]
    assert [f["name"] for f in kind.fields()] == ["topic", "attendees", "concerns"]
    assert app.plugins.info["{name}"].status == "ok"


def test_log_one(app):
    with app.unit() as unit:
        person = contacts.create_person(unit, name="张三")
        item = interactions.log_interaction(
            unit, kind="{name}", people=[person.id], data={{"topic": "座谈", "attendees": 12}}
        )
        assert item.data == {{"topic": "座谈", "attendees": 12, "concerns": []}}


def test_a_bad_value_is_refused_and_nothing_is_written(app):
    with pytest.raises(ValidationError, match="data.attendees"):
        with app.unit() as unit:
            person = contacts.create_person(unit, name="李四")
            interactions.log_interaction(
                unit, kind="{name}", people=[person.id], data={{"topic": "座谈", "attendees": 0}}
            )
    with app.unit() as unit:  # the whole unit was rolled back: not even the person is there
        assert contacts.search_people(unit, "李四").total == 0
'''

README = """\
# tongxin-{dist}

A tongxin plugin. Install it next to tongxin and it appears in `tongxin plugins` and
`tongxin kinds`:

    pip install .
    tongxin plugins
    tongxin kinds

Test it:

    pip install ".[test]" && pytest
"""


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
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", name):
        raise ValidationError.one(
            "NAME", name, N_("use lower-case letters, digits and _, starting with a letter")
        )
    dist = name.replace("_", "-")
    package = f"tongxin_{name}"
    target = directory or Path.cwd() / f"tongxin-{dist}"
    if target.exists() and any(target.iterdir()):
        raise ValidationError.one("--dir", str(target), N_("exists and is not empty"))
    values = {"name": name, "dist": dist, "package": package, "core_version": __version__}
    files = {
        target / "pyproject.toml": PYPROJECT.format(**values),
        target / package / "__init__.py": MODULE.format(**values),
        target / "tests" / f"test_{name}.py": TEST.format(**values),
        target / "README.md": README.format(**values),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    out.print(
        _("Plugin written to {path}. Next: cd there, pip install ., tongxin plugins").format(
            path=target
        )
    )
