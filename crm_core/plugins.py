"""The plugin host: discovery, failure isolation, and the registries plugins fill.

Plugins come from the entry-point group ``tongxin.plugins`` (built-in plugins included,
exactly like a county's published one) and from plugin folders named in config (plain
``.py`` files). Each is loaded in its own ``try``: one that fails to import is reported
with its name and skipped. Hooks are called one implementation at a time through one
wrapper per failure rule (:meth:`PluginHost.call_validating` fails closed,
:meth:`PluginHost.call_collecting` and :meth:`PluginHost.isolated` skip,
:meth:`PluginHost.collect` marks a plugin failed), so an implementation that raises is
recorded against its plugin (and kept in the status file across runs) while the others
run. docs/plugins.md, "When a plugin fails", is the rule of each hook.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from crm_core import clock, hookspecs, i18n
from crm_core.config import Config, unknown_plugin_tables, validate_plugin_table
from crm_core.errors import ValidationError
from crm_core.plugin_failures import (
    PluginFailed,
    PluginFailure,
    PluginInfo,
    _describe,
    _Isolated,
    _Passthrough,
    missing_kind_label,
    restored_on_error,
)
from crm_core.plugin_status import Failure, PluginRecord, StatusStore

ENTRY_POINT_GROUP = "tongxin.plugins"
# Comma-separated names: load only these entry-point plugins ("" loads none). Tests and
# troubleshooting use it; an office uses `[plugins] disabled` in config instead.
LOAD_ENV = "TONGXIN_LOAD_PLUGINS"
# Plugins that are part of the core itself (the basic kinds every office has).
DEFAULT_PLUGINS: tuple[str, ...] = ("crm_core.builtin_kinds",)

log = logging.getLogger("tongxin.plugins")

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "LOAD_ENV",
    "PluginFailed",
    "PluginFailure",
    "PluginHost",
    "PluginInfo",
    "missing_kind_label",
    "restored_on_error",
]


class PluginHost:
    """One pluggy manager for the program, with failure isolation and a status per plugin.

    Hooks are called through one wrapper per failure rule (docs/plugins.md, "When a
    plugin fails"):

    * :meth:`call_validating` for checks (``validate_interaction``): a check that raises
      anything but a ``ValidationError`` refuses the write (:class:`PluginFailed`);
    * :meth:`call_collecting` for hooks that add to or decorate what the core makes
      (events, follow-ups, reminders, cadences, commands…) and :meth:`isolated` for the
      functions plugins register (panels, cards, palette commands): one that raises is
      skipped, recorded, logged on ``tongxin.plugins`` and told to the front end;
    * :meth:`collect` for ``register_*`` hooks: one that raises marks its plugin failed
      and nothing it registered is kept.

    ``status_file``, when given, keeps the outstanding failures across runs
    (:mod:`crm_core.plugin_status`); the program's host uses
    :func:`~crm_core.plugin_status.default_status_path`.
    """

    def __init__(self, *, status_file: Path | None = None) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.info: dict[str, PluginInfo] = {}
        # Each plugin's own validated config table (``plugin_config`` of every hook).
        self.configs: dict[str, Any] = {}
        self.config_warnings: list[str] = []
        self._logged: set[str] = set()
        self.store = StatusStore(status_file) if status_file is not None else None
        self._kept: dict[str, PluginRecord] = self.store.load() if self.store else {}
        # (plugin, hook) pairs that failed in this run: a later clean call of the same
        # hook in the same run does not clear the failure (it fails on some input).
        self._failed_now: set[tuple[str, str]] = set()
        # Codes a register_* hook registered before it raised (and were dropped).
        self._dropped: dict[tuple[str, str], list[str]] = {}
        self._listeners: list[Callable[[PluginFailure], None]] = []
        self._told: set[tuple[str, str, str]] = set()

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
            self.info[name] = self._new_info(name, None, "config", status="disabled")
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

    def _new_info(
        self, name: str, version: str | None, source: str, status: str = "ok"
    ) -> PluginInfo:
        kept = self._kept.get(name, PluginRecord())
        info = PluginInfo(
            name, version, source, status, failures=dict(kept.failures), kinds=list(kept.kinds)
        )
        info.refresh_status()
        return info

    def _load_one(
        self, name: str, version: str | None, source: str, loader: Callable[[], Any]
    ) -> None:
        if self.pm.is_blocked(name):
            self.info[name].version = version
            self.info[name].source = source
            return
        info = self._new_info(name, version, source)
        self.info[name] = info
        try:
            plugin = loader()
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
        except Exception as exc:
            if self.pm.get_plugin(name) is not None:
                self.pm.unregister(name=name)
            self.record_failure(name, "load", exc, fatal=True)
            return
        self.ran_cleanly(name, "load")
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

    # -- failures ----------------------------------------------------------------

    @contextmanager
    def listening(self, listener: Callable[[PluginFailure], None]) -> Iterator[None]:
        """Tell ``listener`` of every failure recorded inside the block (the CLI prints a
        warning on stderr, the terminal UI shows a notification). Only the innermost
        listener hears: the UI, started from the CLI, keeps stderr off its screen."""
        self.add_listener(listener)
        try:
            yield
        finally:
            self.remove_listener(listener)

    def add_listener(self, listener: Callable[[PluginFailure], None]) -> None:
        """Start telling ``listener`` of failures (it becomes the innermost listener)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[PluginFailure], None]) -> None:
        """Stop telling ``listener`` of failures."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def record_failure(
        self,
        plugin_name: str,
        hook_name: str,
        exc: BaseException,
        *,
        fatal: bool = False,
        tell: bool = True,
    ) -> None:
        """Note that ``plugin_name``'s ``hook_name`` raised ``exc``: shown on the plugins
        list (kept in the status file until the hook runs cleanly), logged on
        ``tongxin.plugins`` and, if ``tell``, told to the listening front end. ``fatal``:
        the plugin lost a part of itself (load or ``register_*``) and is marked failed."""
        info = self.info.get(plugin_name)
        if info is None:
            info = self.info[plugin_name] = self._new_info(plugin_name, None, "code")
        text = _describe(exc)
        # The program's clock (frozen in tests and demos), in UTC.
        failure = Failure(hook_name, text, clock.now().astimezone(UTC), fatal)
        info.failures[hook_name] = failure
        info.errors.append(failure.text)
        info.refresh_status()
        self._failed_now.add((plugin_name, hook_name))
        log.warning("plugin %s: hook %s raised %s", plugin_name, hook_name, text)
        log.debug("%s", "".join(traceback.format_exception(exc)))
        # The same error of the same hook again in this run (decorate_event on each of a
        # thousand events): written and told once, not a thousand times.
        key = (plugin_name, hook_name, text)
        if key in self._told:
            return
        self._told.add(key)
        self._keep(info)
        if tell and self._listeners:
            try:
                self._listeners[-1](PluginFailure(plugin_name, hook_name, text, fatal))
            except Exception:  # a front end that cannot show it must not break the call
                log.exception("plugin failure listener failed")

    def ran_cleanly(self, plugin_name: str, hook_name: str) -> None:
        """Note that ``plugin_name``'s ``hook_name`` ran without raising: a failure kept
        from an earlier run is cleared (unless the hook also failed in this run)."""
        info = self.info.get(plugin_name)
        if info is None or hook_name not in info.failures:
            return
        if (plugin_name, hook_name) in self._failed_now:
            return
        del info.failures[hook_name]
        info.refresh_status()
        self._keep(info)

    def note_kinds(self, plugin_name: str, codes: list[str]) -> None:
        """Remember the kind codes ``plugin_name`` registers (when its ``register_kinds``
        ran cleanly), so a record of one of them can name the plugin when it is missing."""
        info = self.info.get(plugin_name)
        if info is None or sorted(info.kinds) == sorted(codes):
            return
        info.kinds = sorted(codes)
        self._keep(info)

    def missing_kind(self, code: str) -> tuple[str, str, str | None] | None:
        """Which plugin a kind code nobody registered in this run comes from:
        ``(plugin, state, error)`` with state ``failed``, ``disabled`` or ``absent`` (not
        installed or not loaded), or None when no plugin is known to provide it."""
        for (plugin, hook), codes in self._dropped.items():
            if hook == "register_kinds" and code in codes:
                info = self.info.get(plugin)
                return plugin, "failed", info.last_error if info else None
        names = set(self.info) | set(self._kept)
        for plugin in sorted(names):
            info = self.info.get(plugin)
            kinds = info.kinds if info is not None else self._kept[plugin].kinds
            if code not in kinds:
                continue
            if info is None:
                return plugin, "absent", None
            if info.status == "disabled":
                return plugin, "disabled", None
            if info.status == "error":
                return plugin, "failed", info.last_error
        return None

    def failed_plugins(self) -> list[str]:
        """The names of the plugins marked failed (status ``error``)."""
        return [i.name for i in self.plugins() if i.status == "error"]

    def _keep(self, info: PluginInfo) -> None:
        if self.store is None:
            return
        record = PluginRecord(dict(info.failures), list(info.kinds))
        self._kept[info.name] = record
        self.store.save(info.name, record)

    # -- calling ---------------------------------------------------------------

    def isolated(
        self, plugin_name: str, hook_name: str, *, fatal: bool = False, tell: bool = True
    ) -> _Isolated:
        """A context for calling one function a plugin gave (a panel's ``render``, a
        palette command's ``run``): an exception is recorded against the plugin and
        swallowed (the context's ``error`` is then set); a clean run clears a kept
        failure. ``tell=False`` when the caller shows the error itself::

            with host.isolated(spec.plugin, "register_panels") as call:
                body = spec.render(unit, person)
            if call.error is not None:
                ...  # show the error in the panel's box
        """
        return _Isolated(self, plugin_name, hook_name, fatal, tell)

    def call_validating(self, hook_name: str, **kwargs: Any) -> None:
        """Call a validating hook (fail closed): every implementation in turn; a
        ``ValidationError`` is the hook's refusal and passes through; any other exception
        is recorded against its plugin and refuses the write as :class:`PluginFailed`
        naming the plugin and the error."""
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            args = self._args(impl, kwargs)
            try:
                impl.function(**args)
            except ValidationError:
                self.ran_cleanly(impl.plugin_name, hook_name)  # refusing is its job
                raise
            except Exception as exc:
                # Not told to the front end as a warning: the refusal itself says it.
                self.record_failure(impl.plugin_name, hook_name, exc, tell=False)
                raise PluginFailed(impl.plugin_name, hook_name, _describe(exc)) from exc
            self.ran_cleanly(impl.plugin_name, hook_name)

    def call_collecting(
        self,
        hook_name: str,
        *,
        passthrough: tuple[type[BaseException], ...] = (),
        guard: Callable[[], Any] | None = None,
        **kwargs: Any,
    ) -> list[tuple[str, Any]]:
        """Call a collecting or decorating hook: every implementation in turn; return
        (plugin, result) for those that returned.

        An implementation that raises is skipped: recorded against its plugin, logged and
        told to the front end, unless the exception is one of ``passthrough`` (e.g. a
        ValidationError that is the hook's way of refusing). ``guard``, when given, is a
        context-manager factory wrapped around each call (a savepoint, so a failing hook
        leaves no half-written rows; or one that restores an event it changed).
        """
        hook = getattr(self.pm.hook, hook_name)
        results: list[tuple[str, Any]] = []
        # get_hookimpls() is in registration order: core first, then entry points by
        # name, then folder plugins; so the first registration of a kind code wins.
        for impl in hook.get_hookimpls():
            args = self._args(impl, kwargs)
            result: Any = None
            try:
                with self.isolated(impl.plugin_name, hook_name) as call:
                    try:
                        if guard is None:
                            result = impl.function(**args)
                        else:
                            with guard():
                                result = impl.function(**args)
                    except passthrough as exc:
                        raise _Passthrough(exc) from exc
            except _Passthrough as wrapped:
                raise wrapped.exc from None
            if call.error is None:
                results.append((impl.plugin_name, result))
        return results

    def call(
        self,
        hook_name: str,
        *,
        passthrough: tuple[type[BaseException], ...] = (),
        guard: Callable[[], Any] | None = None,
        **kwargs: Any,
    ) -> list[tuple[str, Any]]:
        """The same as :meth:`call_collecting` (the name older code and plugins use)."""
        return self.call_collecting(hook_name, passthrough=passthrough, guard=guard, **kwargs)

    def collect(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a registration hook; return (plugin name, registered object) for each
        ``register(...)`` call the implementations make, in load order. One that raises
        marks its plugin failed, and nothing it registered is kept."""
        collected: list[tuple[str, Any]] = []
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            mine: list[Any] = []
            args = self._args(impl, {k: v for k, v in kwargs.items() if k != "register"})
            args.pop("register", None)
            with self.isolated(impl.plugin_name, hook_name, fatal=True) as call:
                impl.function(register=mine.append, **args)
            if call.error is not None:
                # Keep nothing this plugin registered before it failed: half a plugin is
                # worse than none. Its codes still say who is missing.
                codes = [str(getattr(o, "code", "")) for o in mine]
                self._dropped[(impl.plugin_name, hook_name)] = [c for c in codes if c]
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
