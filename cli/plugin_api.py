"""What a plugin's command-line commands (hook ``register_cli``) may use of the CLI:
the one door from a plugin into ``crm_cli`` (``tests/test_architecture.py``).

``open_unit`` / ``run_unit`` give the command its unit of work, ``out`` prints (Rich),
``print_json`` writes ``--json`` output, ``label`` turns a vocabulary code into its
label, and ``JsonOpt``, ``YearOpt``, ``CommitteeOpt`` are the shared options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crm_cli.options import CommitteeOpt, JsonOpt, YearOpt

if TYPE_CHECKING:
    from crm_cli.context import label, open_unit, out, print_json, run_unit

# crm_cli.context reaches the application; it is imported on first use, so that a
# plugin may import this module while the application is still loading its plugins.
_CONTEXT = ("label", "open_unit", "out", "print_json", "run_unit")


def __getattr__(name: str) -> Any:
    """The CLI context helpers, imported from crm_cli.context when first asked for."""
    if name in _CONTEXT:
        from crm_cli import context

        return getattr(context, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CommitteeOpt",
    "JsonOpt",
    "YearOpt",
    "label",
    "open_unit",
    "out",
    "print_json",
    "run_unit",
]
