"""Push a calendar to a CalDAV server the office already runs (``tongxin sync caldav``).

One resource per item (``<uid>.ics`` holding a VCALENDAR with the zone and one VEVENT,
the same event the feed and the export hold), mirrored to the database:

- a new item is PUT with ``If-None-Match: *`` (never overwriting something else);
- a changed item (its bytes differ from what was sent) is PUT with ``If-Match`` and the
  ETag the server gave last time; the event's SEQUENCE tells clients it changed;
- an item no longer in the calendar (deleted, out of the span) is DELETEd, with
  ``If-Match`` too.

What each item's last push left (href, ETag, SEQUENCE, hash of the bytes) is kept in
``caldav_state`` (with the account whose push wrote it: on PostgreSQL an account
reads and writes only its own rows), committed item by item: a second run with
nothing changed sends no write at all, and a run that was interrupted resumes where it
stopped. The database is the source of truth: a resource someone changed on the server
(412 Precondition Failed) is overwritten, with a warning in the report.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import icalendar
from sqlalchemy import select

from crm_core import authz, clock
from crm_core.app import Tongxin
from crm_core.calendar.ics import CalendarRange, build_events, calendar_range, new_calendar
from crm_core.calendar_models import CaldavState
from crm_core.errors import TongxinError
from crm_core.i18n import N_

log = logging.getLogger("tongxin.caldav")


class CaldavError(TongxinError):
    """The CalDAV server refused or could not be reached."""


@dataclass
class SyncReport:
    """What a push did: counts per action and the HTTP writes sent."""

    calendar_url: str = ""
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    overwritten: list[str] = field(default_factory=list)  # UIDs changed on the server
    writes: int = 0  # PUT and DELETE requests sent

    def as_json(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "calendar_url": self.calendar_url,
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "overwritten": self.overwritten,
            "writes": self.writes,
        }


def resource_name(uid: str) -> str:
    """The file name of an item's resource: its UID before the ``@``, URL-safe."""
    return quote(uid.split("@", 1)[0], safe="-_.") + ".ics"


def _client(url: str, username: str | None, password: str | None) -> Any:
    from crm_core.extras import require  # only the push needs caldav

    caldav = require("caldav", extra="caldav", feature=N_("CalDAV sync"))

    return caldav.DAVClient(
        url=url, username=username or None, password=password or None, enable_rfc6764=False
    )


def _find_calendar(client: Any, url: str, name: str | None) -> str:
    """The URL of the calendar collection: ``url`` itself without a ``name``, else the
    principal's calendar of that display name (made if missing)."""
    import caldav

    try:
        if not name:
            cal = caldav.Calendar(client=client, url=url)
            cal.get_display_name()  # a PROPFIND: fails early on a wrong URL or password
            return str(cal.url)
        principal = client.principal()
        for cal in principal.calendars():
            if cal.get_display_name() == name:
                return str(cal.url)
        return str(principal.make_calendar(name=name).url)
    except Exception as exc:
        raise CaldavError.of(N_("CalDAV server {url}: {error}"), url=url, error=exc) from exc


def _etag(response: Any) -> str | None:
    value = response.headers.get("ETag") or response.headers.get("etag")
    return str(value) if value else None


def _resource(unit_calendar: icalendar.Calendar, event: icalendar.Event) -> bytes:
    cal = icalendar.Calendar()
    for name, value in unit_calendar.property_items(recursive=False):
        if name not in ("BEGIN", "END"):
            cal.add(name, value)
    for sub in unit_calendar.subcomponents:
        cal.add_component(sub)
    cal.add_component(event)
    return cal.to_ical()


