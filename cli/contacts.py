"""`tongxin contacts ...`: search, show and add people."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from crm_cli import duplicates
from crm_cli.context import label, open_unit, out, print_json, run_unit
from crm_cli.groups import GroupOpt
from crm_cli.options import CategoryOpt, CommitteeOpt, JsonOpt, PartyOpt, RegionOpt, SectorOpt
from crm_cli.relations import relations_table
from rich.table import Table
from rich.text import Text

from crm_core.authz import narrowed_to
from crm_core.errors import TongxinError
from crm_core.formatting import value_text
from crm_core.i18n import N_, _
from crm_core.models import Person
from crm_core.person_fields import gender_label
from crm_core.phones import display_phone
from crm_core.plugins import missing_kind_label
from crm_core.services import contacts, groups, interactions, relations, tags
from crm_core.unit import Unit

app = typer.Typer(help=N_("Find, show and add contacts."), no_args_is_help=True)


@app.command(
    "search", help=N_("Search contacts by Chinese name, pinyin, initials, phone or employer.")
)
def search(
    query: Annotated[str, typer.Argument(help=N_("What to look for: 张三, zhangsan, zs, 1381…"))],
    limit: Annotated[int, typer.Option(help=N_("How many results per page."))] = 20,
    offset: Annotated[int, typer.Option(help=N_("Skip this many results (paging)."))] = 0,
    category: CategoryOpt = None,
    sector: SectorOpt = None,
    party: PartyOpt = None,
    committee: CommitteeOpt = None,
    region: RegionOpt = None,
    related_to: Annotated[
        str | None, typer.Option(help=N_("Only people related with this person."))
    ] = None,
    relation_type: Annotated[
        str | None,
        typer.Option(help=N_("Only relations of this type (with --related-to, or alone).")),
    ] = None,
    tag: Annotated[str | None, typer.Option(help=N_("Only people with this tag."))] = None,
    group: GroupOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search contacts."""
    with open_unit() as unit:
        filters = contacts.resolve_filters(
            unit, category=category, sector=sector, party=party, committee=committee, region=region
        )
        also = _link_filters(unit, related_to, relation_type, tag)
        with narrowed_to(unit, groups.people_of(unit, group) if group else None):
            page = contacts.search_people(
                unit, query, limit=limit, offset=offset, also=also, **filters
            )
        if as_json:
            print_json(
                {
                    "query": query,
                    "total": page.total,
                    "offset": page.offset,
                    "limit": page.limit,
                    "results": [contacts.summary_json(unit, p) for p in page.items],
                }
            )
            return
        if not page.items:
            out.print(_("No contacts match {query!r}.").format(query=query))
            return
        table = Table(box=None, header_style="bold")
        for head in (
            _("Name"),
            _("Pinyin"),
            _("Sector"),
            _("Party"),
            _("Region"),
            _("Employer and title"),
            "ID",
        ):
            table.add_column(head)
        for p in page.items:
            table.add_row(
                p.name,
                p.name_pinyin,
                label("sectors", p.sector),
                label("parties", p.party),
                label("regions", p.region),
                " ".join(x for x in (p.employer, p.title) if x),
                str(p.id)[:8],
            )
        out.print(table)
        shown_to = page.offset + len(page.items)
        out.print(
            _("{first}–{last} of {total}").format(
                first=page.offset + 1, last=shown_to, total=page.total
            )
        )


def _link_filters(
    unit: Unit, related_to: str | None, relation_type: str | None, tag: str | None
) -> list[Any]:
    # Relationships and tags narrow a search through their services (issue 18).
    also: list[Any] = []
    if related_to:
        other = contacts.resolve_person(unit, related_to)
        also.append(relations.related_filter(unit, other.id, relation_type))
    elif relation_type:
        also.append(relations.type_filter(unit, relation_type))
    if tag:
        also.append(tags.tag_filter(unit, tag))
    return also


