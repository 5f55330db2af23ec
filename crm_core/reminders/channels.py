"""Where reminders go: the terminal and log, e-mail over SMTP, and notification URLs
through apprise (DingTalk, WeCom, Telegram, e-mail, …), each configured per user."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TextIO

from crm_core.calendar.settings import notify_emails, notify_urls, smtp_settings
from crm_core.config import Config
from crm_core.i18n import N_
from crm_core.models import Account, Person
from crm_core.unit import Unit

log = logging.getLogger("tongxin.remind")


class DeliveryFailed(Exception):
    """A channel could not deliver a message (it is tried again later)."""


@dataclass(frozen=True)
class Message:
    """What is delivered: to whom (an account's username), a title and a body."""

    key: str
    username: str
    display_name: str
    title: str
    body: str


@dataclass(frozen=True)
class Target:
    """One channel's address for one account: ``recipient`` is what the delivery log
    records (the username for the log, the e-mail address, the apprise URLs' count)."""

    channel: str
    recipient: str
    addresses: tuple[str, ...]


def targets(unit: Unit, account: Account, channels: tuple[str, ...]) -> list[Target]:
    """The channels that can reach ``account``: "log" always; "email" with an address
    (``[notify.email]`` or the e-mail of the account's person) and an SMTP host;
    "apprise" with URLs in ``[notify.urls]``."""
    out: list[Target] = []
    config = unit.config
    if "log" in channels:
        out.append(Target("log", account.username, (account.username,)))
    if "email" in channels and smtp_settings(config).host:
        address = notify_emails(config).get(account.username)
        if not address and account.person_id is not None:
            person = unit.session.get(Person, account.person_id)
            address = person.email if person is not None else None
        if address:
            out.append(Target("email", address, (address,)))
    if "apprise" in channels:
        urls = notify_urls(config).get(account.username, [])
        if urls:
            out.append(Target("apprise", account.username, tuple(urls)))
    return out


def send_log(
    message: Message, stream: TextIO | None, listener: Callable[[Message], None] | None
) -> None:
    """Write the reminder to the log and the terminal (and a listener: the terminal UI's
    notifications)."""
    log.info("reminder %s for %s: %s", message.key, message.username, message.title)
    if stream is not None:
        body = message.body.replace("\n", " · ")
        stream.write(
            f"[{message.username}] {message.title}" + (f" — {body}" if body else "") + "\n"
        )
        stream.flush()
    if listener is not None:
        listener(message)


def send_email(config: Config, message: Message, address: str) -> None:
    """Send the reminder by e-mail through ``[smtp]`` (UTF-8, plain text)."""
    s = smtp_settings(config)
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = s.sender
    mail["To"] = address
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = make_msgid(domain=s.sender.rpartition("@")[2] or "tongxin")
    mail["X-Tongxin-Reminder"] = message.key
    mail.set_content(f"{message.display_name}：\n\n{message.body}\n")
    try:
        with open_smtp(config) as server:
            server.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"e-mail to {address} via {s.host}:{s.port}: {exc}") from exc


def open_smtp(config: Config) -> smtplib.SMTP:
    """A connection to the ``[smtp]`` server, TLS and login done as configured (use it
    in a ``with``). Raises OSError or smtplib.SMTPException when it cannot."""
    s = smtp_settings(config)
    password = os.environ.get(s.password_env, "") if s.password_env else ""
    if s.ssl:
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            s.host, s.port, timeout=s.timeout_seconds, context=ssl.create_default_context()
        )
    else:
        server = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
    try:
        if s.starttls and not s.ssl:
            server.starttls(context=ssl.create_default_context())
        if s.username:
            server.login(s.username, password)
    except BaseException:
        server.close()
        raise
    return server


def send_apprise(message: Message, urls: tuple[str, ...]) -> None:
    """Send the reminder to apprise notification URLs (all of them must accept it)."""
    from crm_core.extras import MissingExtra, require  # only this channel needs apprise

    try:
        apprise = require("apprise", extra="notify", feature=N_("Notifications through apprise"))
    except MissingExtra as exc:
        raise DeliveryFailed(exc.text) from exc

    bundle = apprise.Apprise()
    for url in urls:
        if not bundle.add(url):
            raise DeliveryFailed(f"not an apprise URL: {url.split('://', 1)[0]}://…")
    if not bundle.notify(title=message.title, body=message.body or message.title):
        raise DeliveryFailed(f"apprise could not notify {len(urls)} URL(s)")
