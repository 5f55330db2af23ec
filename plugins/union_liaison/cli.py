"""`tongxin briefings` and `tongxin gathering`: the plugin's commands.

``tongxin briefings`` lists the documents briefed so far; ``tongxin briefings DOCUMENT``
who has been briefed on one; ``tongxin briefings DOCUMENT --missing`` who (of the Hong
Kong and Macao members, or ``--category``) has not. ``tongxin gathering`` shows the
year's 中秋联谊会: its date (Gregorian and lunar), invitees, RSVPs and attendance.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from crm_cli.plugin_api import JsonOpt, YearOpt, label, open_unit, out, print_json, run_unit
from rich.table import Table
from rich.text import Text

from crm_core import api
from crm_core.api import N_, Interaction, Person, Unit, _

from . import services
from .render import attendance_parts


def _person_json(p: Person) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "name": p.name,
        "pinyin": p.name_pinyin,
        "sector": p.sector,
        "region": p.region,
        "employer": p.employer,
        "title": p.title,
    }


def _people_table(people: list[Person]) -> Table:
    table = Table(box=None, header_style="bold")
    for head in (_("Name"), _("Sector"), _("Region"), _("Employer and title"), "ID"):
        table.add_column(head)
    for p in people:
        table.add_row(
            p.name,
            label("sectors", p.sector),
            label("regions", p.region),
            " ".join(x for x in (p.employer, p.title) if x),
            str(p.id)[:8],
        )
    return table


def briefings_command(
    document: Annotated[
        str | None,
        typer.Argument(
            help=N_("The document's title, e.g. 《中共中央关于进一步全面深化改革…的决定》.")
        ),
    ] = None,
    missing: Annotated[
        bool, typer.Option("--missing", help=N_("List who has not been briefed on it yet."))
    ] = False,
    category: Annotated[
        str,
        typer.Option(help=N_("Whose coverage --missing checks (category code or label).")),
    ] = services.DEFAULT_BRIEFED_CATEGORY,
    as_json: JsonOpt = False,
) -> None:
    """Briefings on important documents: who has, or has not, been briefed."""
    if document is None:
        if missing:
            raise typer.BadParameter(_("name the DOCUMENT to check"), param_hint="--missing")
        with open_unit() as unit:
            _documents(unit, as_json)
        return
    with open_unit() as unit:
        if missing:
            people = services.not_briefed(unit, document, category=category)
            code = unit.app.categories.resolve(category).code  # type: ignore[union-attr]
        else:
            people = services.briefed_on(unit, document)
            code = None
        if as_json:
            print_json(
                {
                    "document": document,
                    "missing": missing,
                    "category": code,
                    "total": len(people),
                    "people": [_person_json(p) for p in people],
                }
            )
            return
        # Titles are shown between book-title marks, however they were typed.
        title = document.strip()
        if not title.startswith("《"):
            title = f"《{title}》"
        if missing:
            head = _("Not yet briefed on {document} ({category}): {n}").format(
                document=title, category=label("categories", code), n=len(people)
            )
        else:
            head = _("Briefed on {document}: {n}").format(document=title, n=len(people))
        out.print(head, markup=False)
        if people:
            out.print(_people_table(people))


def _documents(unit: Unit, as_json: bool) -> None:
    docs = services.documents(unit)
    if as_json:
        print_json({"documents": [d.as_json() for d in docs]})
        return
    if not docs:
        out.print(_("No briefing has been logged yet."))
        return
    table = Table(box=None, header_style="bold")
    for head in (_("Document"), _("Number"), _("Briefings"), _("People briefed"), _("Last")):
        table.add_column(head)
    for d in docs:
        table.add_row(
            d.document, d.document_no or "", str(d.count), str(d.people), d.last.isoformat()
        )
    out.print(table)


def gathering_command(
    year: YearOpt = None,
    series: Annotated[
        str, typer.Option(help=N_("A lunar series of the config (default: the 中秋联谊会)."))
    ] = services.MID_AUTUMN,
    create: Annotated[
        bool,
        typer.Option("--create", help=N_("Put the gathering on the calendar if it is not yet.")),
    ] = False,
    invite: Annotated[
        list[str] | None,
        typer.Option(
            "--invite",
            help=N_("With --create: invite this person (id, name or pinyin; repeatable)."),
        ),
    ] = None,
    invite_group: Annotated[
        list[str] | None,
        typer.Option(
            "--invite-group",
            help=N_("With --create: invite everyone of this group (its name; repeatable)."),
        ),
    ] = None,
    send: Annotated[
        bool,
        typer.Option(
            "--send-invitations",
            help=N_("E-mail the invitation (iTIP) to each invitee with an address, via [smtp]."),
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The year's gathering: date, invitees, RSVPs and attendance."""
    if invite_group and not create:
        raise typer.BadParameter(
            _("--invite-group goes with --create"), param_hint="--invite-group"
        )
    if invite and not create:
        raise typer.BadParameter(_("--invite goes with --create"), param_hint="--invite")

    def work(unit: Unit) -> dict[str, Any]:
        # Everything read (and, with --create, written) in one unit that is run again if
        # it clashed with another writer; printing waits until it has committed.
        the_year = year or api.today(unit.config.tz).year
        day = services.gathering_date(unit, the_year, series_code=series)
        title = next(
            (e.get("zh") or series for e in unit.config.series if e.get("code") == series), series
        )
        gathering: Interaction | None
        if create:
            people = [api.resolve_person(unit, ref).id for ref in invite or []]
            for name in invite_group or []:  # a group's members as the reader sees them
                people += [p for p in api.group_people(unit, name) if p not in people]
            gathering = services.ensure_gathering(
                unit, the_year, series_code=series, invitees=people
            )
        else:
            gathering = services.find_gathering(unit, the_year, series_code=series)
        sent = None
        if send and gathering is not None:
            # In the same unit: the invitees marked invited only if the mail went out.
            sent = api.send_invitations(unit, gathering.id).as_json()
        summary = services.attendance_summary(unit, gathering.id) if gathering else None
        time_of_day = None
        if gathering is not None and not gathering.all_day:
            time_of_day = gathering.start_at.astimezone(unit.config.tz).strftime("%H:%M")
        return {
            "year": the_year,
            "title": title,
            "day": day,
            "gathering": api.interaction_json(unit, gathering) if gathering else None,
            "time": time_of_day,
            "summary": summary,
            "invitations": sent,
        }

    found = run_unit(work, write=create or send)
    day, summary, gathering = found["day"], found["summary"], found["gathering"]
    lunar_day = api.solar_to_lunar(day)
    if as_json:
        print_json(
            {
                "year": found["year"],
                "series": series,
                "event": found["title"],
                "date": day.isoformat(),
                "lunar": lunar_day.text,
                "festival": lunar_day.festival,
                "gathering": gathering,
                "summary": summary.as_json() if summary else None,
                "invitations": found["invitations"],
            }
        )
        return
    if found["invitations"] is not None:
        sent_to = found["invitations"]["sent"]
        out.print(
            _("Invitations e-mailed: {n}; without an address: {m}").format(
                n=len(sent_to), m=len(found["invitations"]["no_email"])
            ),
            markup=False,
        )
    when = day.isoformat() + "（" + _("lunar {date}").format(date=lunar_day.text) + "）"
    if found["time"]:
        when += " " + found["time"]
    out.print(Text.assemble((f"{found['year']} {found['title']}", "bold"), "  " + when))
    if gathering is None or summary is None:
        out.print(_("Not on the calendar yet (tongxin gathering --create puts it there)."))
        return
    status_word = _("Status")
    out.print(f"{status_word}: {_(gathering['status'])}")
    for part in attendance_parts(summary):
        out.print(part)


def add_commands(cli: Any) -> None:
    """Add the plugin's commands to the root Typer application."""
    cli.command(
        "briefings",
        help=N_(
            "Briefings on important documents: the documents briefed; with DOCUMENT, who "
            "has been briefed on it; with --missing, who has not."
        ),
    )(briefings_command)
    cli.command(
        "gathering",
        help=N_("The year's Mid-Autumn gathering: date, invitees, RSVPs and attendance."),
    )(gathering_command)
