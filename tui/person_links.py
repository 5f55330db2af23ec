"""What the person page shows of a person's relationships, tags and liaison record
(issue 18), loaded through the services beside :func:`crm_tui.data.load_person`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table
from rich.text import Text

from crm_core import clock
from crm_core.i18n import _
from crm_core.reports import Period
from crm_core.services import liaison_record, relations, tags
from crm_core.unit import Unit


@dataclass
class PersonLinks:
    """A person's relationships (each seen from them), tags, and this year's record."""

    relations: list[dict[str, Any]]
    tags: list[str]
    record: dict[str, Any] = field(default_factory=dict)


def load_links(unit: Unit, person_id: uuid.UUID | str, *, with_record: bool = False) -> PersonLinks:
    """Relationships and tags of a person; with ``with_record`` their liaison record of
    the current year (its JSON form)."""
    views = relations.relations_of(unit, person_id)
    record: dict[str, Any] = {}
    if with_record:
        year = clock.today(unit.config.tz).year
        rec = liaison_record.liaison_record(unit, person_id, Period.year(year))
        record = liaison_record.record_json(rec)
    return PersonLinks(
        [relations.relation_json(v) for v in views], tags.person_tags(unit, person_id), record
    )


def relations_table(items: list[dict[str, Any]]) -> Table:
    """The relationships as the page shows them: label, name, dates."""
    table = Table(box=None, padding=(0, 1), show_edge=False, show_header=False)
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    table.add_column(style="dim", no_wrap=True)
    for item in items:
        dates = "–".join(x for x in (item["start_on"], item["end_on"]) if x)
        table.add_row(item["label"], item["name"], dates)
    return table


def record_view(record: dict[str, Any]) -> Any:
    """The liaison record's figures and lists, compactly."""
    totals = record["totals"]
    grid = Table(box=None, padding=(0, 1), show_edge=False, show_header=False)
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    grid.add_row(_("Contacts made"), str(totals["contacts"]))
    kinds = "、".join(f"{k['label']} {k['count']}" for k in record["by_kind"])
    if kinds:
        grid.add_row(_("By kind"), kinds)
    whom = "、".join(f"{w['name']} {w['count']}" for w in record["by_whom"])
    if whom:
        grid.add_row(_("By whom"), whom)
    grid.add_row(_("Talks"), str(totals["talks"]))
    grid.add_row(
        _("Concerns raised"),
        _("{count} ({handled} handled)").format(
            count=totals["concerns"], handled=totals["concerns_handled"]
        ),
    )
    for c in record["concerns"]:
        grid.add_row("", Text(f"{c['raised']}  {c['title']}  [{c['status_label']}]"))
    grid.add_row(_("Gatherings attended"), str(totals["gatherings"]))
    grid.add_row(_("Briefings received"), str(totals["briefings"]))
    return grid
