"""The people an account may see, in an address book on the office's CardDAV server
(``tongxin sync carddav``), so a leader's phone shows who is calling.

One card per person (``tongxin-person-<id>.vcf``, the vCard 3.0 of
:mod:`crm_core.contacts_vcard`). The people are those the account sees in tongxin
(:mod:`crm_core.authz`: a county's staff only their county's), active ones only; the
card holds only what that account may read. What each card's last sync left (href,
ETag, the hash of the bytes tongxin sent) is kept in ``caldav_state`` rows of the
address book's URL, as the CalDAV sync keeps its items.

A sync is incremental by ETags: one PROPFIND (Depth 1) lists the cards and their ETags;
only a card whose ETag moved since tongxin wrote it is fetched. Then:

- a person new to the book is PUT with ``If-None-Match: *``; a person changed in
  tongxin with ``If-Match`` and the ETag tongxin last saw;
- a person no longer visible to the account (moved to another county, made inactive,
  merged away, anonymised) has their card DELETEd: it never stays on that phone;
- a card **changed on the phone** whose phone numbers now differ from tongxin's becomes
  a **proposal** (``contact_proposal``): the numbers the phone holds wait for an
  administrator (``tongxin contacts proposals accept ID``), who changes the person
  through the contacts service (audited). Until then tongxin does not overwrite that
  card; a change of the person in tongxin meanwhile is reported as a conflict;
- a card changed on the phone in anything else (a note, a photo) is left as the phone
  made it, until the person changes in tongxin; cards the phone made itself (another
  UID) are never touched;
- a card of tongxin's **deleted on the phone** is put back (the person is still one the
  account sees) and reported (``restored``).

A second run with nothing changed on either side sends no write and writes nothing.
"""

from __future__ import annotations

import hashlib
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from sqlalchemy import select
from sqlmodel import col

from crm_core import authz, clock
from crm_core.app import Tongxin
from crm_core.calendar_models import CaldavState, ContactProposal
from crm_core.contacts_vcard import UID_PREFIX, card_tels, card_uid, person_phones, vcard
from crm_core.dav_home import response_body
from crm_core.dav_home import response_etag as _etag
from crm_core.errors import NotFound, TongxinError, ValidationError
from crm_core.i18n import N_
from crm_core.models import Account, Person
from crm_core.phones import is_mobile
from crm_core.services import contacts
from crm_core.unit import Unit

_DAV = "{DAV:}"
_CARD = "{urn:ietf:params:xml:ns:carddav}"

OPEN, ACCEPTED, WITHDRAWN = "open", "accepted", "withdrawn"


class CarddavError(TongxinError):
    """The CardDAV server refused or could not be reached."""


@dataclass
class CarddavReport:
    """What a sync did: counts per action, the HTTP writes sent, the cards whose phone
    numbers the phone changed (open proposals, by card UID) and the conflicts (the
    person changed in tongxin too)."""

    book_url: str = ""
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    writes: int = 0
    proposals: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)  # deleted on the phone, put back

    def as_json(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "book_url": self.book_url,
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "writes": self.writes,
            "proposals": self.proposals,
            "conflicts": self.conflicts,
            "restored": self.restored,
        }


def resource_name(uid: str) -> str:
    """The file name of a card on the server."""
    return quote(uid, safe="-_.") + ".vcf"


def _client(url: str, username: str | None, password: str | None) -> Any:
    from crm_core.extras import require  # only the sync needs caldav (its HTTP client)

    caldav = require("caldav", extra="caldav", feature=N_("CardDAV sync"))
    return caldav.DAVClient(
        url=url, username=username or None, password=password or None, enable_rfc6764=False
    )


def _path(href: str) -> str:
    return unquote(urlsplit(href).path)


def _fail(url: str, error: object) -> CarddavError:
    return CarddavError.of(N_("CardDAV server {url}: {error}"), url=url, error=error)


_PROPFIND_BOOKS = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:displayname/></d:prop>'
    "</d:propfind>"
)
_PROPFIND_ETAGS = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'
)


def _mkcol(name: str) -> str:
    from xml.sax.saxutils import escape

    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<d:mkcol xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav">'
        "<d:set><d:prop><d:resourcetype><d:collection/><card:addressbook/></d:resourcetype>"
        f"<d:displayname>{escape(name)}</d:displayname></d:prop></d:set></d:mkcol>"
    )


