"""`tongxin groups ...`: saved searches (smart groups) and picked lists (static groups)
of people, personal or shared; `--group NAME` elsewhere takes their members."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from crm_cli.context import label, open_unit, out, print_json, run_unit
from crm_cli.options import (
    CategoryOpt,
    CommitteeOpt,
    DryRunOpt,
    JsonOpt,
    PartyOpt,
    RegionOpt,
    SectorOpt,
)
from rich.table import Table

from crm_core.errors import NotFound, ValidationError
from crm_core.i18n import N_, _
from crm_core.services import bulk_actions, contacts, groups
from crm_core.unit import Unit

app = typer.Typer(
    help=N_("Groups of people: saved searches and picked lists."), no_args_is_help=True
)

GroupOpt = Annotated[
    str | None, typer.Option("--group", help=N_("Only the members of this group (its name)."))
]
SharedOpt = Annotated[
    bool, typer.Option("--shared", help=N_("Shared with the office (default: yours only)."))
]
MembershipOpt = Annotated[
    str | None, typer.Option(help=N_("Only this membership: standing, member or none."))
]
StatusOpt = Annotated[
    str | None, typer.Option(help=N_("Only this status: active, inactive or deceased."))
]
PeopleArg = Annotated[
    list[str], typer.Argument(help=N_("People: ids, names or pinyin queries naming one each."))
]


def kind_label(kind: str) -> str:
    """A group's kind as people say it."""
    return _("saved search") if kind == "smart" else _("picked list")


