"""What the plugin host records when a plugin fails, and the pieces of its failure rule
(docs/plugins.md, "When a plugin fails"): a plugin's status, the failure as front ends
are told of it, the refusal of a write a crashing check caused, the isolated call, and
the label of a kind whose plugin is missing. :mod:`crm_core.plugins` uses them and
re-exports every public name."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm_core.errors import TongxinError
from crm_core.i18n import _
from crm_core.plugin_status import Failure
from crm_core.ports import PluginHostPort


@dataclass
class PluginInfo:
    """What `tongxin plugins` shows about one plugin.

    ``status``: ``ok``; ``disabled`` (in config); ``error`` (failed: it could not be
    imported, or a ``register_*`` hook raised, so part of it is missing); ``failing`` (a
    run-time hook raised and was skipped). ``errors`` are the failures of this run;
    ``failures`` the outstanding ones by hook, this run's and those kept from earlier
    runs (the status file) until the hook runs cleanly again.
    """

    name: str
    version: str | None
    source: str
    status: str = "ok"  # ok | disabled | error | failing
    hooks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failures: dict[str, Failure] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)

    def _latest(self) -> Failure | None:
        return max(self.failures.values(), key=lambda f: f.at, default=None)

    @property
    def last_error(self) -> str | None:
        """The most recent outstanding failure, or None."""
        latest = self._latest()
        if latest is not None:
            return latest.text
        return self.errors[-1] if self.errors else None

    @property
    def last_error_at(self) -> datetime | None:
        """When :attr:`last_error` happened (aware, UTC), or None."""
        latest = self._latest()
        return latest.at if latest is not None else None

    def refresh_status(self) -> None:
        """Derive :attr:`status` from the outstanding failures."""
        if self.status == "disabled":
            return
        if any(f.fatal for f in self.failures.values()):
            self.status = "error"
        elif self.failures:
            self.status = "failing"
        else:
            self.status = "ok"

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form (documented in docs/cli-json.md)."""
        at = self.last_error_at
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "status": self.status,
            "hooks": sorted(self.hooks),
            "last_error": self.last_error,
            "last_error_at": at.isoformat() if at is not None else None,
        }


@dataclass(frozen=True)
class PluginFailure:
    """A failure as front ends are told of it (:meth:`PluginHost.listening`)."""

    plugin: str
    hook: str
    error: str
    fatal: bool

    @property
    def message(self) -> str:
        """The warning in the user's language: which plugin, which hook, what error."""
        if self.hook == "load":
            return _("plugin {name} failed to load and is skipped: {error}").format(
                name=self.plugin, error=self.error
            )
        if self.fatal:
            return _("plugin {name} failed in {hook} and is marked failed: {error}").format(
                name=self.plugin, hook=self.hook, error=self.error
            )
        return _("plugin {name} failed in {hook}, skipped: {error}").format(
            name=self.plugin, hook=self.hook, error=self.error
        )


class PluginFailed(TongxinError):
    """A plugin's validating hook raised something other than a refusal: the write is
    refused (fail closed), since a check that did not run cannot let data in."""

    def __init__(self, plugin: str, hook: str, error: str) -> None:
        self.plugin, self.hook, self.error = plugin, hook, error
        super().__init__(
            f"plugin {plugin} failed in {hook}: {error}; the change was refused, nothing "
            "was written"
        )

    @property
    def text(self) -> str:
        """The refusal in the user's language, naming the plugin and its error."""
        return _(
            "plugin {plugin} failed in {hook}: {error}; the change was refused, nothing was written"
        ).format(plugin=self.plugin, hook=self.hook, error=self.error)


class _Isolated:
    """The context of one call of one plugin's code: an exception is recorded against
    the plugin and swallowed (``error`` says what it was); a clean exit clears a failure
    kept from earlier runs. See :meth:`PluginHost.isolated`."""

    def __init__(
        self, host: PluginHostPort, plugin: str, hook: str, fatal: bool, tell: bool = True
    ) -> None:
        self.host, self.plugin, self.hook, self.fatal = host, plugin, hook, fatal
        self.tell = tell
        self.error: BaseException | None = None

    def __enter__(self) -> _Isolated:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None:
            self.host.ran_cleanly(self.plugin, self.hook)
            return False
        if not isinstance(exc, Exception) or isinstance(exc, _Passthrough):
            # KeyboardInterrupt, SystemExit, a refusal: not the plugin's failure.
            return False
        self.error = exc
        self.host.record_failure(self.plugin, self.hook, exc, fatal=self.fatal, tell=self.tell)
        return True


def missing_kind_label(host: Any, code: str) -> str:
    """How to show the kind ``code`` of a stored record when no plugin registers it in
    this run: the code, and which plugin it comes from and why that plugin is missing
    ("home_activity（插件 xxx 加载失败）"), when that is known. ``host`` is the plugin
    host (``unit.plugins`` or ``app.plugins``)."""
    missing = host.missing_kind(code)
    if missing is None:
        return code
    plugin, state, _error = missing
    if state == "failed":
        return _("{kind} (plugin {plugin} failed to load)").format(kind=code, plugin=plugin)
    if state == "disabled":
        return _("{kind} (plugin {plugin} is disabled)").format(kind=code, plugin=plugin)
    return _("{kind} (plugin {plugin} is not installed)").format(kind=code, plugin=plugin)


@contextmanager
def restored_on_error(obj: Any) -> Iterator[None]:
    """Undo whatever a decorating hook did to ``obj`` (a dict-like such as an
    ``icalendar.Event``: its items and attributes) if it raises, so a crashing
    ``decorate_event`` leaves the event exactly as it was: pass
    ``guard=lambda: restored_on_error(event)`` to :meth:`PluginHost.call_collecting`."""
    snapshot = copy.deepcopy(obj)
    try:
        yield
    except BaseException:
        obj.clear()
        obj.update(snapshot)
        obj.__dict__.update(snapshot.__dict__)
        raise


class _Passthrough(Exception):
    """Carries a passthrough exception out of :class:`_Isolated` unrecorded."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(str(exc))
        self.exc = exc


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}" if not isinstance(exc, TongxinError) else text