def _propfind(client: Any, url: str, body: str, depth: str) -> ET.Element:
    try:
        response = client.request(
            url, "PROPFIND", body, {"Depth": depth, "Content-Type": "application/xml"}
        )
    except Exception as exc:
        raise _fail(url, exc) from exc
    if response.status != 207:
        raise _fail(url, f"PROPFIND HTTP {response.status}")
    return ET.fromstring(
        response_body(response)
    )  # the office's own server; expat expands no entities


def _books(client: Any, home: str) -> dict[str, str]:
    """The address books in ``home`` by display name (their full URLs)."""
    out: dict[str, str] = {}
    for item in _propfind(client, home, _PROPFIND_BOOKS, "1").iter(f"{_DAV}response"):
        href = item.findtext(f"{_DAV}href") or ""
        if item.find(f".//{_DAV}resourcetype/{_CARD}addressbook") is None:
            continue
        name = item.findtext(f".//{_DAV}displayname") or ""
        out.setdefault(name, urljoin(home, href))
    return out


def _book_home(client: Any, url: str) -> str:
    """Where the address books of ``url`` live (:func:`crm_core.dav_home.dav_home`)."""
    from crm_core.dav_home import dav_home

    try:
        return dav_home(client, url, "addressbook")
    except Exception as exc:
        raise _fail(url, exc) from exc


def find_book(client: Any, url: str, name: str | None) -> str:
    """The URL of the address book: ``url`` itself without a ``name`` (it must be an
    address book), else the principal's address book of that display name, made (MKCOL)
    when missing."""
    if not name:
        root = _propfind(client, url, _PROPFIND_BOOKS, "0")
        if root.find(f".//{_DAV}resourcetype/{_CARD}addressbook") is None:
            raise _fail(url, N_("not an address book (name one with --target)"))
        return url if url.endswith("/") else url + "/"
    home = _book_home(client, url)
    found = _books(client, home).get(name)
    if found:
        return found if found.endswith("/") else found + "/"
    book = urljoin(home, str(uuid.uuid5(uuid.NAMESPACE_URL, f"tongxin-book:{name}")) + "/")
    response = client.request(book, "MKCOL", _mkcol(name), {"Content-Type": "application/xml"})
    if response.status not in (200, 201):
        raise _fail(book, f"MKCOL HTTP {response.status}")
    return book


def _listing(client: Any, book: str) -> dict[str, str]:
    """Every card of the book and its ETag, by path."""
    out: dict[str, str] = {}
    own = _path(book).rstrip("/")
    for item in _propfind(client, book, _PROPFIND_ETAGS, "1").iter(f"{_DAV}response"):
        href = item.findtext(f"{_DAV}href") or ""
        if _path(href).rstrip("/") == own:
            continue
        etag = (item.findtext(f".//{_DAV}getetag") or "").strip()
        if etag:
            out[_path(urljoin(book, href))] = etag
    return out


@dataclass
class _Card:
    person: Person
    body: bytes
    digest: str
    phones: list[str]


def _whose(unit: Unit, account: str | None) -> tuple[Account | None, Unit]:
    acc = unit.actor
    if account:
        from crm_core.services.accounts import resolve_account

        acc = resolve_account(unit, account)
    if acc is None:
        return None, unit
    authz.check_calendar_of(unit, acc)  # one's own, or an administrator's doing
    return acc, authz.acting_for(unit, acc)


def _cards(view: Unit) -> dict[str, _Card]:
    """The card of every active person ``view`` may see, by UID."""
    people = contacts.list_people(view, limit=10_000_000, status="active").items
    _orgs, cats, _comms = contacts.people_by_ids(view, {p.id for p in people})
    categories = view.app.categories
    sectors = view.config.vocab["sectors"]
    out: dict[str, _Card] = {}
    for p in people:
        labels = []
        for vocab, code in [(categories, c) for c in cats.get(p.id, [])] + [(sectors, p.sector)]:
            if code:
                term = vocab.get(code)
                labels.append(term.zh if term is not None else code)
        body = vcard(p, labels)
        out[card_uid(p.id)] = _Card(p, body, hashlib.sha256(body).hexdigest(), person_phones(p))
    return out


