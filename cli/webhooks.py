"""`tongxin webhooks add|list|remove|deliveries|deliver`: an account's URLs receiving
person, interaction and follow-up events (docs/api.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from crm_cli.context import get_app, out, print_json, run_unit
from crm_cli.options import JsonOpt
from rich.table import Table

from crm_core.i18n import N_, _
from crm_core.services import webhook_send, webhooks
from crm_core.unit import Unit

webhooks_app = typer.Typer(
    help=N_("Webhooks: URLs that receive person, interaction and follow-up events."),
    no_args_is_help=True,
)


@webhooks_app.command("add", help=N_("Register a URL for your account; prints its secret once."))
def add(
    url: Annotated[str, typer.Argument(help=N_("The receiver: https://…"))],
    events: Annotated[
        list[str] | None,
        typer.Option("--event", help=N_("person, interaction or follow_up (default: all).")),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    def work(unit: Unit) -> tuple[dict[str, object], str]:
        row, secret = webhooks.add_webhook(unit, url, events)
        return webhooks.webhook_json(row), secret

    data, secret = run_unit(work)
    if as_json:
        print_json({**data, "secret": secret})
        return
    out.print(
        _("Webhook {id} added; its signing secret (shown only now):").format(id=str(data["id"])[:8])
    )
    out.print(f"  {secret}", markup=False)


@webhooks_app.command("list", help=N_("List your webhooks (never their secrets)."))
def list_(as_json: JsonOpt = False) -> None:
    rows = run_unit(
        lambda unit: [webhooks.webhook_json(w) for w in webhooks.list_webhooks(unit)], write=False
    )
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print(_("No webhooks."))
        return
    table = Table(box=None, header_style="bold")
    for head in (_("Webhook"), _("URL"), _("Events")):
        table.add_column(head)
    for w in rows:
        table.add_row(str(w["id"])[:8], str(w["url"]), ", ".join(w["events"]))
    out.print(table)


@webhooks_app.command("remove", help=N_("Stop a webhook (its delivery log is kept)."))
def remove(
    webhook: Annotated[str, typer.Argument(help=N_("The webhook's id (8+ characters)."))],
    as_json: JsonOpt = False,
) -> None:
    data = run_unit(lambda unit: webhooks.webhook_json(webhooks.remove_webhook(unit, webhook)))
    if as_json:
        print_json(data)
        return
    out.print(_("Removed webhook {id}.").format(id=str(data["id"])[:8]))


@webhooks_app.command("deliveries", help=N_("Show the delivery log, newest first."))
def deliveries(
    webhook: Annotated[str | None, typer.Argument(help=N_("One webhook's id."))] = None,
    limit: Annotated[int, typer.Option(min=1, help=N_("How many."))] = 50,
    as_json: JsonOpt = False,
) -> None:
    rows = run_unit(
        lambda unit: [
            webhooks.delivery_json(d) for d in webhooks.list_deliveries(unit, webhook, limit=limit)
        ],
        write=False,
    )
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print(_("No deliveries."))
        return
    table = Table(box=None, header_style="bold")
    for head in (_("Event"), _("Status"), _("Attempts"), _("Last answer"), _("Created")):
        table.add_column(head)
    for d in rows:
        table.add_row(
            str(d["event"]), str(d["status"]), str(d["attempts"]),
            str(d["last_status"] or d["last_error"] or ""), str(d["created_at"])[:19],
        )  # fmt: skip
    out.print(table)


@webhooks_app.command("deliver", help=N_("Send the events due now (`tongxin serve` does it too)."))
def deliver(as_json: JsonOpt = False) -> None:
    counts = webhook_send.deliver_due(get_app())
    if as_json:
        print_json(counts)
        return
    out.print(
        _("{delivered} delivered, {retrying} to retry, {failed} failed, {dropped} dropped.").format(
            **counts
        )
    )
