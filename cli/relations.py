"""`tongxin relations ...`: who knows whom (介绍人, 配偶, 同事 …), read from both sides."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from crm_cli.context import open_unit, out, print_json, run_unit, state
from crm_cli.options import JsonOpt
from rich.table import Table

from crm_core import clock
from crm_core.errors import NotFound as TongxinNotFound
from crm_core.errors import ValidationError
from crm_core.i18n import N_, _
from crm_core.services import contacts, organisations, relations
from crm_core.timeparse import TimeParseError, parse_date
from crm_core.unit import Unit

app = typer.Typer(
    help=N_("Relationships between people (and with organisations)."), no_args_is_help=True
)

TypeOpt = Annotated[
    str, typer.Option("--type", help=N_("The type: a code or label (introduced_by, 配偶 …)."))
]


def _day(text: str | None, option: str) -> date | None:
    if not text:
        return None
    try:
        return parse_date(text, today=clock.today(state().config.tz))
    except TimeParseError as exc:
        raise ValidationError(exc.field_error(option)) from None


def _other(unit: Unit, code: str, ref: str) -> dict[str, Any]:
    """The keyword arguments naming the other side: a person, or an organisation for a
    type whose target is one."""
    spec = relations.relation_types(unit)[code]
    if spec.target == "organisation":
        return {"organisation_id": organisations.resolve_organisation(unit, ref).id}
    return {"other_id": contacts.resolve_person(unit, ref).id}


@app.command(
    "add", help=N_("Relate PERSON with OTHER: seen from PERSON, OTHER is the type's label.")
)
def add(
    person: Annotated[str, typer.Argument(help=N_("The person (id, name or pinyin)."))],
    other: Annotated[str, typer.Argument(help=N_("The other person, or an organisation."))],
    type_: TypeOpt,
    from_: Annotated[str | None, typer.Option("--from", help=N_("Since this day."))] = None,
    to: Annotated[str | None, typer.Option("--to", help=N_("Until this day."))] = None,
    notes: Annotated[str | None, typer.Option(help=N_("Notes."))] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a relation."""

    def work(unit: Unit) -> dict[str, Any]:
        who = contacts.resolve_person(unit, person)
        code = relations.resolve_type(unit, type_)
        row = relations.add_relation(
            unit, who.id, type=code, start_on=_day(from_, "--from"), end_on=_day(to, "--to"),
            notes=notes, **_other(unit, code, other),
        )  # fmt: skip
        view = next(v for v in relations.relations_of(unit, who.id) if v.id == row.id)
        return {"person": {"id": str(who.id), "name": who.name}, **relations.relation_json(view)}

    data = run_unit(work)
    if as_json:
        print_json(data)
        return
    out.print(
        _("{person}: {label} {other}").format(
            person=data["person"]["name"], label=data["label"], other=data["name"]
        ),
        markup=False,
    )


@app.command("list", help=N_("A person's relationships, each seen from that person."))
def list_(
    person: Annotated[str, typer.Argument(help=N_("The person (id, name or pinyin)."))],
    as_json: JsonOpt = False,
) -> None:
    """List a person's relations."""
    with open_unit() as unit:
        who = contacts.resolve_person(unit, person)
        views = relations.relations_of(unit, who.id)
        items = [relations.relation_json(v) for v in views]
    if as_json:
        print_json(items)
        return
    if not items:
        out.print(_("{name} has no relationships recorded.").format(name=who.name), markup=False)
        return
    out.print(relations_table(items))


def relations_table(items: list[dict[str, Any]]) -> Table:
    """The relations of one person as a table (for `relations list` and `contacts show`)."""
    table = Table(box=None, header_style="bold")
    for head in (_("Relationship"), _("Name"), _("Related since"), _("Related until"), "ID"):
        table.add_column(head)
    for item in items:
        table.add_row(
            item["label"], item["name"], item["start_on"] or "", item["end_on"] or "",
            item["id"][:8],
        )  # fmt: skip
    return table


@app.command("remove", help=N_("Remove the relationship between PERSON and OTHER."))
def remove(
    person: Annotated[str, typer.Argument(help=N_("The person (id, name or pinyin)."))],
    other: Annotated[str, typer.Argument(help=N_("The other person, or an organisation."))],
    type_: Annotated[
        str | None, typer.Option("--type", help=N_("Only a relation of this type."))
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove a relation."""

    def work(unit: Unit) -> dict[str, Any]:
        who = contacts.resolve_person(unit, person)
        try:
            target: dict[str, Any] = {"other_id": contacts.resolve_person(unit, other).id}
        except TongxinNotFound:
            target = {"organisation_id": organisations.resolve_organisation(unit, other).id}
        row = relations.remove_between(unit, who.id, type=type_, **target)
        return {"removed": str(row.id), "type": row.type}

    data = run_unit(work)
    if as_json:
        print_json(data)
    else:
        out.print(_("Removed the relationship ({id}).").format(id=data["removed"][:8]))


@app.command("types", help=N_("The relation types of the configuration."))
def types(as_json: JsonOpt = False) -> None:
    """List the relation types."""
    with open_unit() as unit:
        rows = [
            {"code": code, "zh": t.zh, "en": t.en, "zh_reverse": t.zh_reverse,
             "en_reverse": t.en_reverse, "target": t.target,
             "label": relations.describe_type(unit, code)}
            for code, t in relations.relation_types(unit).items()
        ]  # fmt: skip
    if as_json:
        print_json(rows)
        return
    for r in rows:
        out.print(r["label"], markup=False)
