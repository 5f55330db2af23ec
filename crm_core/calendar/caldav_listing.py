"""The CalDAV server side of a sync: the client, the calendar collection, and the
listing of its resources with their ETags (one PROPFIND, Depth 1)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from crm_core.errors import TongxinError
from crm_core.i18n import N_

_DAV = "{DAV:}"


class CaldavError(TongxinError):
    """The CalDAV server refused or could not be reached."""


def _client(url: str, username: str | None, password: str | None) -> Any:
    from crm_core.extras import require  # only the sync needs caldav

    caldav = require("caldav", extra="caldav", feature=N_("CalDAV sync"))

    return caldav.DAVClient(
        url=url, username=username or None, password=password or None, enable_rfc6764=False
    )


def _find_calendar(client: Any, url: str, name: str | None) -> str:
    """The URL of the calendar collection: ``url`` itself without a ``name``, else the
    calendar of that display name in the home of ``url``'s principal (made if missing;
    :func:`crm_core.dav_home.dav_home`)."""
    import caldav

    # caldav resolves its names lazily (a module __getattr__), typed as ``object``.
    calendar_type: Any = caldav.Calendar
    calendar_set_type: Any = caldav.CalendarSet
    try:
        if not name:
            cal = calendar_type(client=client, url=url)
            cal.get_display_name()  # a PROPFIND: fails early on a wrong URL or password
            return str(cal.url)
        from crm_core.dav_home import dav_home

        home = calendar_set_type(client=client, url=dav_home(client, url, "calendar"))
        for cal in home.calendars():
            if cal.get_display_name() == name:
                return str(cal.url)
        # Events and tasks (the follow-ups) in one collection, as iOS, DAVx5 and jtx
        # read it; said outright, as some servers make events-only ones otherwise.
        made = home.make_calendar(name=name, supported_calendar_component_set=["VEVENT", "VTODO"])
        return str(made.url)
    except Exception as exc:
        raise CaldavError.of(N_("CalDAV server {url}: {error}"), url=url, error=exc) from exc


def _path(href: str) -> str:
    return unquote(urlsplit(href).path)


_PROPFIND = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'
)


def _listing(client: Any, base: str) -> dict[str, str]:
    """Every resource of the collection and its ETag (one PROPFIND, Depth 1), by the
    full URL."""
    response = client.request(
        base, "PROPFIND", _PROPFIND, {"Depth": "1", "Content-Type": "application/xml"}
    )
    if response.status != 207:
        raise CaldavError.of(
            N_("PROPFIND {href}: HTTP {status}"), href=base, status=response.status
        )
    raw = response._raw if hasattr(response, "_raw") else response.raw
    text = raw if isinstance(raw, bytes | str) else str(raw)
    root = ET.fromstring(text)  # the office's own server; expat expands no external entities
    out: dict[str, str] = {}
    own = _path(base).rstrip("/")
    for item in root.iter(f"{_DAV}response"):
        href = item.findtext(f"{_DAV}href") or ""
        if _path(href).rstrip("/") == own:
            continue
        etag = None
        for prop in item.iter(f"{_DAV}getetag"):
            etag = (prop.text or "").strip()
        if etag:
            out[urljoin(base, href)] = etag
    return out


_COMPONENTS = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:prop><c:supported-calendar-component-set/></d:prop></d:propfind>"
)
_CALDAV = "{urn:ietf:params:xml:ns:caldav}"


def takes_tasks(client: Any, base: str) -> bool:
    """Whether the collection takes VTODOs: its supported-calendar-component-set names
    VTODO, or it has none (RFC 4791 5.2.3: then any component)."""
    response = client.request(
        base, "PROPFIND", _COMPONENTS, {"Depth": "0", "Content-Type": "application/xml"}
    )
    if response.status != 207:
        return True  # the listing that follows says what is wrong
    raw = response._raw if hasattr(response, "_raw") else response.raw
    root = ET.fromstring(raw if isinstance(raw, bytes | str) else str(raw))
    for stat in root.iter(f"{_DAV}propstat"):
        if "200" not in (stat.findtext(f"{_DAV}status") or ""):
            continue
        for found in stat.iter(f"{_CALDAV}supported-calendar-component-set"):
            names = {c.get("name", "").upper() for c in found.iter(f"{_CALDAV}comp")}
            return not names or "VTODO" in names
    return True
