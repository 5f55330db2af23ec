"""Desk reminders: one person's reminders, shown while their terminal UI is open.

:class:`DeskReminders` works for ONE account, of any role (no administrator needed):
it plans that account's reminders and hands each to a listener when it falls due (the
terminal UI shows it as a notification). Unlike the office's reminder service
(:mod:`crm_core.reminders.service`, ``tongxin remind``), which plans for everyone and
sends e-mail and notification URLs, it reads only what the account may see and writes
only its own delivery rows.

What it shows:

- item reminders before planned work the account takes part in (as an account or
  through the person it is): :func:`crm_core.reminders.plan.item_reminders`, each
  message computed acting as the account (:func:`crm_core.reminders.plan.message_for`),
  so it never names anyone the account may not see;
- plugins' reminders (``collect_reminders``) addressed to the account (or, without an
  addressee, to every administrator, when the account is one).

How:

- An in-memory APScheduler 3 ``BackgroundScheduler``: one date job per reminder under a
  deterministic id (``desk:<reminder key>``), and a refresh job every
  ``[reminders] refresh_minutes`` that plans again (new and moved work, cancelled work
  dropped). Jobs coalesce and have no misfire grace, so a late job still runs, once.
- Once per person across processes: before showing a reminder the desk claims a row of
  the ``reminder_delivery`` log with the channel ``"desk"`` and the account's username
  as recipient, under the log's unique key, in one short transaction. If the row exists
  (the person's other open app showed it), it is not shown again. The office service's
  channels (log, e-mail, apprise) have rows of their own, so ``tongxin remind`` and the
  open apps never consume each other's deliveries.
- Catch-up: on start (and at each refresh), reminders that fell due in the last
  :data:`CATCH_UP` (12 hours) and were not shown yet are shown once, marked as late if
  more than :data:`LATE_AFTER` past their time: opening the app in the afternoon shows
  the morning's reminders missed while no app was open, not last week's.
- Times follow :func:`crm_core.clock.now`: a reminder due by the program's clock runs at
  once, a later one after the same delay on the wall clock (so a frozen clock in tests
  and demos behaves).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.calendar.retry import retry_conflicts
from crm_core.calendar.settings import reminder_settings
from crm_core.calendar_models import ReminderDelivery
from crm_core.i18n import _
from crm_core.models import Account, Interaction, InteractionStatus
from crm_core.reminders import plan as planning
from crm_core.reminders.channels import Message

log = logging.getLogger("tongxin.remind")

DESK_CHANNEL = "desk"  # the delivery log's channel of reminders shown in an open app
JOB_PREFIX = "desk:"
REFRESH_JOB = "desk:refresh"
# How far back a starting desk looks for reminders missed while no app was open.
CATCH_UP = timedelta(hours=12)
# A reminder shown later than this after its time says so.
LATE_AFTER = timedelta(minutes=5)
# An all-day item's reminder comes on its day, up to a day after its start: planning
# looks this much further back for the items, so their reminders are not missed.
_ALL_DAY_LEAD = timedelta(days=1)


class DeskReminders:
    """The reminders of ``account`` (an account or a username), handed to ``listener``
    as they fall due, once per person whichever of their apps is open.

    ``now`` is the clock (default: the program's); ``catch_up`` how far back reminders
    missed while no app was open are still shown. :meth:`start` plans and starts the
    scheduler, :meth:`shutdown` stops it; the listener runs on the scheduler's thread.
    """

    def __init__(
        self,
        app: Tongxin,
        account: Account | str,
        listener: Callable[[Message], None],
        *,
        now: Callable[[], datetime] = clock.now,
        catch_up: timedelta = CATCH_UP,
    ) -> None:
        self.app = app
        self.listener = listener
        self.now = now
        self.catch_up = catch_up
        self.settings = reminder_settings(app.config)
        with app.unit(account) as unit:  # a disabled or unknown account is refused here
            assert unit.actor is not None
            self.account: Account = unit.actor  # loaded; kept for the units to come
        self.scheduler = BackgroundScheduler(
            # One worker: reminders are claimed and shown one after the other, in order.
            executors={"default": {"type": "threadpool", "max_workers": 1}},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone=app.config.tz,
        )
        self._lock = threading.Lock()  # one planning at a time (start, refresh, tests)
        # The reminders with a job not yet finished, and when each runs (wait_idle).
        self._pending: dict[str, datetime] = {}
        self._idle = threading.Condition()
        # Reminders a job found nothing to show for (the account may not see the work):
        # not planned again while the desk runs.
        self._settled: set[str] = set()

    @property
    def username(self) -> str:
        """The username of the account the desk works for."""
        return self.account.username

    # -- running ----------------------------------------------------------------

    def start(self) -> None:
        """Plan (in the calling thread), then start the scheduler: reminders due now,
        missed ones of the catch-up window included, are shown at once."""
        self.scheduler.start(paused=True)
        self.scheduler.add_job(
            self._refresh,
            IntervalTrigger(minutes=self.settings.refresh_minutes, timezone=UTC),
            id=REFRESH_JOB,
            replace_existing=True,
        )
        self.plan()
        self.scheduler.resume()

    def shutdown(self, wait: bool = True) -> None:
        """Stop the scheduler (``wait``: let a reminder being shown finish). Nothing is
        lost: what was not shown yet is shown by the next desk's catch-up."""
        if self.scheduler.running:
            # Paused and emptied first: APScheduler's thread may be in the middle of a
            # round, which would fail removing a job from a scheduler already stopped;
            # remove_all_jobs waits for that round to end.
            self.scheduler.pause()
            self.scheduler.remove_all_jobs()
            self.scheduler.shutdown(wait=wait)
        with self._idle:
            self._pending.clear()
            self._idle.notify_all()

    def job_ids(self) -> list[str]:
        """The ids of the scheduled jobs."""
        return sorted(j.id for j in self.scheduler.get_jobs())

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every reminder due by now has been handled (shown, or found to
        need no showing); False if that took longer than ``timeout`` seconds."""
        end = time.monotonic() + timeout
        with self._idle:
            while True:
                wall = datetime.now(UTC)
                if not any(at <= wall for at in self._pending.values()):
                    return True
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(min(left, 0.1))

    # -- planning ---------------------------------------------------------------

    def plan(self) -> int:
        """Make sure every reminder of the account due in the catch-up window or ahead
        (``[reminders] horizon_days``) and not shown yet has a job; drop the jobs of
        reminders no longer wanted (work cancelled or moved). Returns how many jobs
        were added."""
        with self._lock:
            wanted, shown = self._wanted()
            existing = {j.id for j in self.scheduler.get_jobs()}
            now = self.now()
            wall = datetime.now(UTC)
            keep = {REFRESH_JOB}
            added = 0
            for p in wanted:
                job_id = JOB_PREFIX + p.key
                keep.add(job_id)
                if p.key in shown or p.key in self._settled or job_id in existing:
                    continue
                # Due by the program's clock: now; later: after the same delay.
                run_at = wall + max(p.at - now, timedelta(0))
                with self._idle:  # before the job exists: it may run at once
                    self._pending[p.key] = run_at
                self.scheduler.add_job(
                    self._fire,
                    DateTrigger(run_date=run_at, timezone=UTC),
                    args=[p],
                    id=job_id,
                    replace_existing=True,
                )
                added += 1
            for job_id in existing - keep:
                # Its work was cancelled or moved (a job that has just run is gone).
                with contextlib.suppress(JobLookupError):
                    self.scheduler.remove_job(job_id)
                self._done(job_id.removeprefix(JOB_PREFIX))
            return added

    def _refresh(self) -> None:
        try:
            self.plan()
        except Exception:  # the next refresh tries again; the app goes on
            log.exception("could not plan the reminders of %s", self.username)

    def _wanted(self) -> tuple[list[planning.Planned], set[str]]:
        """The account's reminders due from the catch-up window on, and the keys of
        those already shown (by this desk or another of the person's apps)."""
        with self.app.unit(self.account) as unit:  # acting as the account: authz applies
            now = self.now()
            since = now - self.catch_up
            until = now + timedelta(days=self.settings.horizon_days)
            me = self.account.id
            items = planning.item_reminders(
                unit, since - _ALL_DAY_LEAD, until, account=self.account
            )
            extra = planning.plugin_reminders(unit, since, until)
            wanted = [p for p in items + extra if me in p.account_ids and p.at >= since]
            keys = [p.key for p in wanted]
            shown: set[str] = set()
            for start in range(0, len(keys), 500):  # bounded IN lists
                shown.update(
                    unit.session.scalars(
                        select(col(ReminderDelivery.key)).where(
                            col(ReminderDelivery.channel) == DESK_CHANNEL,
                            col(ReminderDelivery.recipient) == self.username,
                            col(ReminderDelivery.key).in_(keys[start : start + 500]),
                        )
                    )
                )
        return wanted, shown

    # -- showing ----------------------------------------------------------------

    def _fire(self, p: planning.Planned) -> None:
        """A job: show reminder ``p`` unless its work was cancelled or moved, the
        account may not see it, or another of the person's apps showed it already."""
        try:
            message = retry_conflicts(lambda: self._message(p))
            if message is None:
                self._settled.add(p.key)
                return
            if not self._claim(p.key):
                log.info("reminder %s for %s already shown elsewhere", p.key, self.username)
                return
            self.listener(message)
        except Exception:  # a reminder that failed must not stop the scheduler
            log.exception("could not show reminder %s to %s", p.key, self.username)
        finally:
            self._done(p.key)

    def _done(self, key: str) -> None:
        with self._idle:
            self._pending.pop(key, None)
            self._idle.notify_all()

    def _message(self, p: planning.Planned) -> Message | None:
        with self.app.unit(self.account) as unit:
            if p.interaction_id is not None:
                i = unit.session.get(Interaction, p.interaction_id)
                if i is None or i.status is not InteractionStatus.planned or i.start_at != p.start:
                    log.info("reminder %s not shown: the work was cancelled or moved", p.key)
                    return None
            told = planning.message_for(unit, p, self.account, sent_at=self.now())
        if told is None:
            return None
        title, body = told
        if self.now() - p.at > LATE_AFTER:
            late = _("(Shown late: tongxin was not open then.)")
            body = f"{body}\n{late}" if body else late
        return Message(p.key, self.username, self.account.display_name, title, body)

    def _claim(self, key: str) -> bool:
        """Record that the person is shown ``key``: True if this desk is the first
        (the unique key of the delivery log decides between concurrent apps)."""

        def insert() -> None:
            # write=True: SQLite's write lock up front, so the unit waits its turn
            # instead of failing on a snapshot another app's claim changed.
            with self.app.unit(self.account, write=True) as unit:
                unit.session.add(
                    ReminderDelivery(
                        key=key,
                        channel=DESK_CHANNEL,
                        recipient=self.username,
                        account_id=self.account.id,
                        status="sent",
                        attempts=1,
                        delivered_at=clock.now(),
                    )
                )

        try:
            retry_conflicts(insert)
        except IntegrityError:
            return False
        return True
