"""`tongxin report NAME`: the office's reports (built-in and from plugins) for a period,
on screen, as JSON, or written to Excel, Word or CSV."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from crm_cli.context import get_app, open_unit, out, print_json, state
from crm_cli.groups import GroupOpt
from crm_cli.options import FromOpt, JsonOpt, ToOpt, WholeYearOpt
from crm_cli.progress import bar
from rich.table import Table
from rich.text import Text

from crm_core import clock
from crm_core.errors import ValidationError
from crm_core.formatting import value_text
from crm_core.i18n import N_, _, language
from crm_core.reports import available_reports, period_from_options, report_json, run_report
from crm_core.reports.output import write_report
from crm_core.reports.spec import PAGE
from crm_core.services import groups
from crm_core.timeparse import TimeParseError, parse_date


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return parse_date(text, today=clock.today(state().config.tz))
    except TimeParseError as exc:
        raise ValidationError(exc.field_error(option)) from None


def report_command(
    name: Annotated[
        str | None,
        typer.Argument(
            help=N_(
                "The report: coverage, liaison, visits, followups, talks … (--list shows every one)"
            )
        ),
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help=N_("List the reports (built-in and from plugins)."))
    ] = False,
    from_: FromOpt = None,
    to: ToOpt = None,
    quarter: Annotated[
        str | None, typer.Option(help=N_("A quarter: 2026Q3. Default: the current quarter."))
    ] = None,
    year: WholeYearOpt = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help=N_("Write the report to .xlsx, .docx or .csv.")),
    ] = None,
    group: GroupOpt = None,
    as_json: JsonOpt = False,
    offset: Annotated[
        int,
        typer.Option(min=0, help=N_("--json: skip this many names of each not-reached list.")),
    ] = 0,
    limit: Annotated[
        int,
        typer.Option(min=0, help=N_("--json: at most this many names of each not-reached list.")),
    ] = PAGE,
) -> None:
    """Run a report."""
    lang = language()
    if list_ or name is None:
        reports = available_reports(get_app())
        if as_json:
            print_json(
                [
                    {"code": r.code, "title": r.title(lang), "plugin": r.plugin}
                    for r in reports.values()
                ]
            )
            return
        table = Table(box=None, header_style="bold")
        for head in (_("Report"), _("Title"), _("From")):
            table.add_column(head)
        for r in reports.values():
            table.add_row(r.code, r.title(lang), r.plugin or _("built-in"))
        out.print(table)
        return
    with open_unit() as unit:
        period = period_from_options(
            start=_day(from_, "--from"),
            end=_day(to, "--to"),
            quarter=quarter,
            year=year,
            today=clock.today(unit.config.tz),
        )
        people = groups.people_of(unit, group) if group else None
        # A JSON answer reads a page of the names not reached, a file or the screen all
        # of them: both while the unit is open.
        with bar(_("Running the report…"), as_json=as_json) as progress:
            steps = 2 if output is not None else 1
            if progress:
                progress(0, steps)
            spec, result = run_report(
                unit, name, period, people=people, lazy=as_json and output is None
            )
            if progress:
                progress(1, steps)
            if output is not None:
                write_report(spec, period, result, output, lang=lang)
                if progress:
                    progress(2, steps)
        if as_json:
            data = report_json(spec, period, result, lang, offset=offset, limit=limit)
    if as_json:
        if output is not None:
            data["output"] = str(output)
        print_json(data)
        return
    if output is not None:
        out.print(_("Wrote {path}.").format(path=output), markup=False)
        return
    out.print(Text.assemble((spec.title(lang), "bold"), "  " + period.label(lang)))
    for section in result.sections:
        out.print()
        table = Table(title=section.title(lang), header_style="bold", title_justify="left")
        for c in section.columns:
            table.add_column(
                c.title(lang), justify="right" if c.kind in ("int", "float", "percent") else "left"
            )
        for row in section.rows:
            table.add_row(*(value_text(row.get(c.key), c.kind) for c in section.columns))
        out.print(table)
        if section.note(lang):
            out.print(section.note(lang), markup=False)


def register(app: typer.Typer) -> None:
    """Add `report` to ``app``."""
    app.command("report", help=N_("Reports for a period: coverage, liaison, visits, follow-ups …"))(
        report_command
    )
