"""`tongxin tags ...`: free labels on people and interactions, with pinyin completion."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from crm_cli.context import open_unit, out, print_json, run_unit
from crm_cli.options import JsonOpt
from rich.table import Table

from crm_core.errors import ValidationError
from crm_core.i18n import N_, _
from crm_core.services import contacts, tags
from crm_core.unit import Unit

app = typer.Typer(help=N_("Tags: free labels on people and interactions."), no_args_is_help=True)

TagsArg = Annotated[list[str], typer.Argument(help=N_("One or more tags."))]
PersonOpt = Annotated[
    str | None, typer.Option("--person", help=N_("The person (id, name or pinyin)."))
]
InteractionOpt = Annotated[
    str | None, typer.Option("--interaction", help=N_("The interaction (its id)."))
]


def _target(person: str | None, interaction: str | None) -> None:
    if (person is None) == (interaction is None):
        raise ValidationError.one(
            "--person", person or interaction, N_("give --person or --interaction (one of them)")
        )


def _change(add: bool, labels: list[str], person: str | None, interaction: str | None) -> Any:
    _target(person, interaction)

    def work(unit: Unit) -> dict[str, Any]:
        if person is not None:
            who = contacts.resolve_person(unit, person)
            fn = tags.add_person_tags if add else tags.remove_person_tags
            return {"person_id": str(who.id), "name": who.name, "tags": fn(unit, who.id, labels)}
        on_work = tags.add_interaction_tags if add else tags.remove_interaction_tags
        return {"interaction_id": interaction, "tags": on_work(unit, interaction or "", labels)}

    return run_unit(work)


@app.command("add", help=N_("Tag a person or an interaction."))
def add(
    labels: TagsArg, person: PersonOpt = None, interaction: InteractionOpt = None,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Add tags."""
    data = _change(True, labels, person, interaction)
    if as_json:
        print_json(data)
    else:
        out.print(_("Tags: {tags}").format(tags="、".join(data["tags"])), markup=False)


@app.command("remove", help=N_("Take tags off a person or an interaction."))
def remove(
    labels: TagsArg, person: PersonOpt = None, interaction: InteractionOpt = None,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Remove tags."""
    data = _change(False, labels, person, interaction)
    if as_json:
        print_json(data)
    else:
        out.print(_("Tags: {tags}").format(tags="、".join(data["tags"]) or "—"), markup=False)


@app.command("list", help=N_("The tags of a person or an interaction, or every tag in use."))
def list_(
    person: PersonOpt = None,
    interaction: InteractionOpt = None,
    prefix: Annotated[
        str | None,
        typer.Option(
            "--prefix", help=N_("Complete: tags beginning so, in characters or pinyin (zd → 重点).")
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List tags."""
    with open_unit() as unit:
        if person is not None:
            result: Any = tags.person_tags(unit, contacts.resolve_person(unit, person).id)
        elif interaction is not None:
            result = tags.interaction_tags(unit, interaction)
        elif prefix is not None:
            result = tags.complete(unit, prefix)
        else:
            result = [{"tag": t, "count": n} for t, n in tags.all_tags(unit)]
    if as_json:
        print_json(result)
        return
    if result and isinstance(result[0], dict):
        table = Table(box=None, header_style="bold")
        table.add_column(_("Tag"))
        table.add_column(_("Records"), justify="right")
        for row in result:
            table.add_row(row["tag"], str(row["count"]))
        out.print(table)
        return
    out.print("、".join(result) if result else _("No tags."), markup=False)
