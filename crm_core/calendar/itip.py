"""Invitations by e-mail: iTIP (RFC 5546) messages sent over iMIP (RFC 6047) through the
office's ``[smtp]`` server, and the answers coming back into the RSVPs.

- :func:`send_invitations`: a REQUEST (or, for a cancelled interaction, a CANCEL) to
  each person taking part who has an e-mail address. One message per person, holding
  only that person's ATTENDEE line: an invitee never learns who else was invited, nor
  their address. The VEVENT has the UID and SEQUENCE the calendars have, the time in
  the display zone with its VTIMEZONE, the interaction's summary (or its kind), its
  place; never its notes. ORGANIZER is ``[smtp] sender``. A person who had no RSVP yet
  is marked invited.
- :func:`apply_reply`: a REPLY (the .ics a calendar program sends back, or the whole
  e-mail holding it) sets the RSVP of each ATTENDEE it names: ACCEPTED → accepted,
  DECLINED → declined, NEEDS-ACTION or TENTATIVE → invited. Staff enter it
  (``tongxin invite reply FILE``); it is refused, naming the value, when it is not a
  REPLY, names no interaction of tongxin's, or an address not invited. The same checks,
  with the sender's address required to be the attendee's, are
  :func:`read_reply`; :mod:`crm_core.calendar.itip_inbox` reads the office's mailbox
  with them (``tongxin invite fetch-replies``).

A confidential interaction sends no invitations (who takes part in a heart-to-heart
talk is itself confidential).
"""

from __future__ import annotations

import email
import email.policy
import uuid
from dataclasses import dataclass, field
from datetime import UTC
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import icalendar
from sqlalchemy import select
from sqlmodel import col

from crm_core import authz, clock
from crm_core.calendar.ics import interaction_uid, new_calendar
from crm_core.calendar.ics_base import PARTSTAT, UID_DOMAIN, calendar_range
from crm_core.calendar.settings import smtp_settings
from crm_core.errors import TongxinError, ValidationError
from crm_core.i18n import N_, _, language
from crm_core.models import (
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Person,
    Rsvp,
)
from crm_core.unit import Unit

RSVP_OF = {"ACCEPTED": Rsvp.accepted, "DECLINED": Rsvp.declined,
           "NEEDS-ACTION": Rsvp.invited, "TENTATIVE": Rsvp.invited}  # fmt: skip


class InvitationError(TongxinError):
    """An invitation could not be sent (no mail server, or the server refused)."""


@dataclass
class Invitee:
    """A person taking part, as an invitation names them."""

    person_id: uuid.UUID
    name: str
    email: str | None
    rsvp: Rsvp | None


