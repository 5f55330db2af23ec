"""Typer's own words in the user's language: "Usage:", "Show this message and exit.",
the panels' titles (Options, Commands, Arguments, Error), "[default: …]", "[required]".

Typer keeps them as module constants (read when help is printed) and as literals in its
vendored Click (the usage prefix, the --help option's text); the constants are set and
the two literals replaced once, by wrapping the two methods that write them."""

from __future__ import annotations

import functools
from typing import Any

import typer.rich_utils
from typer._click.core import Command
from typer._click.formatting import HelpFormatter

from crm_core.i18n import N_, _

USAGE = N_("Usage: ")
HELP_OPTION = N_("Show this message and exit.")

# typer.rich_utils's constant -> its English text (our msgid).
CONSTANTS = {
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "DEFAULT_STRING": N_("[default: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "DEPRECATED_STRING": N_("(deprecated) "),
    "ABORTED_TEXT": N_("Aborted."),
    "RICH_HELP": N_("Try [blue]'{command_path} {help_option}'[/] for help."),
}


def _wrap_once() -> None:
    if getattr(HelpFormatter.write_usage, "_tongxin", False):
        return
    write_usage = HelpFormatter.write_usage
    get_help_option = Command.get_help_option

    @functools.wraps(write_usage)
    def translated_usage(
        self: HelpFormatter, prog: str, args: str = "", prefix: str | None = None
    ) -> None:
        write_usage(self, prog, args, _(USAGE) if prefix is None else prefix)

    @functools.wraps(get_help_option)
    def translated_help_option(self: Command, ctx: Any) -> Any:
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = _(HELP_OPTION)
        return option

    translated_usage._tongxin = True  # type: ignore[attr-defined]
    HelpFormatter.write_usage = translated_usage  # type: ignore[method-assign]
    Command.get_help_option = translated_help_option  # type: ignore[method-assign]


def translate_typer() -> None:
    """Make Typer print its own words in the current language from now on."""
    for name, msgid in CONSTANTS.items():
        setattr(typer.rich_utils, name, _(msgid))
    _wrap_once()
