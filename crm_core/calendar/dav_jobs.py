"""The CalDAV/CardDAV syncs the office configures once, run by the reminder service
every ``[caldav] sync_minutes`` and by ``tongxin sync all``.

::

    [caldav]
    home_url = "https://dav.zxyz.gov.cn/{user}/"   # each user's home on the server
    username = "tongxin"                           # the sync account
    password_env = "DAV_PASSWORD"                  # its password, from the environment
    sync_minutes = 10

    [caldav.accounts.wangzx]
    calendar = "同心日程"       # the user's calendar, in their own home
    contacts = "同心通讯录"     # the people they may see, as an address book

One account's failure (a wrong password, a server down) is reported and the others
still run: a service that stops syncing everyone because of one typo helps nobody.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from crm_core.app import Tongxin
from crm_core.config_models import Caldav
from crm_core.errors import ConfigError, TongxinError
from crm_core.i18n import N_

log = logging.getLogger("tongxin.caldav")


@dataclass
class DavOutcome:
    """What one configured account's sync did: a report per collection, or the error."""

    user: str
    calendar: Any = None  # caldav_sync.SyncReport
    contacts: Any = None  # carddav_sync.CarddavReport
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The outcome as JSON-ready data (``tongxin sync all --json``)."""
        return {
            "user": self.user,
            "calendar": self.calendar.as_json() if self.calendar is not None else None,
            "contacts": self.contacts.as_json() if self.contacts is not None else None,
            "errors": self.errors,
        }


def _settings(app: Tongxin) -> Caldav:
    section: Caldav = app.config.sections.caldav
    return section


def configured_users(app: Tongxin) -> list[str]:
    """The tongxin accounts ``[caldav.accounts]`` names, in the order written."""
    return list(_settings(app).accounts)


def _password(settings: Caldav) -> str:
    value = os.environ.get(settings.password_env)
    if not value:
        raise ConfigError.of(
            N_("[caldav] password_env: the environment variable {name} is not set"),
            name=settings.password_env,
        )
    return value


def _error_text(exc: Exception) -> str:
    return exc.text if isinstance(exc, TongxinError) else str(exc)


def sync_configured(app: Tongxin, users: Sequence[str] | None = None) -> list[DavOutcome]:
    """Sync every account of ``[caldav.accounts]`` (or those of ``users``) once, each
    into its own home; returns one outcome per account. Raises ConfigError when the
    section is incomplete (no home_url or the password is missing), since then no
    account could sync."""
    from crm_core.calendar.caldav_sync import sync_caldav
    from crm_core.carddav_sync import sync_carddav

    settings = _settings(app)
    wanted = list(settings.accounts) if users is None else list(users)
    unknown = [u for u in wanted if u not in settings.accounts]
    if unknown:
        raise ConfigError.of(
            N_("[caldav.accounts]: no entry for {users}"), users=", ".join(unknown)
        )
    if not wanted:
        return []
    if not settings.home_url:
        raise ConfigError.of(
            N_("[caldav] home_url: not set (e.g. {example})"),
            example="https://dav.zxyz.gov.cn/{user}/",
        )
    password = _password(settings)
    login = settings.username or None
    outcomes = []
    for user in wanted:
        entry = settings.accounts[user]
        home = settings.home_url.replace("{user}", user)
        outcome = DavOutcome(user)
        if entry.calendar:
            try:
                outcome.calendar = sync_caldav(
                    app, url=home, username=login, password=password,
                    calendar=entry.calendar, account=user,
                )  # fmt: skip
            except Exception as exc:  # one account's failure must not stop the others
                outcome.errors.append(_error_text(exc))
                log.error("CalDAV sync of %s failed: %s", user, _error_text(exc))
        if entry.contacts:
            try:
                outcome.contacts = sync_carddav(
                    app, url=home, username=login, password=password,
                    target=entry.contacts, account=user,
                )  # fmt: skip
            except Exception as exc:
                outcome.errors.append(_error_text(exc))
                log.error("CardDAV sync of %s failed: %s", user, _error_text(exc))
        for c in getattr(outcome.calendar, "conflicts", []):
            log.warning("CalDAV conflict for %s: %s changed on both sides", user, c["uid"])
        outcomes.append(outcome)
    return outcomes


def sync_job(app: Tongxin) -> None:
    """The reminder service's job: :func:`sync_configured`, everything logged."""
    try:
        outcomes = sync_configured(app)
    except TongxinError as exc:
        log.error("CalDAV/CardDAV sync not run: %s", exc.text)
        return
    for o in outcomes:
        if o.calendar is not None:
            r = o.calendar
            log.info(
                "CalDAV %s: %d new, %d updated, %d deleted; from the phone %d moved, "
                "%d cancelled, %d new, %d tasks done, %d reopened",
                o.user, r.created, r.updated, r.deleted, len(r.rescheduled),
                len(r.cancelled), len(r.imported), len(r.completed), len(r.reopened),
            )  # fmt: skip
        if o.contacts is not None:
            r = o.contacts
            log.info(
                "CardDAV %s: %d new, %d updated, %d deleted, %d proposals",
                o.user, r.created, r.updated, r.deleted, len(r.proposals),
            )  # fmt: skip
