"""The `tongxin` command: builds the Typer application in the chosen language, lets
plugins add their commands, and turns errors into clear messages."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated, Any

import typer
from crm_cli import (
    admin,
    api,
    bulk,
    calendar,
    carddav,
    contacts,
    exchange,
    groups,
    record,
    relations,
    reports,
    roster,
    scaffold,
    security,
    tags,
    work,
)
from crm_cli.context import CliState, err, out, set_state, state
from crm_cli.options import HostOpt, PortOpt
from crm_cli.typer_words import translate_typer
from rich.text import Text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from crm_core import __version__
from crm_core.config import load_config
from crm_core.errors import Ambiguous, TongxinError, ValidationError
from crm_core.extras import EXIT_MISSING_EXTRA, MissingExtra
from crm_core.i18n import N_, _, set_language
from crm_core.plugin_status import default_status_path
from crm_core.plugins import PluginFailure, PluginHost
from crm_core.validation import shown

# A usage error (Click's code): also bare `tongxin` with no terminal to draw the UI in.
EXIT_USAGE = 2


def _version(value: bool) -> None:
    if value:
        print(f"tongxin {__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    """The root Typer application with the core commands (help texts untranslated)."""
    app = typer.Typer(
        name="tongxin",
        help=N_("tongxin (同心): liaison and outreach manager for CPPCC offices."),
        # Plain `tongxin` opens the terminal UI (see `root`).
        no_args_is_help=False,
        add_completion=False,
        rich_markup_mode="rich",
    )

    @app.callback(invoke_without_command=True)
    def root(
        ctx: typer.Context,
        db: Annotated[
            str | None,
            typer.Option(
                "--db", help=N_("Database: a SQLite file or a postgresql:// URL (or TONGXIN_DB).")
            ),
        ] = None,
        lang: Annotated[
            str | None,
            typer.Option("--lang", help=N_("Language: zh (default) or en (or TONGXIN_LANG).")),
        ] = None,
        as_user: Annotated[
            str | None,
            typer.Option(
                "--as",
                help=N_("Act as this account (administrators only; audited)."),
                show_default=False,
            ),
        ] = None,
        version: Annotated[
            bool,
            typer.Option(
                "--version", callback=_version, is_eager=True, help=N_("Show the version and exit.")
            ),
        ] = False,
    ) -> None:
        if db:
            state().db_url = db
        if as_user:
            state().as_user = as_user
        if ctx.invoked_subcommand is None:
            # textual-serve (`tongxin web`) starts the app on pipes with the web driver
            # named in TEXTUAL_DRIVER: the browser is its terminal.
            served = "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")
            if not served and not (sys.stdin.isatty() and sys.stdout.isatty()):
                # No terminal (a pipe, a cron job, `tongxin < /dev/null | cat`): the UI
                # could not be drawn and would wait for keys forever. Show the commands.
                err.print(_("The terminal UI needs a terminal; the commands are:"))
                out.print(ctx.get_help(), markup=False, highlight=False)
                raise typer.Exit(EXIT_USAGE)
            _open_tui()

    app.add_typer(contacts.app, name="contacts")
    app.add_typer(relations.app, name="relations")
    app.add_typer(tags.app, name="tags")
    record.register(app)  # record PERSON | record summary
    app.add_typer(groups.app, name="groups")  # issue 18: groups and bulk actions
    app.add_typer(bulk.app, name="bulk")
    app.add_typer(admin.db_app, name="db")
    app.command("plugins", help=N_("List plugins: version, source, hooks, status, last error."))(
        admin.plugins_command
    )
    app.command("demo", help=N_("Fill an empty database with realistic demo data."))(
        admin.demo_command
    )
    app.command("log", help=N_("Log work that was done: a visit, a talk, a call …"))(
        work.log_command
    )
    app.command("schedule", help=N_("Put planned work on the calendar."))(work.schedule_command)
    app.command("kinds", help=N_("List every kind of work and its fields."))(work.kinds_command)
    app.command("overdue", help=N_("Who is overdue for contact, and missing liaison contacts."))(
        work.overdue_command
    )
    app.add_typer(work.followups_app, name="followups")
    app.add_typer(work.assignments_app, name="assignments")
    scaffold.plugin_app.command("new", help=N_("Write a working, tested plugin package."))(
        scaffold.new_plugin
    )
    app.add_typer(scaffold.plugin_app, name="plugin")
    calendar.register(app)  # export ics, serve, feed, sync caldav, remind
    carddav.register(app)  # sync carddav, contacts proposals
    roster.register(app)  # import; export people/interactions/vcf (after calendar's export)
    reports.register(app)  # report NAME, report --list
    security.register(app)  # users, audit, person export/anonymise, backup, restore
    api.register(app)  # api token …, webhooks …
    exchange.register(app)  # exchange export|import (issue 19, part 3)
    app.command("web", help=N_("Serve the terminal UI to a browser (textual-serve)."))(web_command)
    return app


def _open_tui() -> None:
    # Imported here: the other commands never load Textual.
    from crm_tui.app import run as run_tui

    from crm_core.i18n import language

    run_tui(state().app, lang=language())  # opened in a worker while the shell paints


def web_command(
    host: HostOpt = "localhost",
    port: PortOpt = 8000,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help=N_(
                "The address colleagues open (e.g. https://crm.office.lan/tongxin/), "
                "said at start; the page's own links are relative."
            ),
        ),
    ] = None,
) -> None:
    """Serve `tongxin` (the terminal UI) in a browser through textual-serve."""
    import shlex

    from crm_cli.web import make_server

    from crm_core.i18n import language

    command = [sys.executable, "-m", "crm_cli.main", "--lang", language()]
    # Read once: the narrowing of a call's result does not carry to the next call.
    db_url, as_user = state().db_url, state().as_user
    if db_url:
        command += ["--db", db_url]
    if as_user:
        command += ["--as", as_user]
    server = make_server(
        shlex.join(command), host=host, port=port, public_url=public_url, title="同心 tongxin"
    )
    server.serve()


def _translate(cmd: Any) -> None:
    # Help texts are English msgids in the code; translate the built command tree in
    # place so one set of definitions serves every language.
    if cmd.help:
        cmd.help = _(cmd.help)
    # The usage line's placeholders ("[OPTIONS]", "COMMAND [ARGS]...") too.
    cmd.options_metavar = _("[OPTIONS]")
    if getattr(cmd, "commands", None):
        cmd.subcommand_metavar = _("COMMAND [ARGS]...")
    if getattr(cmd, "short_help", None):
        cmd.short_help = _(cmd.short_help)
    for param in cmd.params:
        if getattr(param, "help", None):
            param.help = _(param.help)
    for sub in getattr(cmd, "commands", {}).values():
        _translate(sub)


def _language_from(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def _head(word: str = N_("Error"), style: str = "red") -> Text:
    """``Error: `` (or another word) in its colour, ready for more text to be appended."""
    return Text.assemble((_(word) + ":", style), " ")


def _show_error(exc: BaseException) -> None:
    if isinstance(exc, ValidationError):
        err.print(_head() + _("refused, nothing was written"))
        for e in exc.errors:
            # The value as Python writes it (controls escaped), cut short: a refused
            # megabyte is not printed back.
            err.print(f"  {e.field} = {shown(e.value)!r}: {e.text}")
    elif isinstance(exc, Ambiguous):
        err.print(_head() + _("{query!r} matches more than one record:").format(query=exc.query))
        for c in exc.candidates:
            err.print(f"  {c}")
    else:
        err.print(_head() + (exc.text if isinstance(exc, TongxinError) else str(exc)))


def _warn_of_failure(failure: PluginFailure) -> None:
    # A plugin's hook raised during this command and was skipped (or the plugin could
    # not load): said on stderr, in the user's language, as it happens.
    err.print(_head(N_("Warning"), "yellow") + failure.message)


def _setup(args: list[str], host: PluginHost) -> Any:
    # --lang first, so that an error in the config file is told in that language too.
    set_language(_language_from(args) or os.environ.get("TONGXIN_LANG") or "zh")
    config = load_config()
    set_language(_language_from(args) or config.language)
    translate_typer()
    host.load(disabled=config.plugins_disabled, folders=config.plugin_folders)
    host.configure(config)
    for warning in host.config_warnings:
        err.print(_head(N_("Warning"), "yellow") + warning)
    set_state(CliState(config, host))
    app = build_app()
    host.call_collecting("register_commands", cli=app)
    command = typer.main.get_command(app)
    _translate(command)
    return command


def run(argv: list[str] | None = None) -> int:
    """Run `tongxin` with ``argv`` (default: the process's arguments); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    # Failures are kept in the status file, so `tongxin plugins` shows them next time.
    host = PluginHost(status_file=default_status_path())
    try:
        with host.listening(_warn_of_failure):
            command = _setup(args, host)
            # Standalone mode: usage errors, --help and typer.Exit end in SystemExit with
            # the right code; our own errors come through to be shown below.
            command.main(args=args, prog_name="tongxin", standalone_mode=True)
        return 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except MissingExtra as exc:
        _show_error(exc)
        return EXIT_MISSING_EXTRA
    except TongxinError as exc:
        _show_error(exc)
        return 1
    except OperationalError as exc:
        err.print(_head() + _("cannot use the database: {reason}").format(reason=exc.orig))
        return 1
    except SQLAlchemyError as exc:
        err.print(_head() + _("database error: {reason}").format(reason=exc))
        return 1
    finally:
        if sys.modules["crm_cli.context"]._state is not None:
            state().close()
        set_state(None)


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())


if __name__ == "__main__":  # `python -m crm_cli.main`, as `tongxin web` runs it
    main()
