"""The answers to the office's invitations, read from the mailbox they arrive in
(``tongxin invite fetch-replies``, and the reminder service every ``[invitations]
fetch_minutes``).

::

    [invitations]
    maildir = "/var/mail/tongxin-replies"     # where fetchmail/getmail deliver, or:
    imap_host = "mail.zxyz.gov.cn"
    imap_port = 993
    imap_tls = "ssl"                          # ssl, starttls or none
    imap_username = "tongxin-replies"
    imap_password_env = "TONGXIN_IMAP_PASSWORD"
    imap_folder = "INBOX"

Every message not yet marked read is looked at once:

- a REPLY (the calendar part of the e-mail) whose UID is an invitation tongxin sent and
  whose ATTENDEE is a person invited to it, sent from that attendee's own address, sets
  that person's RSVP (``applied``; ``unchanged`` when it already was so: nothing is
  written, so reading the same answer twice changes nothing);
- a REPLY naming someone not invited, or sent from another address than the attendee's
  (a forged or forwarded answer), or naming no invitation of tongxin's, is **not
  applied** and reported with the reason (``refused``);
- any other mail (no calendar part, another METHOD) is reported (``ignored``).

The applied answers of one run are one transaction (each message in its own savepoint,
so a refused one takes nothing with it); after the commit every message looked at is
marked read (Maildir flag ``S``, moved to ``cur/``; IMAP ``\\Seen``), and those refused or
ignored are also flagged (``F``; ``\\Flagged``) for staff to look at. A run cut off before
the marking reads them again next time and finds them ``unchanged``. Within a run the
answers are applied in the order of their DTSTAMP, so a person's later answer wins.

The address a message came from is what its ``From:`` says: checking that it was not
forged on the way (SPF, DKIM) is the office mail server's work.
"""

from __future__ import annotations

import imaplib
import logging
import mailbox
import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy
from email.utils import getaddresses
from pathlib import Path
from typing import Any, Protocol

import icalendar

from crm_core.app import Tongxin
from crm_core.config import Config, ConfigError
from crm_core.config_models import Invitations
from crm_core.errors import TongxinError
from crm_core.i18n import N_
from crm_core.unit import Unit

log = logging.getLogger("tongxin.invitations")


class MailboxError(TongxinError):
    """The mailbox of the answers could not be read (a wrong path, a server down)."""


@dataclass
class ReplyOutcome:
    """What became of one message: ``applied``, ``unchanged``, ``refused`` or
    ``ignored``, with the answers it carried or the reason it was not applied."""

    message: str  # the Maildir key or the IMAP UID
    sender: str
    status: str
    answers: list[tuple[str, str]] = field(default_factory=list)
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "message": self.message,
            "sender": self.sender,
            "status": self.status,
            "answers": [{"person": n, "rsvp": r} for n, r in self.answers],
            "reason": self.reason,
        }


@dataclass
class FetchReport:
    """What one reading of the mailbox did, message by message."""

    source: str
    outcomes: list[ReplyOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many messages ended ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    def as_json(self) -> dict[str, Any]:
        """The JSON form (``tongxin invite fetch-replies --json``)."""
        return {"source": self.source, "messages": [o.as_json() for o in self.outcomes]}


def mailbox_settings(config: Config) -> Invitations:
    """The ``[invitations]`` settings."""
    section: Invitations = config.sections.invitations
    return section


def configured(config: Config) -> bool:
    """True when the office configured a mailbox for the answers."""
    s = mailbox_settings(config)
    return bool(s.maildir or s.imap_host)


class _Source(Protocol):
    name: str

    def unread(self) -> list[tuple[str, bytes]]: ...

    def mark(self, key: str, *, flagged: bool) -> None: ...


class _Maildir:
    """A Maildir: the messages without the ``S`` flag, in ``new/`` and ``cur/``."""

    def __init__(self, path: str) -> None:
        folder = Path(path).expanduser()
        if not (folder / "new").is_dir() or not (folder / "cur").is_dir():
            raise MailboxError.of(
                N_("[invitations] maildir = {path!r}: not a Maildir (no new/ and cur/)"),
                path=path,
            )
        self.name = f"maildir:{folder}"
        self.box = mailbox.Maildir(folder, factory=None, create=False)

    def unread(self) -> list[tuple[str, bytes]]:
        out = []
        for key in sorted(self.box.keys()):
            message = self.box.get_message(key)
            if "S" not in message.get_flags():
                out.append((key, self.box.get_bytes(key)))
        return out

    def mark(self, key: str, *, flagged: bool) -> None:
        message = self.box.get_message(key)
        message.set_subdir("cur")
        message.add_flag("SF" if flagged else "S")
        self.box[key] = message


class _Imap:
    """An IMAP folder: the messages without ``\\Seen``, read without setting it
    (``BODY.PEEK``) until the run is committed."""

    def __init__(self, s: Invitations) -> None:
        password = os.environ.get(s.imap_password_env, "") if s.imap_password_env else ""
        if s.imap_username and not password:
            raise ConfigError.of(
                N_("[invitations] imap_password_env: the environment has no {name}"),
                name=s.imap_password_env,
            )
        self.name = f"imap://{s.imap_host}:{s.imap_port}/{s.imap_folder}"
        context = ssl.create_default_context(cafile=s.imap_cafile or None)
        try:
            if s.imap_tls == "ssl":
                self.conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    s.imap_host, s.imap_port, ssl_context=context, timeout=s.timeout_seconds
                )
            else:
                self.conn = imaplib.IMAP4(s.imap_host, s.imap_port, timeout=s.timeout_seconds)
                if s.imap_tls == "starttls":
                    self.conn.starttls(ssl_context=context)
            if s.imap_username:
                self.conn.login(s.imap_username, password)
            status, data = self.conn.select(_quoted(s.imap_folder))
            if status != "OK":
                raise imaplib.IMAP4.error(_text(data))
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError.of(
                N_("reading {source}: {error}"), source=self.name, error=exc
            ) from exc

    def unread(self) -> list[tuple[str, bytes]]:
        status, data = self.conn.uid("SEARCH", "UNSEEN")
        if status != "OK":
            raise MailboxError.of(N_("reading {source}: {error}"), source=self.name, error=data)
        out = []
        for uid in (data[0] or b"").split():
            status, parts = self.conn.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if status == "OK" and isinstance(raw, bytes):
                out.append((uid.decode("ascii"), raw))
        return out

    def mark(self, key: str, *, flagged: bool) -> None:
        flags = "(\\Seen \\Flagged)" if flagged else "(\\Seen)"
        self.conn.uid("STORE", key, "+FLAGS", flags)

    def close(self) -> None:
        with suppress(OSError, imaplib.IMAP4.error):
            self.conn.logout()


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: Any) -> str:
    return " ".join(d.decode("utf-8", "replace") if isinstance(d, bytes) else str(d) for d in data)


