"""The liaison work on the command line: log, schedule, kinds, overdue, follow-ups,
assignments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, TypedDict

import typer
from crm_cli.context import err, label, open_unit, out, print_json, run_unit
from crm_cli.options import JsonOpt, KeeperOpt, LocationOpt
from rich.table import Table
from rich.text import Text

from crm_core import clock
from crm_core.errors import ValidationError
from crm_core.i18n import N_, _, language
from crm_core.models import Interaction
from crm_core.services import accounts, assignments, contacts, followups, interactions, overdue
from crm_core.services.obligations import Obligations
from crm_core.timeparse import TimeParseError, parse_date, parse_when
from crm_core.unit import Unit

WithOpt = Annotated[
    list[str],
    typer.Option(
        "--with",
        help=N_("A person taking part: id, name or pinyin (repeatable)."),
        show_default=False,
    ),
]
ByOpt = Annotated[
    list[str] | None,
    typer.Option("--by", help=N_("An account doing the work: username or name (repeatable).")),
]
FieldOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--field", help=N_("A field of the kind, NAME=VALUE (repeatable; see `tongxin kinds`).")
    ),
]
SummaryOpt = Annotated[str | None, typer.Option(help=N_("One line saying what happened."))]
NotesOpt = Annotated[str | None, typer.Option(help=N_("The detailed record."))]


def _when(unit: Unit, text: str | None, field: str) -> tuple[datetime | None, bool]:
    if text is None:
        return None, False
    try:
        when = parse_when(text, now=clock.now(), tz=unit.config.tz)
    except TimeParseError as exc:
        raise ValidationError(exc.field_error(field)) from None
    return when.start, when.all_day


def _due(unit: Unit, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return parse_date(text, today=clock.today(unit.config.tz))
    except TimeParseError as exc:
        raise ValidationError(exc.field_error("--due")) from None


def _record(
    *,
    planned: bool,
    kind: str,
    people: list[str],
    by: list[str] | None,
    at: str | None,
    end: str | None,
    fields: list[str] | None,
    summary: str | None,
    notes: str | None,
    location: str | None,
    as_json: bool,
) -> None:
    # One unit of work, run again if it clashed with someone else's write at the same
    # moment; what it shows is printed once it has been saved.
    run_unit(
        lambda unit: _recorded(
            unit,
            planned=planned,
            kind=kind,
            people=people,
            by=by,
            at=at,
            end=end,
            fields=fields,
            summary=summary,
            notes=notes,
            location=location,
            as_json=as_json,
        )
    )()


def _recorded(
    unit: Unit,
    *,
    planned: bool,
    kind: str,
    people: list[str],
    by: list[str] | None,
    at: str | None,
    end: str | None,
    fields: list[str] | None,
    summary: str | None,
    notes: str | None,
    location: str | None,
    as_json: bool,
) -> Callable[[], None]:
    # Names the missing plugin when the kind is one of a plugin that failed to load.
    spec = interactions.require_kind(unit, kind, field="KIND")
    person_ids = [contacts.resolve_person(unit, p).id for p in people]
    account_ids = [accounts.resolve_account(unit, a).id for a in by or []]
    start, all_day = _when(unit, at, "--at")
    finish, _ = _when(unit, end, "--end")
    data = spec.fields_from_pairs(fields or [])
    common: dict[str, Any] = dict(
        kind=kind,
        people=person_ids,
        accounts=account_ids,
        end=finish,
        location=location,
        summary=summary,
        notes=notes,
        data=data,
        all_day=all_day,
    )
    if planned:
        if start is None:
            raise ValidationError.one("--at", None, N_("say when: --at '明天下午3点'"))
        item = interactions.schedule_interaction(unit, start=start, **common)
    else:
        item = interactions.log_interaction(unit, start=start, **common)
    raised = followups.list_follow_ups(unit, interaction_id=item.id)
    if as_json:
        data_out = interactions.interaction_json(unit, item)
        data_out["follow_ups"] = [followups.follow_up_json(f) for f in raised]
        return lambda: print_json(data_out)
    lines = _recorded_lines(unit, item, len(raised))

    def show() -> None:
        for line in lines:
            out.print(line)

    return show


def _recorded_lines(unit: Unit, item: Interaction, follow_up_count: int) -> list[str]:
    tz = unit.config.tz
    kind = unit.kinds[item.kind].label(language())
    names = []
    for p in interactions.participants_of(unit, item.id):
        if p.person_id:
            names.append(contacts.get_person(unit, p.person_id).name)
        elif p.account_id:
            names.append(accounts.get_account(unit, p.account_id).display_name)
    when = item.start_at.astimezone(tz).strftime("%Y-%m-%d" if item.all_day else "%Y-%m-%d %H:%M")
    head = _("Scheduled") if item.status == "planned" else _("Logged")
    lines = [f"{head}: {kind} {when} · {'、'.join(names)}  [{str(item.id)[:8]}]"]
    if follow_up_count:
        lines.append(
            _("{n} follow-up(s) raised; see `tongxin followups`.").format(n=follow_up_count)
        )
    return lines


def log_command(
    kind: Annotated[str, typer.Argument(help=N_("Kind of work (see `tongxin kinds`)."))],
    people: WithOpt,
    by: ByOpt = None,
    at: Annotated[
        str | None,
        typer.Option(help=N_("When: 今天 15:00, 昨天上午, 2026-12-01 9:30 … (default: now).")),
    ] = None,
    end: Annotated[
        str | None, typer.Option(help=N_("When it ended (default: by the kind's duration)."))
    ] = None,
    field: FieldOpt = None,
    summary: SummaryOpt = None,
    notes: NotesOpt = None,
    location: LocationOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Log work that was done."""
    _record(
        planned=False,
        kind=kind,
        people=people,
        by=by,
        at=at,
        end=end,
        fields=field,
        summary=summary,
        notes=notes,
        location=location,
        as_json=as_json,
    )