@app.command("show", help=N_("Show one contact: profile, categories and recent interactions."))
def show(
    ref: Annotated[
        str, typer.Argument(help=N_("An id, a name, or a pinyin query that names one person."))
    ],
    as_json: JsonOpt = False,
) -> None:
    """Show a contact."""
    with open_unit() as unit:
        person = contacts.resolve_person(unit, ref)
        recent = interactions.timeline(unit, person.id, limit=10)
        seen = interactions.shown_all(unit, recent)  # confidential: only that it happened
        links = [relations.relation_json(v) for v in relations.relations_of(unit, person.id)]
        person_tags = tags.person_tags(unit, person.id)
        if as_json:
            data = contacts.person_json(unit, person)
            data["recent"] = [
                interactions.interaction_json(unit, i, shown=seen[i.id]) for i in recent
            ]
            data["relations"], data["tags"] = links, person_tags
            print_json(data)
            return
        rows = [
            (_("Name"), f"{person.name}  ({person.name_pinyin})"),
            (_("Gender"), gender_label(person.gender)),
            (
                _("Born"),
                _birth(person.birth_year, person.birth_month),
            ),
            (_("Ethnicity"), person.ethnicity or ""),
            (_("Party"), label("parties", person.party)),
            (_("Sector"), label("sectors", person.sector)),
            (_("Region"), label("regions", person.region)),
            (_("Employer and title"), " ".join(x for x in (person.employer, person.title) if x)),
            (_("Mobile"), display_phone(person.mobile) if person.mobile else ""),
            (_("Address"), person.address or ""),
            (
                _("Categories"),
                "、".join(label("categories", c) for c in contacts.categories_of(unit, person.id)),
            ),
            (
                _("Special committees"),
                "、".join(label("committees", c) for c in contacts.committees_of(unit, person.id)),
            ),
            (_("Tags"), "、".join(person_tags)),
            ("ID", str(person.id)),
            (_("Merged into"), _merged_into(unit, person)),
        ]
        table = Table(box=None, show_header=False)
        table.add_column(style="bold")
        table.add_column()
        for k, v in rows:
            if v:
                table.add_row(k, v)
        out.print(table)
        if links:
            out.print()
            out.print(Text(_("Relationships"), "bold"))
            out.print(relations_table(links))
        if recent:
            out.print()
            out.print(Text(_("Recent interactions"), "bold"))
            kinds = unit.kinds
            for i in recent:
                when = value_text(i.start_at.astimezone(unit.config.tz))
                kind = (
                    kinds[i.kind].label(unit.config.language)
                    if i.kind in kinds
                    else missing_kind_label(unit.plugins, i.kind)  # names the missing plugin
                )
                line = f"  {when}  {kind}  {_(i.status.value)}  {seen[i.id].headline or ''}"
                out.print(line, markup=False)


@app.command("add", help=N_("Add a contact."))
def add(
    name: Annotated[str, typer.Option(help=N_("Name (姓名)."))],
    gender: Annotated[str | None, typer.Option(help=N_("男 or 女."))] = None,
    birth: Annotated[str | None, typer.Option(help=N_("Birth year and month, YYYY-MM."))] = None,
    party: Annotated[str | None, typer.Option(help=N_("Party (code or label)."))] = None,
    sector: Annotated[str | None, typer.Option(help=N_("Sector (code or label)."))] = None,
    region: Annotated[
        str | None, typer.Option(help=N_("County or district (code or label)."))
    ] = None,
    employer: Annotated[str | None, typer.Option(help=N_("Employer."))] = None,
    title: Annotated[str | None, typer.Option(help=N_("Title at the employer."))] = None,
    mobile: Annotated[str | None, typer.Option(help=N_("Mobile phone."))] = None,
    category: Annotated[list[str] | None, typer.Option(help=N_("A category (repeatable)."))] = None,
    committee: Annotated[
        list[str] | None, typer.Option(help=N_("A special committee (repeatable)."))
    ] = None,
    introduced_by: Annotated[
        str | None, typer.Option(help=N_("Who brought this contact in (a person)."))
    ] = None,
    tag: Annotated[list[str] | None, typer.Option(help=N_("A tag (repeatable)."))] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a contact."""

    def work(unit: Unit) -> dict[str, Any]:
        introducer = contacts.resolve_person(unit, introduced_by) if introduced_by else None
        person = contacts.create_person(
            unit,
            name=name,
            gender=gender,
            birth=birth,
            party=party,
            sector=sector,
            region=region,
            employer=employer,
            title=title,
            mobile=mobile,
            categories=category or [],
            committees=committee or [],
        )
        data = contacts.person_json(unit, person)
        if introducer is not None:
            relations.add_relation(unit, person.id, introducer.id, type="introduced_by")
        if tag:
            tags.add_person_tags(unit, person.id, tag)
        data["relations"] = [
            relations.relation_json(v) for v in relations.relations_of(unit, person.id)
        ]
        data["tags"] = tags.person_tags(unit, person.id)
        return data

    data = run_unit(work)  # saved (run again if it met a concurrent write), then shown
    if as_json:
        print_json(data)
    else:
        out.print(_("Added {name} ({id}).").format(name=data["name"], id=data["id"]))


def _birth(year: int | None, month: int | None) -> str:
    if not year:
        return ""
    return f"{year}-{month:02d}" if month else str(year)


def _merged_into(unit: Unit, person: Person) -> str:
    # A merged record says where it went (the kept one, if the reader may see it).
    if person.merged_into_id is None:
        return ""
    try:
        return contacts.describe(contacts.get_person(unit, person.merged_into_id))
    except TongxinError:
        return str(person.merged_into_id)


duplicates.register(app)  # contacts duplicates | merge | not-duplicate | unmerge
