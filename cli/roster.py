"""`tongxin import FILE` and `tongxin export people|interactions|vcf`: rosters in and
tables out, through crm_core.importer and crm_core.exporter.

Each command is one unit of work run by ``run_unit``: when it meets someone else's write
at the same moment (a busy SQLite file, a PostgreSQL lock) it is run again from the
start, and after a few tries the user is told the database is busy, never shown a raw
database error. A run again asks no question twice (an import's answers are kept) and
writes an export's file again whole.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from crm_cli.context import err, label, out, print_json, run_unit, state
from crm_cli.groups import GroupOpt
from crm_cli.options import (
    CategoryOpt,
    CommitteeOpt,
    FromOpt,
    JsonOpt,
    OutputOpt,
    PartyOpt,
    RegionOpt,
    SectorOpt,
    ToOpt,
)
from crm_cli.progress import Bar
from crm_cli.roster_unknowns import ask_unknown, print_unknowns
from rich.prompt import Prompt
from rich.text import Text

from crm_core import clock, exporter, importer
from crm_core.authz import narrowed_to
from crm_core.errors import TongxinError, ValidationError
from crm_core.i18n import N_, _
from crm_core.person_fields import GENDER_LABELS, MEMBERSHIP_ZH, PERSON_FIELDS
from crm_core.services import groups
from crm_core.timeparse import TimeParseError, parse_date
from crm_core.unit import Unit

ACTIONS = {
    "create": N_("created"),
    "update": N_("updated"),
    "unchanged": N_("unchanged"),
    "duplicate": N_("repeated in the file"),
    "skip": N_("skipped"),
    "refuse": N_("refused"),
    "left_out": N_("left out by choice"),
    "pending": N_("waiting for an answer"),
}
# Rows were refused or wait for an answer about an unknown value (everything else was
# imported or deliberately skipped: 0). Not 3: that code already says an optional part
# is missing (crm_core.extras.EXIT_MISSING_EXTRA), which an import can meet too.
EXIT_ROWS_NOT_IMPORTED = 4
PROGRESS_FROM = 2000  # rows: smaller files need no progress bar


class _Bar(Bar):
    """A progress bar on stderr (only on a terminal, only for large files):
    :class:`crm_cli.progress.Bar` with the import's stages."""

    def __init__(self) -> None:
        super().__init__(_("Writing people"), {"read": _("Reading rows")}, PROGRESS_FROM)

    def __call__(self, stage: str, done: int, total: int) -> None:  # type: ignore[override]
        if err.is_terminal:
            self.stage(stage, done, total)


class _Answers:
    """The user's answer to each duplicate, asked once: when the import is run again
    after meeting a concurrent write, the same rows get the same answers."""

    def __init__(self, ask: Callable[[importer.Duplicate], str]) -> None:
        self.ask = ask
        self.given: dict[tuple[object, ...], str] = {}

    def __call__(self, dup: importer.Duplicate) -> str:
        key = (dup.row, dup.name, str(dup.existing))
        if key not in self.given:
            self.given[key] = self.ask(dup)
        return self.given[key]


def _ask(dup: importer.Duplicate) -> str:
    err.print(
        _("Row {row}: {name} is already known ({existing}, same {match}).").format(
            row=dup.row, name=dup.name, existing=dup.existing, match=dup.match
        ),
        markup=False,
    )
    for field_name, (before, after) in dup.changes.items():
        shown = _(importer.FIELDS.get(field_name, field_name))
        old, new = _show(field_name, before), _show(field_name, after)
        err.print(f"  {shown}: {old} → {new}", markup=False)
    answer = Prompt.ask(
        _("Update it with the file's values (u) or skip the row (s)?"),
        choices=["u", "s"],
        default="u",
        console=err,
    )
    return "update" if answer == "u" else "skip"


# field -> its vocabulary, and the words of gender and membership (crm_core.person_fields).
_VOCABS = {f.name: f.vocabulary for f in PERSON_FIELDS if f.vocabulary}
_WORDS = GENDER_LABELS | MEMBERSHIP_ZH