def sync_caldav(
    app: Tongxin,
    *,
    url: str,
    username: str | None = None,
    password: str | None = None,
    calendar: str | None = None,
    account: str | None = None,
    scope: str | None = None,
    client_factory: Callable[[str, str | None, str | None], Any] = _client,
) -> SyncReport:
    """Mirror the calendar of ``account`` (a username; or the shared ``scope``) to the
    CalDAV calendar at ``url`` (or the principal's calendar named ``calendar``)."""
    client = client_factory(url, username, password)
    cal_url = _find_calendar(client, url, calendar)
    base = cal_url if cal_url.endswith("/") else cal_url + "/"
    report = SyncReport(calendar_url=base)

    with app.unit() as unit:
        acc = None
        if account:
            from crm_core.services.accounts import resolve_account

            acc = resolve_account(unit, account)
        elif scope is None:
            acc = unit.actor
        view = unit
        if acc is not None:  # built acting as that person, as their feed is
            authz.check_calendar_of(unit, acc)
            view = authz.acting_for(unit, acc)
        rng: CalendarRange = calendar_range(view, account=acc, scope=scope)
        shell = new_calendar(view, rng, method=False)
        for prop in ("NAME", "X-WR-CALNAME", "REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
            shell.pop(prop, None)
        wanted: dict[str, tuple[bytes, int]] = {}
        for ev in build_events(view, rng):
            body = _resource(shell, ev)
            wanted[str(ev["UID"])] = (body, int(ev.get("SEQUENCE", 0)))
        states = {
            s.uid: s
            for s in unit.session.scalars(
                select(CaldavState).where(CaldavState.calendar_url == base)
            )
        }
        state_ids = {uid: s.id for uid, s in states.items()}
        known = {uid: (s.href, s.etag, s.content_hash) for uid, s in states.items()}

    def put(href: str, body: bytes, headers: dict[str, str]) -> Any:
        report.writes += 1
        return client.request(
            href, "PUT", body.decode("utf-8"),
            {"Content-Type": "text/calendar; charset=utf-8", **headers},
        )  # fmt: skip

    def current_etag(href: str) -> str | None:
        response = client.request(href, "GET", "", {})
        return _etag(response) if response.status == 200 else None

    for uid in sorted(wanted):
        body, sequence = wanted[uid]
        digest = hashlib.sha256(body).hexdigest()
        if uid in known and known[uid][2] == digest:
            report.unchanged += 1
            continue
        href = known[uid][0] if uid in known else base + resource_name(uid)
        etag = known[uid][1] if uid in known else None
        headers = {"If-Match": etag} if etag else ({} if uid in known else {"If-None-Match": "*"})
        response = put(href, body, headers)
        if response.status == 412:
            report.overwritten.append(uid)
            log.warning("%s was changed on the CalDAV server; the database's version wins", uid)
            fresh = current_etag(href)
            response = put(href, body, {"If-Match": fresh} if fresh else {})
        if response.status not in (200, 201, 204):
            raise CaldavError.of(N_("PUT {href}: HTTP {status}"), href=href, status=response.status)
        if uid in known:
            report.updated += 1
        else:
            report.created += 1
        new_etag = _etag(response)
        with app.unit() as unit:
            row = unit.session.get(CaldavState, state_ids[uid]) if uid in state_ids else None
            if row is None:
                row = CaldavState(
                    calendar_url=base,
                    uid=uid,
                    href=href,
                    content_hash=digest,
                    # Whose push: on PostgreSQL each account has only its own rows.
                    account_id=unit.actor.id if unit.actor is not None else None,
                )
                unit.session.add(row)
            row.href, row.etag, row.sequence = href, new_etag, sequence
            row.content_hash, row.synced_at = digest, clock.now()

    for uid in sorted(set(known) - set(wanted)):
        href, etag, _digest = known[uid]
        report.writes += 1
        response = client.request(href, "DELETE", "", {"If-Match": etag} if etag else {})
        if response.status == 412:
            report.overwritten.append(uid)
            report.writes += 1
            response = client.request(href, "DELETE", "", {})
        if response.status not in (200, 204, 404):
            raise CaldavError.of(
                N_("DELETE {href}: HTTP {status}"), href=href, status=response.status
            )
        report.deleted += 1
        with app.unit() as unit:
            row = unit.session.get(CaldavState, state_ids[uid])
            if row is not None:
                unit.session.delete(row)
    return report


def state_rows(app: Tongxin, calendar_url: str) -> list[CaldavState]:
    """What the last pushes left for one calendar (for reports and tests)."""
    base = calendar_url if calendar_url.endswith("/") else calendar_url + "/"
    with app.unit() as unit:
        return list(
            unit.session.scalars(
                select(CaldavState)
                .where(CaldavState.calendar_url == base)
                .order_by(CaldavState.uid)
            )
        )


__all__ = ["CaldavError", "SyncReport", "resource_name", "state_rows", "sync_caldav"]
