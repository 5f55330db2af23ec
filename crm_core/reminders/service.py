"""The reminder service (``tongxin remind``): APScheduler 3 with its job store in the
project's database.

Jobs (ids are deterministic, so a restart replaces nothing and duplicates nothing):

- ``tongxin:digest``: the daily digest at ``[reminders] digest_time`` (cron, in the
  office's zone);
- ``tongxin:refresh``: every ``refresh_minutes``, plans the reminders again (new and
  moved work, plugins' rules);
- ``tongxin:item:<interaction>:<minutes>:<start>`` and ``tongxin:plugin:<plugin>:<key>``:
  one date job per reminder.

Why a reminder is sent once, and never dropped:

- Every job has ``misfire_grace_time=None`` (run however late) and ``coalesce=True``
  (several missed runs become one): a reminder due while the service was stopped runs
  once when it starts again; a digest missed on several days is sent once, for the last
  of them (:func:`crm_core.reminders.plan.digest_day`).
- Jobs live in the ``apscheduler_jobs`` table (migration 0002), so a restart finds them;
  planning adds a job only when it is missing (an existing job, maybe overdue, is never
  replaced, which would lose its missed run).
- Delivery goes through the ``reminder_delivery`` log, one row per reminder, channel and
  recipient under a unique key, claimed before sending: the same reminder planned
  twice, or a job run twice, is delivered once. A failed channel is tried again at the
  next refresh (up to ``MAX_ATTEMPTS``); a delivery cut off by a crash stays "sending"
  and is reported at the next start, not repeated.

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
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
)
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
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

log = logging.getLogger("tongxin.remind")

JOB_PREFIX = "tongxin:"
DIGEST_JOB = "tongxin:digest"
REFRESH_JOB = "tongxin:refresh"
MAX_ATTEMPTS = 5
DONE = "*"  # the delivery-log row saying every channel of a reminder was handled

_active: ReminderService | None = None


class _Scheduler(BackgroundScheduler):
    """APScheduler's background scheduler, minus one race: on shutdown its thread
    wakes once more and would take due jobs off the store while the executor is already
    closed (a reminder due at that moment would be lost). A stopped scheduler runs
    nothing; due jobs stay stored for the next start."""

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()  # type: ignore[no-any-return]


def run_job(kind: str, payload: dict[str, Any] | None = None) -> None:
    """The function every stored job calls (by reference: ``module:function``)."""
    service = _active
    if service is None:
        log.error("a reminder job ran without a reminder service: %s", kind)
        return
    if kind == "digest":
        service.send_digest()
    elif kind == "refresh":
        service.plan()
    elif kind == "reminder" and payload is not None:
        service.send(planning.Planned.from_payload(payload))


class ReminderService:
    """APScheduler with the project's database as job store, and the delivery log.

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
            jobstores={
                "default": SQLAlchemyJobStore(engine=app.engine, tablename="apscheduler_jobs")
            },
            executors={"default": {"type": "threadpool", "max_workers": 2}},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone=app.config.tz,
        )
        self._lock = threading.Lock()

    # -- running ----------------------------------------------------------------

    def start(self, *, paused: bool = False) -> None:
        """Start: report deliveries a crash cut off, plan, then run due jobs (those
        missed while the service was stopped first). ``paused`` plans and runs
        nothing (``scheduler.resume()`` later)."""
        global _active
        if _active is not None and _active is not self:
            raise RuntimeError("a reminder service is already running in this process")
        with self.app.unit() as unit:  # it works for every account
            authz.require_admin(unit, _("run the reminder service"))
        _active = self
        self._report_interrupted()
        self.scheduler.start(paused=True)
        self.plan()
        if not paused:
            self.scheduler.resume()

    def shutdown(self, wait: bool = True) -> None:
        """Stop the scheduler (jobs stay in the database for the next start)."""
        global _active
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        if _active is self:
            _active = None

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
        """The ids of the stored jobs."""
        return sorted(j.id for j in self.scheduler.get_jobs())

    # -- planning ---------------------------------------------------------------

    def plan(self) -> int:
        """Make sure the digest, the refresh and every wanted reminder have a job; drop
        future jobs of reminders no longer wanted (work cancelled or moved). Jobs
        already due are left to run. Returns how many jobs were added."""
        with self._lock:
            return self._plan()

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
            self.scheduler.add_job(
                run_job, digest, args=["digest"], id=DIGEST_JOB, replace_existing=True
            )
            added += 1
        refresh = IntervalTrigger(minutes=self.settings.refresh_minutes)
        job = existing.get(REFRESH_JOB)
        if job is None or str(job.trigger) != str(refresh):
            self.scheduler.add_job(
                run_job, refresh, args=["refresh"], id=REFRESH_JOB, replace_existing=True
            )
            added += 1
        now = clock.now()
        retry_conflicts(self._sync_series)
        with self.app.unit() as unit:
            start, until = planning.horizon(unit, now)
            wanted = planning.item_reminders(unit, start, until) + planning.plugin_reminders(
                unit, start, until
            )
            done = set(
                unit.session.scalars(
                    select(ReminderDelivery.key).where(
                        ReminderDelivery.channel == DONE, ReminderDelivery.status == "sent"
                    )
                )
            )
        keep: set[str] = set()
        for p in wanted:
            job_id = JOB_PREFIX + p.key
            keep.add(job_id)
            if p.key in done or job_id in existing:
                continue
            self.scheduler.add_job(
                run_job,
                DateTrigger(run_date=p.at, timezone=UTC),
                args=["reminder", p.payload()],
                id=job_id,
                replace_existing=True,
            )
            added += 1
        for job_id, job in existing.items():
            if job_id in (DIGEST_JOB, REFRESH_JOB) or job_id in keep:
                continue
            if job.next_run_time is not None and job.next_run_time > datetime.now(UTC):
                self.scheduler.remove_job(job_id)  # not wanted any more, not yet due
        return added

    def _sync_series(self) -> None:
        with self.app.unit() as unit:
            sync_series(unit)

    # -- delivering -------------------------------------------------------------

    def send(self, p: planning.Planned) -> None:
        """Deliver one reminder (a job runs this), unless its work was cancelled or
        moved since it was planned; each recipient's message is computed acting as
        that recipient (:func:`crm_core.reminders.plan.message_for`)."""

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
                    message = planning.message_for(unit, p, account)
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

    def send_digest(self, now: datetime | None = None) -> int:
        """Send each account's digest for the day the run stands for (see
        :func:`crm_core.reminders.plan.digest_day`); returns how many went out."""
        now = now or clock.now()
        day = planning.digest_day(now, self.app.config.tz, self.settings.digest_time)
        key = f"digest:{day.isoformat()}"
        sent = 0

        def compute() -> list[tuple[Account | None, planning.Digest]]:
            # Each digest is computed acting as its account (planning.digest_for).
            with self.app.unit() as unit:
                return [
                    (unit.session.get(Account, d.account_id), d)
                    for d in planning.digests(unit, day)
                ]

        for account, d in retry_conflicts(compute):
            if account is None:
                continue
            sent += self._deliver(f"{key}:{account.username}", [(account, d.title(), d.text())])
        return sent

    def _deliver(self, key: str, messages: list[tuple[Account, str, str]]) -> int:
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
        return delivered

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
                    ReminderDelivery.key == key,
                    ReminderDelivery.channel == target.channel,
                    ReminderDelivery.recipient == target.recipient,
                    ReminderDelivery.status == "failed",
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
                    ReminderDelivery.key == key,
                    ReminderDelivery.channel == target.channel,
                    ReminderDelivery.recipient == target.recipient,
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
                    select(ReminderDelivery).where(ReminderDelivery.status == "sending")
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


def deliveries(app: Tongxin, key_prefix: str = "") -> list[ReminderDelivery]:
    """The delivery log (of keys starting with ``key_prefix``), oldest first."""
    with app.unit() as unit:
        return list(
            unit.session.scalars(
                select(ReminderDelivery)
                .where(
                    col(ReminderDelivery.key).startswith(key_prefix),
                    ReminderDelivery.channel != DONE,
                )
                .order_by(col(ReminderDelivery.created_at), col(ReminderDelivery.key))
            )
        )
