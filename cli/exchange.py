"""`tongxin exchange export|import`: county → city bundles (docs/deployment.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from crm_cli.context import out, print_json, run_unit
from crm_cli.options import JsonOpt
from rich.table import Table

from crm_core.errors import ValidationError
from crm_core.exchange import ImportReport, export_bundle, import_bundle
from crm_core.exchange.merge import Prefer
from crm_core.exchange.rows import ENTITIES
from crm_core.i18n import N_, _
from crm_core.unit import Unit

# Conflicts remain: the bundle was merged except the rows changed on both sides.
EXIT_CONFLICTS = 3
ENTITY_WORDS = {
    "person": N_("People"),
    "interaction": N_("Interactions"),
    "follow_up": N_("Follow-ups"),
    "assignment": N_("Assignments"),
}

exchange_app = typer.Typer(
    help=N_("County → city exchange: signed bundles of a region's records."),
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add `tongxin exchange`."""
    app.add_typer(exchange_app, name="exchange")


@exchange_app.command("export", help=N_("Write the signed bundle of one region."))
def export_command(
    region: Annotated[str, typer.Option(help=N_("The region (code or name): 仪征市."))],
    output: Annotated[Path, typer.Option("--output", "-o", help=N_("The bundle file to write."))],
    since: Annotated[
        str | None,
        typer.Option(help=N_("Only rows changed since: last (the last export) or a date.")),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    summary = run_unit(lambda unit: export_bundle(unit, region=region, path=output, since=since))
    if as_json:
        print_json(summary.as_json())
        return
    counts = "，".join(f"{_(ENTITY_WORDS[e])} {summary.counts.get(e, 0)}" for e in ENTITIES)
    out.print(_("Wrote {path}: {counts}.").format(path=summary.path, counts=counts), markup=False)
    if summary.confidential_withheld:
        out.print(
            _("{n} confidential talks were not included ([exchange] send_confidential).").format(
                n=summary.confidential_withheld
            )
        )


@exchange_app.command("import", help=N_("Merge a county's bundle into this database."))
def import_command(
    bundle: Annotated[Path, typer.Argument(help=N_("The bundle file."))],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help=N_("Show what would change; write nothing."))
    ] = False,
    theirs: Annotated[
        bool, typer.Option("--theirs", help=N_("Settle conflicts with the bundle's rows."))
    ] = False,
    ours: Annotated[
        bool, typer.Option("--ours", help=N_("Settle conflicts by keeping this database's rows."))
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    if theirs and ours:
        raise ValidationError.one("--theirs", "--ours", N_("choose one side, not both"))
    prefer: Prefer = "theirs" if theirs else "ours" if ours else None

    def work(unit: Unit) -> ImportReport:
        return import_bundle(unit, bundle, dry_run=dry_run, prefer=prefer)

    report = run_unit(work)
    if as_json:
        print_json(report.as_json())
    else:
        _print_report(report)
    if report.conflicts_remaining:
        raise typer.Exit(EXIT_CONFLICTS)


def _print_report(report: ImportReport) -> None:
    if report.dry_run:
        out.print(_("Dry run: nothing was written."))
    table = Table(box=None, header_style="bold")
    for head in ("", _("Added"), _("Updated"), _("Unchanged"), _("Kept ours")):
        table.add_column(head)
    for e in ENTITIES:
        table.add_row(
            _(ENTITY_WORDS[e]),
            str(report.added[e]),
            str(report.updated[e]),
            str(report.unchanged[e]),
            str(report.kept_ours[e]),
        )
    out.print(table)
    for c in report.conflicts:
        fields = "、".join(str(f["field"]) for f in c.fields)
        if c.resolution is None:
            line = _("Conflict: {entity} {id} changed on both sides ({fields}).")
        else:
            line = _("Conflict settled ({side}): {entity} {id} ({fields}).")
        out.print(
            line.format(
                entity=_(ENTITY_WORDS[c.entity]), id=c.id[:8], fields=fields,
                side=_(c.resolution or ""),
            ),
            markup=False,
        )  # fmt: skip
    for m in report.merge_candidates:
        out.print(
            _("May be one person: {a} {a_id} and {b} {b_id}; review with: "
              "tongxin contacts merge {a_id} {b_id} --dry-run").format(
                a=m["a_name"], a_id=m["a"][:8], b=m["b_name"], b_id=m["b"][:8]
            ),
            markup=False,
        )  # fmt: skip
    for s in report.skipped:
        out.print(
            _("Skipped {entity} {id}: {reason}.").format(
                entity=_(ENTITY_WORDS[s["entity"]]), id=s["id"][:8], reason=_(s["reason"])
            ),
            markup=False,
        )
    if report.confidential_refused:
        out.print(
            _("{n} confidential talks were refused ([exchange] accept_confidential).").format(
                n=report.confidential_refused
            )
        )
    if report.conflicts_remaining:
        out.print(_("Settle the conflicts with --theirs or --ours, or edit the records."))


# The words the report uses for a side and a reason (translated through the catalog).
WORDS = (N_("theirs"), N_("ours"), N_("keeper_unknown"), N_("contact_unknown"))
