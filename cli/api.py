"""`tongxin api token create|list|revoke`: the bearer tokens of the HTTP API that
`tongxin serve` answers under /api/v1/ (docs/api.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from crm_cli.context import out, print_json, run_unit, state
from crm_cli.options import JsonOpt
from rich.table import Table

from crm_core.access_models import ApiToken
from crm_core.calendar import feeds as feed_service
from crm_core.formatting import value_text
from crm_core.i18n import N_, _
from crm_core.models import Account
from crm_core.services import accounts, api_tokens
from crm_core.unit import Unit

api_app = typer.Typer(help=N_("The HTTP API of `tongxin serve` (/api/v1/)."), no_args_is_help=True)
token_app = typer.Typer(help=N_("Create, list and revoke API tokens."), no_args_is_help=True)
api_app.add_typer(token_app, name="token")


@token_app.command("create", help=N_("Make a new API token acting as an account; shown once."))
def token_create(
    account: Annotated[str, typer.Argument(help=N_("Username or name."))],
    scope: Annotated[
        str, typer.Option("--scope", help=N_("read (GET only) or write (also log, schedule)."))
    ] = "read",
    name: Annotated[str, typer.Option("--name", help=N_("A note: which system uses it."))] = "",
    as_json: JsonOpt = False,
) -> None:
    def work(unit: Unit) -> tuple[dict[str, object], str]:
        holder = feed_service.token_account(unit, account)
        row, token = api_tokens.create_token(unit, holder, scope=scope, name=name)
        return api_tokens.token_json(row, holder), token

    data, token = run_unit(work)
    if as_json:
        print_json({**data, "token": token})
        return
    out.print(
        _("New API token {id} (shown only now: it is stored hashed).").format(
            id=str(data["id"])[:8]
        )
    )
    out.print(f"  {token}", markup=False)


@token_app.command("list", help=N_("List API tokens (never the tokens themselves)."))
def token_list(
    account: Annotated[
        str | None, typer.Argument(help=N_("Username or name (default: every token you manage)."))
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    def work(unit: Unit) -> tuple[list[ApiToken], dict[object, Account]]:
        holder = feed_service.token_account(unit, account) if account else None
        rows = api_tokens.list_tokens(unit, holder)
        return rows, {r.account_id: accounts.get_account(unit, r.account_id) for r in rows}

    rows, owners = run_unit(work, write=False)
    if as_json:
        print_json([api_tokens.token_json(r, owners.get(r.account_id)) for r in rows])
        return
    if not rows:
        out.print(_("No API tokens."))
        return
    table = Table(box=None, header_style="bold")
    for head in (_("Token"), _("Account"), _("Scope"), _("Note"), _("Created"), _("Revoked")):
        table.add_column(head)
    tz = state().config.tz
    for r in rows:
        table.add_row(
            str(r.id)[:8],
            owners[r.account_id].username,
            r.scope,
            r.name,
            value_text(r.created_at.astimezone(tz)),
            value_text(r.revoked_at and r.revoked_at.astimezone(tz)),
        )
    out.print(table)


@token_app.command("revoke", help=N_("Revoke an API token (its id, or 8+ characters of it)."))
def token_revoke(
    token_id: Annotated[
        str, typer.Argument(metavar="TOKEN", help=N_("The token's id as `api token list` shows."))
    ],
    as_json: JsonOpt = False,
) -> None:
    def work(unit: Unit) -> dict[str, object]:
        row = api_tokens.revoke_token(unit, token_id)
        return api_tokens.token_json(row, accounts.get_account(unit, row.account_id))

    data = run_unit(work)
    if as_json:
        print_json(data)
        return
    out.print(_("Revoked API token {id}.").format(id=str(data["id"])[:8]))


def register(app: typer.Typer) -> None:
    """Add `api` and `webhooks` to the main command."""
    from crm_cli.webhooks import webhooks_app

    app.add_typer(api_app, name="api")
    app.add_typer(webhooks_app, name="webhooks")