class _Sync:
    def __init__(self, app: Tongxin, client: Any, book: str, account: str | None) -> None:
        self.app = app
        self.client = client
        self.book = book
        self.account = account
        self.report = CarddavReport(book_url=book)

    def send(self, method: str, href: str, body: bytes | None, headers: dict[str, str]) -> Any:
        self.report.writes += 1
        if body is not None:
            headers = {"Content-Type": "text/vcard; charset=utf-8", **headers}
        try:
            return self.client.request(href, method, body.decode("utf-8") if body else "", headers)
        except Exception as exc:
            raise _fail(href, exc) from exc

    def get(self, href: str) -> tuple[bytes | None, str | None]:
        try:
            response = self.client.request(href, "GET", "", {})
        except Exception as exc:
            raise _fail(href, exc) from exc
        if response.status != 200:
            return None, None
        return response_body(response), _etag(response)

    def put(self, href: str, card: _Card, etag: str | None) -> str | None:
        """PUT a card (If-Match ``etag``, else If-None-Match); the new ETag, or None
        when the server had changed it in between (412: picked up next time)."""
        headers = {"If-Match": etag} if etag else {"If-None-Match": "*"}
        response = self.send("PUT", href, card.body, headers)
        if response.status == 412:
            return None
        if response.status not in (200, 201, 204):
            raise _fail(href, f"PUT HTTP {response.status}")
        new = _etag(response)
        if new is None:  # a server that does not say: ask
            new = _listing(self.client, self.book).get(_path(href))
        return new

    def run(self) -> CarddavReport:
        with self.app.unit() as unit:
            acc, view = _whose(unit, self.account)
            cards = _cards(view)
            # The rows are the book owner's (on PostgreSQL an account reads only its own).
            owner = acc if acc is not None else unit.actor
            actor_id = owner.id if owner is not None else None
            states = {
                s.uid: s
                for s in unit.session.scalars(
                    select(CaldavState).where(col(CaldavState.calendar_url) == self.book)
                )
            }
            proposals = {
                p.person_id: p
                for p in unit.session.scalars(
                    select(ContactProposal).where(
                        col(ContactProposal.book_url) == self.book,
                        col(ContactProposal.status).in_([OPEN, ACCEPTED]),
                    )
                )
            }
            listing = _listing(self.client, self.book)
            session = unit.session
            for uid, card in cards.items():
                href = urljoin(self.book, resource_name(uid))
                s = states.get(uid)
                server = listing.get(_path(href))
                if s is None or server is None:
                    etag = self.put(href, card, server)  # new, or deleted on the phone
                    if etag is None:
                        continue
                    self.report.created += 1
                    if s is not None:  # tongxin's card deleted on the phone: put back
                        self.report.restored.append(uid)
                    if s is None:
                        s = CaldavState(calendar_url=self.book, uid=uid, href=href,
                                        content_hash="", account_id=actor_id)  # fmt: skip
                        session.add(s)
                    s.etag, s.content_hash, s.synced_at = etag, card.digest, clock.now()
                    continue
                if server == s.etag:  # as tongxin left it
                    if card.digest == s.content_hash:
                        self.report.unchanged += 1
                        continue
                    etag = self.put(href, card, s.etag)
                    if etag is not None:
                        self.report.updated += 1
                        s.etag, s.content_hash, s.synced_at = etag, card.digest, clock.now()
                    continue
                self.changed_on_phone(session, s, href, server, card, proposals.get(card.person.id),
                                      acc)  # fmt: skip
            for uid, s in states.items():
                if uid in cards:
                    continue
                server = listing.get(_path(s.href))
                if server is not None:  # never left on a phone that may no longer see them
                    response = self.send("DELETE", s.href, None, {})
                    if response.status not in (200, 204, 404):
                        raise _fail(s.href, f"DELETE HTTP {response.status}")
                    self.report.deleted += 1
                session.delete(s)
            # A card of tongxin's that no state row knows (a lost or another account's
            # row) and whose person this account may not see goes too.
            known = {_path(s.href) for s in states.values()}
            wanted = {_path(urljoin(self.book, resource_name(uid))) for uid in cards}
            for path in sorted(set(listing) - known - wanted):
                if path.rsplit("/", 1)[-1].startswith(UID_PREFIX):
                    response = self.send("DELETE", urljoin(self.book, quote(path)), None, {})
                    if response.status not in (200, 204, 404):
                        raise _fail(path, f"DELETE HTTP {response.status}")
                    self.report.deleted += 1
        return self.report

    def changed_on_phone(
        self,
        session: Any,
        s: CaldavState,
        href: str,
        server: str,
        card: _Card,
        proposal: ContactProposal | None,
        acc: Account | None,
    ) -> None:
        body, etag = self.get(href)
        if body is None:
            return
        etag = etag or server
        phone = card_tels(body)
        uid = s.uid
        if set(phone) != set(card.phones):  # the numbers differ: a proposal, not overwritten
            if proposal is None or proposal.status != OPEN:
                proposal = ContactProposal(
                    book_url=self.book,
                    person_id=card.person.id,
                    account_id=acc.id if acc is not None else None,
                )
                session.add(proposal)
            if proposal.etag != etag or proposal.phones != phone:
                proposal.phones, proposal.before, proposal.etag = phone, card.phones, etag
            self.report.proposals.append(uid)
            if card.digest != s.content_hash:
                self.report.conflicts.append(uid)
            return
        # The phone holds tongxin's numbers.
        if proposal is not None and proposal.status == OPEN:
            proposal.status, proposal.decided_at = WITHDRAWN, clock.now()
        accepted = proposal is not None and proposal.status == ACCEPTED and proposal.etag == etag
        if accepted or card.digest == s.content_hash:
            # What the phone has is what tongxin holds (or just took from it): keep it.
            s.etag, s.content_hash, s.synced_at = etag, card.digest, clock.now()
            self.report.unchanged += 1
            return
        new = self.put(href, card, etag)
        if new is not None:
            self.report.updated += 1
            s.etag, s.content_hash, s.synced_at = new, card.digest, clock.now()