def schedule_command(
    kind: Annotated[str, typer.Argument(help=N_("Kind of work (see `tongxin kinds`)."))],
    people: WithOpt,
    at: Annotated[str, typer.Option(help=N_("When: 明天下午3点, 下周三 9:30, 12/1 …"))],
    by: ByOpt = None,
    end: Annotated[
        str | None, typer.Option(help=N_("When it ends (default: by the kind's duration)."))
    ] = None,
    field: FieldOpt = None,
    summary: SummaryOpt = None,
    notes: NotesOpt = None,
    location: LocationOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Schedule planned work."""
    _record(
        planned=True,
        kind=kind,
        people=people,
        by=by,
        at=at,
        end=end,
        fields=field,
        summary=summary,
        notes=notes,
        location=location,
        as_json=as_json,
    )


def kinds_command(as_json: JsonOpt = False) -> None:
    """List every kind of work with its fields."""
    with open_unit() as unit:
        specs = sorted(
            unit.kinds.values(),
            key=lambda k: (k.plugin != "crm_core.builtin_kinds", k.plugin, k.code),
        )
        if as_json:
            print_json(
                [
                    {
                        "code": k.code,
                        "zh": k.zh,
                        "en": k.en,
                        "plugin": k.plugin,
                        "default_duration_minutes": k.default_duration_minutes,
                        "confidential": k.confidential,
                        "fields": k.fields(),
                    }
                    for k in specs
                ]
            )
            return
        table = Table(box=None, header_style="bold")
        for head in (_("Kind"), _("Name"), _("Plugin"), _("Fields")):
            table.add_column(head, overflow="fold")
        for k in specs:
            fields = ", ".join(_field_label(k, f) for f in k.fields())
            name = k.label(language()) + (f" ({_('confidential')})" if k.confidential else "")
            table.add_row(k.code, name, k.plugin, fields)
        out.print(table)
        out.print(_("* required, [] repeatable: --field NAME=VALUE"))
        if any(f["choices"] for k in specs for f in k.fields()):
            out.print(_("(a | b): the field takes one of these values"))


def _field_label(kind: Any, f: dict[str, Any]) -> str:
    required = "*" if f["required"] else ""
    repeatable = "[]" if kind.is_list_field(f["name"]) else ""
    choices = f" ({' | '.join(f['choices'])})" if f.get("choices") else ""
    return f"{f['name']}{required}{repeatable}{choices}"


def overdue_command(
    user: KeeperOpt = None,
    snoozed: Annotated[bool, typer.Option(help=N_("Include snoozed assignments."))] = False,
    as_json: JsonOpt = False,
) -> None:
    """Who is overdue for contact, and which required contacts are missing."""
    with open_unit() as unit:
        keeper = accounts.resolve_account(unit, user).id if user else None
        report = overdue.overdue(unit, keeper_id=keeper, include_snoozed=snoozed)
        duties = report.obligations
        for plugin in duties.failed:
            err.print(
                _("Warning: plugin {plugin} failed; its overdue items are not shown.").format(
                    plugin=plugin
                ),
                markup=False,
            )
        if as_json:
            print_json(overdue.overdue_json(report))
            return
        if not report.items and not report.gaps and not duties.rows:
            out.print(_("Nobody is overdue."))
            return
        if report.items:
            table = Table(box=None, header_style="bold", title=_("Overdue contacts"))
            for head in (
                _("Level"),
                _("Keeper"),
                _("Contact"),
                _("Category"),
                _("Last contact"),
                _("Days overdue"),
            ):
                table.add_column(head)
            tz = unit.config.tz
            for i in report.items:
                level = _("past maximum") if i.level == "max" else _("past ideal")
                last = (
                    i.last_contact.astimezone(tz).strftime("%Y-%m-%d")
                    if i.last_contact
                    else _("never")
                )
                style = "red" if i.level == "max" else "yellow"
                table.add_row(
                    Text(level, style),
                    i.keeper,
                    i.contact,
                    label("categories", i.category),
                    last,
                    str(i.days_overdue),
                )
            out.print(table)
        if report.gaps:
            out.print()
            out.print(Text(_("Missing liaison contacts"), "bold"))
            for g in report.gaps:
                out.print(
                    "  "
                    + _("{keeper} keeps no {category} contact").format(
                        keeper=g.keeper, category=label("categories", g.category)
                    )
                )
        if duties.rows:
            _print_obligations(duties)


def _print_obligations(duties: Obligations) -> None:
    """The plugins' obligations (``collect_obligations``), one per line (a link is long:
    a table would cut it): level, label, detail, how late, where it opens, the plugin."""
    out.print()
    out.print(Text(_("Other obligations"), "bold"))
    for o in duties.rows:
        late = o.level(duties.as_of) == "late"
        line = Text("  ")
        line.append(_("late") if late else _("due"), "red" if late else "yellow")
        line.append(f"  {o.label}")
        if o.detail:
            line.append(f"（{o.detail}）")
        days = o.days_overdue(duties.as_of)
        if days:
            line.append("  " + _("{days} days overdue").format(days=days))
        elif o.due_on is not None:
            line.append("  " + _("due {day}").format(day=o.due_on.isoformat()))
        if o.link is not None:
            line.append("  " + _("open: {link}").format(link=o.link.text()), "dim")
        line.append(f"  [{o.plugin}]", "dim")
        out.print(line)


followups_app = typer.Typer(
    help=N_("Follow-ups of concerns raised: list them, move them along."),
    invoke_without_command=True,
)


@followups_app.callback()
def followups_list(
    ctx: typer.Context,
    open_only: Annotated[
        bool, typer.Option("--open", help=N_("Only open and in-progress ones."))
    ] = False,
    overdue_only: Annotated[
        bool, typer.Option("--overdue", help=N_("Only those past their due date and not answered."))
    ] = False,
    person: Annotated[
        str | None, typer.Option(help=N_("Only those raised by this person."))
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List follow-ups."""
    if ctx.invoked_subcommand is not None:
        return
    with open_unit() as unit:
        today = clock.today(unit.config.tz)
        person_id = contacts.resolve_person(unit, person).id if person else None
        rows = followups.list_follow_ups(
            unit,
            open_only=open_only or overdue_only,
            person_id=person_id,
            due_before=today if overdue_only else None,
        )
        if as_json:
            print_json([followups.follow_up_json(f) for f in rows])
            return
        if not rows:
            out.print(_("No follow-ups."))
            return
        table = Table(box=None, header_style="bold")
        for head in (_("Due"), _("Status"), _("Concern"), _("Raised by"), _("Owner"), "ID"):
            table.add_column(head, overflow="fold")
        for f in rows:
            late = f.due_on is not None and f.due_on < today and f.status in followups.OPEN_STATES
            due = f.due_on.isoformat() if f.due_on else ""
            table.add_row(
                Text(due, "red") if late else due,
                _(f.status.value),
                f.title,
                contacts.get_person(unit, f.person_id).name if f.person_id else "",
                accounts.get_account(unit, f.owner_id).display_name if f.owner_id else "",
                str(f.id)[:8],
            )
        out.print(table)


