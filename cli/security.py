"""Accounts, the audit log, personal-data requests, backups:
`tongxin users …`, `tongxin audit`, `tongxin person …`, `tongxin backup`, `tongxin restore`.

Every command acts as the authenticated login (or an administrator's ``--as``); the
services decide what it may do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from crm_cli.context import err, get_app, label, out, print_json, run_unit
from crm_cli.options import CountyOpt, JsonOpt
from rich.table import Table

from crm_core import authz, clock, identity
from crm_core import backup as backups
from crm_core.errors import ValidationError
from crm_core.i18n import N_, _
from crm_core.models import Account, Role
from crm_core.private_files import write_private_text
from crm_core.services import accounts, audit, contacts, privacy
from crm_core.timeparse import TimeParseError, parse_date
from crm_core.unit import Unit

users_app = typer.Typer(
    help=N_("Accounts: who may use tongxin, and with which role."), no_args_is_help=True
)
person_app = typer.Typer(
    help=N_("Personal-data requests: export or anonymise one person."), no_args_is_help=True
)

ROLES = ", ".join(r.value for r in Role)
# What an audit entry records (shown through _()).
ACTION_WORDS = (
    N_("create"),
    N_("update"),
    N_("delete"),
    N_("merge"),
    N_("export"),
    N_("anonymise"),
    N_("demo"),
    N_("restore"),
)


def _role(account: Account) -> str:
    text = _(account.role.value)
    if account.region_scope:
        text += f" ({label('regions', account.region_scope)})"
    return text


def _first_admin_hint(unit: Unit) -> str | None:
    if authz.active_admins(unit):
        return None
    return _(
        "No administrator account yet: until there is one, whoever runs tongxin is an "
        "administrator. Add the first one: tongxin users add {login} --role admin"
    ).format(login=unit.app.login_name())


def _pg_role_hint(unit: Unit, username: str) -> str | None:
    """On PostgreSQL an account is used by connecting as the role of the same name."""
    if identity.role_can_connect(unit.session.connection(), username) is not False:
        return None
    return _(
        "{user} logs in as the database role of the same name; a database administrator "
        "creates it: CREATE ROLE {user} LOGIN PASSWORD '…'; GRANT tongxin_user TO {user};"
    ).format(user=username)


def keep_the_login_in() -> None:
    """Before a command adds the first accounts (the demo): a login with administrator
    rights only because no administrator exists yet gets an administrator account, so
    that it is not locked out once the new accounts are there."""
    app = get_app()

    def work(unit: Unit) -> None:
        if (
            unit.actor is None
            and unit.implicit_admin
            and not app.login().owner
            and not authz.active_admins(unit)
        ):
            login = app.login_name()
            accounts.create_account(unit, username=login, display_name=login, role="admin")

    run_unit(work)


# -- users ---------------------------------------------------------------------------------


@users_app.command("add", help=N_("Add an account (administrators only)."))
def users_add(
    username: Annotated[
        str, typer.Argument(help=N_("The login: the OS user name, or the PostgreSQL role."))
    ],
    name: Annotated[
        str | None, typer.Option(help=N_("The name to show (default: USERNAME)."))
    ] = None,
    role: Annotated[str, typer.Option(help=N_("admin, leader, staff or county_staff."))] = "staff",
    region: CountyOpt = None,
    position: Annotated[str | None, typer.Option(help=N_("Position: 主席, 秘书长 …"))] = None,
    chair_meeting: Annotated[
        bool, typer.Option("--chair-meeting", help=N_("A chair-meeting member (主席会议成员)."))
    ] = False,
    committee: Annotated[
        str | None, typer.Option(help=N_("The special committee a leader looks after."))
    ] = None,
    person: Annotated[
        str | None, typer.Option(help=N_("The person record of the same human (id or name)."))
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    def work(unit: Unit) -> tuple[dict[str, Any], str | None]:
        person_id = contacts.resolve_person(unit, person).id if person else None
        row = accounts.create_account(
            unit,
            username=username,
            display_name=name,
            role=role,
            region_scope=region,
            position=position,
            chair_meeting=chair_meeting,
            committee=committee,
            person_id=person_id,
        )
        return accounts.account_json(row), _pg_role_hint(unit, row.username)

    data, hint = run_unit(work)
    if as_json:
        print_json(data)
        return
    out.print(
        _("Added {name} ({user}), {role}.").format(
            name=data["display_name"], user=data["username"], role=_(data["role"])
        )
    )
    if hint:
        err.print(hint, markup=False)


@users_app.command("list", help=N_("List the accounts."))
def users_list(
    every: Annotated[bool, typer.Option("--all", help=N_("Disabled accounts too."))] = False,
    as_json: JsonOpt = False,
) -> None:
    def work(unit: Unit) -> tuple[list[dict[str, Any]], str | None]:
        rows = accounts.list_accounts(unit, active=None if every else True)
        return [accounts.account_json(a) for a in rows], _first_admin_hint(unit)

    rows, hint = run_unit(work, write=False)
    if as_json:
        print_json(rows)
        return
    table = Table(box=None, header_style="bold")
    for head in (_("Username"), _("Name"), _("Role"), _("Position"), _("Active")):
        table.add_column(head)
    for a in rows:
        role = _(a["role"])
        if a["region_scope"]:
            role += f" ({label('regions', a['region_scope'])})"
        table.add_row(
            a["username"],
            a["display_name"],
            role,
            a["position"] or "",
            _("yes") if a["active"] else _("no"),
        )
    out.print(table)
    if hint:
        err.print(hint, markup=False)


def _set_active(username: str, active: bool) -> None:
    def work(unit: Unit) -> str:
        row = accounts.set_active(unit, accounts.resolve_account(unit, username).id, active)
        return row.username

    user = run_unit(work)
    message = _("{user} is enabled.") if active else _("{user} is disabled.")
    out.print(message.format(user=user))


@users_app.command("disable", help=N_("Disable an account: it can no longer be used."))
def users_disable(
    username: Annotated[str, typer.Argument(help=N_("Username, name or id."))],
) -> None:
    _set_active(username, False)


@users_app.command("enable", help=N_("Enable a disabled account again."))
def users_enable(
    username: Annotated[str, typer.Argument(help=N_("Username, name or id."))],
) -> None:
    _set_active(username, True)


@users_app.command("role", help=N_("Give an account another role."))
def users_role(
    username: Annotated[str, typer.Argument(help=N_("Username, name or id."))],
    role: Annotated[str, typer.Argument(help=N_("admin, leader, staff or county_staff."))],
    region: CountyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    def work(unit: Unit) -> dict[str, Any]:
        row = accounts.set_role(
            unit, accounts.resolve_account(unit, username).id, role, region_scope=region
        )
        return accounts.account_json(row)

    data = run_unit(work)
    if as_json:
        print_json(data)
        return
    role_text = _(data["role"])
    if data["region_scope"]:
        role_text += f" ({label('regions', data['region_scope'])})"
    out.print(_("{user} is now {role}.").format(user=data["username"], role=role_text))


@users_app.command("whoami", help=N_("Who tongxin takes you for, and with which rights."))
def users_whoami(as_json: JsonOpt = False) -> None:
    def work(unit: Unit) -> dict[str, Any]:
        return {
            "login": unit.app.login_name(),
            "acting_as": unit.actor_name,
            "account": accounts.account_json(unit.actor) if unit.actor else None,
            "real_account": (
                accounts.account_json(unit.real_actor)
                if unit.real_actor is not None and unit.real_actor is not unit.actor
                else None
            ),
            "admin": unit.is_admin,
            "owner": unit.app.login().owner,
            "region_scope": authz.region_scope(unit),
        }

    data = run_unit(work, write=False)
    if as_json:
        print_json(data)
        return
    account = data["account"]
    out.print(_("Login: {login}").format(login=data["login"]))
    if account:
        role = _(account["role"])
        if account["region_scope"]:
            role += f" ({label('regions', account['region_scope'])})"
        out.print(
            _("Acting as: {name} ({user}), {role}").format(
                name=account["display_name"], user=account["username"], role=role
            )
        )
    else:
        out.print(
            _("No account: administrator rights (owner of the database, or no administrator yet).")
        )


# -- audit ---------------------------------------------------------------------------------


def audit_command(
    person: Annotated[
        str | None, typer.Option("--person", help=N_("Only entries about this person."))
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help=N_("Only what this account did."))
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help=N_("From this day on: 2026-03-01, 上周一 …"))
    ] = None,
    entity: Annotated[
        str | None,
        typer.Option("--entity", help=N_("Only this kind of record: person, interaction …")),
    ] = None,
    limit: Annotated[int, typer.Option(help=N_("At most this many entries, newest first."))] = 200,
    as_json: JsonOpt = False,
) -> None:
    """Show the audit log (administrators only)."""

    def work(unit: Unit) -> list[dict[str, Any]]:
        day = None
        if since:
            try:
                day = parse_date(since, today=clock.today(unit.config.tz))
            except TimeParseError as exc:
                raise ValidationError(exc.field_error("--since")) from None
        pid = contacts.resolve_person(unit, person).id if person else None
        rows = audit.list_audit(
            unit, person_id=pid, user=user, since=day, entity=entity, limit=limit
        )
        return audit.audit_entries_json(unit, rows)

    rows = run_unit(work, write=False)
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print(_("No audit entries match."))
        return
    tz = get_app().config.tz
    table = Table(box=None, header_style="bold")
    for head in (_("When"), _("Who"), _("Action"), _("Record"), _("Change")):
        table.add_column(head, overflow="fold")
    from datetime import datetime

    for e in rows:
        when = datetime.fromisoformat(e["at"]).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(
            when,
            e["actor"] or "",
            _(e["action"]),
            f"{e['entity']} {str(e['entity_id'])[:8]}",
            _change(e),
        )
    out.print(table)


def _change(e: dict[str, Any]) -> str:
    before, after = e["before"] or {}, e["after"] or {}
    if e["action"] == "update":
        return "; ".join(
            f"{k}: {_short(before.get(k))} → {_short(after.get(k))}" for k in sorted(after)
        )
    if e["action"] == "restore":
        saved = (before.get("before_restore") or {}).get("path")
        return f"{after.get('source')} → {saved}" if saved else str(after.get("source"))
    shown = after or before
    keys = [k for k in ("name", "title", "kind", "category", "summary", "username") if k in shown]
    return "; ".join(f"{k}: {_short(shown[k])}" for k in keys)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


# -- personal-data requests -------------------------------------------------------------------


@person_app.command("export", help=N_("Write everything held about one person to a JSON file."))
def person_export(
    ref: Annotated[
        str, typer.Argument(help=N_("An id, a name, or a pinyin query that names one person."))
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help=N_("The JSON file to write."))],
) -> None:
    def work(unit: Unit) -> dict[str, Any]:
        return privacy.export_person(unit, contacts.resolve_person(unit, ref).id)

    document = run_unit(work)
    # Everything held about one person: readable by whoever ran the export only.
    write_private_text(output, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    out.print(
        _("Wrote {path}: {interactions} interactions, {audit} audit entries.").format(
            path=output, interactions=len(document["interactions"]), audit=len(document["audit"])
        )
    )


@person_app.command(
    "anonymise", help=N_("Anonymise one person, keeping the counts in reports (cannot be undone).")
)
def person_anonymise(
    ref: Annotated[
        str, typer.Argument(help=N_("An id, a name, or a pinyin query that names one person."))
    ],
    yes: Annotated[
        bool, typer.Option("--yes", help=N_("Really do it (it cannot be undone)."))
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    if not yes:
        raise typer.BadParameter(
            _("anonymising cannot be undone: add --yes to go ahead"), param_hint="--yes"
        )

    def work(unit: Unit) -> tuple[dict[str, Any], dict[str, int]]:
        person = contacts.resolve_person(unit, ref)
        done = privacy.anonymise(unit, person.id)
        return contacts.person_json(unit, done.person), done.counts

    data, counts = run_unit(work)
    if as_json:
        print_json(data)
        # What remains is said on every path; stderr keeps stdout one JSON document.
        for line in _what_remains():
            err.print(line, markup=False)
        return
    out.print(_("Anonymised {id}: now {name}.").format(id=data["id"], name=data["name"]))
    out.print(
        _(
            "Their name, phones and e-mail were removed from {records} record(s) of theirs "
            "and replaced in {interactions} interaction(s), {follow_ups} follow-up(s) and "
            "{other} other record(s) linked to them, and in {audit} audit entries."
        ).format(
            records=counts["records"],
            interactions=counts["interactions"],
            follow_ups=counts["follow_ups"],
            other=counts["other_records"],
            audit=counts["audit_entries_redacted"],
        ),
        markup=False,
    )
    for line in _what_remains():
        out.print(line, markup=False)


def _what_remains() -> list[str]:
    """What anonymising cannot reach (docs/security.md says the same)."""
    return [
        _("What remains:"),
        _(
            "- free text typed into records not linked to them (another person's notes, an "
            "interaction they did not take part in): tongxin cannot tell them from a "
            "namesake; search for the name and correct those by hand;"
        ),
        _(
            "- backups made before now: `tongxin backup --keep N` deletes a backup once N "
            "newer ones exist, so the data is gone from rotated backups after N more "
            "backups; other backup files, copies of them and before-restore copies keep "
            "it until someone deletes them;"
        ),
        _(
            "- exports and person exports already written or given out, calendar feeds "
            "already downloaded (phones replace the events at their next refresh, CalDAV "
            "servers at the next `tongxin sync caldav`), reminders already sent."
        ),
    ]


# -- backups -----------------------------------------------------------------------------------


def _require_admin(action: str) -> None:
    run_unit(lambda unit: authz.require_admin(unit, action), write=False)


def backup_command(
    target: Annotated[
        Path, typer.Argument(help=N_("The backup file; with --keep, the folder of backups."))
    ],
    keep: Annotated[
        int | None,
        typer.Option(
            "--keep", help=N_("Write a dated backup into the folder TARGET and keep the newest N.")
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Back the database up (SQLite online backup; PostgreSQL pg_dump), checked."""
    _require_admin(_("make backups"))
    engine = get_app().engine
    from crm_cli.progress import bar

    with bar(_("Backing up…"), as_json=as_json) as progress:
        result = (
            backups.backup_rotating(engine, target, keep, progress)
            if keep is not None
            else backups.backup(engine, target, progress)
        )
    if as_json:
        print_json(backups.describe(result))
        return
    rows = sum(result.counts.values())
    out.print(
        _("Backup written: {path} ({rows} rows in {tables} tables, revision {rev}).").format(
            path=result.path, rows=rows, tables=len(result.counts), rev=result.revision
        )
    )
    for old in result.removed:
        out.print(_("Removed the old backup {path}.").format(path=old))