def sync_carddav(
    app: Tongxin,
    *,
    url: str,
    username: str | None = None,
    password: str | None = None,
    target: str | None = None,
    account: str | None = None,
    client_factory: Callable[[str, str | None, str | None], Any] = _client,
) -> CarddavReport:
    """Sync the people ``account`` (a username; by default the login's own) may see with
    the address book at ``url`` (or the principal's address book named ``target``, made
    if missing)."""
    client = client_factory(url, username, password)
    book = find_book(client, url, target)
    return _Sync(app, client, book, account).run()


# -- proposals ---------------------------------------------------------------------------


def list_proposals(
    unit: Unit, *, status: str | None = OPEN
) -> list[tuple[ContactProposal, Person]]:
    """The proposals (open ones by default) of people the unit may see, oldest first."""
    stmt = (
        select(ContactProposal, Person)
        .join(Person, col(Person.id) == col(ContactProposal.person_id))
        .where(*authz.person_scope(unit))
        .order_by(col(ContactProposal.created_at), col(ContactProposal.id))
    )
    if status:
        stmt = stmt.where(col(ContactProposal.status) == status)
    return [(row[0], row[1]) for row in unit.session.execute(stmt)]


def get_proposal(unit: Unit, ref: str) -> ContactProposal:
    """The proposal of id ``ref`` (or a unique prefix of it, as the list shows them)."""
    ref = ref.strip().lower()
    found = [p for p, _person in list_proposals(unit, status=None) if str(p.id).startswith(ref)]
    if len(found) != 1 or not ref:
        raise NotFound(N_("contact proposal"), ref)
    return found[0]


def accept_proposal(unit: Unit, ref: str) -> Person:
    """Take the phone's numbers of an open proposal into the person (the first mobile
    number as the mobile, the others as other phones), through the contacts service:
    audited like any change. Administrators only."""
    authz.require_admin(unit, N_("accept a contact proposal"))
    proposal = get_proposal(unit, ref)
    if proposal.status != OPEN:
        raise ValidationError.one(
            "proposal", str(proposal.id), N_("already {status}"), status=proposal.status
        )
    mobile = next((p for p in proposal.phones if is_mobile(p)), None)
    others = [p for p in proposal.phones if p != mobile]
    person = contacts.update_person(unit, proposal.person_id, mobile=mobile, phones=others)
    proposal.status, proposal.decided_at = ACCEPTED, clock.now()
    unit.session.flush()
    return person


__all__ = [
    "CarddavError",
    "CarddavReport",
    "accept_proposal",
    "find_book",
    "get_proposal",
    "list_proposals",
    "resource_name",
    "sync_carddav",
]
