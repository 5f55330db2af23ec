"""`tongxin contacts duplicates | merge | not-duplicate | unmerge`: finding two records
of one person, reviewing and merging them, and undoing a merge."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from crm_cli.context import label, open_unit, out, print_json, run_unit
from crm_cli.options import JsonOpt
from rich.table import Table
from rich.text import Text

from crm_core.errors import ValidationError
from crm_core.i18n import N_, _
from crm_core.person_fields import gender_label
from crm_core.phones import display_phone
from crm_core.services import contacts, duplicates, duplicates_review, duplicates_undo
from crm_core.unit import Unit

# The fields as the review names them (translated through the catalog).
FIELD_WORDS = {
    "name": N_("Name"),
    "gender": N_("Gender"),
    "birth": N_("Born"),
    "ethnicity": N_("Ethnicity"),
    "party": N_("Party"),
    "sector": N_("Sector"),
    "region": N_("Region"),
    "employer": N_("Employer"),
    "title": N_("Position"),
    "mobile": N_("Mobile"),
    "email": N_("E-mail"),
    "address": N_("Address"),
    "membership": N_("Membership"),
    "organisation_id": N_("Organisation"),
    "phones": N_("Other phones"),
    "categories": N_("Categories"),
    "committees": N_("Special committees"),
    "notes": N_("Notes"),
}
# The levels of a rule (translated through the catalog).
LEVEL_WORDS = {"certain": N_("certain"), "possible": N_("possible")}
LINK_WORDS = {
    "interactions": N_("Interactions"),
    "follow_ups": N_("Follow-ups"),
    "assignments": N_("Assignments"),
    "organisations": N_("Organisations"),
    "accounts": N_("Accounts"),
    "relations": N_("Relationships"),  # issue 18
    "tags": N_("Tags"),
}
MEMBERSHIP_WORDS = {
    "standing": N_("standing member"),
    "member": N_("member"),
    "none": N_("outside contact"),
}
VOCABS = {"party": "parties", "sector": "sectors", "region": "regions"}


def register(app: typer.Typer) -> None:
    """Add the commands to `tongxin contacts`."""
    app.command("duplicates", help=N_("List pairs of records that may be one person."))(
        duplicates_command
    )
    app.command("merge", help=N_("Merge the record DROP into KEEP (review it with --dry-run)."))(
        merge_command
    )
    app.command("not-duplicate", help=N_("Remember that two records are two people."))(
        not_duplicate_command
    )
    app.command("unmerge", help=N_("Undo a merge, by its audit entry (administrators)."))(
        unmerge_command
    )


def duplicates_command(
    rule: Annotated[
        list[str] | None, typer.Option(help=N_("Only this rule (repeatable): its code."))
    ] = None,
    limit: Annotated[int | None, typer.Option(help=N_("At most this many pairs."))] = None,
    as_json: JsonOpt = False,
) -> None:
    """List duplicates."""
    with open_unit() as unit:
        pairs = duplicates.find_duplicates(unit, rules=rule, limit=limit)
        if as_json:
            print_json([duplicates.pair_json(p) for p in pairs])
            return
        if not pairs:
            out.print(_("No duplicates found."))
            return
        rules = duplicates.rules_of(unit)
        lang = unit.config.language
        table = Table(box=None, header_style="bold")
        for head in (_("Score"), _("Level"), _("Reason"), "A", "B"):
            table.add_column(head)
        for p in pairs:
            rule_ = rules[p.rule]
            reason = (rule_.en or rule_.zh) if lang == "en" else rule_.zh
            table.add_row(
                str(p.score),
                _(LEVEL_WORDS[p.level]),
                reason,
                f"{p.a_name} {str(p.a)[:8]}",
                f"{p.b_name} {str(p.b)[:8]}",
            )
        out.print(table)
        out.print(_("{n} pairs; merge one with: tongxin contacts merge A B --dry-run").format(
            n=len(pairs)
        ))  # fmt: skip


def _takes(items: list[str] | None) -> dict[str, str]:
    out_: dict[str, str] = {}
    for item in items or []:
        name, sep, side = item.partition("=")
        if not sep:
            raise ValidationError.one(
                "--take", item, N_("write FIELD=keep, FIELD=drop or FIELD=both")
            )
        out_[name.strip()] = side.strip()
    return out_


def _shown(name: str, value: Any) -> str:
    if value is None or value == [] or value == "":
        return "—"
    if name == "gender":
        return gender_label(value)
    if name == "mobile":
        return display_phone(value)
    if name == "phones":
        return "、".join(display_phone(v) for v in value)
    if name == "membership":
        return _(MEMBERSHIP_WORDS.get(value, value))
    if name in VOCABS:
        return label(VOCABS[name], value)
    if name in ("categories", "committees"):
        return "、".join(label(name, v) for v in value)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def _print_preview(preview: duplicates_review.MergePreview) -> None:
    keep, drop = preview.keep, preview.drop
    table = Table(box=None, header_style="bold")
    table.add_column("")
    table.add_column(_("Field"))
    table.add_column(_("KEEP {id}").format(id=str(keep.id)[:8]))
    table.add_column(_("DROP {id}").format(id=str(drop.id)[:8]))
    table.add_column(_("After the merge"))
    for row in preview.fields:
        mark = "≠" if row.differs else ""
        table.add_row(
            mark,
            _(FIELD_WORDS[row.name]),
            _shown(row.name, row.keep),
            _shown(row.name, row.drop),
            _shown(row.name, row.result) + (f"  ({_(row.side)})" if row.differs else ""),
        )
    out.print(table)
    out.print()
    out.print(Text(_("What moves from DROP to KEEP"), "bold"))
    for key, items in preview.links["drop"].items():
        stays = len(preview.links["keep"][key])
        out.print(
            _("  {what}: {n} move, {kept} already on KEEP").format(
                what=_(LINK_WORDS[key]), n=len(items), kept=stays
            )
        )
        for item in items:
            if key == "interactions":
                line = f"{item['start'][:10]}  {item['kind']}  {item['headline'] or ''}"
            else:
                line = " ".join(
                    str(v) for k, v in item.items() if k not in ("id",) and v is not None
                )
            out.print(f"      {line}", markup=False)


def merge_command(
    keep: Annotated[str, typer.Argument(help=N_("The record that stays: an id or a name."))],
    drop: Annotated[str, typer.Argument(help=N_("The record folded into it: an id or a name."))],
    take: Annotated[
        list[str] | None,
        typer.Option(
            help=N_("FIELD=drop takes DROP's value (phones, categories, committees, notes: =both).")
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help=N_("Show both records and what moves; change nothing.")),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help=N_("Go ahead without asking."))] = False,
    as_json: JsonOpt = False,
) -> None:
    """Merge two contacts."""
    chosen = _takes(take)
    if dry_run or not yes:
        with open_unit() as unit:
            keep_p, drop_p = (
                contacts.resolve_person(unit, keep),
                contacts.resolve_person(unit, drop),
            )
            preview = duplicates_review.preview_merge(unit, keep_p.id, drop_p.id, take=chosen)
            keep_id, drop_id = keep_p.id, drop_p.id
            if as_json and dry_run:
                print_json(duplicates_review.preview_json(preview))
                return
            _print_preview(preview)
        if dry_run:
            return
        if not sys.stdin.isatty():
            raise typer.BadParameter(
                _("merging changes both records: add --yes to go ahead"), param_hint="--yes"
            )
        if not typer.confirm(_("Merge DROP into KEEP?"), default=False):
            out.print(_("Nothing was changed."))
            raise typer.Exit(1)
        keep, drop = str(keep_id), str(drop_id)

    def work(unit: Unit) -> dict[str, Any]:
        keep_p, drop_p = contacts.resolve_person(unit, keep), contacts.resolve_person(unit, drop)
        kept, entry_id = contacts.merge_pair(unit, keep_p.id, drop_p.id, take=chosen)
        return {
            "keep": contacts.person_json(unit, kept),
            "merged": str(drop_p.id),
            "audit_id": str(entry_id),
        }

    data = run_unit(work)
    if as_json:
        print_json(data)
        return
    out.print(
        _("Merged {drop} into {name} ({id}); undo with: tongxin contacts unmerge {audit}").format(
            drop=data["merged"][:8], name=data["keep"]["name"], id=data["keep"]["id"][:8],
            audit=data["audit_id"],
        )
    )  # fmt: skip


def not_duplicate_command(
    a: Annotated[str, typer.Argument(help=N_("One record: an id or a name."))],
    b: Annotated[str, typer.Argument(help=N_("The other record."))],
    as_json: JsonOpt = False,
) -> None:
    """Mark a pair as not a duplicate."""

    def work(unit: Unit) -> dict[str, Any]:
        one, other = contacts.resolve_person(unit, a), contacts.resolve_person(unit, b)
        new = duplicates.mark_not_duplicate(unit, one.id, other.id)
        return {"a": str(one.id), "b": str(other.id), "new": new}

    data = run_unit(work)
    if as_json:
        print_json(data)
        return
    out.print(_("Remembered: these two are not offered as duplicates again."))


def unmerge_command(
    audit_id: Annotated[
        str, typer.Argument(metavar="ENTRY", help=N_("The audit entry of the merge."))
    ],
    as_json: JsonOpt = False,
) -> None:
    """Undo a merge."""

    def work(unit: Unit) -> dict[str, Any]:
        kept, restored = duplicates_undo.unmerge(unit, audit_id)
        return {
            "keep": contacts.person_json(unit, kept),
            "restored": contacts.person_json(unit, restored),
        }

    data = run_unit(work)
    if as_json:
        print_json(data)
        return
    out.print(
        _("Restored {name} ({id}) with its links.").format(
            name=data["restored"]["name"], id=data["restored"]["id"][:8]
        )
    )