@app.command("save", help=N_("Save a contacts search (query and filters) as a group."))
def save(
    name: Annotated[str, typer.Argument(help=N_("The group's name."))],
    query: Annotated[
        str, typer.Argument(help=N_("What to look for, as in contacts search (optional)."))
    ] = "",
    category: CategoryOpt = None,
    sector: SectorOpt = None,
    party: PartyOpt = None,
    committee: CommitteeOpt = None,
    region: RegionOpt = None,
    membership: MembershipOpt = None,
    status: StatusOpt = None,
    shared: SharedOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Save a smart group."""
    filters = {
        "category": category,
        "sector": sector,
        "party": party,
        "committee": committee,
        "region": region,
        "membership": membership,
        "status": status,
    }

    def work(unit: Unit) -> dict[str, Any]:
        group = groups.save_group(unit, name, query=query, filters=filters, shared=shared)
        return groups.group_json(unit, group)

    data = run_unit(work)
    if as_json:
        print_json(data)
    else:
        out.print(
            _("Saved the group {name} ({count} people now).").format(
                name=data["name"], count=data["count"]
            )
        )


@app.command("list", help=N_("List the groups you can see (yours, then shared)."))
def list_command(as_json: JsonOpt = False) -> None:
    """List groups."""
    with open_unit() as unit:
        data = [groups.group_json(unit, g) for g in groups.list_groups(unit)]
    if as_json:
        print_json(data)
        return
    if not data:
        out.print(_("No groups yet: tongxin groups save NAME …"))
        return
    table = Table(box=None, header_style="bold")
    for head in (_("Group"), _("Kind"), _("Shared"), _("People"), "ID"):
        table.add_column(head)
    for g in data:
        table.add_row(
            g["name"],
            kind_label(g["kind"]),
            _("yes") if g["shared"] else _("no"),
            str(g["count"]),
            g["id"][:8],
        )
    out.print(table)


@app.command("show", help=N_("Show a group and the members you may see."))
def show(
    name: Annotated[str, typer.Argument(help=N_("The group's name or id."))],
    as_json: JsonOpt = False,
) -> None:
    """Show a group."""
    with open_unit() as unit:
        data = groups.group_json(unit, groups.find_group(unit, name), with_members=True)
    if as_json:
        print_json(data)
        return
    out.print(f"{data['name']}  ({kind_label(data['kind'])}, {data['count']})")
    for m in data["members"]:
        out.print(f"  {m['name']}  {m['pinyin']}  {label('regions', m['region'])}  {m['id'][:8]}")


def _people(unit: Unit, refs: list[str]) -> list[Any]:
    return [contacts.resolve_person(unit, ref).id for ref in refs]


@app.command("add", help=N_("Pick people into a group (a new group of that name is made)."))
def add(
    name: Annotated[str, typer.Argument(help=N_("The group's name."))],
    people: PeopleArg,
    shared: SharedOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Add members to a static group."""

    def work(unit: Unit) -> dict[str, Any]:
        ids = _people(unit, people)
        try:
            group = groups.find_group(unit, name)
        except NotFound:
            group = groups.create_static(unit, name, shared=shared)
        added = groups.add_members(unit, group, ids)
        return {**groups.group_json(unit, group), "added": added}

    data = run_unit(work)
    if as_json:
        print_json(data)
    else:
        out.print(
            _("Added {n} to {name} ({count} people).").format(
                n=data["added"], name=data["name"], count=data["count"]
            )
        )


@app.command("remove", help=N_("Take people out of a picked group."))
def remove(
    name: Annotated[str, typer.Argument(help=N_("The group's name."))],
    people: PeopleArg,
    as_json: JsonOpt = False,
) -> None:
    """Remove members from a static group."""

    def work(unit: Unit) -> dict[str, Any]:
        group = groups.find_group(unit, name)
        removed = groups.remove_members(unit, group, _people(unit, people))
        return {**groups.group_json(unit, group), "removed": removed}

    data = run_unit(work)
    if as_json:
        print_json(data)
    else:
        out.print(_("Removed {n} from {name}.").format(n=data["removed"], name=data["name"]))


@app.command("delete", help=N_("Delete a group (the people stay)."))
def delete(
    name: Annotated[str, typer.Argument(help=N_("The group's name or id."))],
    as_json: JsonOpt = False,
) -> None:
    """Delete a group."""

    def work(unit: Unit) -> dict[str, Any]:
        group = groups.find_group(unit, name)
        data = {"id": str(group.id), "name": group.name, "deleted": True}
        groups.delete_group(unit, group)
        return data

    data = run_unit(work)
    if as_json:
        print_json(data)
    else:
        out.print(_("Deleted the group {name}.").format(name=data["name"]))


@app.command("remind", help=N_("Remind me of this group's people: keep each, every N days."))
def remind(
    name: Annotated[str, typer.Argument(help=N_("The group's name or id."))],
    every: Annotated[int, typer.Option(help=N_("Every this many days (90: quarterly)."))] = 90,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Assign the group's people to me at a cadence (the overdue list and reminders follow)."""

    def work(unit: Unit) -> bulk_actions.BulkResult:
        if unit.actor is None:
            raise ValidationError.one("account", unit.actor_name, N_("reminders need an account"))
        ids = groups.people_of(unit, name)
        return bulk_actions.assign_keeper(
            unit, ids, unit.actor.id, every_days=every, dry_run=dry_run
        )

    show_result(run_unit(work), as_json)


def show_result(result: bulk_actions.BulkResult, as_json: bool) -> None:
    """Print a bulk action's result: the changes, then a line saying how many."""
    if as_json:
        print_json(result.as_json())
        return
    if result.changes:
        table = Table(box=None, header_style="bold")
        for head in (_("Name"), _("Field"), _("Before"), _("After"), "ID"):
            table.add_column(head)
        for c in result.changes:
            shown = [
                ", ".join(v) if isinstance(v, list) else str(v or "") for v in (c.before, c.after)
            ]
            table.add_row(c.name, c.field, *shown, str(c.person_id)[:8])
        out.print(table)
    text = (
        _("Dry run: {n} of {total} people would change ({same} already so); nothing written.")
        if result.dry_run
        else _("{n} of {total} people changed ({same} already so).")
    )
    out.print(text.format(n=len(result.changes), total=result.people, same=result.unchanged))
