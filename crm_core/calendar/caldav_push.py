"""The push of a CalDAV sync: tongxin's changes go out (PUT with ``If-None-Match`` or
``If-Match``, DELETE), over a few connections at once, the state committed per batch."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core import clock
from crm_core.calendar.caldav_base import (
    BATCH,
    FOREIGN,
    _Item,
    _resource,
    _SyncBase,
    _Task,
    event_bytes,
    resource_name,
)
from crm_core.calendar.caldav_bulk import bulk_create
from crm_core.calendar.caldav_listing import CaldavError
from crm_core.calendar_models import CaldavState
from crm_core.dav_home import response_etag as _etag
from crm_core.i18n import N_


class _Push(_SyncBase):
    """Sends tongxin's changes to the server."""

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
                body = _resource(self.shell, item.event, self.head)
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

        sent = self.bulk(wanted, states, plan, tasks, records)
        results: dict[int, tuple[int, str | None]] = {}
        failure: BaseException | None = None
        waiting = [r for r in records if r[0] not in sent]
        todo = [i for i in range(len(tasks)) if i not in {r[2] for r in records if r[0] in sent}]
        for first in range(0, max(len(todo), 1), BATCH):
            chunk = todo[first : first + BATCH]
            done, failure = self.send_all(tasks, chunk)
            results.update(done)
            ready = [r for r in waiting if r[2] is None or r[2] in results]
            waiting = [r for r in waiting if not (r[2] is None or r[2] in results)]
            self.save(self.settle(ready, results, tasks, plan, states))
            if failure is not None:
                raise failure

    def bulk(
        self,
        wanted: dict[str, _Item],
        states: dict[str, CaldavState],
        plan: dict[str, Any],
        tasks: list[_Task],
        records: list[tuple[str, dict[str, Any] | None, int | None, str]],
    ) -> set[str]:
        """The first push into an empty collection: its events in one request where the
        server takes it (:mod:`crm_core.calendar.caldav_bulk`). The UIDs so sent (their
        state saved); the tasks (VTODO, which Radicale's whole-collection PUT drops) and
        everything else go one PUT each."""
        first = not states and not plan["drop"] and not plan["new_rows"]
        if not first or not tasks or any("If-None-Match" not in t.headers for t in tasks):
            return set()
        events = [r for r in records if r[2] is not None and wanted[r[0]].event.name == "VEVENT"]
        parts = [event_bytes(wanted[r[0]].body, self.head) for r in events]
        made = bulk_create(self.client(), self.base, self.head, [r[0] for r in events], parts)
        if made is None:
            return set()
        with self.lock:
            self.report.writes += 1
        rows: list[tuple[str, dict[str, Any] | None]] = []
        for uid, rec, _t, _counts in events:
            if uid in made and rec is not None:  # else named otherwise: the next sync takes it over
                rec["href"], rec["etag"] = made[uid]
                self.report.created += 1
                rows.append((uid, rec))
        self.save(rows)
        return {r[0] for r in events}

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
                error = future.exception()
                if error is None:
                    done[index] = future.result()
                elif failure is None:
                    failure = error
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