def restore_command(
    source: Annotated[Path, typer.Argument(help=N_("The backup file to restore."))],
    yes: Annotated[
        bool, typer.Option("--yes", help=N_("Really replace the database with the backup."))
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Replace the database with a backup, saving the current one aside first, and
    check the result."""
    if not yes:
        raise typer.BadParameter(
            _("restoring replaces the whole database: add --yes to go ahead"), param_hint="--yes"
        )

    def who(unit: Unit) -> tuple[str, Any, Any]:
        authz.require_admin(unit, _("restore backups"))
        real = unit.session.info.get("real_actor_id")
        return unit.actor_name, unit.actor.id if unit.actor else None, real

    actor, actor_id, real_actor_id = run_unit(who, write=False)
    app = get_app()
    result = backups.restore(
        app.engine, source, actor=actor, actor_id=actor_id, real_actor_id=real_actor_id
    )
    entry = result.audit_entry
    if as_json:
        print_json(
            {
                "source": str(result.source),
                "saved_before": str(result.saved_before) if result.saved_before else None,
                "revision": result.check.revision,
                "counts": result.check.counts,
                "audit_entry_id": str(entry["id"]) if entry else None,
                "anonymise_again": result.anonymise_again,
            }
        )
        if result.anonymise_again:
            _say_anonymise_again(result.anonymise_again, err)
        return
    out.print(
        _("Restored {path}: revision {rev}, {rows} rows, checked.").format(
            path=result.source, rev=result.check.revision, rows=sum(result.check.counts.values())
        )
    )
    if result.saved_before:
        out.print(_("The database as it was is saved in {path}.").format(path=result.saved_before))
    if entry:
        out.print(
            _(
                "The restore is recorded in the restored database's audit log (entry {id}), "
                "with a pointer to the saved copy and its audit log."
            ).format(id=str(entry["id"])[:8]),
            markup=False,
        )
    if result.anonymise_again:
        _say_anonymise_again(result.anonymise_again, out)


def _say_anonymise_again(ids: list[str], console: Any) -> None:
    # A backup older than an anonymisation brings the person's data back: the request
    # to erase it still stands, so say so loudly, with the commands.
    console.print(
        _(
            "Warning: {count} people anonymised in the replaced database have their data "
            "again in this backup (it is older than the anonymisation). Anonymise them again:"
        ).format(count=len(ids)),
        markup=False,
    )
    for pid in ids:
        console.print(f"  tongxin person anonymise {pid} --yes", markup=False)


def register(app: typer.Typer) -> None:
    """Add `users`, `audit`, `person`, `backup` and `restore` to ``app``."""
    app.add_typer(users_app, name="users")
    app.command("audit", help=N_("Show the audit log: who changed what, when (administrators)."))(
        audit_command
    )
    app.add_typer(person_app, name="person")
    app.command("backup", help=N_("Back the database up, checked (and rotate with --keep)."))(
        backup_command
    )
    app.command(
        "restore", help=N_("Restore a backup, checked; the current database is saved first.")
    )(restore_command)
