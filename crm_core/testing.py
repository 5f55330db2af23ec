"""Helpers for testing plugins: a real tongxin on a throw-away SQLite file.

A county plugin's tests (and those ``tongxin plugin new`` writes) use::

    from crm_core.testing import make_test_app

    def test_my_kind(tmp_path):
        app = make_test_app(
            tmp_path,
            plugins={"my_plugin": my_plugin},
            config_text='[plugins.my_plugin]\nhomes = ["东关街委员活动之家"]\n',
        )
        with app.unit() as unit:
            ...

What a plugin adds to the terminal UI (panels, cards, palette commands, form fields) is
tested headless with :mod:`crm_tui.testing` on the same app. Both are documented in
``docs/plugins.md`` ("Test harness").
"""

from __future__ import annotations

from pathlib import Path

from crm_core.app import Tongxin
from crm_core.config import load_config
from crm_core.plugins import PluginHost


def make_test_app(
    folder: Path, *, plugins: dict[str, object] | None = None, config_text: str = ""
) -> Tongxin:
    """A Tongxin on a new SQLite database in ``folder``, with the core plugins and
    ``plugins`` (name → module or object) registered; ``config_text`` is the office
    config file's content (TOML), ``[plugins.NAME]`` tables included: they are
    validated by each plugin's model, so a bad one raises
    :class:`crm_core.errors.ConfigError` here, as tongxin would at start. Installed
    entry-point plugins are not loaded. Close it with ``app.close()``."""
    folder.mkdir(parents=True, exist_ok=True)
    config_file = folder / "tongxin-test-config.toml"
    config_file.write_text(config_text, "utf-8")
    host = PluginHost()
    host.load(entry_points_too=False)
    for name, plugin in (plugins or {}).items():
        host.register(plugin, name)
    return Tongxin(load_config(config_file), db_url=str(folder / "tongxin-test.db"), plugins=host)
