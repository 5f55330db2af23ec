"""Benchmark: `tongxin sync caldav` against a local Radicale, beside a raw-HTTP floor.

    python -m bench.caldav_push [--items 2500] [--workers 4]

A Radicale 3 runs in its own process on 127.0.0.1 (GPL-3.0: a separate server tongxin
talks to over CalDAV, never imported into tongxin). One account gets ``--items`` planned
calls in the coming weeks (a fresh SQLite file in a temporary directory). Then, timed:

- **first push**: the sync that creates every event on the server (into the empty
  calendar: one whole-collection PUT, :mod:`crm_core.calendar.caldav_bulk`);
- **quiet sync**: the next sync, nothing changed on either side (one ETag listing, no
  writes);
- **floor (push)**: the same events PUT by plain ``http.client`` as one VCALENDAR on a
  second, empty calendar, nothing else done (no building, no state);
- **one PUT per item** (``--per-item N``): N of the resources PUT one at a time over
  ``--workers`` connections into a third calendar, the rate a push without the
  whole-collection PUT gets (Radicale checks every new item's UID against every item of
  the collection: the time grows with the square of the count);
- **floor (listing)**: one PROPFIND Depth 1 of the pushed calendar's ETags.

It checks the server holds exactly the items after the push, and prints a Markdown table
with the ratios sync / floor.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.calendar import calendar_range, export_ics
from crm_core.calendar.caldav_sync import sync_caldav
from crm_core.config import load_config
from crm_core.plugins import PluginHost
from crm_core.services import accounts, contacts, interactions

USER, PASSWORD = "bench", "bench"
NOW = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_radicale(folder: Path, store: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """Radicale in its own process, htpasswd auth, no delay after a failed login; its
    collections in ``store`` (default: beside the database)."""
    users = folder / "users"
    users.write_text(f"{USER}:{PASSWORD}\n", "utf-8")
    port = _free_port()
    config = folder / "radicale.conf"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        f"[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\n"
        "delay = 0\n"
        "[rights]\ntype = owner_only\n"
        f"[storage]\nfilesystem_folder = {(store or folder) / 'collections'}\n"
        "[logging]\nlevel = warning\n",
        "utf-8",
    )
    proc = subprocess.Popen([sys.executable, "-m", "radicale", "-C", str(config)])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, f"http://127.0.0.1:{port}/"


def dataset(folder: Path, items: int) -> Tongxin:
    """An office with one leader and ``items`` planned calls in the next 50 days."""
    host = PluginHost()
    host.load(entry_points_too=False)
    app = Tongxin(load_config(), db_url=str(folder / "bench.db"), plugins=host)
    with app.unit() as unit:
        leader = accounts.create_account(unit, username="wangzx", display_name="王主席")
        people = [contacts.create_person(unit, name=f"联系人{n:04d}").id for n in range(200)]
        for n in range(items):
            interactions.schedule_interaction(
                unit,
                kind="call",
                start=NOW + timedelta(days=1 + n % 50, minutes=10 * (n // 50)),
                people=[people[n % len(people)]],
                accounts=[leader.id],
                location="市政协机关",
            )
    return app


def _auth() -> str:
    return "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def _request(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes, **headers: str
) -> int:
    conn.request(method, path, body=body, headers={"Authorization": _auth(), **headers})
    response = conn.getresponse()
    response.read()
    return response.status


def floor_bulk(url: str, body: bytes) -> float:
    """PUT the VCALENDAR ``body`` as the whole of a new calendar; seconds."""
    parts = urlsplit(url)
    base = f"/{USER}/bulk/"
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
    assert _request(conn, "MKCALENDAR", base, b"") in (201, 405)
    t0 = time.perf_counter()
    status = _request(conn, "PUT", base, body, **{"Content-Type": "text/calendar; charset=utf-8"})
    elapsed = time.perf_counter() - t0
    assert status in (201, 204), status
    conn.close()
    return elapsed


def floor_push(url: str, resources: list[tuple[str, bytes]], workers: int) -> float:
    """PUT ``resources`` into a new calendar over ``workers`` connections; seconds."""
    parts = urlsplit(url)
    base = f"/{USER}/floor/"
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
    assert _request(conn, "MKCALENDAR", base, b"") in (201, 405)
    conn.close()
    chunks = [resources[i::workers] for i in range(workers)]

    def put_all(chunk: list[tuple[str, bytes]]) -> None:
        c = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
        for name, body in chunk:
            status = _request(
                c,
                "PUT",
                base + name,
                body,
                **{"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"},
            )
            assert status in (201, 204), status
        c.close()

    threads = [threading.Thread(target=put_all, args=(chunk,)) for chunk in chunks]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


PROPFIND = (
    b'<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:">'
    b"<d:prop><d:getetag/></d:prop></d:propfind>"
)


def floor_listing(calendar_url: str) -> tuple[float, int]:
    """One PROPFIND Depth 1 of a calendar's ETags: seconds and the number of ETags."""
    parts = urlsplit(calendar_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
    t0 = time.perf_counter()
    conn.request(
        "PROPFIND",
        parts.path,
        body=PROPFIND,
        headers={"Authorization": _auth(), "Depth": "1", "Content-Type": "application/xml"},
    )
    response = conn.getresponse()
    text = response.read()
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed, text.count(b".ics</")  # the collection's own entry has no .ics


def calendar_of(app: Tongxin) -> bytes:
    """The account's calendar as one VCALENDAR (the export)."""
    with app.unit() as unit:
        rng = calendar_range(unit, account=accounts.resolve_account(unit, "wangzx"))
        return export_ics(unit, rng).replace(b"METHOD:PUBLISH\r\n", b"")


def resources_of(app: Tongxin) -> list[tuple[str, bytes]]:
    """The account's calendar as one resource per event (what the sync PUTs)."""
    import icalendar

    cal = icalendar.Calendar.from_ical(calendar_of(app))
    timezones = [c for c in cal.subcomponents if c.name == "VTIMEZONE"]
    out = []
    for ev in cal.walk("VEVENT"):
        one = icalendar.Calendar()
        for key in ("VERSION", "PRODID"):
            one.add(key.lower(), cal[key])
        for tz in timezones:
            one.add_component(tz)
        one.add_component(ev)
        name = str(ev["UID"]).replace("@", "-") + ".ics"
        out.append((name, one.to_ical()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2500)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--per-item", type=int, default=300, help="items PUT one at a time")
    parser.add_argument(
        "--tmpfs",
        action="store_true",
        help="Radicale's collections in /dev/shm (memory: its fsyncs cost nothing)",
    )
    args = parser.parse_args()
    clock.freeze(NOW)
    folder = Path(tempfile.mkdtemp(prefix="tongxin-caldav-bench-"))
    print(f"building {args.items} planned items …", file=sys.stderr)
    app = dataset(folder, args.items)
    store = Path(tempfile.mkdtemp(prefix="tongxin-dav-", dir="/dev/shm")) if args.tmpfs else None
    proc, url = start_radicale(folder, store)
    try:

        def timed_sync() -> tuple[Any, float]:
            t0 = time.perf_counter()
            report = sync_caldav(
                app,
                url=url,
                username=USER,
                password=PASSWORD,
                calendar="同心 · 王主席",
                account="wangzx",
                workers=args.workers,
            )
            return report, time.perf_counter() - t0

        first, push = timed_sync()
        quiet, quiet_s = timed_sync()
        assert quiet.writes == 0, quiet.as_json()
        listing_s, on_server = floor_listing(first.calendar_url)
        resources = resources_of(app)
        assert first.created == len(resources) == on_server, (
            first.created,
            len(resources),
            on_server,
        )
        floor_s = floor_bulk(url, calendar_of(app))
        per_item_s = floor_push(url, resources[: args.per_item], args.workers)
    finally:
        proc.terminate()
        proc.wait()
        app.close()
        if store is not None:  # memory, not disk: given back
            shutil.rmtree(store, ignore_errors=True)
    print(f"| {len(resources)} events, {args.workers} connections | seconds | floor | ratio |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| first push (create all) | {push:.2f} | {floor_s:.2f} | {push / floor_s:.2f}× |")
    print(
        f"| quiet sync (nothing changed) | {quiet_s:.2f} | {listing_s:.2f} "
        f"| {quiet_s / listing_s:.2f}× |"
    )
    n = min(args.per_item, len(resources))
    print(f"| one PUT per item, first {n} (no bulk) | {per_item_s:.2f} | | |")
    print(f"(os.cpu_count() = {os.cpu_count()})", file=sys.stderr)


if __name__ == "__main__":
    main()