@contextmanager
def open_source(config: Config) -> Iterator[_Source]:
    """The configured mailbox, opened (a Maildir when ``maildir`` is set, else IMAP)."""
    s = mailbox_settings(config)
    if s.maildir:
        yield _Maildir(s.maildir)
        return
    if not s.imap_host:
        raise MailboxError.of(
            N_("no mailbox for the answers: set [invitations] maildir or imap_host")
        )
    source = _Imap(s)
    try:
        yield source
    finally:
        source.close()


def _sender(raw: bytes) -> str:
    message = message_from_bytes(raw, policy=email_policy.compat32)
    found = getaddresses([str(v) for v in message.get_all("From", [])])
    return found[0][1].strip() if found else ""


def _stamp(raw: bytes) -> datetime:
    """The DTSTAMP of the REPLY in ``raw`` (when it was answered), or the earliest time."""
    try:
        from crm_core.calendar.itip import _calendar_part

        cal = icalendar.Calendar.from_ical(_calendar_part(raw))
        for ev in cal.walk("VEVENT"):
            value = ev.decoded("DTSTAMP")
            if isinstance(value, datetime):
                return value if value.tzinfo else value.replace(tzinfo=UTC)
    except Exception:  # unreadable: read_reply says why, in its turn
        pass
    return datetime.min.replace(tzinfo=UTC)


def _is_reply(raw: bytes) -> bool:
    from crm_core.calendar.itip import _calendar_part

    try:
        cal = icalendar.Calendar.from_ical(_calendar_part(raw))
    except Exception:
        return False
    return str(cal.get("METHOD", "") or "").upper() == "REPLY"


def apply_messages(unit: Unit, messages: list[tuple[str, bytes]]) -> list[ReplyOutcome]:
    """Apply the REPLYs among ``messages`` (key, raw e-mail) in this unit's transaction,
    each in its own savepoint; what became of each one, in the order given."""
    from crm_core.calendar.itip import apply_answers, read_reply

    outcomes: dict[str, ReplyOutcome] = {}
    for key, raw in sorted(messages, key=lambda m: (_stamp(m[1]), m[0])):
        sender = _sender(raw)
        if not _is_reply(raw):
            outcomes[key] = ReplyOutcome(key, sender, "ignored", reason="not a REPLY")
            continue
        try:
            with unit.savepoint():
                answers = read_reply(unit, raw, sender=sender)
                changed = any(a.person.rsvp is not a.rsvp for a in answers)
                done = apply_answers(unit, answers)
        except TongxinError as exc:  # not invited, forged, not ours, cancelled…
            outcomes[key] = ReplyOutcome(key, sender, "refused", reason=str(exc))
            continue
        outcomes[key] = ReplyOutcome(
            key, sender, "applied" if changed else "unchanged", [(n, r.value) for n, r in done]
        )
    return [outcomes[k] for k, _raw in messages]


def fetch_replies(app: Tongxin, actor: str | None = None) -> FetchReport:
    """Read the configured mailbox's unread messages, apply the REPLYs among them (one
    transaction, acting as ``actor`` or the login) and mark every message read."""
    with open_source(app.config) as source:
        messages = source.unread()
        report = FetchReport(source.name)
        if not messages:
            return report
        report.outcomes = app.run(lambda unit: apply_messages(unit, messages), actor=actor)
        for o in report.outcomes:
            source.mark(o.message, flagged=o.status in ("refused", "ignored"))
    return report


def fetch_job(app: Tongxin) -> None:
    """The reminder service's job: :func:`fetch_replies`, every outcome logged; a
    failure is logged and the next run tries again."""
    try:
        report = fetch_replies(app)
    except TongxinError as exc:
        log.warning("invitation replies: %s", exc)
        return
    for o in report.outcomes:
        log.info("invitation reply %s from %s: %s %s", o.message, o.sender, o.status, o.reason)
