"""`tongxin import`: the values of a roster the config does not know, listed and asked
about on the terminal (the choices themselves are crm_core.roster.unknowns')."""

from __future__ import annotations

from crm_cli.context import err, out
from rich.prompt import Prompt
from rich.text import Text

from crm_core import importer
from crm_core.i18n import _


def _suggestions(uv: importer.UnknownValue) -> str:
    return "、".join(f"{i} {t.zh} ({t.code})" for i, t in enumerate(uv.suggestions, 1)) or "—"


def _choice_text(choice: importer.Choice | None) -> str:
    if choice is None:
        return _("no answer yet: its rows were not imported")
    if choice.action == "add":
        return _("added as a new entry ({code})").format(code=choice.codes[0])
    if choice.action == "leave_out":
        return _("its rows are left out")
    return _("read as {codes}").format(codes="、".join(choice.codes))


def print_unknowns(report: importer.ImportReport) -> None:
    """Each unknown value once: column, value, rows, the closest entries, the answer."""
    if not report.unknown_values:
        return
    out.print(Text(_("Values not in the config") + ":", "yellow"))
    for uv in report.unknown_values:
        out.print(
            "  "
            + _("{column} {value!r}, {rows} rows (closest: {near}): {choice}").format(
                column=uv.column,
                value=uv.value,
                rows=uv.rows,
                near=_suggestions(uv),
                choice=_choice_text(uv.choice),
            ),
            markup=False,
        )
    if any(uv.choice is None for uv in report.unknown_values):
        out.print(
            _(
                "Answer with --add-missing (add them all to the config), --map "
                "'COLUMN:VALUE=CODE[,CODE]' or --map 'COLUMN:VALUE=-' (leave its rows out), "
                "or run the import on a terminal to be asked."
            ),
            markup=False,
        )
    if report.config_written:
        out.print(
            _("The answers were saved in {path}: the next import asks no more.").format(
                path=report.config_written
            ),
            markup=False,
        )


def ask_unknown(uv: importer.UnknownValue) -> importer.Choice | None:
    """Ask on the terminal what ``uv`` stands for: a new entry, existing entries (by
    number of the suggestions or by code), or leave its rows out."""
    err.print(
        _("{column} {value!r} ({rows} rows) is not in the config. Closest: {near}").format(
            column=uv.column, value=uv.value, rows=uv.rows, near=_suggestions(uv)
        ),
        markup=False,
    )
    answer = Prompt.ask(
        _("Add it as a new entry (a), map it to existing entries (m) or leave its rows out (s)?"),
        choices=["a", "m", "s"],
        default="m" if uv.suggestions else "a",
        console=err,
    )
    if answer == "a":
        return importer.Choice("add", (), "asked")
    if answer == "s":
        return importer.Choice("leave_out", (), "asked")
    while True:
        given = Prompt.ask(
            _("Numbers of the entries above or codes, separated by commas"), console=err
        )
        codes = []
        for item in (p.strip() for p in given.replace("，", ",").split(",")):
            if item.isdigit() and 1 <= int(item) <= len(uv.suggestions):
                codes.append(uv.suggestions[int(item) - 1].code)
            elif item:
                codes.append(item)
        if codes:
            return importer.Choice("map", tuple(codes), "asked")
