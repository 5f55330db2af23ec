"""Calendars and reminders on the command line: `tongxin export ics`, `tongxin serve`,
`tongxin feed token|url`, `tongxin sync caldav`, `tongxin remind` (docs/calendar.md).

Every command's database work is one unit run by ``run_unit``: run again if it met a
concurrent write, then a clear message, never a raw database error; output is printed
after it. A person's calendar is built acting as that person, as the feed is, so
`tongxin export ics --user U` and U's feed are the same bytes.
"""

from __future__ import annotations

import logging
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from crm_cli.context import err, get_app, out, print_json, run_unit, state
from crm_cli.options import HostOpt, JsonOpt, PasswordEnvOpt, PortOpt, password_from_env
from crm_cli.sync_output import print_caldav, print_carddav
from rich.table import Table

from crm_core import authz, clock
from crm_core.calendar import calendar_range, export_ics
from crm_core.calendar import feeds as feed_service
from crm_core.calendar_models import FeedToken
from crm_core.config import Config
from crm_core.errors import ValidationError
from crm_core.formatting import value_text
from crm_core.i18n import N_, _
from crm_core.models import Account
from crm_core.private_files import write_private_bytes
from crm_core.services import accounts
from crm_core.timeparse import TimeParseError, parse_date
from crm_core.unit import Unit

if TYPE_CHECKING:
    from crm_core.app import Tongxin
    from crm_core.calendar.wsgi import WsgiApp

export_app = typer.Typer(help=N_("Export data to files."), no_args_is_help=True)
feed_app = typer.Typer(
    help=N_("Calendar feeds for phones: tokens and addresses."), no_args_is_help=True
)
token_app = typer.Typer(help=N_("Create, list and revoke feed tokens."), no_args_is_help=True)
sync_app = typer.Typer(
    help=N_("Sync calendars and contacts with a CalDAV/CardDAV server (both ways)."),
    no_args_is_help=True,
)
feed_app.add_typer(token_app, name="token")

UserOpt = Annotated[
    str | None,
    typer.Option("--user", help=N_("Whose calendar: username or name (default: your own).")),
]
SharedOpt = Annotated[
    str | None,
    typer.Option(
        "--calendar",
        help=N_("A shared calendar instead of a person's: office or institutional."),
    ),
]


def state_config() -> Config:
    """The office's configuration of this run."""
    return state().config


def _day(unit: Unit, text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return parse_date(text, today=clock.today(unit.config.tz))
    except TimeParseError as exc:
        raise ValidationError(exc.field_error(field)) from None


def _whose(unit: Unit, user: str | None, shared: str | None) -> tuple[Account | None, str]:
    if user and shared:
        raise ValidationError.one("--calendar", shared, N_("give --user or --calendar, not both"))
    if shared:
        return None, shared
    if user:
        return accounts.resolve_account(unit, user), "user"
    if unit.actor is not None:
        return unit.actor, "user"
    return None, "office"


def export_ics_command(
    user: UserOpt = None,
    shared: SharedOpt = None,
    start: Annotated[
        str | None, typer.Option("--from", help=N_("First day (default: a year ago)."))
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help=N_("Last day (default: two years ahead)."))
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help=N_("Write to this file (default: standard output).")),
    ] = None,
) -> None:
    """Write a calendar (iCalendar, .ics) of scheduled and done work, follow-ups and the
    institutional series."""

    def work(unit: Unit) -> bytes:
        account, scope = _whose(unit, user, shared)
        if account is not None:
            # What that person may see, as their feed shows it (county staff: their own
            # calendar only).
            authz.check_calendar_of(unit, account)
            unit = authz.acting_for(unit, account)
        rng = calendar_range(
            unit,
            account=account,
            scope=scope,
            start=_day(unit, start, "--from"),
            end=_day(unit, end, "--to"),
        )
        return export_ics(unit, rng)

    body = run_unit(work, write=False)
    if output is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    write_private_bytes(output, body)
    err.print(
        _("Wrote {n} events to {path}.").format(n=body.count(b"BEGIN:VEVENT"), path=output),
        markup=False,
    )


def serve_command(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8808,
    cache: Annotated[
        bool,
        typer.Option(
            help=N_("Reuse a feed while nothing has changed (--no-cache: build each time).")
        ),
    ] = True,
    timeout: Annotated[
        float,
        typer.Option(
            min=0.1,
            help=N_("Seconds a connection may stay idle or take to send a request."),
        ),
    ] = 10.0,
) -> None:
    """Serve the calendar feeds (/cal/TOKEN.ics) to phones, and the HTTP API (/api/v1/),
    behind a TLS reverse proxy."""
    from crm_core.calendar.server import make_server

    logging.getLogger("tongxin").setLevel(logging.INFO)
    app = get_app()
    server = make_server(app, host, port, cache=cache, timeout=timeout, api=_api(app))
    address = server.server_address
    err.print(
        _("Serving calendar feeds on http://{host}:{port}/cal/TOKEN.ics (Ctrl-C stops).").format(
            host=address[0], port=address[1]
        ),
        markup=False,
    )
    from crm_core.services.webhook_send import Dispatcher

    dispatcher = Dispatcher(app)  # webhooks: the events due, every 10 s
    dispatcher.start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        dispatcher.stop()
        server.server_close()


