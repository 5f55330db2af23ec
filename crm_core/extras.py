"""Optional parts of tongxin: features whose libraries a plain ``pip install tongxin``
leaves out, and the one error that names the extra to install.

Each lazy import site calls :func:`require` instead of a bare ``import``::

    caldav = require("caldav", extra="caldav", feature=N_("CalDAV sync"))
"""

from __future__ import annotations

import importlib
from types import ModuleType

from crm_core.errors import TongxinError
from crm_core.i18n import N_, _

_TEMPLATE = N_("{feature} needs the optional part '{extra}': pip install 'tongxin[{extra}]'")

#: The exit code of ``tongxin`` when a feature's optional part is not installed.
EXIT_MISSING_EXTRA = 3


class MissingExtra(TongxinError):
    """A feature needs an optional part (an extra) that is not installed."""

    def __init__(self, message: str, *, extra: str = "", module: str = "") -> None:
        super().__init__(message)
        self.extra = extra
        self.module = module
        self.feature = ""

    @property
    def text(self) -> str:
        """The message in the user's language, the feature's name translated too."""
        return _(_TEMPLATE).format(feature=_(self.feature), extra=self.extra)


def require(module: str, *, extra: str, feature: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtra` naming ``extra``.

    ``feature`` is a msgid marked ``N_`` (it is translated with the message)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        error = MissingExtra(
            _TEMPLATE.format(feature=feature, extra=extra), extra=extra, module=module
        )
        error.feature = feature
        raise error from exc
