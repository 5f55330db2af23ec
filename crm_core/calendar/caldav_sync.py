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

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core.app import Tongxin

# The parts live in sibling modules (issue 17: no module over 600 lines); the names
# callers and tests use stay importable from here.
from crm_core.calendar.caldav_base import BATCH as BATCH
from crm_core.calendar.caldav_base import FOREIGN as FOREIGN
from crm_core.calendar.caldav_base import SyncReport, resource_name
from crm_core.calendar.caldav_listing import CaldavError, _client, _find_calendar, takes_tasks
from crm_core.calendar.caldav_pull import _Pull
from crm_core.calendar.caldav_push import _Push
from crm_core.calendar.series import sync_series
from crm_core.calendar_models import CaldavState

DEFAULT_WORKERS = 4


class _Sync(_Pull, _Push):
    """One sync run: the pull (:mod:`caldav_pull`), then the push (:mod:`caldav_push`)."""


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
    job.tasks = takes_tasks(client, base)
    app.run(lambda unit: sync_series(unit) if unit.is_admin else None)
    states = job.states()
    wanted = job.build()
    plan = job.pull(wanted, states)
    r = job.report
    if r.rescheduled or r.cancelled or r.imported or r.completed or r.reopened:
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
