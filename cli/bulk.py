"""`tongxin bulk ...`: one action on everyone of a group or a search result, in one
transaction (all or nothing), one audit entry per person, `--dry-run` to see first."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from crm_cli.context import out, run_unit
from crm_cli.groups import GroupOpt, MembershipOpt, StatusOpt
from crm_cli.groups import show_result as _show
from crm_cli.options import (
    CategoryOpt,
    CommitteeOpt,
    DryRunOpt,
    JsonOpt,
    LocationOpt,
    OutputOpt,
    PartyOpt,
    RegionOpt,
    SectorOpt,
)

from crm_core import clock, exporter
from crm_core.authz import narrowed_to
from crm_core.errors import ValidationError
from crm_core.i18n import N_, _
from crm_core.services import accounts, bulk_actions, contacts
from crm_core.timeparse import TimeParseError, parse_when
from crm_core.unit import Unit

app = typer.Typer(
    help=N_("One action on everyone of a group or a search (all or nothing)."),
    no_args_is_help=True,
)

QueryOpt = Annotated[
    str | None,
    typer.Option("--query", help=N_("Only who matches this search (as contacts search).")),
]


class Who:
    """The people options every bulk command takes."""

    def __init__(self, **given: Any) -> None:
        self.group = given.pop("group")
        self.query = given.pop("query")
        self.plain = {k: given.pop(k) for k in ("membership", "status") if given.get(k)}
        self.given = {k: v for k, v in given.items() if v}

    def ids(self, unit: Unit) -> list[Any]:
        """The people these options name, as the reader sees them."""
        filters = {**contacts.resolve_filters(unit, **self.given), **self.plain}
        return bulk_actions.target_people(unit, group=self.group, query=self.query, filters=filters)


def _who(
    group: str | None,
    query: str | None,
    category: str | None,
    sector: str | None,
    party: str | None,
    committee: str | None,
    region: str | None,
    membership: str | None,
    status: str | None,
) -> Who:
    return Who(
        group=group, query=query, category=category, sector=sector, party=party,
        committee=committee, region=region, membership=membership, status=status,
    )  # fmt: skip


@app.command("add-category", help=N_("Give everyone the category."))
def add_category(
    value: Annotated[str, typer.Argument(metavar="CATEGORY", help=N_("The category to add."))],
    group: GroupOpt = None, query: QueryOpt = None, category: CategoryOpt = None,
    sector: SectorOpt = None, party: PartyOpt = None, committee: CommitteeOpt = None,
    region: RegionOpt = None, membership: MembershipOpt = None, status: StatusOpt = None,
    dry_run: DryRunOpt = False, as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Add a category to many people."""
    who = _who(group, query, category, sector, party, committee, region, membership, status)
    result = run_unit(
        lambda unit: bulk_actions.add_category(unit, who.ids(unit), value, dry_run=dry_run)
    )
    _show(result, as_json)


