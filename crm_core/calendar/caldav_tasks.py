"""The follow-ups' side of a CalDAV pull: a task ticked off, reopened or given another
due day on the phone changes the follow-up in tongxin (audited as ``<who> (from the
phone of <account>)``); a task made on the phone with a due day becomes a follow-up the
account owns. What a phone cannot do to a follow-up (delete it, drop its due day) is put
back by the push and reported (``restored``)."""

from __future__ import annotations

import uuid
from typing import Any

import icalendar

from crm_core.calendar.caldav_base import FOREIGN, _phone_unit, _SyncBase, log
from crm_core.calendar.ics_tasks import DONE_STATES, follow_up_uid, task_state
from crm_core.errors import TongxinError
from crm_core.models import Account, FollowUp, FollowUpStatus

# What a phone's task state makes of a follow-up.
_STATUS_OF = {
    "done": FollowUpStatus.closed,
    "doing": FollowUpStatus.in_progress,
    "todo": FollowUpStatus.open,
}


def _state_of(f: FollowUp) -> str:
    if f.status in DONE_STATES:
        return "done"
    return "doing" if f.status is FollowUpStatus.in_progress else "todo"


class _TaskPull(_SyncBase):
    """Brings the phone's changes to follow-ups' tasks into tongxin."""

    def update_task(
        self, fid: uuid.UUID, remote: icalendar.Component, acc: Account | None
    ) -> str | None:
        """Take the phone's version of a follow-up's task: the report list it goes in
        (``completed``, ``reopened`` or ``rescheduled``), or None when nothing of it is
        taken (it is then put back)."""
        from crm_core.services import followups

        due, state = task_state(remote)
        with self.app.unit() as unit:
            view = _phone_unit(unit, acc)
            f = unit.session.get(FollowUp, fid)
            if f is None:
                return None
            ours = _state_of(f)
            changes: dict[str, Any] = {}
            if due is not None and due != f.due_on:
                changes["due_on"] = due
            if state != ours:
                changes["status"] = _STATUS_OF[state]
            if not changes:
                return None
            try:
                followups.update_follow_up(view, fid, **changes)
            except TongxinError as exc:  # not theirs, or not a valid change
                log.warning("%s: the phone's change is not taken: %s", fid, exc)
                unit.session.rollback()
                return None
        if state == "done" and ours != "done":
            return "completed"
        if ours == "done" and state != "done":
            return "reopened"
        return "rescheduled"

    def import_task(
        self,
        href: str,
        etag: str,
        remote: icalendar.Component,
        acc: Account | None,
        plan: dict[str, Any],
    ) -> None:
        """A task made on the phone: a follow-up ``acc`` owns, when it has a title and a
        due day inside the calendar's span and is not done already; else it is left
        alone on the server and reported (``ignored``)."""
        from crm_core.services import followups

        uid = str(remote.get("UID", href))
        due, state = task_state(remote)
        rng = self.rng
        title = str(remote.get("SUMMARY", "") or "")
        made_uid = None
        if acc is not None and due is not None and rng.start <= due < rng.end and state != "done":
            with self.app.unit() as unit:
                view = _phone_unit(unit, acc)
                try:
                    made = followups.raise_follow_up(
                        view,
                        title=title,
                        owner_id=acc.id,
                        due_on=due,
                        detail=str(remote.get("DESCRIPTION", "") or "") or None,
                    )
                except TongxinError as exc:
                    log.warning("%s: the phone's task is not taken: %s", uid, exc)
                    unit.session.rollback()
                else:
                    made_uid = follow_up_uid(made.id)
        if made_uid is None:
            self.report.ignored.append(uid)
            plan["new_rows"][uid] = (href, etag, FOREIGN)
            return
        self.report.imported.append(made_uid)
        plan["drop"][href] = etag  # replaced by tongxin's task under its own UID
