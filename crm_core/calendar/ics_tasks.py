"""Follow-ups on a calendar as tasks (VTODO, RFC 5545 3.6.2): what iOS Reminders,
Tasks.org, jtx Board and Thunderbird show and let the holder tick off.

A follow-up is one VTODO, UID ``followup-<id>@tongxin``:

- ``DUE`` its due date (VALUE=DATE), with an alarm at ``[reminders] all_day_time`` on
  that day (``TRIGGER;RELATED=END``: a task's alarm is relative to its DUE);
- ``STATUS``: open → ``NEEDS-ACTION``, in progress → ``IN-PROCESS``, answered or
  closed → ``COMPLETED`` with ``COMPLETED`` (when, UTC) and ``PERCENT-COMPLETE:100``;
- ``PRIORITY`` (1 high … 9 low): 1 for a concern a member raised (someone waits for the
  answer), 5 for the office's own; fixed by the follow-up, so it never churns;
- ``SUMMARY`` its title; ``DESCRIPTION`` its status, who raised it and its detail (not
  the detail of one raised in a confidential talk or in work the reader may not see).

:func:`task_state` reads a task back the way a phone leaves it (what the CalDAV pull
compares): its due date and whether it is done, in progress or still to do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import icalendar

from crm_core.calendar.ics_base import CATEGORY_FOLLOW_UP, _stamp, _uid
from crm_core.i18n import _
from crm_core.models import FollowUp, FollowUpStatus

PRIORITY_MEMBER = 1  # a member raised it and waits for the answer
PRIORITY_OFFICE = 5  # the office's own

TODO_STATUS = {
    FollowUpStatus.open: "NEEDS-ACTION",
    FollowUpStatus.in_progress: "IN-PROCESS",
    FollowUpStatus.answered: "COMPLETED",
    FollowUpStatus.closed: "COMPLETED",
}
DONE_STATES = (FollowUpStatus.answered, FollowUpStatus.closed)


def follow_up_uid(follow_up_id: object) -> str:
    """The UID of a follow-up's task."""
    return _uid("followup", follow_up_id)


def follow_up_todo(f: FollowUp, raiser: str | None, secret: bool, alarm_at: time) -> icalendar.Todo:
    """The VTODO of follow-up ``f`` (``raiser``: the name of who raised it, if the
    reader may see them; ``secret``: keep its detail out)."""
    assert f.due_on is not None
    todo = icalendar.Todo()
    todo.add("uid", follow_up_uid(f.id))
    _stamp(todo, f.created_at, f.updated_at)
    todo.add("sequence", max(f.version - 1, 0))
    todo.add("due", f.due_on)
    todo.add("summary", f.title)
    lines = [
        _("Follow-up due: {title}").format(title=f.title),
        _("Status: {status}").format(status=_(f.status.value)),
    ]
    if raiser:
        lines.append(_("Raised by: {name}").format(name=raiser))
    if f.detail and not secret:
        lines.append(f.detail)
    todo.add("description", "\n".join(lines))
    todo.add("categories", [_(CATEGORY_FOLLOW_UP)])
    todo.add("priority", PRIORITY_MEMBER if f.person_id else PRIORITY_OFFICE)
    todo.add("status", TODO_STATUS[f.status])
    if f.status in DONE_STATES:
        # When it was done: the row's last change (a done follow-up changes rarely), so
        # the bytes stay the same from one build to the next.
        todo.add("completed", f.updated_at.astimezone(UTC).replace(microsecond=0))
        todo.add("percent-complete", 100)
    else:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _("Follow-up due: {title}").format(title=f.title))
        offset = timedelta(hours=alarm_at.hour, minutes=alarm_at.minute)
        alarm.add("trigger", offset, parameters={"RELATED": "END"})
        todo.add_component(alarm)
    return todo


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()  # the day in the zone the phone wrote it in
    if isinstance(value, date):
        return value
    return None


def task_state(todo: icalendar.Component) -> tuple[date | None, str]:
    """A task as a phone leaves it: its due day and ``"done"``,
    ``"doing"`` or ``"todo"``. Phones mark a task done differently (iOS sets STATUS and
    COMPLETED, some only COMPLETED or PERCENT-COMPLETE:100): any of them is done."""
    due = _day(todo.decoded("due")) if "DUE" in todo else None
    status = str(todo.get("STATUS", "") or "").upper()
    try:
        percent = int(todo.get("PERCENT-COMPLETE", 0) or 0)
    except (TypeError, ValueError):
        percent = 0
    if status == "COMPLETED" or "COMPLETED" in todo or percent >= 100:
        return due, "done"
    if status == "IN-PROCESS" or percent > 0:
        return due, "doing"
    return due, "todo"
