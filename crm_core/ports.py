"""What the lower layers need of the application and its plugin host, as protocols.

:class:`crm_core.unit.Unit` and the hook specifications are used by
:class:`crm_core.app.Tongxin` and :class:`crm_core.plugins.PluginHost`; typing them with
these protocols instead of the classes keeps the import graph free of circles (the
classes satisfy them structurally; tests/test_architecture.py checks the graph).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pluggy

    from crm_core.config import Config, Vocabulary
    from crm_core.identity import Login
    from crm_core.kinds import KindSpec


class IsolatedCallPort(Protocol):
    """One isolated call of a plugin's code (:meth:`crm_core.plugins.PluginHost.isolated`):
    ``error`` is what it raised, if anything, once the block is left."""

    error: BaseException | None

    def __enter__(self) -> IsolatedCallPort: ...

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool: ...


class PluginHostPort(Protocol):
    """The plugin host as services and units use it (:class:`crm_core.plugins.PluginHost`)."""

    pm: pluggy.PluginManager

    def call(
        self,
        hook_name: str,
        *,
        passthrough: tuple[type[BaseException], ...] = (),
        guard: Callable[[], Any] | None = None,
        **kwargs: Any,
    ) -> list[tuple[str, Any]]: ...

    def call_validating(self, hook_name: str, **kwargs: Any) -> None: ...

    def call_collecting(
        self,
        hook_name: str,
        *,
        passthrough: tuple[type[BaseException], ...] = (),
        guard: Callable[[], Any] | None = None,
        **kwargs: Any,
    ) -> list[tuple[str, Any]]: ...

    def collect(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]: ...

    def record_failure(
        self,
        plugin_name: str,
        hook_name: str,
        exc: BaseException,
        *,
        fatal: bool = False,
        tell: bool = True,
    ) -> None: ...

    def ran_cleanly(self, plugin_name: str, hook_name: str) -> None: ...

    def note_kinds(self, plugin_name: str, codes: list[str]) -> None: ...

    def missing_kind(self, code: str) -> tuple[str, str, str | None] | None: ...

    def failed_plugins(self) -> list[str]: ...

    def isolated(
        self, plugin_name: str, hook_name: str, *, fatal: bool = False, tell: bool = True
    ) -> IsolatedCallPort: ...


class AppPort(Protocol):
    """The application as a unit of work uses it (:class:`crm_core.app.Tongxin`)."""

    @property
    def config(self) -> Config: ...

    @property
    def plugins(self) -> PluginHostPort: ...

    @property
    def kinds(self) -> dict[str, KindSpec]: ...

    @property
    def categories(self) -> Vocabulary: ...

    def login(self) -> Login: ...

    def login_name(self) -> str: ...