@followups_app.command(
    "update", help=N_("Move a follow-up along: status, response, owner, due date.")
)
def followups_update(
    ref: Annotated[str, typer.Argument(help=N_("The follow-up's id (or its first 8 characters)."))],
    status: Annotated[
        str | None, typer.Option(help=N_("open, in_progress, answered or closed."))
    ] = None,
    response: Annotated[
        str | None, typer.Option(help=N_("The response given to the member."))
    ] = None,
    owner: Annotated[str | None, typer.Option(help=N_("New owner (username or name)."))] = None,
    due: Annotated[str | None, typer.Option(help=N_("New due date."))] = None,
    as_json: JsonOpt = False,
) -> None:
    def work(unit: Unit) -> dict[str, Any]:
        row = followups.resolve_follow_up(unit, ref)
        owner_id = accounts.resolve_account(unit, owner).id if owner else None
        row = followups.update_follow_up(
            unit,
            row.id,
            status=status,
            response=response,
            owner_id=owner_id,
            due_on=_due(unit, due),
        )
        return followups.follow_up_json(row)

    data = run_unit(work)
    if as_json:
        print_json(data)
    else:
        out.print(_("{title}: {status}").format(title=data["title"], status=_(data["status"])))


class _AssignmentItem(TypedDict):
    """One assignment as `assignments list --json` prints it."""

    id: str
    keeper_id: str
    keeper: str
    contact_id: str
    contact: str
    category: str | None
    ideal_days: int
    max_days: int
    start_on: str
    last_contact: str | None
    snoozed_until: str | None


