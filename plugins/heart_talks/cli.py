"""`tongxin talks ...`: the command line of the heart-talks plugin."""

from __future__ import annotations

from typing import Any

# Module level: Typer reads the options' annotations from this module's globals.
import typer
from crm_cli.plugin_api import CommitteeOpt, JsonOpt, YearOpt

from crm_core import api
from crm_core.api import N_, _, hookimpl, language

from .report import CommitteeCoverage, coverage


def _show(rows: list[CommitteeCoverage], year: int, *, members: bool) -> None:
    """Print the coverage as tables, in the program's language."""
    from crm_cli.plugin_api import out
    from rich.table import Table

    lang = language()
    out.print(_("Heart-to-heart talks with non-party members in {year}").format(year=year))
    table = Table(box=None, header_style="bold")
    for head in (
        _("Committee"),
        _("Non-party members"),
        _("Talked with"),
        _("Not yet"),
        _("Coverage"),
        _("Members without a talk"),
    ):
        table.add_column(head, overflow="fold")
    for row in rows:
        table.add_row(
            row.label(lang),
            str(row.total),
            str(len(row.talked)),
            str(len(row.not_talked)),
            f"{row.ratio:.0%}" if row.ratio is not None else "—",
            "、".join(m.name for m in row.not_talked),
        )
    out.print(table)
    if not members:
        return
    for row in rows:
        detail = Table(box=None, header_style="bold", title=row.label(lang))
        for head in (_("Name"), _("Talks"), _("Last talk")):
            detail.add_column(head)
        for m in row.talked + row.not_talked:
            detail.add_row(m.name, str(m.talks), m.last_talk.isoformat() if m.last_talk else "—")
        out.print(detail)


@hookimpl
def register_commands(cli: Any) -> None:
    """`tongxin talks coverage [--year Y] [--committee C] [--json]`."""
    from crm_cli.plugin_api import open_unit, print_json

    talks = typer.Typer(
        help=N_("Heart-to-heart talks with non-party members."), no_args_is_help=True
    )

    @talks.command(
        "coverage",
        help=N_(
            "For each special committee: which non-party members have had a heart-to-heart "
            "talk in the year, and which have not."
        ),
    )
    def coverage_command(
        year: YearOpt = None,
        committee: CommitteeOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Coverage of heart-to-heart talks per special committee."""
        with open_unit() as unit:
            chosen = year or api.today(unit.config.tz).year
            rows = coverage(unit, year=chosen, committee=committee)
        if as_json:
            print_json({"year": chosen, "committees": [r.as_json() for r in rows]})
        else:
            _show(rows, chosen, members=committee is not None)

    cli.add_typer(talks, name="talks")