def _api(app: Tongxin) -> WsgiApp | None:
    """The HTTP API for `serve`, or None (with a warning) when FastAPI is missing."""
    import importlib.util

    from crm_web_api.gateway import wsgi_api

    missing = [m for m in ("fastapi", "a2wsgi") if importlib.util.find_spec(m) is None]
    if missing:
        err.print(
            _("The HTTP API is off: {reason}").format(reason=", ".join(missing)), markup=False
        )
        return None
    return wsgi_api(app)


def _token_owner(unit: Unit, user: str | None, shared: str | None) -> tuple[Account | None, str]:
    if not user and not shared:
        raise ValidationError.one(
            "USER", None, N_("name the user, or --calendar office|institutional")
        )
    if user and shared:
        raise ValidationError.one("--calendar", shared, N_("give --user or --calendar, not both"))
    if shared:
        return None, shared
    # Not accounts.resolve_account: someone who may manage only their own tokens gets
    # one refusal for any other name, never "not found" or a list of similar accounts.
    assert user is not None
    return feed_service.token_account(unit, user), "user"


@token_app.command("create", help=N_("Make a new feed token and print its addresses."))
def token_create(
    user: Annotated[str | None, typer.Argument(help=N_("Username or name."))] = None,
    shared: SharedOpt = None,
    name: Annotated[str, typer.Option("--name", help=N_("A note: which phone it is for."))] = "",
    as_json: JsonOpt = False,
) -> None:
    def work(unit: Unit) -> tuple[dict[str, object], str]:
        account, scope = _token_owner(unit, user, shared)
        row, token = feed_service.create_token(unit, account=account, scope=scope, name=name)
        return feed_service.token_json(row, account), token

    data, token = run_unit(work)
    https, webcal = feed_service.feed_urls(state_config(), token)
    if as_json:
        print_json({**data, "https": https, "webcal": webcal})
        return
    out.print(
        _("New feed token {id} (shown only now: it is stored hashed).").format(
            id=str(data["id"])[:8]
        )
    )
    out.print(f"  {https}", markup=False)
    out.print(f"  {webcal}", markup=False)


def _owner(owners: dict[uuid.UUID, Account], account_id: uuid.UUID | None) -> Account | None:
    """The account a token belongs to; None for a shared calendar's token."""
    return owners.get(account_id) if account_id is not None else None