assignments_app = typer.Typer(
    help=N_("Who keeps whom (二.9): list, add, snooze, end."), no_args_is_help=True
)


@assignments_app.command("list", help=N_("Active assignments with cadence and last contact."))
def assignments_list(
    user: KeeperOpt = None,
    as_json: JsonOpt = False,
) -> None:
    with open_unit() as unit:
        keeper = accounts.resolve_account(unit, user).id if user else None
        rows = assignments.list_assignments(unit, keeper_id=keeper)
        last = assignments.last_contacts(unit, keeper_id=keeper)
        items: list[_AssignmentItem] = []
        for a in rows:
            cad = assignments.cadence(unit, a)
            contact_at = last.get(a.id)
            items.append(
                {
                    "id": str(a.id),
                    "keeper_id": str(a.keeper_id),
                    "keeper": accounts.get_account(unit, a.keeper_id).display_name,
                    "contact_id": str(a.contact_id),
                    "contact": contacts.get_person(unit, a.contact_id).name,
                    "category": a.category,
                    "ideal_days": cad.ideal_days,
                    "max_days": cad.max_days,
                    "start_on": a.start_on.isoformat(),
                    "last_contact": contact_at.isoformat() if contact_at else None,
                    "snoozed_until": a.snoozed_until.isoformat() if a.snoozed_until else None,
                }
            )
        if as_json:
            print_json(items)
            return
        table = Table(box=None, header_style="bold")
        for head in (
            _("Keeper"),
            _("Contact"),
            _("Category"),
            _("Cadence (days)"),
            _("Last contact"),
            "ID",
        ):
            table.add_column(head)
        for i in items:
            table.add_row(
                i["keeper"],
                i["contact"],
                label("categories", i["category"]),
                f"{i['ideal_days']}/{i['max_days']}",
                (i["last_contact"] or "")[:10],
                i["id"][:8],
            )
        out.print(table)


@assignments_app.command(
    "add", help=N_("Make an account responsible for regular contact with a person.")
)
def assignments_add(
    keeper: Annotated[str, typer.Option(help=N_("The keeper (username or name)."))],
    contact: Annotated[str, typer.Option(help=N_("The contact (id, name or pinyin)."))],
    category: Annotated[
        str | None, typer.Option(help=N_("Category of the liaison (code or label)."))
    ] = None,
    ideal_days: Annotated[
        int | None, typer.Option(help=N_("Ideal interval in days (default: the category's)."))
    ] = None,
    max_days: Annotated[
        int | None, typer.Option(help=N_("Maximum interval in days (default: the category's)."))
    ] = None,
) -> None:
    def work(unit: Unit) -> str:
        row = assignments.assign(
            unit,
            keeper_id=accounts.resolve_account(unit, keeper).id,
            contact_id=contacts.resolve_person(unit, contact).id,
            category=category,
            ideal_days=ideal_days,
            max_days=max_days,
        )
        return str(row.id)[:8]

    out.print(_("Assigned ({id}).").format(id=run_unit(work)))


@assignments_app.command(
    "snooze", help=N_("Keep an overdue assignment off the list until a date, saying why.")
)
def assignments_snooze(
    ref: Annotated[
        str, typer.Argument(help=N_("The assignment's id (or its first 8 characters)."))
    ],
    until: Annotated[str, typer.Option(help=N_("Until this date (e.g. 2027-01-31, 1/31)."))],
    reason: Annotated[str, typer.Option(help=N_("Why (abroad, ill, …)."))],
) -> None:
    def work(unit: Unit) -> date:
        row = assignments.resolve_assignment(unit, ref)
        day = _due(unit, until)
        assert day is not None
        assignments.snooze_assignment(unit, row.id, until=day, reason=reason)
        return day

    out.print(_("Snoozed until {day}.").format(day=run_unit(work).isoformat()))


@assignments_app.command("end", help=N_("End an assignment."))
def assignments_end(
    ref: Annotated[
        str, typer.Argument(help=N_("The assignment's id (or its first 8 characters)."))
    ],
) -> None:
    def work(unit: Unit) -> None:
        assignments.end_assignment(unit, assignments.resolve_assignment(unit, ref).id)

    run_unit(work)
    out.print(_("Ended."))
