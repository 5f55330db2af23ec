"""Fixtures shared by the tests of the built-in plugins (tests/plugins/)."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

from crm_core.app import Tongxin


@pytest.fixture
def with_plugins(app: Tongxin) -> Callable[..., Tongxin]:
    """Register plugin modules in the test's app, named like their entry points (the
    last part of the module name: ``crm_plugins.visits`` is "visits"); return the app."""

    def register(*modules: ModuleType) -> Tongxin:
        for module in modules:
            app.plugins.register(module, module.__name__.rsplit(".", 1)[-1])
        app.refresh_registries()
        return app

    return register