@token_app.command("list", help=N_("List feed tokens (never the tokens themselves)."))
def token_list(
    user: Annotated[
        str | None,
        typer.Argument(help=N_("Username or name (default: every token you may manage).")),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    def work(unit: Unit) -> tuple[list[FeedToken], dict[uuid.UUID, Account]]:
        account = feed_service.token_account(unit, user) if user else None
        rows = feed_service.list_tokens(unit, account=account)
        owners = {
            r.account_id: accounts.get_account(unit, r.account_id)
            for r in rows
            if r.account_id is not None
        }
        return rows, owners

    rows, owners = run_unit(work, write=False)
    if as_json:
        print_json([feed_service.token_json(r, _owner(owners, r.account_id)) for r in rows])
        return
    if not rows:
        out.print(_("No feed tokens."))
        return
    table = Table(box=None, header_style="bold")
    for head in (_("Token"), _("Calendar"), _("Note"), _("Created"), _("Revoked")):
        table.add_column(head)
    tz = state_config().tz
    for r in rows:
        owner = _owner(owners, r.account_id)
        table.add_row(
            str(r.id)[:8],
            owner.username if owner else r.scope,
            r.name,
            value_text(r.created_at.astimezone(tz)),
            value_text(r.revoked_at and r.revoked_at.astimezone(tz)),
        )
    out.print(table)


@token_app.command("revoke", help=N_("Revoke a user's feed tokens (all, or one with --token)."))
def token_revoke(
    user: Annotated[str | None, typer.Argument(help=N_("Username or name."))] = None,
    shared: SharedOpt = None,
    token_id: Annotated[
        str | None, typer.Option("--token", help=N_("Only this token (its id as listed)."))
    ] = None,
) -> None:
    def work(unit: Unit) -> int:
        account, scope = _token_owner(unit, user, shared)
        return len(
            feed_service.revoke_tokens(unit, account=account, scope=scope, token_id=token_id)
        )

    out.print(_("Revoked {n} feed token(s).").format(n=run_unit(work)))


@feed_app.command("url", help=N_("Print a new feed address for a user, with a QR code to scan."))
def feed_url(
    user: Annotated[str | None, typer.Argument(help=N_("Username or name."))] = None,
    shared: SharedOpt = None,
    qr: Annotated[bool, typer.Option(help=N_("Print the QR code."))] = True,
) -> None:
    def work(unit: Unit) -> tuple[uuid.UUID, str]:
        account, scope = _token_owner(unit, user, shared)
        row, token = feed_service.create_token(
            unit, account=account, scope=scope, name=_("feed url")
        )
        return row.id, token

    row_id, token = run_unit(work)
    https, webcal = feed_service.feed_urls(state_config(), token)
    out.print(
        _("Subscribe on the phone (new token {id}; `tongxin feed token revoke` old ones):").format(
            id=str(row_id)[:8]
        )
    )
    out.print(f"  {webcal}", markup=False)
    out.print(f"  {https}", markup=False)
    if qr:
        sys.stdout.write(feed_service.qr_text(webcal))
        sys.stdout.flush()


SYNC_CALENDARS = ("mine", "institutional", "office")


@sync_app.command("caldav", help=N_("Sync a calendar with a CalDAV server, both ways."))
def sync_caldav_command(
    url: Annotated[str, typer.Option("--url", help=N_("The CalDAV server or calendar URL."))],
    username: Annotated[
        str | None, typer.Option("--username", help=N_("CalDAV user name."))
    ] = None,
    password_env: PasswordEnvOpt = None,
    target: Annotated[
        str | None,
        typer.Option("--target", help=N_("The calendar's name on the server (made if missing).")),
    ] = None,
    calendar: Annotated[
        str,
        typer.Option(
            "--calendar",
            help=N_(
                "What to sync, as in `export ics`: mine (default), institutional, or office "
                "(the whole office's work; only when named)."
            ),
        ),
    ] = "mine",
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    from crm_core.calendar.caldav_sync import sync_caldav

    if calendar not in SYNC_CALENDARS:
        raise ValidationError.one(
            "--calendar",
            calendar,
            N_("one of mine, institutional, office; the server calendar's name goes in --target"),
        )
    if user and calendar != "mine":
        raise ValidationError.one("--calendar", calendar, N_("give --user or --calendar, not both"))
    password = password_from_env(password_env)
    if calendar == "mine" and user is None:
        # Nobody's own calendar is the whole office's: say so rather than push 2,500 items.
        def own(unit: Unit) -> str | None:
            return unit.actor.username if unit.actor is not None else None

        user = run_unit(own)
        if user is None:
            raise ValidationError.one(
                "--user", None, N_("you have no account: name --user, or --calendar office")
            )
    report = sync_caldav(
        get_app(),
        url=url,
        username=username,
        password=password,
        calendar=target,
        account=user if calendar == "mine" else None,
        scope=None if calendar == "mine" else calendar,
    )
    if as_json:
        print_json(report.as_json())
        return
    print_caldav(report)


@sync_app.command(
    "all",
    help=N_(
        "Sync every account of [caldav.accounts] with the office's CalDAV/CardDAV server "
        "once (what the reminder service does every [caldav] sync_minutes)."
    ),
)
def sync_all_command(
    users: Annotated[
        list[str] | None,
        typer.Argument(help=N_("Only these accounts (default: every configured one).")),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    from crm_core.calendar.dav_jobs import sync_configured

    outcomes = sync_configured(get_app(), users or None)
    if as_json:
        print_json([o.as_json() for o in outcomes])
    else:
        if not outcomes:
            out.print(_("No account is configured under [caldav.accounts]."), markup=False)
        for o in outcomes:
            out.print(f"{o.user}:", markup=False)
            if o.calendar is not None:
                print_caldav(o.calendar)
            if o.contacts is not None:
                print_carddav(o.contacts)
            for text in o.errors:
                err.print(_("Error: {error}").format(error=text), markup=False)
    if any(o.errors for o in outcomes):
        raise typer.Exit(1)


def remind_command(
    once: Annotated[
        bool,
        typer.Option("--once", help=N_("Send what is due now, then stop (for a timer or a test).")),
    ] = False,
) -> None:
    """Run the reminder service: reminders before scheduled work and the daily digest."""
    from crm_core.reminders.service import ReminderService

    logging.getLogger("tongxin").setLevel(logging.INFO)
    service = ReminderService(get_app())
    if once:
        service.run_once()
        return
    err.print(_("Reminder service running (Ctrl-C stops)."), markup=False)
    service.run_forever()


def register(app: typer.Typer) -> None:
    """Add the calendar and reminder commands to the root application."""
    export_app.command("ics", help=N_("Write a calendar file (.ics) of a person's work."))(
        export_ics_command
    )
    app.add_typer(export_app, name="export")
    app.command("serve", help=N_("Serve calendar feeds to phones (/cal/TOKEN.ics)."))(serve_command)
    app.add_typer(feed_app, name="feed")
    app.add_typer(sync_app, name="sync")
    from crm_cli.invitations import register as register_invitations

    register_invitations(app)
    app.command("remind", help=N_("Run the reminder service (reminders and daily digest)."))(
        remind_command
    )
