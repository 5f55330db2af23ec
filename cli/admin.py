"""`tongxin db ...`, `tongxin plugins` and `tongxin demo`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from crm_cli.context import err, get_app, out, print_json, state
from crm_cli.options import JsonOpt
from rich.table import Table
from rich.text import Text

from crm_core import db
from crm_core.i18n import N_, _

db_app = typer.Typer(
    help=N_("Database schema: upgrade, downgrade, current revision."), no_args_is_help=True
)


def _engine() -> db.Engine:
    # Schema commands must not migrate on open: they are how migration is steered.
    return db.make_engine(state().db_url or state().config.db_url)


@db_app.command("upgrade", help=N_("Migrate the database up to REVISION (default: the newest)."))
def db_upgrade(
    revision: Annotated[str, typer.Argument(help=N_("Target revision."))] = "head",
) -> None:
    engine = _engine()
    db.upgrade(engine, revision)
    out.print(_("Database at revision {rev}.").format(rev=db.current_revision(engine)))


@db_app.command(
    "downgrade",
    help=N_(
        "Migrate the database down to REVISION ('base' empties it): administrators only, "
        "after a checked backup, audited."
    ),
)
def db_downgrade(
    revision: Annotated[str, typer.Argument(help=N_("Target revision, or 'base'."))],
    yes: Annotated[
        bool, typer.Option("--yes", help=N_("Go ahead without asking (no terminal to ask on)."))
    ] = False,
    backup_to: Annotated[
        Path | None,
        typer.Option(
            "--backup-to",
            help=N_("The backup file to write first (default: in the data directory's backups)."),
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    from crm_core import schema

    engine = _engine()
    # Refused before anything is asked: who may not do it is not asked whether to.
    schema.require_schema_admin(engine)
    current, target = schema.resolve_target(engine, revision)
    if not yes:
        if not sys.stdin.isatty():
            raise typer.BadParameter(
                _(
                    "downgrading to {target} drops data and there is no terminal to ask on: "
                    "add --yes to go ahead"
                ).format(target=target or "base"),
                param_hint="--yes",
            )
        if not typer.confirm(
            _(
                "Downgrade the database from revision {current} to {target}? Tables and "
                "columns of the newer revisions are dropped with their data (a checked "
                "backup is made first)."
            ).format(current=current, target=target or "base"),
            default=False,
        ):
            out.print(_("Nothing was changed."))
            raise typer.Exit(1)
    with err.status(_("Backing up, then downgrading…")):
        done = schema.downgrade_database(engine, target or "base", backup_to=backup_to)
    if as_json:
        print_json(done.as_json())
        return
    out.print(
        _("Backup written and checked: {path} (sha256 {sha}).").format(
            path=done.backup.path, sha=done.sha256
        ),
        markup=False,
    )
    moved = _("Database downgraded from revision {old} to {new}; restore the backup to undo it.")
    out.print(moved.format(old=done.from_revision, new=done.to_revision or "base"))


@db_app.command("current", help=N_("Show the database's URL and revision."))
def db_current(
    as_json: JsonOpt = False,
) -> None:
    engine = _engine()
    current = db.current_revision(engine)
    url = engine.url.render_as_string(hide_password=True)
    if as_json:
        print_json({"url": url, "revision": current, "head": db.head_revision()})
        return
    out.print(f"{url}\n{_('revision')}: {current or 'base'} ({_('newest')}: {db.head_revision()})")


def plugins_command(
    as_json: JsonOpt = False,
) -> None:
    """List every plugin with version, source, hooks, status and last error."""
    infos = state().plugins.plugins()
    if as_json:
        print_json([i.as_json() for i in infos])
        return
    tz = state().config.tz
    table = Table(box=None, header_style="bold")
    heads = (_("Plugin"), _("Version"), _("Source"), _("Status"), _("Hooks"), _("Last error"))
    for head in heads:
        table.add_column(head, overflow="fold")
    for i in infos:
        style = {"ok": "green", "disabled": "dim", "error": "red", "failing": "yellow"}.get(
            i.status, ""
        )
        at = i.last_error_at
        # When it happened, in the office's time: a failure kept from an earlier run.
        when = f"[{at.astimezone(tz):%Y-%m-%d %H:%M}] " if at is not None else ""
        table.add_row(
            i.name,
            i.version or "",
            i.source,
            Text(_(i.status), style),
            ", ".join(sorted(i.hooks)),
            when + (i.last_error or ""),
        )
    out.print(table)


def demo_command(
    contacts: Annotated[int, typer.Option(help=N_("How many contacts to make up."))] = 2000,
    seed: Annotated[
        int, typer.Option(help=N_("Random seed: the same seed gives the same data."))
    ] = 2019,
) -> None:
    """Fill an empty database with realistic demo data."""
    from crm_core import demo

    if contacts < 1 or contacts > 1_000_000:
        raise typer.BadParameter(_("between 1 and 1,000,000"), param_hint="--contacts")
    app = get_app()
    from crm_cli.security import keep_the_login_in

    keep_the_login_in()  # the demo adds accounts: the login who ran it stays an administrator
    from crm_cli.progress import bar

    with bar(_("Making demo data…")) as progress:
        if progress is None:
            with err.status(_("Making demo data…")):
                summary = demo.generate(app, contacts=contacts, seed=seed)
        else:
            summary = demo.generate(app, contacts=contacts, seed=seed, progress=progress)
    ready = _(
        "Demo data ready: {people} people, {accounts} accounts, {interactions} interactions, "
        "{follow_ups} follow-ups, {assignments} assignments."
    )
    out.print(ready.format(**summary.__dict__))
    out.print(_("Database: {url}").format(url=app.engine.url.render_as_string(hide_password=True)))
