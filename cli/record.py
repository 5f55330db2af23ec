"""`tongxin record PERSON`: one person's liaison record (联系档案) for a period, and
`tongxin record summary`: the table across a special committee or a sector."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from crm_cli.context import open_unit, out, print_json, state
from crm_cli.options import FromOpt, JsonOpt, ToOpt, WholeYearOpt
from crm_cli.reports import _day
from rich.table import Table
from rich.text import Text

from crm_core import clock
from crm_core.formatting import value_text
from crm_core.i18n import N_, _, language
from crm_core.reports import Period, period_from_options, report_json
from crm_core.reports.output import write_report
from crm_core.services import contacts, liaison_record

OutOpt = Annotated[
    Path | None, typer.Option("-o", "--output", help=N_("Write it to .docx, .pdf or .xlsx."))
]


def _period(year: int | None, from_: str | None, to: str | None) -> Period:
    today = clock.today(state().config.tz)
    if not (year or from_ or to):
        year = today.year  # the record of this year
    return period_from_options(
        start=_day(from_, "--from"), end=_day(to, "--to"), year=year, today=today
    )


def record_command(
    person: Annotated[
        str, typer.Argument(help=N_("The person (id, name or pinyin), or `summary`."))
    ],
    year: WholeYearOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    committee: Annotated[
        str | None, typer.Option(help=N_("With `summary`: a special committee."))
    ] = None,
    sector: Annotated[str | None, typer.Option(help=N_("With `summary`: a sector."))] = None,
    output: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A person's liaison record."""
    if person == "summary":
        summary_command(committee, sector, year, from_, to, output, as_json)
        return
    period = _period(year, from_, to)
    with open_unit() as unit:
        rec = liaison_record.liaison_record(unit, contacts.resolve_person(unit, person).id, period)
        data = liaison_record.record_json(rec)
    if output is not None:
        liaison_record.write_record(rec, output, lang=language())
        data["output"] = str(output)
    if as_json:
        print_json(data)
        return
    if output is not None:
        out.print(_("Wrote {path}.").format(path=output), markup=False)
        return
    _print(rec)


def _print(rec: liaison_record.LiaisonRecord) -> None:
    lang = language()
    spec, table = liaison_record.record_report(rec)
    out.print(Text.assemble((spec.title(lang), "bold"), "  " + rec.period.label(lang)))
    for section in table.sections:
        if not section.rows:
            continue
        out.print()
        grid = Table(title=section.title(lang), header_style="bold", title_justify="left")
        for c in section.columns:
            grid.add_column(c.title(lang), justify="right" if c.kind == "int" else "left")
        for row in section.rows:
            grid.add_row(*(value_text(row.get(c.key), c.kind) for c in section.columns))
        out.print(grid)


def summary_command(
    committee: str | None,
    sector: str | None,
    year: int | None,
    from_: str | None,
    to: str | None,
    output: Path | None,
    as_json: bool,
) -> None:
    """The liaison records of a committee or a sector, one row a person."""
    lang = language()
    period = _period(year, from_, to)
    with open_unit() as unit:
        spec, table = liaison_record.record_summary(
            unit, period, committee=committee, sector=sector
        )
    if output is not None:
        write_report(spec, period, table, output, lang=lang)
    if as_json:
        data: dict[str, Any] = report_json(spec, period, table, lang)
        if output is not None:
            data["output"] = str(output)
        print_json(data)
        return
    if output is not None:
        out.print(_("Wrote {path}.").format(path=output), markup=False)
        return
    section = table.sections[0]
    grid = Table(title=spec.title(lang), header_style="bold", title_justify="left")
    for c in section.columns:
        grid.add_column(c.title(lang), justify="right" if c.kind == "int" else "left")
    for row in section.rows:
        grid.add_row(*(value_text(row.get(c.key), c.kind) for c in section.columns))
    out.print(grid)


def register(app: typer.Typer) -> None:
    """Add `record PERSON` and `record summary` to ``app``."""
    app.command(
        "record",
        help=N_(
            "A person's liaison record (联系档案) for a year or a term; `record summary "
            "--committee CODE` (or --sector) for the table across a committee or a sector."
        ),
    )(record_command)
