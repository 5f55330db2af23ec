"""What the pull and the push of a CalDAV sync share: the report, one item per event
tongxin holds (its resource bytes and their hash), how two versions of an event are
compared, and :class:`_SyncBase` (the connections and what tongxin holds)."""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import quote

import icalendar
from sqlalchemy import select
from sqlmodel import col

from crm_core import authz
from crm_core.app import Tongxin
from crm_core.calendar.ics import (
    UID_DOMAIN,
    CalendarRange,
    build_events,
    calendar_range,
    new_calendar,
)
from crm_core.calendar.ics_tasks import task_state
from crm_core.calendar_models import CaldavState
from crm_core.dav_home import response_body
from crm_core.dav_home import response_etag as _etag
from crm_core.models import Account
from crm_core.unit import Unit

log = logging.getLogger("tongxin.caldav")

BATCH = 200  # state rows committed per transaction
FOREIGN = "foreign"  # content_hash of a server event tongxin leaves alone


@dataclass
class SyncReport:
    """What a sync did: counts per action, the HTTP writes sent, and every change that
    came from the server (by UID)."""

    calendar_url: str = ""
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    writes: int = 0  # PUT and DELETE requests sent
    rescheduled: list[str] = field(default_factory=list)  # moved on the server
    completed: list[str] = field(default_factory=list)  # tasks ticked off on the server
    reopened: list[str] = field(default_factory=list)  # done tasks reopened there
    cancelled: list[str] = field(default_factory=list)  # deleted on the server
    imported: list[str] = field(default_factory=list)  # created on the server
    restored: list[str] = field(default_factory=list)  # server change put back
    conflicts: list[dict[str, str]] = field(default_factory=list)  # both sides changed
    ignored: list[str] = field(default_factory=list)  # server events left alone
    # Kept for older callers: UIDs whose server version tongxin's replaced.
    overwritten: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "calendar_url": self.calendar_url,
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "writes": self.writes,
            "rescheduled": self.rescheduled,
            "completed": self.completed,
            "reopened": self.reopened,
            "cancelled": self.cancelled,
            "imported": self.imported,
            "restored": self.restored,
            "conflicts": self.conflicts,
            "ignored": self.ignored,
            "overwritten": self.overwritten,
        }


def resource_name(uid: str) -> str:
    """The file name of an item's resource: its UID before the ``@``, URL-safe."""
    return quote(uid.split("@", 1)[0], safe="-_.") + ".ics"


_END = b"END:VCALENDAR\r\n"


def resource_head(shell: icalendar.Calendar) -> bytes:
    """The bytes every resource of a calendar begins with: the VCALENDAR's properties
    and VTIMEZONEs (serialised once per sync, not once per item)."""
    cal = icalendar.Calendar()
    for name, value in shell.property_items(recursive=False):
        if name not in ("BEGIN", "END"):
            cal.add(name, value)
    for sub in shell.subcomponents:
        cal.add_component(sub)
    body = bytes(cal.to_ical())
    assert body.endswith(_END)
    return body[: -len(_END)]


def _resource(
    shell: icalendar.Calendar, event: icalendar.Component, head: bytes | None = None
) -> bytes:
    """One item's resource: the calendar's head, the event, the end (the bytes of a
    VCALENDAR holding the shell's parts and the event)."""
    return (head if head is not None else resource_head(shell)) + bytes(event.to_ical()) + _END


def event_bytes(body: bytes, head: bytes) -> bytes:
    """The event's own lines of a resource :func:`_resource` made with ``head``."""
    return body[len(head) : -len(_END)]


@dataclass
class _Task:
    method: str
    href: str
    body: bytes | None
    headers: dict[str, str]


@dataclass
class _Item:
    uid: str
    event: icalendar.Component  # a VEVENT, or a follow-up's VTODO
    body: bytes
    digest: str
    sequence: int


def _key(ev: icalendar.Component) -> tuple[Any, ...]:
    """When and where an event is (what a phone moves), comparable across zones; for a
    task, its due day and whether it is done (what a phone ticks off or moves)."""
    if ev.name == "VTODO":
        return ("VTODO", *task_state(ev))

    def instant(name: str) -> Any:
        if name not in ev:
            return None
        value = ev.decoded(name)
        if isinstance(value, datetime):
            return value.astimezone(UTC) if value.tzinfo else value
        return value

    start = instant("dtstart")
    end = instant("dtend")
    if end is None and "DURATION" in ev and start is not None:
        end = start + ev.decoded("duration")
    rrule = ev["RRULE"].to_ical() if "RRULE" in ev else None
    return (start, end, str(ev.get("LOCATION", "") or ""), rrule)


def _first_event(body: bytes) -> icalendar.Component | None:
    """The resource's event or task (not an exception of a series)."""
    try:
        cal = icalendar.Calendar.from_ical(body)
    except ValueError:
        return None
    for ev in cal.subcomponents:
        if ev.name in ("VEVENT", "VTODO") and "RECURRENCE-ID" not in ev:
            return ev
    return None


def _own_id(uid: str, kind: str) -> uuid.UUID | None:
    prefix, _sep, domain = uid.partition("@")
    if domain != UID_DOMAIN or not prefix.startswith(kind + "-"):
        return None
    try:
        return uuid.UUID(prefix.removeprefix(kind + "-"))
    except ValueError:
        return None


