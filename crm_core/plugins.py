"""The plugin host: discovery, failure isolation, and the registries plugins fill.

Plugins come from the entry-point group ``tongxin.plugins`` (built-in plugins included,
exactly like a county's published one) and from plugin folders named in config (plain
``.py`` files). Each is loaded in its own ``try``: one that fails to import is reported
with its name and skipped. Hooks are called one implementation at a time through
:meth:`PluginHost.call`, so an implementation that raises is recorded against its plugin
and skipped while the others run.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from crm_core import hookspecs, i18n
from crm_core.config import Config, unknown_plugin_tables, validate_plugin_table
from crm_core.errors import TongxinError

ENTRY_POINT_GROUP = "tongxin.plugins"
# Comma-separated names: load only these entry-point plugins ("" loads none). Tests and
# troubleshooting use it; an office uses `[plugins] disabled` in config instead.
LOAD_ENV = "TONGXIN_LOAD_PLUGINS"
# Plugins that are part of the core itself (the basic kinds every office has).
DEFAULT_PLUGINS: tuple[str, ...] = ("crm_core.builtin_kinds",)

log = logging.getLogger("tongxin.plugins")


@dataclass
class PluginInfo:
    """What `tongxin plugins` shows about one plugin."""

    name: str
    version: str | None
    source: str
    status: str = "ok"  # ok | disabled | error
    hooks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def last_error(self) -> str | None:
        """The most recent failure, or None."""
        return self.errors[-1] if self.errors else None

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form (documented in docs/cli-json.md)."""
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "status": self.status,
            "hooks": sorted(self.hooks),
            "last_error": self.last_error,
        }


