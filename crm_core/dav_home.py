"""Where a user's calendars or address books live on a CalDAV/CardDAV server.

One rule for both syncs. ``--url`` may be the server (then the logged-in user's own
principal is used) or a principal's address, e.g. ``https://dav.example/wangzx/`` when
the office's sync account writes into a leader's home so that the leader's phone finds
the calendar by ordinary discovery (docs/calendar.md, "An office Radicale"). The home
is the principal's ``calendar-home-set`` (RFC 4791) or ``addressbook-home-set`` (RFC
6352): the principal itself on Radicale, elsewhere on Nextcloud or Baïkal. A principal
URL that does not exist yet (the leader's phone has never signed in) is made, as the
server would make it at that user's first login.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

_DAV = "{DAV:}"
_HOME_SET = {
    "calendar": "{urn:ietf:params:xml:ns:caldav}calendar-home-set",
    "addressbook": "{urn:ietf:params:xml:ns:carddav}addressbook-home-set",
}
_PROPFIND = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"'
    ' xmlns:a="urn:ietf:params:xml:ns:carddav"><d:prop><d:resourcetype/>'
    "<c:calendar-home-set/><a:addressbook-home-set/></d:prop></d:propfind>"
)


class HomeError(Exception):
    """The server said no (a status other than 207/404, or a refused MKCOL)."""


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def response_body(response: Any) -> bytes:
    """The body of a caldav library response as bytes (the CalDAV and CardDAV syncs)."""
    raw = getattr(response, "_raw", None)  # caldav keeps the undecoded body here
    raw = response.raw if raw is None else raw
    return raw if isinstance(raw, bytes) else str(raw).encode("utf-8")


def response_etag(response: Any) -> str | None:
    """The ETag header of a caldav library response, if it has one."""
    value = response.headers.get("ETag") or response.headers.get("etag")
    return str(value) if value else None


def _props(client: Any, url: str) -> ET.Element | None:
    """The PROPFIND answer for ``url`` itself, or None when there is nothing there."""
    response = client.request(
        url, "PROPFIND", _PROPFIND, {"Depth": "0", "Content-Type": "application/xml"}
    )
    if response.status == 404:
        return None
    if response.status != 207:
        raise HomeError(f"PROPFIND {url}: HTTP {response.status}")
    return ET.fromstring(
        response_body(response)
    )  # the office's own server; expat expands no entities


def _is_root(url: str) -> bool:
    return urlsplit(url).path.strip("/") == ""


def dav_home(client: Any, url: str, kind: Literal["calendar", "addressbook"]) -> str:
    """The URL of the collection that holds the ``kind`` collections of ``url``'s
    principal (see the module docstring); it ends with a slash."""
    if _is_root(url):
        principal = _slash(str(client.principal().url))
        props = _props(client, principal)
    else:
        principal = _slash(url)
        props = _props(client, principal)
        if props is None:
            made = client.request(principal, "MKCOL", "", {})
            if made.status not in (200, 201):
                raise HomeError(f"MKCOL {principal}: HTTP {made.status}")
            return principal
        if props.find(f".//{_DAV}resourcetype/{_DAV}principal") is None:
            # Not a principal (a DAV root such as /remote.php/dav/): the login's own.
            principal = _slash(str(client.principal().url))
            props = _props(client, principal)
    href = "" if props is None else (props.findtext(f".//{_HOME_SET[kind]}/{_DAV}href") or "")
    return _slash(urljoin(principal, href.strip())) if href.strip() else principal
