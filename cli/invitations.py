"""Invitations by e-mail on the command line: `tongxin invite send ID` (an iTIP REQUEST,
or CANCEL for cancelled work, to each person taking part who has an address, through
``[smtp]``) and `tongxin invite reply FILE…` (an answer received: the .ics or the saved
e-mail; sets the RSVP) and `tongxin invite fetch-replies` (the answers in the mailbox of
``[invitations]``: a Maildir or an IMAP folder). See docs/calendar.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from crm_cli.context import out, print_json, run_unit
from crm_cli.options import JsonOpt

from crm_core.errors import ValidationError
from crm_core.i18n import N_, _
from crm_core.unit import Unit

invite_app = typer.Typer(
    help=N_("Calendar invitations by e-mail (iTIP): send them, enter the answers."),
    no_args_is_help=True,
)


@invite_app.command("send", help=N_("E-mail the invitation (or its cancellation) of planned work."))
def send_command(
    ref: Annotated[str, typer.Argument(help=N_("The interaction (id or its first 8 characters)."))],
    cancel: Annotated[
        bool, typer.Option("--cancel", help=N_("Send a cancellation (CANCEL) even if planned."))
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    from crm_core.calendar.itip import resolve_interaction, send_invitations

    def work(unit: Unit) -> dict[str, object]:
        i = resolve_interaction(unit, ref)
        return send_invitations(unit, i.id, method="CANCEL" if cancel else None).as_json()

    report = run_unit(work)
    if as_json:
        print_json(report)
        return
    sent = report["sent"]
    no_email = report["no_email"]
    assert isinstance(sent, list) and isinstance(no_email, list)
    out.print(
        _("{method} sent to {n}: {to}").format(
            method=report["method"], n=len(sent), to=", ".join(sent) or "—"
        ),
        markup=False,
    )
    if no_email:
        out.print(
            _("No e-mail address, not sent: {names}").format(names="、".join(no_email)),
            markup=False,
        )


@invite_app.command("reply", help=N_("Enter answers to invitations (.ics or saved e-mails)."))
def reply_command(
    files: Annotated[list[Path], typer.Argument(help=N_("REPLY files: .ics or .eml."))],
    as_json: JsonOpt = False,
) -> None:
    from crm_core.calendar.itip import apply_reply

    bodies = []
    for path in files:
        try:
            bodies.append(path.read_bytes())
        except OSError as exc:
            raise ValidationError.one(
                "file", str(path), N_("cannot be read: {error}"), error=exc
            ) from None

    def work(unit: Unit) -> list[tuple[str, str]]:
        # All the files in one transaction: one bad file and none is taken.
        return [(name, r.value) for body in bodies for name, r in apply_reply(unit, body)]

    answers = run_unit(work)
    if as_json:
        print_json([{"person": name, "rsvp": rsvp} for name, rsvp in answers])
        return
    for name, rsvp in answers:
        out.print(_("{name}: {rsvp}").format(name=name, rsvp=_(rsvp)), markup=False)


# What became of a message read from the mailbox (crm_core.calendar.itip_inbox).
_STATUS = {
    "applied": N_("applied"),
    "unchanged": N_("already so"),
    "refused": N_("not applied"),
    "ignored": N_("not an answer"),
}


@invite_app.command(
    "fetch-replies", help=N_("Read the answers in the mailbox of [invitations] and set the RSVPs.")
)
def fetch_replies_command(as_json: JsonOpt = False) -> None:
    from crm_cli.context import get_app

    from crm_core.calendar.itip_inbox import fetch_replies

    report = fetch_replies(get_app())
    if as_json:
        print_json(report.as_json())
        return
    for o in report.outcomes:
        answers = "、".join(f"{name}: {_(rsvp)}" for name, rsvp in o.answers)
        status = _(_STATUS.get(o.status, o.status))
        out.print(
            _("{message} from {sender}: {status} {detail}").format(
                message=o.message, sender=o.sender or "—", status=status,
                detail=answers or o.reason,
            ),
            markup=False,
        )  # fmt: skip
    out.print(
        _("{source}: {n} messages, {applied} applied, {refused} not applied").format(
            source=report.source, n=len(report.outcomes), applied=report.count("applied"),
            refused=report.count("refused"),
        ),
        markup=False,
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add `tongxin invite` to the root application."""
    app.add_typer(invite_app, name="invite")
