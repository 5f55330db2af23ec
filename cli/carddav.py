"""Contacts on phones: `tongxin sync carddav` (the people an account may see, into an
address book on the office's CardDAV server) and `tongxin contacts proposals [accept ID]`
(phone numbers changed on a phone, for an administrator to accept). docs/calendar.md."""

from __future__ import annotations

from typing import Annotated

import typer
from crm_cli.context import get_app, out, print_json, run_unit
from crm_cli.options import JsonOpt, PasswordEnvOpt, password_from_env
from crm_cli.sync_output import print_carddav
from rich.table import Table

from crm_core.calendar_models import ContactProposal
from crm_core.i18n import N_, _
from crm_core.models import Person
from crm_core.phones import display_phone
from crm_core.unit import Unit

proposals_app = typer.Typer(
    help=N_("Phone numbers changed on phones (CardDAV), waiting to be accepted."),
    invoke_without_command=True,
)


def sync_carddav_command(
    url: Annotated[str, typer.Option("--url", help=N_("The CardDAV server or address book URL."))],
    username: Annotated[
        str | None, typer.Option("--username", help=N_("CardDAV user name."))
    ] = None,
    password_env: PasswordEnvOpt = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target", help=N_("The address book's name on the server (made if missing).")
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help=N_("Whose contacts: username (default: your own).")),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    from crm_core.carddav_sync import sync_carddav

    password = password_from_env(password_env)
    report = sync_carddav(
        get_app(), url=url, username=username, password=password, target=target, account=user
    )
    if as_json:
        print_json(report.as_json())
        return
    print_carddav(report)


def _row(p: ContactProposal, person: Person) -> dict[str, object]:
    return {
        "id": str(p.id),
        "person_id": str(person.id),
        "person": person.name,
        "phones": p.phones,
        "before": p.before,
        "status": p.status,
        "created_at": p.created_at.isoformat(),
        "book_url": p.book_url,
    }


@proposals_app.callback()
def proposals_command(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the open proposals: whose numbers, what the phone holds, what tongxin holds."""
    if ctx.invoked_subcommand is not None:
        return
    from crm_core.carddav_sync import list_proposals

    def work(unit: Unit) -> list[dict[str, object]]:
        return [_row(p, person) for p, person in list_proposals(unit)]

    rows = run_unit(work, write=False)
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print(_("No open proposals."), markup=False)
        return
    table = Table(_("ID"), _("Name"), _("On the phone"), _("In tongxin"), _("Since"))
    for r in rows:
        phones, before = r["phones"], r["before"]
        assert isinstance(phones, list) and isinstance(before, list)
        table.add_row(
            str(r["id"])[:8],
            str(r["person"]),
            # One number a line: a narrow terminal wraps between numbers, not inside one.
            "\n".join(display_phone(str(n)) for n in phones),
            "\n".join(display_phone(str(n)) for n in before),
            str(r["created_at"])[:16].replace("T", " "),
        )
    out.print(table)


@proposals_app.command("accept", help=N_("Accept a proposal: the person gets the phone's numbers."))
def accept_command(
    ref: Annotated[str, typer.Argument(help=N_("The proposal's ID (or its first characters)."))],
    as_json: JsonOpt = False,
) -> None:
    from crm_core.carddav_sync import accept_proposal

    def work(unit: Unit) -> tuple[dict[str, object], list[str]]:
        person = accept_proposal(unit, ref)
        numbers = [n for n in [person.mobile, *person.phones] if n]
        done: dict[str, object] = {
            "id": str(person.id),
            "name": person.name,
            "mobile": person.mobile,
            "phones": list(person.phones),
        }
        return done, numbers

    done, numbers = run_unit(work)
    if as_json:
        print_json(done)
        return
    out.print(
        _("{name}'s numbers are now: {numbers}.").format(
            name=done["name"], numbers="、".join(numbers)
        ),
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add `sync carddav` (next to `sync caldav`) and `contacts proposals`."""
    from crm_cli import calendar, contacts

    calendar.sync_app.command("carddav", help=N_("Sync contacts into a CardDAV address book."))(
        sync_carddav_command
    )
    contacts.app.add_typer(proposals_app, name="proposals")