@app.command("remove-category", help=N_("Take the category from everyone who has it."))
def remove_category(
    value: Annotated[str, typer.Argument(metavar="CATEGORY", help=N_("The category to remove."))],
    group: GroupOpt = None, query: QueryOpt = None, category: CategoryOpt = None,
    sector: SectorOpt = None, party: PartyOpt = None, committee: CommitteeOpt = None,
    region: RegionOpt = None, membership: MembershipOpt = None, status: StatusOpt = None,
    dry_run: DryRunOpt = False, as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Remove a category from many people."""
    who = _who(group, query, category, sector, party, committee, region, membership, status)
    result = run_unit(
        lambda unit: bulk_actions.remove_category(unit, who.ids(unit), value, dry_run=dry_run)
    )
    _show(result, as_json)


@app.command("set", help=N_("Set one field to the same value for everyone."))
def set_command(
    field: Annotated[str, typer.Argument(help=N_("The field: party, sector, region, title …"))],
    value: Annotated[str, typer.Argument(help=N_("The value (code or label)."))],
    group: GroupOpt = None, query: QueryOpt = None, category: CategoryOpt = None,
    sector: SectorOpt = None, party: PartyOpt = None, committee: CommitteeOpt = None,
    region: RegionOpt = None, membership: MembershipOpt = None, status: StatusOpt = None,
    dry_run: DryRunOpt = False, as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Set a field for many people."""
    who = _who(group, query, category, sector, party, committee, region, membership, status)
    result = run_unit(
        lambda unit: bulk_actions.set_field(unit, who.ids(unit), field, value, dry_run=dry_run)
    )
    _show(result, as_json)


@app.command("assign", help=N_("Make an account the keeper of everyone."))
def assign(
    keeper: Annotated[str, typer.Argument(help=N_("The keeper (username or name)."))],
    every: Annotated[
        int | None, typer.Option(help=N_("Meet each every this many days (90: quarterly)."))
    ] = None,
    group: GroupOpt = None, query: QueryOpt = None, category: CategoryOpt = None,
    sector: SectorOpt = None, party: PartyOpt = None, committee: CommitteeOpt = None,
    region: RegionOpt = None, membership: MembershipOpt = None, status: StatusOpt = None,
    dry_run: DryRunOpt = False, as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Assign a keeper to many people."""
    who = _who(group, query, category, sector, party, committee, region, membership, status)

    def work(unit: Unit) -> bulk_actions.BulkResult:
        account = accounts.resolve_account(unit, keeper)
        return bulk_actions.assign_keeper(
            unit, who.ids(unit), account.id, every_days=every, dry_run=dry_run
        )

    _show(run_unit(work), as_json)


@app.command("schedule", help=N_("Schedule one interaction with everyone taking part."))
def schedule(
    kind: Annotated[str, typer.Argument(help=N_("The kind of work: meeting, visit …"))],
    at: Annotated[str, typer.Option("--at", help=N_("When: 2026-12-20 14:00, 下周三下午 …"))],
    location: LocationOpt = None,
    summary: Annotated[str | None, typer.Option(help=N_("What it is about."))] = None,
    group: GroupOpt = None, query: QueryOpt = None, category: CategoryOpt = None,
    sector: SectorOpt = None, party: PartyOpt = None, committee: CommitteeOpt = None,
    region: RegionOpt = None, membership: MembershipOpt = None, status: StatusOpt = None,
    dry_run: DryRunOpt = False, as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Schedule one interaction with many people."""
    who = _who(group, query, category, sector, party, committee, region, membership, status)

    def work(unit: Unit) -> bulk_actions.BulkResult:
        try:
            when = parse_when(at, now=clock.now(), tz=unit.config.tz)
        except TimeParseError as exc:
            raise ValidationError(exc.field_error("--at")) from None
        mine = [unit.actor.id] if unit.actor is not None else []
        return bulk_actions.schedule_with_all(
            unit, who.ids(unit), kind=kind, start=when.start, accounts=mine,
            location=location, summary=summary, dry_run=dry_run,
        )  # fmt: skip

    _show(run_unit(work), as_json)


@app.command("export", help=N_("Write everyone to .xlsx or .csv."))
def export(
    output: OutputOpt,
    group: GroupOpt = None, query: QueryOpt = None, category: CategoryOpt = None,
    sector: SectorOpt = None, party: PartyOpt = None, committee: CommitteeOpt = None,
    region: RegionOpt = None, membership: MembershipOpt = None, status: StatusOpt = None,
) -> None:  # fmt: skip
    """Export many people."""
    who = _who(group, query, category, sector, party, committee, region, membership, status)

    def work(unit: Unit) -> int:
        with narrowed_to(unit, who.ids(unit)):
            return exporter.export_people(unit, output)

    count = run_unit(work, write=False)
    out.print(_("Wrote {count} people to {path}.").format(count=count, path=output), markup=False)