class PluginHost:
    """One pluggy manager for the program, with failure isolation and a status per plugin."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.info: dict[str, PluginInfo] = {}
        # Each plugin's own validated config table (``plugin_config`` of every hook).
        self.configs: dict[str, Any] = {}
        self.config_warnings: list[str] = []
        self._logged: set[str] = set()

    # -- loading ---------------------------------------------------------------

    def load(
        self,
        *,
        disabled: list[str] | tuple[str, ...] = (),
        folders: list[Path] | tuple[Path, ...] = (),
        entry_points_too: bool = True,
    ) -> None:
        """Register the default plugins, the entry-point plugins and the folder plugins,
        except those named in ``disabled``."""
        for name in disabled:
            self.pm.set_blocked(name)
            self.info[name] = PluginInfo(name, None, "config", status="disabled")
        for module_name in DEFAULT_PLUGINS:
            self._load_one(
                module_name, None, "core", functools.partial(importlib.import_module, module_name)
            )
        if entry_points_too:
            wanted = os.environ.get(LOAD_ENV)
            allowed = None if wanted is None else {n for n in wanted.split(",") if n}
            for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
                if allowed is not None and ep.name not in allowed:
                    continue
                self._load_one(ep.name, _ep_version(ep), _ep_source(ep), ep.load)
        for folder in folders:
            for path in sorted(Path(folder).glob("*.py")):
                if path.name.startswith("_"):
                    continue
                self._load_one(
                    path.stem, None, f"folder: {path}", functools.partial(_import_file, path)
                )

    def _load_one(
        self, name: str, version: str | None, source: str, loader: Callable[[], Any]
    ) -> None:
        if self.pm.is_blocked(name):
            self.info[name].version = version
            self.info[name].source = source
            return
        info = PluginInfo(name, version, source)
        self.info[name] = info
        try:
            plugin = loader()
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
        except Exception as exc:
            if self.pm.get_plugin(name) is not None:
                self.pm.unregister(name=name)
            info.status = "error"
            info.errors.append(_describe(exc))
            log.warning("plugin %s failed to load: %s", name, _describe(exc))
            return
        if version is None and isinstance(plugin, ModuleType):
            info.version = getattr(plugin, "__version__", None)
        locale = _locale_dir(plugin)
        if locale is not None:
            # The plugin's own gettext catalog, domain = the plugin's name.
            i18n.add_catalog(name, locale)
        info.hooks = [h.name for h in self.pm.get_hookcallers(plugin) or []]

    def register(self, plugin: object, name: str, *, source: str = "code") -> None:
        """Register a plugin object directly (tests, embedding applications)."""
        self._load_one(name, getattr(plugin, "__version__", None), source, lambda: plugin)

    def unregister(self, name: str) -> None:
        """Remove a plugin registered by name."""
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        self.info.pop(name, None)

    # -- each plugin's own config ------------------------------------------------

    def configure(self, config: Config) -> None:
        """Validate every loaded plugin's table ``[plugins.NAME]`` of ``config`` (a
        :class:`crm_core.config.Config`) by the model its ``plugin_config_model`` hook
        returns, and keep the result for the hooks' ``plugin_config`` argument. A bad
        table raises :class:`crm_core.errors.ConfigError` naming the file and the key;
        a table of a plugin that is not loaded becomes a warning in
        :attr:`config_warnings` (and the log). Called again after plugins are
        registered at run time."""
        models: dict[str, Any] = {}
        for impl in self.pm.hook.plugin_config_model.get_hookimpls():
            try:
                models[impl.plugin_name] = impl.function()
            except Exception as exc:
                self.record_failure(impl.plugin_name, "plugin_config_model", exc)
        configs: dict[str, Any] = {}
        for name in self._loaded_names():
            model = models.get(name)
            if model is None:
                configs[name] = dict(config.plugins.get(name, {}))
            else:
                configs[name] = validate_plugin_table(config, name, model)
        self.configs = configs
        loaded = self._loaded_names() | set(config.plugins_disabled)
        self.config_warnings = unknown_plugin_tables(config, loaded)
        for warning in self.config_warnings:
            if warning not in self._logged:  # configure() runs again on refresh
                self._logged.add(warning)
                log.warning("%s", warning)

    def _loaded_names(self) -> set[str]:
        return {name for name, plugin in self.pm.list_name_plugin() if plugin is not None}

    def _args(self, impl: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments ``impl`` takes, its own ``plugin_config`` included."""
        args = {k: kwargs[k] for k in impl.argnames if k in kwargs}
        if "plugin_config" in impl.argnames:
            args["plugin_config"] = self.configs.get(impl.plugin_name)
        return args

    # -- calling ---------------------------------------------------------------

    def call(
        self,
        hook_name: str,
        *,
        passthrough: tuple[type[BaseException], ...] = (),
        guard: Callable[[], Any] | None = None,
        **kwargs: Any,
    ) -> list[tuple[str, Any]]:
        """Call every implementation of ``hook_name`` in turn; return (plugin, result).

        An implementation that raises is recorded against its plugin and skipped, unless
        the exception is one of ``passthrough`` (e.g. a ValidationError that is the hook's
        way of refusing). ``guard``, when given, is a context-manager factory wrapped
        around each call (a savepoint, so a failing hook leaves no half-written rows).
        """
        hook = getattr(self.pm.hook, hook_name)
        results: list[tuple[str, Any]] = []
        # get_hookimpls() is in registration order: core first, then entry points by
        # name, then folder plugins; so the first registration of a kind code wins.
        for impl in hook.get_hookimpls():
            args = self._args(impl, kwargs)
            try:
                if guard is None:
                    result = impl.function(**args)
                else:
                    with guard():
                        result = impl.function(**args)
            except passthrough:
                raise
            except Exception as exc:
                self.record_failure(impl.plugin_name, hook_name, exc)
                continue
            results.append((impl.plugin_name, result))
        return results

    def record_failure(self, plugin_name: str, hook_name: str, exc: BaseException) -> None:
        """Note that ``plugin_name``'s ``hook_name`` raised ``exc`` (shown on the plugins list)."""
        info = self.info.setdefault(plugin_name, PluginInfo(plugin_name, None, "code"))
        info.errors.append(f"{hook_name}: {_describe(exc)}")
        if info.status == "ok":
            info.status = "failing"
        log.warning("plugin %s: hook %s raised %s", plugin_name, hook_name, _describe(exc))
        log.debug("%s", "".join(traceback.format_exception(exc)))

    def collect(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a registration hook; return (plugin name, registered object) for each
        ``register(...)`` call the implementations make, in load order."""
        collected: list[tuple[str, Any]] = []
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            mine: list[Any] = []
            args = self._args(impl, {k: v for k, v in kwargs.items() if k != "register"})
            args.pop("register", None)
            try:
                impl.function(register=mine.append, **args)
            except Exception as exc:
                # Keep nothing this plugin registered before it failed: half a plugin is
                # worse than none.
                self.record_failure(impl.plugin_name, hook_name, exc)
                continue
            collected.extend((impl.plugin_name, obj) for obj in mine)
        return collected

    def plugins(self) -> list[PluginInfo]:
        """Every plugin known, loaded or not, by name."""
        return sorted(self.info.values(), key=lambda i: i.name)


def _locale_dir(plugin: object) -> Path | None:
    """The ``locale`` directory beside the plugin's module (its package's, for a
    package), if there is one."""
    module = plugin if isinstance(plugin, ModuleType) else sys.modules.get(type(plugin).__module__)
    filename = getattr(module, "__file__", None)
    if not filename:
        return None
    folder = Path(filename).parent / "locale"
    return folder if folder.is_dir() else None


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}" if not isinstance(exc, TongxinError) else text


def _ep_version(ep: EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    return dist.version if dist is not None else None


def _ep_source(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f"entry point: {dist.name if dist is not None else ep.value}"


def _import_file(path: Path) -> ModuleType:
    module_name = f"tongxin_local_plugin_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module