def _show(field_name: str, value: Any) -> str:
    """A value of the import as the office reads it: labels, not codes."""
    if value is None or value == "" or value == ():
        return "—"
    vocab = _VOCABS.get(field_name)
    if vocab and isinstance(value, tuple | list):
        return "、".join(label(vocab, v) for v in value)
    if vocab:
        return label(vocab, str(value))
    if field_name in ("gender", "membership"):
        return _(_WORDS.get(str(value), str(value)))
    if isinstance(value, tuple | list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def import_command(
    file: Annotated[
        Path, typer.Argument(help=N_("The roster: .xlsx, .xls, .ods or .csv (UTF-8 or GBK)."))
    ],
    sheet: Annotated[
        str | None, typer.Option(help=N_("The sheet to read (name or number; default the first)."))
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help=N_(
                "Read a column as a field: HEADER=field, e.g. 籍贯=extra; or say what a value "
                "the config does not know stands for: COLUMN:VALUE=CODE[,CODE] (=- leaves "
                "its rows out). Repeatable."
            ),
        ),
    ] = None,
    add_missing: Annotated[
        bool,
        typer.Option(
            "--add-missing",
            help=N_(
                "Add every unknown region, committee, sector, party or category to the "
                "config file as a new entry."
            ),
        ),
    ] = False,
    source: Annotated[
        str,
        typer.Option(
            "--source",
            show_default=False,
            help=N_(
                "The name the answers about unknown values are saved under (one per "
                "office or sender of sheets)."
            ),
        ),
    ] = importer.DEFAULT_SOURCE,
    keep_partial: Annotated[
        bool,
        typer.Option(
            "--keep-partial",
            help=N_(
                "Import a row with a bad cell without that cell (the errors file lists "
                "what was dropped)."
            ),
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help=N_("Show what would be done; write nothing."))
    ] = False,
    on_duplicate: Annotated[
        importer.OnDuplicate,
        typer.Option(
            "--on-duplicate",
            help=N_("A row naming someone already known: update, skip, or ask each time."),
        ),
    ] = importer.OnDuplicate.update,
    errors: Annotated[
        Path | None,
        typer.Option(
            "--errors", help=N_("Write the refused rows and why to this file (.xlsx or .csv).")
        ),
    ] = None,
    membership: Annotated[
        str | None,
        typer.Option(
            help=N_("Membership of people whose row does not say: standing, member or none.")
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import people from a roster."""
    mapping: dict[str, str] = {}
    value_maps: list[importer.ValueMap] = []
    for item in map_ or []:
        if ":" in item.partition("=")[0]:
            value_maps.append(importer.ValueMap.parse(item))
            continue
        header, sep, field_name = item.partition("=")
        if not sep or not header.strip() or not field_name.strip():
            raise ValidationError.one(
                "--map", item, N_("write it as HEADER=field, e.g. 籍贯=extra")
            )
        mapping[header.strip()] = field_name.strip()
    if errors is not None and errors.suffix.lower() not in (".xlsx", ".csv"):
        raise ValidationError.one(
            "--errors", str(errors), N_("the errors file must be .xlsx or .csv")
        )
    decide: Callable[[importer.Duplicate], str] | None = None
    if on_duplicate is importer.OnDuplicate.ask:
        if not sys.stdin.isatty():
            raise TongxinError(
                _(
                    "--on-duplicate ask needs a terminal to ask on; use --on-duplicate "
                    "update or skip (nothing was written)"
                )
            )
        decide = _Answers(_ask)
    ask_unknown = None
    if not add_missing and not as_json and not dry_run and sys.stdin.isatty():
        ask_unknown = _UnknownAnswers()
    policy = importer.UnknownPolicy(add_missing, value_maps, ask_unknown, source)
    bar = _Bar()

    def work(unit: Unit) -> importer.ImportReport:
        return importer.import_roster(
            unit,
            file,
            sheet=sheet,
            mapping=mapping or None,
            on_duplicate=on_duplicate,
            dry_run=dry_run,
            membership=membership,
            decide=decide,
            progress=bar,
            unknowns=policy,
            keep_partial=keep_partial,
        )

    try:
        # Deferred at first (reading the file takes no write lock); run again with the
        # lock if it met a concurrent write.
        report = run_unit(work, write=False)
    finally:
        bar.stop()
    if errors is not None and report.raw_rows:
        importer.write_errors(report, errors)
    if as_json:
        data = report.as_json()
        data["errors_file"] = str(errors) if errors is not None and report.raw_rows else None
        print_json(data)
    else:
        _print_report(report, errors)
    if not report.complete:
        raise typer.Exit(EXIT_ROWS_NOT_IMPORTED)


class _UnknownAnswers:
    """Asks on the terminal what each unknown value stands for, once per value (an
    import run again after a concurrent write gets the same answers)."""

    def __init__(self) -> None:
        self.given: dict[tuple[str, str], importer.Choice | None] = {}

    def __call__(self, uv: importer.UnknownValue) -> importer.Choice | None:
        if uv.key not in self.given:
            self.given[uv.key] = ask_unknown(uv)
        return self.given[uv.key]


def _where(ref: str) -> str:
    """ "row 12" or "database" (as the report keeps them) in the user's language."""
    m = re.fullmatch(r"row (\d+)", ref)
    if m:
        return _("row {row}").format(row=m.group(1))
    return _(ref) if ref == "database" else ref


def _print_report(report: importer.ImportReport, errors: Path | None) -> None:
    out.print(
        _("Read {file}, sheet {sheet}; the header is row {row}.").format(
            file=report.file, sheet=report.sheet, row=report.header_row
        ),
        markup=False,
    )
    if report.encoding:
        out.print(_("Encoding: {encoding}").format(encoding=report.encoding), markup=False)
    columns = "，".join(
        f"{c.header}→{_(importer.FIELDS[c.field])}"
        for c in report.columns
        if c.field not in ("extra",)
    )
    out.print(_("Columns: {columns}").format(columns=columns), markup=False)
    if report.unknown_columns:
        out.print(
            Text(
                _("Columns not recognised, kept as extra fields: {columns}").format(
                    columns="、".join(report.unknown_columns)
                ),
                "yellow",
            )
        )
    totals = report.totals
    out.print(
        "；".join(f"{_(ACTIONS[a])} {n}" for a, n in totals.items() if n or a == "create"),
        markup=False,
    )
    if report.errors:
        out.print(Text(_("Refused rows") + ":", "red"))
        for e in report.errors:
            out.print(
                "  "
                + _("row {row}, {column} {value!r}: {reason}").format(
                    row=e.row, column=e.column, value=e.value, reason=e.reason
                ),
                markup=False,
            )
    dups = [(o, o.duplicate_of) for o in report.outcomes if o.duplicate_of and o.action != "refuse"]
    if dups:
        out.print(_("Already known:"))
        for o, duplicate_of in dups:
            of = _where(duplicate_of)
            line = _("row {row} {name}: same {match} as {of}, {action}").format(
                row=o.row,
                name=o.name,
                match=_(o.match) if o.match else "",
                of=of,
                action=_(ACTIONS[o.action]),
            )
            if o.changes:
                line += " (" + "、".join(_(importer.FIELDS.get(c, c)) for c in o.changes) + ")"
            out.print("  " + line, markup=False)
    namesakes = [o for o in report.outcomes if o.namesakes]
    if namesakes:
        out.print(_("Same name as someone else (check they are different people):"))
        for o in namesakes:
            others = "；".join(_where(n) for n in o.namesakes)
            out.print(
                "  " + _("row {row}").format(row=o.row) + f" {o.name}: {others}", markup=False
            )
    print_unknowns(report)
    if report.dropped:
        out.print(Text(_("Imported without these cells") + ":", "yellow"))
        for e in report.dropped:
            out.print(
                "  "
                + _("row {row}, {column} {value!r}: {reason}").format(
                    row=e.row, column=e.column, value=e.value, reason=e.reason
                ),
                markup=False,
            )
    if report.approximations:
        out.print(_("Values read as the nearest configured label (check them):"))
        for (column, value), label in sorted(report.approximations.items()):
            out.print(f"  {column} {value!r} → {label}", markup=False)
    if report.skipped_rows:
        out.print(
            _("Rows skipped: {rows}").format(
                rows="，".join(
                    _("row {row}").format(row=r) + f" ({_(why)})" for r, why in report.skipped_rows
                )
            ),
            markup=False,
        )
    if errors is not None and report.raw_rows:
        out.print(
            _("The refused rows are in {path}: correct them there and import that file.").format(
                path=errors
            ),
            markup=False,
        )
    elif report.errors:
        out.print(_("Use --errors FILE.xlsx to get the refused rows in a sheet to correct."))
    if report.dry_run:
        out.print(Text(_("Dry run: nothing was written."), "bold"))


# -- export ------------------------------------------------------------------------


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return parse_date(text, today=clock.today(state().config.tz))
    except TimeParseError as exc:
        raise ValidationError(exc.field_error(option)) from None


def export_people_command(
    output: OutputOpt,
    category: CategoryOpt = None,
    sector: SectorOpt = None,
    party: PartyOpt = None,
    committee: CommitteeOpt = None,
    region: RegionOpt = None,
    group: GroupOpt = None,
) -> None:
    """Export people."""

    def work(unit: Unit) -> int:
        with narrowed_to(unit, groups.people_of(unit, group) if group else None):
            return exporter.export_people(
                unit,
                output,
                category=category,
                sector=sector,
                party=party,
                committee=committee,
                region=region,
            )

    count = run_unit(work, write=False)
    out.print(_("Wrote {count} people to {path}.").format(count=count, path=output), markup=False)


def export_interactions_command(
    output: OutputOpt,
    from_: FromOpt = None,
    to: ToOpt = None,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help=N_("Only this kind of work (repeatable)."))
    ] = None,
) -> None:
    """Export interactions."""
    start, end = _date(from_, "--from"), _date(to, "--to")
    count = run_unit(
        lambda unit: exporter.export_interactions(
            unit, output, start=start, end=end, kinds=kind or []
        ),
        write=False,
    )
    out.print(
        _("Wrote {count} interactions to {path}.").format(count=count, path=output), markup=False
    )


def export_vcf_command(
    output: Annotated[Path, typer.Option("-o", "--output", help=N_("The .vcf file to write."))],
    category: CategoryOpt = None,
    sector: SectorOpt = None,
    party: PartyOpt = None,
    committee: CommitteeOpt = None,
    region: RegionOpt = None,
) -> None:
    """Export vCards."""
    count = run_unit(
        lambda unit: exporter.export_vcf(
            unit,
            output,
            category=category,
            sector=sector,
            party=party,
            committee=committee,
            region=region,
        ),
        write=False,
    )
    out.print(_("Wrote {count} contacts to {path}.").format(count=count, path=output), markup=False)


def register(app: typer.Typer) -> None:
    """Add `import` and the `export` commands to ``app`` (into its `export` group if
    another module made one already)."""
    app.command("import", help=N_("Import people from a roster (.xlsx, .xls, .ods, .csv)."))(
        import_command
    )
    group = next((g.typer_instance for g in app.registered_groups if g.name == "export"), None)
    if group is None:
        group = typer.Typer(help=N_("Export data to files."), no_args_is_help=True)
        app.add_typer(group, name="export")
    group.command("people", help=N_("Write people to .xlsx or .csv (filters as in search)."))(
        export_people_command
    )
    group.command("interactions", help=N_("Write the work of a period to .xlsx or .csv."))(
        export_interactions_command
    )
    group.command("vcf", help=N_("Write contacts as vCards (.vcf) for phones."))(export_vcf_command)
