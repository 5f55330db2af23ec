"""Typer's own words in the user's language: "Usage:", "Show this message and exit.",
the panels' titles (Options, Commands, Arguments, Error), "[default: …]", "[required]".

Typer keeps them as module constants (read when help is printed) and as literals in its
vendored Click (the usage prefix, the --help option's text); the constants are set and
the two literals replaced once, by wrapping the two methods that write them. Click's
error messages ("Missing argument", "No such option", "Invalid value …") are English
f-strings: the exceptions' ``format_message`` is wrapped to translate them."""

from __future__ import annotations

import functools
import re
from typing import Any

import typer.exceptions
import typer.rich_utils
from typer._click import exceptions as click_exceptions
from typer._click.core import Command
from typer._click.formatting import HelpFormatter
from typer.core import TyperOption

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


# Click's error messages, written as English f-strings: (pattern, msgid) applied to the
# formatted message; the msgid's {…} are the pattern's groups.
ERRORS = (
    (r"Missing argument (.+?)\.", N_("Missing argument {0}.")),
    (r"Missing option (.+?)\.", N_("Missing option {0}.")),
    (r"Missing parameter: (\S+)", N_("Missing parameter: {0}")),
    (r"No such option: (\S+)", N_("No such option: {0}")),
    (r"No such command '(.+?)'\.", N_("No such command '{0}'.")),
    (r"Invalid value for (.+?): ", N_("Invalid value for {0}: ")),
    (r"Invalid value: ", N_("Invalid value: ")),
    (
        r"Got unexpected extra argument(?:s|\(s\))? \((.*?)\)",
        N_("Unexpected extra arguments ({0})"),
    ),
    (r"\(Possible options: (.+?)\)", N_("(Possible options: {0})")),
    (r"Did you mean (.+?)\?", N_("Did you mean {0}?")),
    (r"Option '(.+?)' requires an argument\.", N_("Option '{0}' requires an argument.")),
    (r"'(.*?)' is not one of (.+?)\.", N_("'{0}' is not one of {1}.")),
    (r"Value '(.*?)' is not a valid (\w+)\.", N_("Value '{0}' is not a valid {1}.")),
    (r"'(.*?)' is not a valid (\w+)\.", N_("'{0}' is not a valid {1}.")),
)
_ERROR_CLASSES = ("BadParameter", "MissingParameter", "NoSuchOption")


def translate_error(message: str) -> str:
    """A Click error message in the current language."""
    for pattern, msgid in ERRORS:

        def said(match: re.Match[str], msgid: str = msgid) -> str:
            return _(msgid).format(*match.groups())

        message = re.sub(pattern, said, message)
    return message


def _wrap_errors() -> None:
    classes = [typer.exceptions.TyperException]
    classes += [getattr(click_exceptions, name) for name in _ERROR_CLASSES]
    for cls in classes:
        original = cls.__dict__.get("format_message")
        if original is None or getattr(original, "_tongxin", False):
            continue

        def translated(self: Any, _original: Any = original) -> str:
            return translate_error(_original(self))

        translated._tongxin = True  # type: ignore[attr-defined]
        setattr(cls, "format_message", translated)  # noqa: B010 (a method, replaced)


_original_option_type = TyperOption.display_type_rich


def _option_type(self: TyperOption, ctx: Any) -> str | None:
    """The type column of an option in --help: nothing for a flag (it takes no value,
    Typer 0.29 prints ``<bool>``), the element type and "…" for a repeatable option
    (Typer prints ``<list[str]>``, which reads as if one option took a Python list)."""
    if self.metavar is not None:
        return str(self.metavar)
    if self.is_flag or self.count:
        return None
    if self.multiple:
        label = self.display_type(ctx)
        inner = re.fullmatch(r"<list\[(.+)\]>", label)
        return f"<{inner.group(1)}>…" if inner else f"{label}…"
    return _original_option_type(self, ctx)


def _wrap_once() -> None:
    _wrap_errors()
    if not getattr(TyperOption.display_type_rich, "_tongxin", False):
        _option_type._tongxin = True  # type: ignore[attr-defined]
        TyperOption.display_type_rich = _option_type  # type: ignore[method-assign]
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
