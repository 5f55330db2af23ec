"""The pull of a CalDAV sync: the phone's changes come back into tongxin (moved →
rescheduled, deleted → cancelled, created → a new planned interaction), and what the
push must then do is planned."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import icalendar

from crm_core.calendar.caldav_base import (
    FOREIGN,
    _aware,
    _first_event,
    _follow_up_id,
    _interaction_id,
    _Item,
    _key,
    _phone_unit,
    _SyncBase,
    log,
)
from crm_core.calendar.caldav_listing import _listing, _path
from crm_core.calendar.caldav_tasks import _TaskPull
from crm_core.calendar.ics import UID_DOMAIN
from crm_core.calendar.settings import section
from crm_core.calendar_models import CaldavState
from crm_core.errors import TongxinError
from crm_core.models import Account, Interaction, InteractionStatus


class _Pull(_TaskPull, _SyncBase):
    """Brings the server's changes into tongxin."""

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
        fid = _follow_up_id(s.uid)
        if fid is not None and remote.name == "VTODO":
            taken = self.update_task(fid, remote, acc)
            if taken is not None:
                getattr(self.report, taken).append(s.uid)
                plan["force"].add(s.uid)
                return
        iid = _interaction_id(s.uid)
        if iid is not None and self._reschedule(iid, remote, acc):
            self.report.rescheduled.append(s.uid)
            plan["force"].add(s.uid)
            return
        self.report.restored.append(s.uid)
        plan["force"].add(s.uid)

    def _reschedule(self, iid: uuid.UUID, remote: icalendar.Component, acc: Account | None) -> bool:
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
        if remote is not None and remote.name == "VTODO":
            self.import_task(href, etag, remote, acc, plan)
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