@dataclass
class InvitationReport:
    """What :func:`send_invitations` did: the method, who got a message (by address) and
    who has no address (by name)."""

    method: str
    sent: list[str] = field(default_factory=list)
    no_email: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The JSON form."""
        return {"method": self.method, "sent": self.sent, "no_email": self.no_email}


def invitees(unit: Unit, interaction: Interaction) -> list[Invitee]:
    """The people taking part in ``interaction`` whom the acting account may see, by
    name, with their RSVP."""
    ip = InteractionParticipant
    rows = unit.session.execute(
        select(col(Person.id), col(Person.name), col(Person.email), col(ip.rsvp))
        .join(Person, col(Person.id) == col(ip.person_id))
        .where(col(ip.interaction_id) == interaction.id, *authz.person_scope(unit))
        .order_by(col(Person.name_pinyin), col(Person.name), col(Person.id))
    )
    return [Invitee(pid, name, mail or None, rsvp) for pid, name, mail, rsvp in rows]


def resolve_interaction(unit: Unit, ref: str) -> Interaction:
    """The interaction with this id or id prefix (8 characters, as lists show them)."""
    from crm_core.services._common import by_prefix

    found = by_prefix(unit, Interaction, ref, "interaction")
    authz.check_interaction(unit, found)
    return found


def _organizer(unit: Unit) -> str:
    return "mailto:" + smtp_settings(unit.config).sender


def invitation(unit: Unit, interaction: Interaction, person: Invitee, method: str) -> bytes:
    """The iTIP message (``method`` REQUEST or CANCEL) of ``interaction`` for ``person``:
    a VCALENDAR with the zone's VTIMEZONE and one VEVENT naming only that attendee."""
    rng = calendar_range(unit, scope="office")
    cal = new_calendar(unit, rng, method=False)
    for prop in ("NAME", "X-WR-CALNAME", "REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
        cal.pop(prop, None)
    cal.add("method", method)
    spec = unit.kinds.get(interaction.kind)
    kind = spec.label(language()) if spec else interaction.kind
    ev = icalendar.Event()
    ev.add("uid", interaction_uid(interaction.id))
    ev.add("dtstamp", clock.now().astimezone(UTC).replace(microsecond=0))
    ev.add("sequence", interaction.sequence)
    tz = rng.tz
    if interaction.all_day:
        from crm_core.calendar.ics import _all_day_end

        first = interaction.start_at.astimezone(tz).date()
        ev.add("dtstart", first)
        ev.add("dtend", _all_day_end(first, interaction.end_at, tz))
    else:
        ev.add("dtstart", interaction.start_at.astimezone(tz))
        ev.add("dtend", (interaction.end_at or interaction.start_at).astimezone(tz))
    ev.add("summary", interaction.summary or kind)
    if interaction.location:
        ev.add("location", interaction.location)
    ev.add("organizer", _organizer(unit))
    attendee = icalendar.vCalAddress("mailto:" + (person.email or ""))
    attendee.params["CN"] = person.name
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = PARTSTAT[person.rsvp]
    attendee.params["RSVP"] = "TRUE"
    ev.add("attendee", attendee)
    ev.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    cal.add_component(ev)
    return bytes(cal.to_ical())


def _mail(unit: Unit, interaction: Interaction, person: Invitee, method: str) -> EmailMessage:
    s = smtp_settings(unit.config)
    spec = unit.kinds.get(interaction.kind)
    title = interaction.summary or (spec.label(language()) if spec else interaction.kind)
    when = interaction.start_at.astimezone(unit.config.tz).strftime("%Y-%m-%d %H:%M")
    mail = EmailMessage()
    if method == "CANCEL":
        mail["Subject"] = _("Cancelled: {title}").format(title=title)
        text = _("{name}: {title} on {when} is cancelled.")
    else:
        mail["Subject"] = _("Invitation: {title}").format(title=title)
        text = _("{name}: you are invited to {title} on {when}. Please answer from your calendar.")
    mail["From"] = s.sender
    mail["To"] = person.email or ""
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = make_msgid(domain=s.sender.rpartition("@")[2] or "tongxin")
    mail.set_content(text.format(name=person.name, title=title, when=when) + "\n")
    body = invitation(unit, interaction, person, method)
    # RFC 6047: the calendar as a text/calendar part with the method as a parameter.
    mail.add_alternative(
        body.decode("utf-8"), subtype="calendar", params={"method": method}, cte="base64"
    )
    mail.add_attachment(body, maintype="application", subtype="ics", filename="invite.ics")
    return mail


def send_invitations(
    unit: Unit, interaction_id: uuid.UUID | str, *, method: str | None = None
) -> InvitationReport:
    """Send ``interaction``'s invitation to each person taking part who has an e-mail
    address: REQUEST for planned work, CANCEL for cancelled (``method`` to say it
    outright). Who had no RSVP yet is marked invited (in this unit's transaction)."""
    from crm_core.reminders.channels import open_smtp
    from crm_core.services import interactions

    i = interactions.get_interaction(unit, interaction_id)
    authz.check_interaction(unit, i, change=True)  # who may change it may invite to it
    method = method or ("CANCEL" if i.status is InteractionStatus.cancelled else "REQUEST")
    method = method.upper()
    if method not in ("REQUEST", "CANCEL"):
        raise ValidationError.one("method", method, N_("REQUEST or CANCEL"))
    if i.confidential:
        raise ValidationError.one(
            "interaction_id", str(i.id), N_("a confidential interaction sends no invitations")
        )
    if method == "REQUEST" and i.status is not InteractionStatus.planned:
        raise ValidationError.one(
            "interaction_id", str(i.id), N_("only planned work is an invitation (it is {status})"),
            status=i.status.value,
        )  # fmt: skip
    settings = smtp_settings(unit.config)
    if not settings.host:
        raise InvitationError.of(N_("no mail server: set [smtp] host in the configuration"))
    report = InvitationReport(method)
    people = invitees(unit, i)
    to_send = [p for p in people if p.email]
    report.no_email = [p.name for p in people if not p.email]
    if method == "REQUEST":
        for p in to_send:
            if p.rsvp is None:
                interactions.set_participation(unit, i.id, person_id=p.person_id, rsvp="invited")
                p.rsvp = Rsvp.invited
    if not to_send:
        return report
    try:
        with open_smtp(unit.config) as server:
            for p in to_send:
                server.send_message(_mail(unit, i, p, method))
                report.sent.append(p.email or "")
    except OSError as exc:
        raise InvitationError.of(
            N_("e-mail via {host}:{port}: {error}"),
            host=settings.host, port=settings.port, error=exc,
        ) from exc  # fmt: skip
    except Exception as exc:  # smtplib.SMTPException and its kin
        raise InvitationError.of(
            N_("e-mail via {host}:{port}: {error}"),
            host=settings.host, port=settings.port, error=exc,
        ) from exc  # fmt: skip
    return report


def _calendar_part(raw: bytes) -> bytes:
    """The iCalendar of a REPLY: ``raw`` itself, or the text/calendar part of an e-mail."""
    if raw.lstrip().upper().startswith(b"BEGIN:VCALENDAR"):
        return raw
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for part in message.walk():
        if part.get_content_type() in ("text/calendar", "application/ics"):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload.strip():
                return payload
    raise ValidationError.one(
        "reply",
        raw[:40].decode("utf-8", "replace"),
        N_("neither an iCalendar file nor an e-mail holding one"),
    )


@dataclass
class Answer:
    """One attendee's answer a REPLY carries: the interaction, the person, the RSVP."""

    interaction_id: uuid.UUID
    person: Invitee
    rsvp: Rsvp


def read_reply(unit: Unit, raw: bytes, *, sender: str | None = None) -> list[Answer]:
    """The answers a REPLY carries (an .ics, or the e-mail holding it), checked but not
    applied. ``sender`` (the address the e-mail came from, when read from a mailbox)
    must be the attendee's own: a REPLY answering for someone else is refused."""
    from crm_core.services import interactions

    body = _calendar_part(raw)
    try:
        cal = icalendar.Calendar.from_ical(body)
    except ValueError as exc:
        raise ValidationError.one(
            "reply", str(exc)[:60], N_("not a readable iCalendar file")
        ) from None
    method = str(cal.get("METHOD", "") or "").upper()
    if method != "REPLY":
        raise ValidationError.one(
            "method", method or None, N_("an answer to an invitation is METHOD:REPLY")
        )
    events = [c for c in cal.subcomponents if c.name == "VEVENT"]
    if not events:
        raise ValidationError.one("reply", None, N_("holds no VEVENT"))
    out: list[Answer] = []
    for ev in events:
        uid = str(ev.get("UID", ""))
        prefix, _sep, domain = uid.partition("@")
        try:
            iid = uuid.UUID(prefix.removeprefix("interaction-"))
        except ValueError:
            iid = None
        if domain != UID_DOMAIN or not prefix.startswith("interaction-") or iid is None:
            raise ValidationError.one("uid", uid, N_("not an invitation tongxin sent"))
        i = interactions.get_interaction(unit, iid)
        people = {p.email.lower(): p for p in invitees(unit, i) if p.email}
        found = ev.get("ATTENDEE")
        attendees = found if isinstance(found, list) else [found] if found is not None else []
        if not attendees:
            raise ValidationError.one("attendee", None, N_("a REPLY names who answers"))
        for a in attendees:
            address = str(a).removeprefix("mailto:").removeprefix("MAILTO:").strip().lower()
            person = people.get(address)
            if person is None:
                raise ValidationError.one("attendee", address, N_("not invited to {uid}"), uid=uid)
            if sender is not None and sender.strip().lower() != address:
                raise ValidationError.one(
                    "sender", sender, N_("answers for {attendee}, who did not send it"),
                    attendee=address,
                )  # fmt: skip
            partstat = str(a.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
            answer = RSVP_OF.get(partstat)
            if answer is None:
                raise ValidationError.one(
                    "partstat", partstat, N_("one of ACCEPTED, DECLINED, TENTATIVE, NEEDS-ACTION")
                )
            out.append(Answer(i.id, person, answer))
    return out


def apply_answers(unit: Unit, answers: list[Answer]) -> list[tuple[str, Rsvp]]:
    """Set the RSVPs of ``answers`` (from :func:`read_reply`); one that is already so is
    left as it is (nothing written): the name and the RSVP of each answer."""
    from crm_core.services import interactions

    for a in answers:
        if a.person.rsvp is not a.rsvp:
            interactions.set_participation(
                unit, a.interaction_id, person_id=a.person.person_id, rsvp=a.rsvp
            )
            a.person.rsvp = a.rsvp
    return [(a.person.name, a.rsvp) for a in answers]


def apply_reply(unit: Unit, raw: bytes) -> list[tuple[str, Rsvp]]:
    """Set the RSVPs a REPLY carries (an .ics, or the e-mail holding it): the name and
    the new RSVP of each person it answers for. All or nothing (one transaction)."""
    return apply_answers(unit, read_reply(unit, raw))
