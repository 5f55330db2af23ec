"""The first push into an empty calendar in one request, where the server takes it.

Why: Radicale (the reference server) checks on every PUT of a *new* resource that no
other resource of the collection has its UID, by reading every item of the collection
(``has_uid``), under its one write lock. Creating n items one PUT at a time therefore
costs time quadratic in n, and parallel connections do not help (the lock). Measured
here (bench/RESULTS.md): 14 new PUTs a second into an empty collection, 5 a second at
500 items; 2,500 items take minutes whatever tongxin does.

Radicale also accepts a PUT of a whole VCALENDAR on the collection itself, which it
splits into one item per UID in one pass. :func:`bulk_create` uses that only when it
cannot lose anything: the collection holds no resource, checked in the same PROPFIND
that gives the collection's ETag, and the PUT carries ``If-Match`` with that ETag (a
phone adding an event in between makes it fail with 412). Any other answer (a server
that refuses a PUT on a collection: 405, 403, 409…) and the caller falls back to one
PUT per item. The collection's display name is kept (sent as X-WR-CALNAME, which
Radicale takes as the display name), and its component set is Radicale's default
(events, tasks, journals).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urljoin

import icalendar

from crm_core.calendar.caldav_listing import _path

_DAV = "{DAV:}"
_PROPFIND = (
    '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:">'
    "<d:prop><d:getetag/><d:displayname/></d:prop></d:propfind>"
)
MIN_ITEMS = 50  # below this, one PUT per item is quick enough


def _empty_collection(client: Any, base: str) -> tuple[str, str] | None:
    """The collection's ETag and display name if it holds no resource; else None."""
    response = client.request(
        base, "PROPFIND", _PROPFIND, {"Depth": "1", "Content-Type": "application/xml"}
    )
    if response.status != 207:
        return None
    raw = response._raw if hasattr(response, "_raw") else response.raw
    root = ET.fromstring(raw if isinstance(raw, bytes | str) else str(raw))
    own = _path(base).rstrip("/")
    etag: str | None = None
    name = ""
    for item in root.iter(f"{_DAV}response"):
        if _path(item.findtext(f"{_DAV}href") or "").rstrip("/") != own:
            return None  # a resource is there: not empty
        etag = (item.findtext(f".//{_DAV}getetag") or "").strip() or None
        name = item.findtext(f".//{_DAV}displayname") or ""
    return (etag, name) if etag else None


def bulk_create(
    client: Any, base: str, head: bytes, uids: list[str], events: list[bytes]
) -> dict[str, tuple[str, str]] | None:
    """PUT the ``events`` (each one's serialised lines; ``uids`` theirs) as the whole
    content of the empty collection ``base``, after ``head`` (the calendar's properties
    and VTIMEZONEs): the href and ETag of each item's resource by UID, or None when the
    server did not take it (the caller then sends one PUT per item)."""
    if len(events) < MIN_ITEMS:
        return None
    empty = _empty_collection(client, base)
    if empty is None:
        return None
    etag, name = empty
    if name:  # Radicale takes the display name from X-WR-CALNAME: keep the one it has
        line = icalendar.Calendar()
        line.add("x-wr-calname", name)
        first, _sep, rest = head.partition(b"\r\n")
        calname = bytes(line.to_ical()).split(b"\r\n")[1] + b"\r\n"
        head = first + b"\r\n" + calname + rest
    body = head + b"".join(events) + b"END:VCALENDAR\r\n"
    headers = {"Content-Type": "text/calendar; charset=utf-8", "If-Match": etag}
    response = client.request(base, "PUT", body.decode("utf-8"), headers)
    if int(response.status) not in (200, 201, 204):
        return None
    from crm_core.calendar.caldav_listing import _listing

    # Radicale names each resource "<UID>.ics" (its own name when the UID is not a
    # safe file name): the listing says which, and each one's ETag.
    listing = _listing(client, base)
    by_name = {_path(href).rsplit("/", 1)[-1]: (href, tag) for href, tag in listing.items()}
    out: dict[str, tuple[str, str]] = {}
    for uid in uids:
        found = by_name.get(uid + ".ics")
        if found is not None:
            out[uid] = (urljoin(base, found[0]), found[1])
    return out
