"""The reminder service (``tongxin remind``): APScheduler 3 with jobs in memory only,
rebuilt from tongxin's own data, and the delivery log.

Nothing is ever unpickled: APScheduler's SQLAlchemyJobStore pickles jobs into a table
any role that may write the database could forge rows in (a pickle runs code when it
is loaded). Jobs live in a ``MemoryJobStore`` and are planned again from the
interactions, the plugins' rules and the ``reminder_delivery`` log at every start and
every refresh; the table ``apscheduler_jobs`` is gone (migration 0005).

Jobs (ids are deterministic, so planning again replaces nothing and duplicates nothing):

- ``tongxin:digest``: the daily digest at ``[reminders] digest_time`` (cron, in the
  office's zone); ``tongxin:digest:<day>``: a digest missed while the service was
  stopped (the last one only: :func:`crm_core.reminders.plan.digest_day`), sent at once;
- ``tongxin:refresh``: every ``refresh_minutes``, plans the reminders again (new and
  moved work, plugins' rules);
- ``tongxin:item:<interaction>:<minutes>:<start>`` and ``tongxin:plugin:<plugin>:<key>``:
  one date job per reminder.

Why a reminder is sent once, and never dropped:

- Planning covers the reminders of work still ahead (however early their alarm) and
  those that fell due in the last :data:`CATCH_UP` (missed while the service was
  stopped): a reminder without its "done" row in the delivery log gets a job, run at
  once when its time has passed (marked as sent late).
- A digest run leaves a "done" row for its day (``digest:<day>``): at start and at each
  refresh the last digest day whose time has come is sent if that row is missing, so
  a digest missed on several days is sent once, for the last of them.
- Delivery goes through the ``reminder_delivery`` log, one row per reminder, channel and
  recipient under a unique key, claimed before sending: the same reminder planned
  twice, or a job run twice (two services, a refresh racing a job), is delivered once.
  A failed channel is tried again at the next refresh (up to ``MAX_ATTEMPTS``); a
  delivery cut off by a crash stays "sending" and is reported at the next start, not
  repeated.
- Times follow :func:`crm_core.clock.now`: a reminder due by the program's clock runs
  at once, a later one after the same delay on the wall clock.

Whom it works for: the service plans for everyone, so it runs with administrator rights
(an administrator's login or the owner of the database, as a service account); what
each person is told is computed acting as that person (:func:`crm_core.reminders.plan.digest_for`,
:func:`crm_core.reminders.plan.message_for`), so a digest or a reminder never shows
anything its recipient may not see.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
)
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from crm_core import authz, clock
from crm_core.app import Tongxin
from crm_core.calendar.retry import retry_conflicts
from crm_core.calendar.series import sync_series
from crm_core.calendar.settings import reminder_settings
from crm_core.calendar_models import ReminderDelivery
from crm_core.i18n import _
from crm_core.models import Account, Interaction, InteractionStatus
from crm_core.reminders import channels
from crm_core.reminders import plan as planning
from crm_core.reminders.channels import Message
from crm_core.unit import Unit

log = logging.getLogger("tongxin.remind")

JOB_PREFIX = "tongxin:"
DIGEST_JOB = "tongxin:digest"
REFRESH_JOB = "tongxin:refresh"
DAV_JOB = "tongxin:dav-sync"  # [caldav.accounts] synced every [caldav] sync_minutes
REPLIES_JOB = "tongxin:invitation-replies"  # [invitations] mailbox read every fetch_minutes
MAX_ATTEMPTS = 5
DONE = "*"  # the delivery-log row saying every channel of a reminder was handled
# How far back planning looks for reminders that fell due while the service was
# stopped (a long weekend's outage): they are sent once, late. Older ones are not.
CATCH_UP = timedelta(days=3)
# An all-day item's reminder comes on its day, up to a day after its start: planning
# looks this much further back for the items, so their reminders are not missed.
_ALL_DAY_LEAD = timedelta(days=1)
_IN_CHUNK = 500  # bounded IN lists


class _Scheduler(BackgroundScheduler):  # type: ignore[misc]  # apscheduler 3 ships no type hints
    """APScheduler's background scheduler, minus one race: on shutdown its thread
    wakes once more and would take due jobs while the executor is already closed. A
    stopped scheduler runs nothing (the next start plans those reminders again)."""

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()  # type: ignore[no-any-return]


class ReminderService:
    """APScheduler with jobs in memory (planned from the database, never loaded from
    it), and the delivery log.

    ``stream`` gets the log channel's lines (default: standard output); ``listener``
    gets every message as it is delivered on the log channel (the terminal UI shows
    them as notifications)."""

    def __init__(
        self,
        app: Tongxin,
        *,
        stream: TextIO | str | None = "stdout",
        listener: Callable[[Message], None] | None = None,
    ) -> None:
        self.app = app
        self.stream: TextIO | None = sys.stdout if stream == "stdout" else stream  # type: ignore[assignment]
        self.listener = listener
        self.settings = reminder_settings(app.config)
        self.scheduler = _Scheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": {"type": "threadpool", "max_workers": 2}},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone=app.config.tz,
        )
        self._lock = threading.Lock()
        # The reminders with a job not yet finished (a job being run has already left
        # the store): planning does not add them again meanwhile.
        self._pending: set[str] = set()

    # -- running ----------------------------------------------------------------

    def start(self, *, paused: bool = False) -> None:
        """Start: report deliveries a crash cut off, plan, then run due jobs (those
        missed while the service was stopped first). ``paused`` plans and runs
        nothing (``scheduler.resume()`` later)."""
        with self.app.unit() as unit:  # it works for every account
            authz.require_admin(unit, _("run the reminder service"))
        self._report_interrupted()
        self.scheduler.start(paused=True)
        self.plan()
        if not paused:
            self.scheduler.resume()

    def shutdown(self, wait: bool = True) -> None:
        """Stop the scheduler. Nothing is lost: the next start plans again what was
        not delivered (the delivery log says what was)."""
        if self.scheduler.running:
            # Paused and emptied first: APScheduler's thread may be in the middle of a
            # round; remove_all_jobs waits for that round to end.
            self.scheduler.pause()
            self.scheduler.remove_all_jobs()
            self.scheduler.shutdown(wait=wait)
        self._pending.clear()

    def run_forever(self) -> None:
        """Start and run until SIGTERM or Ctrl-C (``tongxin remind``)."""
        stop = threading.Event()

        def _stop(*_args: Any) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        self.start()
        try:
            stop.wait()
        finally:
            self.shutdown()

    def run_once(self, timeout: float = 60.0) -> None:
        """Start, deliver what is due now (missed reminders included), and stop
        (``tongxin remind --once``, for a timer instead of a long-running service)."""
        pending = [0]
        lock = threading.Lock()

        def count(event: Any) -> None:
            with lock:
                pending[0] += 1 if event.code == EVENT_JOB_SUBMITTED else -1

        self.scheduler.add_listener(
            count, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
        )
        self.start()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                now = datetime.now(UTC)
                due = [
                    j
                    for j in self.scheduler.get_jobs()
                    if j.next_run_time is not None and j.next_run_time <= now
                ]
                with lock:
                    busy = pending[0] > 0
                if not due and not busy:
                    break
                time.sleep(0.1)
        finally:
            self.shutdown()

    def job_ids(self) -> list[str]:
        """The ids of the scheduled jobs."""
        return sorted(j.id for j in self.scheduler.get_jobs())

    # -- planning ---------------------------------------------------------------

    def plan(self) -> int:
        """Make sure the digest, the refresh, a missed digest and every wanted reminder
        not yet delivered have a job; drop the jobs of reminders no longer wanted
        (work cancelled or moved). Returns how many jobs were added."""
        with self._lock:
            return self._plan()

    def _plan_dav_sync(self, existing: dict[str, Any]) -> int:
        """The job syncing ``[caldav.accounts]`` every ``sync_minutes``, first right at
        start; none when no account is configured or the interval is 0."""
        from crm_core.calendar.dav_jobs import configured_users, sync_job

        minutes = self.app.config.sections.caldav.sync_minutes
        if not configured_users(self.app) or minutes == 0:
            if DAV_JOB in existing:
                self.scheduler.remove_job(DAV_JOB)
            return 0
        trigger = IntervalTrigger(minutes=minutes, timezone=UTC)
        job = existing.get(DAV_JOB)
        if job is not None and str(job.trigger) == str(trigger):
            return 0
        self.scheduler.add_job(
            sync_job, trigger, args=[self.app], id=DAV_JOB, replace_existing=True,
            next_run_time=datetime.now(UTC),
        )  # fmt: skip
        return 1

    def _plan_replies(self, existing: dict[str, Any]) -> int:
        """The job reading the answers to invitations from ``[invitations]``'s mailbox
        every ``fetch_minutes``, first right at start; none when no mailbox is set."""
        from crm_core.calendar.itip_inbox import configured, fetch_job

        minutes = self.app.config.sections.invitations.fetch_minutes
        if not configured(self.app.config) or minutes == 0:
            if REPLIES_JOB in existing:
                self.scheduler.remove_job(REPLIES_JOB)
            return 0
        trigger = IntervalTrigger(minutes=minutes, timezone=UTC)
        job = existing.get(REPLIES_JOB)
        if job is not None and str(job.trigger) == str(trigger):
            return 0
        self.scheduler.add_job(
            fetch_job, trigger, args=[self.app], id=REPLIES_JOB, replace_existing=True,
            next_run_time=datetime.now(UTC),
        )  # fmt: skip
        return 1

    def _run_at(self, at: datetime, now: datetime) -> datetime:
        # Due by the program's clock: now; later: after the same delay on the wall.
        return datetime.now(UTC) + max(at - now, timedelta(0))

    def _plan(self) -> int:
        added = 0
        existing = {j.id: j for j in self.scheduler.get_jobs()}
        digest = CronTrigger(
            hour=self.settings.digest_time.hour,
            minute=self.settings.digest_time.minute,
            timezone=self.app.config.tz,
        )
        job = existing.get(DIGEST_JOB)
        if job is None or str(job.trigger) != str(digest):
            self.scheduler.add_job(self._digest_job, digest, id=DIGEST_JOB, replace_existing=True)
            added += 1
        refresh = IntervalTrigger(minutes=self.settings.refresh_minutes, timezone=UTC)
        job = existing.get(REFRESH_JOB)
        if job is None or str(job.trigger) != str(refresh):
            self.scheduler.add_job(self._refresh, refresh, id=REFRESH_JOB, replace_existing=True)
            added += 1
        added += self._plan_dav_sync(existing)
        added += self._plan_replies(existing)
        now = clock.now()
        retry_conflicts(self._sync_series)
        since = now - CATCH_UP
        day = planning.digest_day(now, self.app.config.tz, self.settings.digest_time)
        with self.app.unit() as unit:
            _start, until = planning.horizon(unit, now)
            items = planning.item_reminders(unit, since - _ALL_DAY_LEAD, until)
            wanted = [
                p
                for p in items + planning.plugin_reminders(unit, since, until)
                # Work still ahead: every alarm (an early one is sent late); work
                # already begun: only alarms within the catch-up window.
                if p.at >= since or (p.start is not None and p.start > now)
            ]
            done = _done_keys(unit, [p.key for p in wanted] + [_digest_key(day)])
        keep = {DIGEST_JOB, REFRESH_JOB, DAV_JOB, REPLIES_JOB}
        if _digest_key(day) not in done:
            job_id = JOB_PREFIX + _digest_key(day)
            keep.add(job_id)
            if job_id not in existing:
                self.scheduler.add_job(
                    self.send_digest,
                    DateTrigger(run_date=datetime.now(UTC), timezone=UTC),
                    kwargs={"day": day},
                    id=job_id,
                    replace_existing=True,
                )
                added += 1
        for p in wanted:
            job_id = JOB_PREFIX + p.key
            if p.key in done:
                continue
            keep.add(job_id)
            if job_id in existing or p.key in self._pending:
                continue
            self._pending.add(p.key)
            self.scheduler.add_job(
                self.send,
                DateTrigger(run_date=self._run_at(p.at, now), timezone=UTC),
                args=[p],
                id=job_id,
                replace_existing=True,
            )
            added += 1
        for job_id in set(existing) - keep:
            # Not wanted any more (cancelled or moved work); a job that ran is gone.
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(job_id)
            self._pending.discard(job_id.removeprefix(JOB_PREFIX))
        return added

    def _refresh(self) -> None:
        try:
            self.plan()
        except Exception:  # the next refresh tries again; the service goes on
            log.exception("could not plan the reminders")

    def _digest_job(self) -> None:
        self.send_digest()

    def _sync_series(self) -> None:
        with self.app.unit() as unit:
            sync_series(unit)

    # -- delivering -------------------------------------------------------------

    def send(self, p: planning.Planned) -> None:
        """Deliver one reminder (a job runs this), unless its work was cancelled or
        moved since it was planned; each recipient's message is computed acting as
        that recipient (:func:`crm_core.reminders.plan.message_for`)."""
        try:
            self._send(p)
        finally:
            with self._lock:
                self._pending.discard(p.key)

    def _send(self, p: planning.Planned) -> None:

        def messages() -> list[tuple[Account, str, str]] | None:
            with self.app.unit() as unit:
                if p.interaction_id is not None:
                    i = unit.session.get(Interaction, p.interaction_id)
                    if (
                        i is None
                        or i.status is not InteractionStatus.planned
                        or i.start_at != p.start
                    ):
                        return None
                out = []
                for account_id in p.account_ids:
                    account = unit.session.get(Account, account_id)
                    if account is None or not account.active:
                        continue
                    message = planning.message_for(unit, p, account, sent_at=clock.now())
                    if message is not None:
                        out.append((account, *message))
                return out

        todo = retry_conflicts(messages)
        if todo is None:
            log.info("reminder %s not sent: the work was cancelled or moved", p.key)
            self._mark_done(p.key)
            return
        if clock.now() - p.at > timedelta(minutes=5):
            late = "\n" + _("(Sent late: the reminder service was not running then.)")
            todo = [(account, title, body + late) for account, title, body in todo]
        self._deliver(p.key, todo)

    def send_digest(self, now: datetime | None = None, *, day: date | None = None) -> int:
        """Send each account's digest for ``day`` (default: the day a run at ``now``
        stands for, :func:`crm_core.reminders.plan.digest_day`); returns how many went
        out. When every channel was handled, the day's "done" row says so, and planning
        does not send that day's digest again."""
        now = now or clock.now()
        if day is None:
            day = planning.digest_day(now, self.app.config.tz, self.settings.digest_time)
        key = _digest_key(day)
        sent = 0

        def compute() -> list[tuple[Account | None, planning.Digest]]:
            # Each digest is computed acting as its account (planning.digest_for).
            with self.app.unit() as unit:
                return [
                    (unit.session.get(Account, d.account_id), d)
                    for d in planning.digests(unit, day)
                ]

        complete = True
        for account, d in retry_conflicts(compute):
            if account is None:
                continue
            delivered, ok = self._deliver_all(
                f"{key}:{account.username}", [(account, d.title(), d.text())]
            )
            sent += delivered
            complete = complete and ok
        if complete:
            self._mark_done(key)
        return sent

    def _deliver(self, key: str, messages: list[tuple[Account, str, str]]) -> int:
        return self._deliver_all(key, messages)[0]

    def _deliver_all(self, key: str, messages: list[tuple[Account, str, str]]) -> tuple[int, bool]:
        """Deliver ``messages`` under ``key``: how many went out, and whether every
        channel was handled (no failure left to try again)."""
        failures = 0
        delivered = 0
        for account, title, body in messages:
            message = Message(key, account.username, account.display_name, title, body)
            with self.app.unit() as unit:
                targets = channels.targets(unit, account, self.settings.channels)
            for target in targets:
                if not self._claim(key, target, account.id):
                    continue
                try:
                    if target.channel == "log":
                        channels.send_log(message, self.stream, self.listener)
                    elif target.channel == "email":
                        channels.send_email(self.app.config, message, target.addresses[0])
                    else:
                        channels.send_apprise(message, target.addresses)
                except Exception as exc:  # recorded and tried again later, whatever it was
                    failures += 1
                    log.warning("reminder %s via %s failed: %s", key, target.channel, exc)
                    self._finish(key, target, "failed", str(exc)[:500])
                    continue
                delivered += 1
                self._finish(key, target, "sent", None)
        if not failures:
            self._mark_done(key)
        return delivered, not failures

    def _claim(self, key: str, target: channels.Target, account_id: uuid.UUID) -> bool:
        """Claim a delivery before sending: True when this run should send it (new, or
        failed before and not yet tried ``MAX_ATTEMPTS`` times)."""

        def insert() -> None:
            with self.app.unit() as unit:
                unit.session.add(
                    ReminderDelivery(
                        key=key,
                        channel=target.channel,
                        recipient=target.recipient,
                        account_id=account_id,
                        status="sending",
                        attempts=1,
                    )
                )

        try:
            retry_conflicts(insert)
            return True
        except IntegrityError:
            pass
        return retry_conflicts(lambda: self._reclaim(key, target))

    def _reclaim(self, key: str, target: channels.Target) -> bool:
        with self.app.unit() as unit:
            result = unit.session.execute(
                update(ReminderDelivery)
                .where(
                    col(ReminderDelivery.key) == key,
                    col(ReminderDelivery.channel) == target.channel,
                    col(ReminderDelivery.recipient) == target.recipient,
                    col(ReminderDelivery.status) == "failed",
                    col(ReminderDelivery.attempts) < MAX_ATTEMPTS,
                )
                .values(status="sending", attempts=ReminderDelivery.attempts + 1)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def _finish(self, key: str, target: channels.Target, status: str, detail: str | None) -> None:
        retry_conflicts(lambda: self._finish_once(key, target, status, detail))

    def _finish_once(
        self, key: str, target: channels.Target, status: str, detail: str | None
    ) -> None:
        with self.app.unit() as unit:
            unit.session.execute(
                update(ReminderDelivery)
                .where(
                    col(ReminderDelivery.key) == key,
                    col(ReminderDelivery.channel) == target.channel,
                    col(ReminderDelivery.recipient) == target.recipient,
                )
                .values(
                    status=status,
                    detail=detail,
                    delivered_at=clock.now() if status == "sent" else None,
                )
            )

    def _mark_done(self, key: str) -> None:
        def insert() -> None:
            with self.app.unit() as unit:
                unit.session.add(
                    ReminderDelivery(
                        key=key,
                        channel=DONE,
                        recipient=DONE,
                        status="sent",
                        delivered_at=clock.now(),
                    )
                )

        with contextlib.suppress(IntegrityError):
            retry_conflicts(insert)

    def _report_interrupted(self) -> None:
        with self.app.unit() as unit:
            stuck = list(
                unit.session.scalars(
                    select(ReminderDelivery).where(col(ReminderDelivery.status) == "sending")
                )
            )
        for row in stuck:
            log.warning(
                "reminder %s via %s to %s may not have been delivered (the service stopped "
                "while sending it); it is not sent again",
                row.key,
                row.channel,
                row.recipient,
            )


def _digest_key(day: date) -> str:
    """The delivery log's key of a whole digest run (its "done" row)."""
    return f"digest:{day.isoformat()}"


def _done_keys(unit: Unit, keys: list[str]) -> set[str]:
    """Those of ``keys`` whose every channel was handled (their "done" row)."""
    out: set[str] = set()
    for start in range(0, len(keys), _IN_CHUNK):
        out.update(
            unit.session.scalars(
                select(col(ReminderDelivery.key)).where(
                    col(ReminderDelivery.channel) == DONE,
                    col(ReminderDelivery.status) == "sent",
                    col(ReminderDelivery.key).in_(keys[start : start + _IN_CHUNK]),
                )
            )
        )
    return out


def deliveries(app: Tongxin, key_prefix: str = "") -> list[ReminderDelivery]:
    """The delivery log (of keys starting with ``key_prefix``), oldest first."""
    with app.unit() as unit:
        return list(
            unit.session.scalars(
                select(ReminderDelivery)
                .where(
                    col(ReminderDelivery.key).startswith(key_prefix),
                    col(ReminderDelivery.channel) != DONE,
                )
                .order_by(col(ReminderDelivery.created_at), col(ReminderDelivery.key))
            )
        )
