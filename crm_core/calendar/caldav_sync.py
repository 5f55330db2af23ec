"""Two-way sync of a calendar with a CalDAV server the office runs (``tongxin sync caldav``).

One resource per item (``<uid>.ics`` holding a VCALENDAR with the zone and one VEVENT,
the same event the feed and the export hold). What each item's last sync left (href,
ETag, the highest SEQUENCE the resource had, the hash of the bytes tongxin last built
for it) is kept in ``caldav_state``, with the account whose sync wrote it (on
PostgreSQL an account reads and writes only its own rows).

A sync is incremental by ETags: one PROPFIND (Depth 1) lists the resources and their
ETags; only those whose ETag moved, or that are new, are fetched. Then:

- **moved on the phone** (DTSTART, DTEND or LOCATION of a planned interaction) → a
  reschedule in tongxin, audited as ``<who> (from the phone of <account>)``; other
  edits on the phone (title, alarms) are left on the server and not read back;
- **deleted on the phone** → a planned interaction is cancelled (reason: deleted on the
  phone) and stays off that server; a done or cancelled interaction, a series or a
  follow-up is put back and reported (``restored``);
- **created on the phone** in that calendar (a UID tongxin did not make) → a planned
  interaction of ``[caldav] new_event_kind`` (default ``note``, "Other contact") with the
  account taking part; the phone's resource is replaced by tongxin's event (``imported``).
  A recurring event made on the phone is left alone and reported (``ignored``);
- **both sides changed** since the last sync → tongxin's version wins, and the conflict
  is reported with what the server had (``conflicts``): never silent;
- a change the phone cannot make (a series, a follow-up, a done item moved) is put back
  and reported (``restored``).

Then the push: a new item is PUT with ``If-None-Match: *``, a changed one with
``If-Match`` and the stored ETag; a resource that changed on the server in between (412)
is not overwritten but reported and picked up by the next sync. The SEQUENCE sent over
a resource is above every SEQUENCE it had (the phone's included). Items that left the
calendar are DELETEd (``If-Match`` too). The writes go over a few connections in
parallel; the state is committed in batches, so an interrupted run resumes. A second
run with nothing changed on either side sends no write and writes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import icalendar
from sqlalchemy import select
from sqlmodel import col

from crm_core import authz, clock
from crm_core.app import Tongxin
from crm_core.calendar.ics import (
    UID_DOMAIN,
    CalendarRange,
    build_events,
    calendar_range,
    new_calendar,
)
from crm_core.calendar.series import sync_series
from crm_core.calendar.settings import section
from crm_core.calendar_models import CaldavState
from crm_core.errors import TongxinError
from crm_core.i18n import N_
from crm_core.models import Account, Interaction, InteractionStatus
from crm_core.unit import Unit

log = logging.getLogger("tongxin.caldav")

DEFAULT_WORKERS = 4
BATCH = 200  # state rows committed per transaction
FOREIGN = "foreign"  # content_hash of a server event tongxin leaves alone
_DAV = "{DAV:}"


class CaldavError(TongxinError):
    """The CalDAV server refused or could not be reached."""


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


def _client(url: str, username: str | None, password: str | None) -> Any:
    from crm_core.extras import require  # only the sync needs caldav

    caldav = require("caldav", extra="caldav", feature=N_("CalDAV sync"))

    return caldav.DAVClient(
        url=url, username=username or None, password=password or None, enable_rfc6764=False
    )


def _find_calendar(client: Any, url: str, name: str | None) -> str:
    """The URL of the calendar collection: ``url`` itself without a ``name``, else the
    calendar of that display name in the home of ``url``'s principal (made if missing;
    :func:`crm_core.dav_home.dav_home`)."""
    # caldav's lazy module __getattr__ hides its classes from mypy; the submodule has them.
    from caldav.collection import Calendar, CalendarSet

    try:
        if not name:
            cal = Calendar(client=client, url=url)
            cal.get_display_name()  # a PROPFIND: fails early on a wrong URL or password
            return str(cal.url)
        from crm_core.dav_home import dav_home

        # Any: caldav types each call as sync-or-async; our client is the sync one.
        home: Any = CalendarSet(client=client, url=dav_home(client, url, "calendar"))
        for cal in home.calendars():
            if cal.get_display_name() == name:
                return str(cal.url)
        return str(home.make_calendar(name=name).url)
    except Exception as exc:
        raise CaldavError.of(N_("CalDAV server {url}: {error}"), url=url, error=exc) from exc


def _etag(response: Any) -> str | None:
    value = response.headers.get("ETag") or response.headers.get("etag")
    return str(value) if value else None


def _resource(shell: icalendar.Calendar, event: icalendar.Event) -> bytes:
    cal = icalendar.Calendar()
    for name, value in shell.property_items(recursive=False):
        if name not in ("BEGIN", "END"):
            cal.add(name, value)
    for sub in shell.subcomponents:
        cal.add_component(sub)
    cal.add_component(event)
    return bytes(cal.to_ical())


def _path(href: str) -> str:
    return unquote(urlsplit(href).path)


_PROPFIND = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'
)


def _listing(client: Any, base: str) -> dict[str, str]:
    """Every resource of the collection and its ETag (one PROPFIND, Depth 1), by the
    full URL."""
    response = client.request(
        base, "PROPFIND", _PROPFIND, {"Depth": "1", "Content-Type": "application/xml"}
    )
    if response.status != 207:
        raise CaldavError.of(
            N_("PROPFIND {href}: HTTP {status}"), href=base, status=response.status
        )
    raw = response._raw if hasattr(response, "_raw") else response.raw
    text = raw if isinstance(raw, bytes | str) else str(raw)
    root = ET.fromstring(text)  # the office's own server; expat expands no external entities
    out: dict[str, str] = {}
    own = _path(base).rstrip("/")
    for item in root.iter(f"{_DAV}response"):
        href = item.findtext(f"{_DAV}href") or ""
        if _path(href).rstrip("/") == own:
            continue
        etag = None
        for prop in item.iter(f"{_DAV}getetag"):
            etag = (prop.text or "").strip()
        if etag:
            out[urljoin(base, href)] = etag
    return out


@dataclass
class _Task:
    method: str
    href: str
    body: bytes | None
    headers: dict[str, str]


@dataclass
class _Item:
    uid: str
    event: icalendar.Event
    body: bytes
    digest: str
    sequence: int


def _key(ev: icalendar.Event) -> tuple[Any, ...]:
    """When and where an event is (what a phone moves), comparable across zones."""

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


def _first_event(body: bytes) -> icalendar.Event | None:
    try:
        cal = icalendar.Calendar.from_ical(body)
    except ValueError:
        return None
    for ev in cal.walk("VEVENT"):
        if "RECURRENCE-ID" not in ev:
            return ev  # type: ignore[no-any-return]
    return None


def _interaction_id(uid: str) -> uuid.UUID | None:
    prefix, _sep, domain = uid.partition("@")
    if domain != UID_DOMAIN or not prefix.startswith("interaction-"):
        return None
    try:
        return uuid.UUID(prefix.removeprefix("interaction-"))
    except ValueError:
        return None


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


class _Sync:
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
        raw = response._raw if hasattr(response, "_raw") else response.raw
        body = raw if isinstance(raw, bytes) else str(raw).encode("utf-8")
        return body, _etag(response)

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
            shell = new_calendar(view, rng, method=False)
            for prop in ("NAME", "X-WR-CALNAME", "REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
                shell.pop(prop, None)
            self.shell = shell
            out: dict[str, _Item] = {}
            for ev in build_events(view, rng):
                body = _resource(shell, ev)
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

    def pull(self, wanted: dict[str, _Item], states: dict[str, CaldavState]) -> dict[str, Any]:
        """Bring the server's changes into tongxin. Returns what the push must know:
        ``force`` (UIDs to PUT even if tongxin's bytes did not change), ``etag`` (the
        server's current ETag per UID), ``floor`` (the highest SEQUENCE seen per UID),
        ``tombstone`` (UIDs to keep off the server), ``drop`` (resources to DELETE
        without a state row), ``accept`` (UIDs whose server version is taken as is)."""
        listing = _listing(self.client(), self.base)
        by_href = {_path(s.href): s for s in states.values()}
        plan: dict[str, Any] = {
            "force": set(), "etag": {}, "floor": {}, "tombstone": set(), "drop": {},
            "accept": set(), "new_rows": {},
        }  # fmt: skip
        changed: list[CaldavState] = []
        gone: list[CaldavState] = []
        for s in states.values():
            if s.content_hash == FOREIGN or s.etag is None:
                continue
            current = listing.get(s.href) or next(
                (e for h, e in listing.items() if _path(h) == _path(s.href)), None
            )
            if current is None:
                gone.append(s)
            elif current != s.etag:
                changed.append(s)
                plan["etag"][s.uid] = current
        fresh = [h for h in listing if _path(h) not in by_href]
        if not (changed or gone or fresh):
            return plan
        with self.app.unit() as unit:
            acc, _view = self.whose(unit)
        for s in changed:
            self.pull_changed(s, wanted, acc, plan)
        for s in gone:
            self.pull_gone(s, wanted, acc, plan)
        for href in fresh:
            self.pull_new(href, listing[href], acc, plan)
        return plan

    def _local_changed(self, s: CaldavState, wanted: dict[str, _Item]) -> bool:
        item = wanted.get(s.uid)
        return item is None or item.digest != s.content_hash

    def pull_changed(
        self, s: CaldavState, wanted: dict[str, _Item], acc: Account | None, plan: dict[str, Any]
    ) -> None:
        body, etag = self.get(s.href)
        if body is None:
            return
        plan["etag"][s.uid] = etag or plan["etag"].get(s.uid)
        remote = _first_event(body)
        seq = int(remote.get("SEQUENCE", 0)) if remote is not None else 0
        plan["floor"][s.uid] = max(s.sequence, seq)
        item = wanted.get(s.uid)
        if remote is None or item is None:
            plan["force"].add(s.uid)
            return
        if _key(remote) == _key(item.event):
            plan["accept"].add(s.uid)  # only title, alarms...: left as the phone has it
            return
        if self._local_changed(s, wanted):
            self.report.conflicts.append(self._conflict(s.uid, remote, "changed"))
            plan["force"].add(s.uid)
            return
        iid = _interaction_id(s.uid)
        if iid is not None and self._reschedule(iid, remote, acc):
            self.report.rescheduled.append(s.uid)
            plan["force"].add(s.uid)
            return
        self.report.restored.append(s.uid)
        plan["force"].add(s.uid)

    def _conflict(self, uid: str, remote: icalendar.Event | None, what: str) -> dict[str, str]:
        out = {"uid": uid, "server": what, "rule": "tongxin wins"}
        if remote is not None:
            start, end, place, _rrule = _key(remote)
            out.update(start=str(start), end=str(end), location=place)
        log.warning("%s changed on both sides; tongxin's version wins", uid)
        return out

    def _reschedule(self, iid: uuid.UUID, remote: icalendar.Event, acc: Account | None) -> bool:
        from crm_core.services import interactions

        with self.app.unit() as unit:
            view = _phone_unit(unit, acc)
            i = unit.session.get(Interaction, iid)
            if i is None or i.status is not InteractionStatus.planned or "DTSTART" not in remote:
                return False
            tz = unit.config.tz
            start = _aware(remote.decoded("dtstart"), tz)
            end = _aware(remote.decoded("dtend"), tz) if "DTEND" in remote else None
            try:
                interactions.reschedule_interaction(
                    view,
                    iid,
                    start=start,
                    end=end,
                    location=str(remote.get("LOCATION", "") or ""),
                )
            except TongxinError as exc:  # not theirs to change, or not a valid time
                log.warning("%s: the phone's change is not taken: %s", iid, exc)
                unit.session.rollback()
                return False
        return True

    def pull_gone(
        self, s: CaldavState, wanted: dict[str, _Item], acc: Account | None, plan: dict[str, Any]
    ) -> None:
        from crm_core.services import interactions

        if s.uid not in wanted:
            plan["tombstone"].add(s.uid)  # gone on both sides
            return
        if self._local_changed(s, wanted):
            self.report.conflicts.append(self._conflict(s.uid, None, "deleted"))
            plan["force"].add(s.uid)
            plan["etag"][s.uid] = None
            return
        iid = _interaction_id(s.uid)
        if iid is not None:
            with self.app.unit() as unit:
                view = _phone_unit(unit, acc)
                i = unit.session.get(Interaction, iid)
                if i is not None and i.status is InteractionStatus.planned:
                    try:
                        interactions.cancel_interaction(view, iid, reason="deleted on the phone")
                    except TongxinError as exc:
                        log.warning("%s: the phone's deletion is not taken: %s", iid, exc)
                        unit.session.rollback()
                    else:
                        self.report.cancelled.append(s.uid)
                        plan["tombstone"].add(s.uid)
                        return
        self.report.restored.append(s.uid)
        plan["force"].add(s.uid)
        plan["etag"][s.uid] = None

    def pull_new(self, href: str, etag: str, acc: Account | None, plan: dict[str, Any]) -> None:
        from crm_core.services import interactions

        body, etag2 = self.get(href)
        if body is None:
            return
        etag = etag2 or etag
        remote = _first_event(body)
        uid = str(remote["UID"]) if remote is not None and "UID" in remote else href
        if uid.endswith("@" + UID_DOMAIN):
            # Ours, but this sync has no row for it (the state was lost): taken over.
            plan["new_rows"][uid] = (href, etag)
            plan["etag"][uid] = etag
            plan["force"].add(uid)
            return
        if remote is None or "RRULE" in remote or "DTSTART" not in remote or acc is None:
            self.report.ignored.append(uid)
            plan["new_rows"][uid] = (href, etag, FOREIGN)
            return
        kind = str(section(self.app.config, "caldav").get("new_event_kind", "note"))
        with self.app.unit() as unit:
            view = _phone_unit(unit, acc)
            tz = unit.config.tz
            raw_start = remote.decoded("dtstart")
            all_day = not isinstance(raw_start, datetime)
            start = _aware(raw_start, tz)
            end = _aware(remote.decoded("dtend"), tz) if "DTEND" in remote else None
            try:
                made = interactions.schedule_interaction(
                    view,
                    kind=kind,
                    start=start,
                    end=end,
                    all_day=all_day,
                    accounts=[acc.id],
                    location=str(remote.get("LOCATION", "") or "") or None,
                    summary=str(remote.get("SUMMARY", "") or "") or None,
                )
            except TongxinError as exc:
                log.warning("%s: the phone's event is not taken: %s", uid, exc)
                unit.session.rollback()
                self.report.ignored.append(uid)
                plan["new_rows"][uid] = (href, etag, FOREIGN)
                return
            new_uid = f"interaction-{made.id}@{UID_DOMAIN}"
        self.report.imported.append(new_uid)
        plan["drop"][href] = etag  # replaced by tongxin's event under its own UID

    # -- the push --------------------------------------------------------------------

    def push(
        self, wanted: dict[str, _Item], states: dict[str, CaldavState], plan: dict[str, Any]
    ) -> None:
        """Send tongxin's changes: the writes in batches (each batch over a few
        connections at once), the state of each batch committed before the next."""
        report = self.report
        tasks: list[_Task] = []

        def task(method: str, href: str, body: bytes | None, headers: dict[str, str]) -> int:
            tasks.append(_Task(method, href, body, headers))
            return len(tasks) - 1

        # (uid, new state or None for "no row", the task it waits for, how it counts)
        records: list[tuple[str, dict[str, Any] | None, int | None, str]] = []
        for href, etag in plan["drop"].items():
            task("DELETE", href, None, {"If-Match": etag})
        for uid in sorted(wanted):
            item = wanted[uid]
            s = states.get(uid)
            if uid in plan["tombstone"]:
                href = s.href if s else self.base + resource_name(uid)
                seq = s.sequence if s else item.sequence
                rec = {"href": href, "etag": None, "sequence": seq, "content_hash": item.digest}
                records.append((uid, rec, None, ""))
                continue
            if s is not None and s.content_hash == item.digest and uid not in plan["force"]:
                if uid in plan["accept"]:
                    rec = {
                        "href": s.href,
                        "etag": plan["etag"].get(uid),
                        "sequence": plan["floor"].get(uid, s.sequence),
                        "content_hash": item.digest,
                    }
                    records.append((uid, rec, None, ""))
                report.unchanged += 1
                continue
            body = item.body
            href = s.href if s is not None else self.base + resource_name(uid)
            etag = plan["etag"].get(uid, s.etag if s is not None else None)
            if s is None and uid in plan["new_rows"]:
                href, etag = plan["new_rows"][uid][:2]
            sequence = item.sequence
            floor = plan["floor"].get(uid, s.sequence if s is not None else -1)
            if (s is not None or uid in plan["new_rows"]) and sequence <= floor:
                sequence = floor + 1  # never a SEQUENCE the resource already had
                item.event["SEQUENCE"] = sequence
                body = _resource(self.shell, item.event)
            headers = {"If-Match": etag} if etag else {"If-None-Match": "*"}
            t = task("PUT", href, body, headers)
            rec = {"href": href, "sequence": sequence, "content_hash": item.digest}
            records.append((uid, rec, t, "updated" if s is not None else "created"))
        for uid, s in sorted(states.items()):
            if uid in wanted or s.content_hash == FOREIGN:
                continue
            if s.etag is None or uid in plan["tombstone"]:  # off the server already
                records.append((uid, None, None, ""))
                continue
            t = task("DELETE", s.href, None, {"If-Match": s.etag})
            records.append((uid, None, t, "deleted"))
        for uid, row in plan["new_rows"].items():
            if len(row) == 3 and uid not in states:
                rec = {"href": row[0], "etag": row[1], "sequence": 0, "content_hash": FOREIGN}
                records.append((uid, rec, None, ""))

        results: dict[int, tuple[int, str | None]] = {}
        failure: BaseException | None = None
        waiting = list(records)
        for first in range(0, max(len(tasks), 1), BATCH):
            chunk = list(range(first, min(first + BATCH, len(tasks))))
            done, failure = self.send_all(tasks, chunk)
            results.update(done)
            ready = [r for r in waiting if r[2] is None or r[2] in results]
            waiting = [r for r in waiting if not (r[2] is None or r[2] in results)]
            self.save(self.settle(ready, results, tasks, plan, states))
            if failure is not None:
                raise failure

    def send_all(
        self, tasks: list[_Task], chunk: list[int]
    ) -> tuple[dict[int, tuple[int, str | None]], BaseException | None]:
        """Send the tasks of ``chunk``; what came back, and the first failure."""
        done: dict[int, tuple[int, str | None]] = {}

        def send(index: int) -> tuple[int, str | None]:
            t = tasks[index]
            if t.method == "PUT":
                assert t.body is not None
                hdrs = {"Content-Type": "text/calendar; charset=utf-8", **t.headers}
                response = self.request(t.href, "PUT", t.body.decode("utf-8"), hdrs)
            else:
                response = self.request(t.href, "DELETE", "", t.headers)
            status = int(response.status)
            ok = (200, 201, 204, 412) if t.method == "PUT" else (200, 204, 404, 412)
            if status not in ok:
                raise CaldavError.of(
                    N_("{method} {href}: HTTP {status}"),
                    method=t.method,
                    href=t.href,
                    status=status,
                )
            return status, _etag(response)

        # A few writes go over the first connection; many over ``workers`` at once.
        workers = min(self.workers, max(1, len(chunk) // 16))
        if workers == 1:
            for index in chunk:
                try:
                    done[index] = send(index)
                except Exception as exc:
                    return done, exc
            return done, None
        failure: BaseException | None = None
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {index: pool.submit(send, index) for index in chunk}
            for index, future in futures.items():
                exc = future.exception()
                if exc is None:
                    done[index] = future.result()
                elif failure is None:
                    failure = exc
        return done, failure

    def settle(
        self,
        ready: list[tuple[str, dict[str, Any] | None, int | None, str]],
        results: dict[int, tuple[int, str | None]],
        tasks: list[_Task],
        plan: dict[str, Any],
        states: dict[str, CaldavState],
    ) -> list[tuple[str, dict[str, Any] | None]]:
        """The state rows of the records whose writes came back, counted in the report."""
        report = self.report
        out: list[tuple[str, dict[str, Any] | None]] = []
        for uid, rec, t, counts in ready:
            if t is not None:
                status, new_etag = results[t]
                if status == 412:  # changed on the server since the listing: next sync
                    report.conflicts.append(self._conflict(uid, None, "changed"))
                    continue
                if counts == "updated":
                    report.updated += 1
                elif counts == "created":
                    report.created += 1
                elif counts == "deleted":
                    report.deleted += 1
                if rec is not None:
                    rec["etag"] = new_etag
                    if uid in plan["force"] and uid in states and uid not in report.rescheduled:
                        report.overwritten.append(uid)
            out.append((uid, rec))
        return out

    def save(self, rows: list[tuple[str, dict[str, Any] | None]]) -> None:
        with self.app.unit() as unit:
            current = {
                s.uid: s
                for s in unit.session.scalars(
                    select(CaldavState).where(
                        col(CaldavState.calendar_url) == self.base,
                        col(CaldavState.uid).in_([u for u, _r in rows]),
                    )
                )
            }
            for uid, rec in rows:
                row = current.get(uid)
                if rec is None:
                    if row is not None:
                        unit.session.delete(row)
                    continue
                if row is None:
                    row = CaldavState(
                        calendar_url=self.base,
                        uid=uid,
                        href=rec["href"],
                        content_hash=rec["content_hash"],
                        # Whose sync: on PostgreSQL each account has only its own rows.
                        account_id=unit.actor.id if unit.actor is not None else None,
                    )
                    unit.session.add(row)
                row.href, row.etag = rec["href"], rec.get("etag")
                row.sequence, row.content_hash = rec["sequence"], rec["content_hash"]
                row.synced_at = clock.now()


def sync_caldav(
    app: Tongxin,
    *,
    url: str,
    username: str | None = None,
    password: str | None = None,
    calendar: str | None = None,
    account: str | None = None,
    scope: str | None = None,
    workers: int = DEFAULT_WORKERS,
    client_factory: Callable[[str, str | None, str | None], Any] = _client,
) -> SyncReport:
    """Sync the calendar of ``account`` (a username; by default the login's own) or the
    shared ``scope`` ("office", "institutional") with the CalDAV calendar at ``url`` (or
    the principal's calendar named ``calendar``, made if missing): the server's changes
    come in first, then tongxin's go out over ``workers`` connections."""
    client = client_factory(url, username, password)
    cal_url = _find_calendar(client, url, calendar)
    base = cal_url if cal_url.endswith("/") else cal_url + "/"
    job = _Sync(app, client_factory, (url, username, password), base, account, scope, workers)
    job.local.client = job.main = client
    app.run(lambda unit: sync_series(unit) if unit.is_admin else None)
    states = job.states()
    wanted = job.build()
    plan = job.pull(wanted, states)
    if job.report.rescheduled or job.report.cancelled or job.report.imported:
        wanted = job.build()  # tongxin changed: its new events go out
    job.push(wanted, states, plan)
    return job.report


def state_rows(app: Tongxin, calendar_url: str) -> list[CaldavState]:
    """What the last syncs left for one calendar (for reports and tests)."""
    base = calendar_url if calendar_url.endswith("/") else calendar_url + "/"
    with app.unit() as unit:
        return list(
            unit.session.scalars(
                select(CaldavState)
                .where(col(CaldavState.calendar_url) == base)
                .order_by(col(CaldavState.uid))
            )
        )


__all__ = ["CaldavError", "SyncReport", "resource_name", "state_rows", "sync_caldav"]