def _interaction_id(uid: str) -> uuid.UUID | None:
    """The interaction whose event has this UID (None: not an interaction's)."""
    return _own_id(uid, "interaction")


def _follow_up_id(uid: str) -> uuid.UUID | None:
    """The follow-up whose task has this UID (None: not a follow-up's)."""
    return _own_id(uid, "followup")


def _aware(value: date | datetime, tz: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    return datetime.combine(value, time(0), tz)


def _phone_unit(unit: Unit, acc: Account | None) -> Unit:
    """A unit acting as ``acc`` whose audit entries say the change came from the phone."""
    view = authz.acting_for(unit, acc) if acc is not None else unit
    who = unit.session.info.get("actor_name") or unit.actor_name
    phone = acc.username if acc is not None else "?"
    unit.session.info["actor_name"] = f"{who} (from the phone of {phone})"
    return view


class _SyncBase:
    """One sync run: the connections to the server (one per thread) and what tongxin
    holds for the calendar; the pull and the push build on it."""

    def __init__(
        self,
        app: Tongxin,
        client_factory: Callable[[str, str | None, str | None], Any],
        creds: tuple[str, str | None, str | None],
        base: str,
        account: str | None,
        scope: str | None,
        workers: int,
    ) -> None:
        self.app = app
        self.factory = client_factory
        self.creds = creds
        self.base = base
        self.account_name = account
        self.scope = scope
        self.workers = max(1, workers)
        self.report = SyncReport(calendar_url=base)
        self.local = threading.local()
        self.lock = threading.Lock()
        self.main: Any = None
        self.tasks = True  # the collection takes VTODOs (supported-calendar-component-set)

    # -- HTTP ------------------------------------------------------------------------

    def client(self) -> Any:
        c = getattr(self.local, "client", None)
        if c is None:
            c = self.local.client = self.factory(*self.creds)
            # The first connection negotiated the authentication: the others reuse it
            # instead of each sending one request without it first.
            if getattr(self.main, "auth", None) is not None:
                c.auth = self.main.auth
        return c

    def request(self, href: str, method: str, body: str, headers: dict[str, str]) -> Any:
        if method in ("PUT", "DELETE"):
            with self.lock:
                self.report.writes += 1
        return self.client().request(href, method, body, headers)

    def get(self, href: str) -> tuple[bytes | None, str | None]:
        response = self.request(href, "GET", "", {})
        if response.status != 200:
            return None, None
        return response_body(response), _etag(response)

    # -- what tongxin holds ----------------------------------------------------------

    def whose(self, unit: Unit) -> tuple[Account | None, Unit]:
        acc = None
        if self.account_name:
            from crm_core.services.accounts import resolve_account

            acc = resolve_account(unit, self.account_name)
        elif self.scope in (None, "user"):
            acc = unit.actor
        view = unit
        if acc is not None:  # built acting as that person, as their feed is
            authz.check_calendar_of(unit, acc)
            view = authz.acting_for(unit, acc)
        return acc, view

    def build(self) -> dict[str, _Item]:
        with self.app.unit() as unit:
            acc, view = self.whose(unit)
            scope = self.scope if acc is None else "user"
            rng: CalendarRange = calendar_range(view, account=acc, scope=scope)
            self.rng = rng
            shell = new_calendar(view, rng, method=False)
            for prop in ("NAME", "X-WR-CALNAME", "REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
                shell.pop(prop, None)
            self.shell = shell
            self.head = head = resource_head(shell)
            out: dict[str, _Item] = {}
            for ev in build_events(view, rng):
                if ev.name == "VTODO" and not self.tasks:
                    continue  # an events-only collection: the follow-ups stay off it
                # No ORGANIZER/ATTENDEE on a CalDAV server: its scheduling (Nextcloud,
                # iOS) would send or expect invitations; e-mail sends them (itip).
                ev.pop("ORGANIZER", None)
                ev.pop("ATTENDEE", None)
                body = _resource(shell, ev, head)
                uid = str(ev["UID"])
                out[uid] = _Item(
                    uid, ev, body, hashlib.sha256(body).hexdigest(), int(ev.get("SEQUENCE", 0))
                )
            return out

    def states(self) -> dict[str, CaldavState]:
        with self.app.unit() as unit:
            rows = unit.session.scalars(
                select(CaldavState).where(col(CaldavState.calendar_url) == self.base)
            )
            return {s.uid: s for s in rows}

    # -- the pull --------------------------------------------------------------------

    def _local_changed(self, s: CaldavState, wanted: dict[str, _Item]) -> bool:
        item = wanted.get(s.uid)
        return item is None or item.digest != s.content_hash

    def _conflict(self, uid: str, remote: icalendar.Component | None, what: str) -> dict[str, str]:
        out = {"uid": uid, "server": what, "rule": "tongxin wins"}
        if remote is not None and remote.name == "VTODO":
            due, state = task_state(remote)
            out.update(due=str(due), state=state)
        elif remote is not None:
            start, end, place, _rrule = _key(remote)
            out.update(start=str(start), end=str(end), location=place)
        log.warning("%s changed on both sides; tongxin's version wins", uid)
        return out
