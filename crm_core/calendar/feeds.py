"""Subscription feeds: secret tokens and the HTTP answers of ``/cal/<token>.ics``.

A token is ``secrets.token_urlsafe(32)`` (43 characters, 256 bits): shown once when it is
made, stored only as its SHA-256, listed by its first characters of the hash, and
revoked, never deleted (so the list shows what was given out). A revoked or unknown
token gets a bare 404: nothing tells a guesser whether a token ever existed.

The body of a feed is exactly :func:`crm_core.calendar.ics.export_ics` of the token's
calendar, so ``tongxin export ics --user U`` and the feed are the same bytes.

A personal feed is built acting as the token's holder (:func:`crm_core.authz.acting_for`),
whoever runs the server: every check applies as that person (county staff get their
region's work only). A shared calendar ("office") has no holder and shows what trusted
code sees, so only administrators give one out or revoke it (the institutional series
hold nothing private, but their tokens belong to no account, so none but an
administrator could answer for them). Only the account itself and administrators make,
list or revoke a personal token; a refusal names no other account, so asking about
someone else's tokens tells a county clerk nothing (not even whether that account
exists). Making and revoking a token is audited (who, whose, which calendar, the
token's id; never the token or its hash).
"""

from __future__ import annotations

import gzip
import hashlib
import re
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import cached_property

from sqlalchemy import select
from sqlmodel import col

from crm_core import authz, clock

# Re-exported: the feed's public names (split out for size).
from crm_core.calendar.feed_probe import _TOKEN_RE, Probe, Prober, data_version, hash_token, probe  # noqa: F401
from crm_core.calendar.ics import SCOPES, calendar_range, etag_of, export_ics
from crm_core.calendar.settings import feed_settings
from crm_core.calendar_models import FeedToken
from crm_core.config import Config
from crm_core.errors import Ambiguous, NotFound, PermissionDenied, ValidationError
from crm_core.i18n import N_, _
from crm_core.models import Account, AuditLog
from crm_core.ports import PluginHostPort
from crm_core.services import accounts
from crm_core.unit import Unit, audit_entry

TOKEN_BYTES = 32
PATH_RE = re.compile(r"^/cal/([A-Za-z0-9_-]{1,128})\.ics$")


def create_token(
    unit: Unit, *, account: Account | None = None, scope: str = "user", name: str = ""
) -> tuple[FeedToken, str]:
    """A new feed token for ``account``'s calendar (scope "user") or a shared calendar
    (scope "office" or "institutional"). Returns the row and the token itself, which is
    stored nowhere: show it now or never. A token for another account's calendar, or
    for a shared calendar, is for administrators to give out (PermissionDenied). The
    audit log records who made it, for whom, and its id."""
    if scope not in SCOPES:
        raise ValidationError.one("scope", scope, N_("one of {scopes}"), scopes=", ".join(SCOPES))
    if scope == "user" and account is None:
        raise ValidationError.one("user", None, N_("a personal feed needs an account"))
    if scope != "user":
        account = None
    _check_holder(unit, account, scope)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = FeedToken(
        account_id=account.id if account else None,
        scope=scope,
        name=(name or "").strip(),
        token_hash=hash_token(token),
    )
    unit.session.add(row)
    unit.session.flush()
    _audit(unit, "create", row, account, after={"name": row.name})
    return row, token


def _audit(
    unit: Unit,
    action: str,
    row: FeedToken,
    account: Account | None,
    *,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
) -> None:
    """One audit entry about a token: whose it is, which calendar, its id, and what
    changed; never the token nor its hash (the hash would let anyone who reads the log
    check a guessed or stolen token offline). The unit's flush names who acted."""
    what: dict[str, object] = {
        "account_id": str(account.id) if account else None,
        "account": account.username if account else None,
        "scope": row.scope,
    }
    unit.session.add(
        AuditLog(
            **audit_entry(
                unit.session,
                action,
                FeedToken.__tablename__,
                str(row.id),
                at=clock.now(),
                before={**what, **before} if before is not None else None,
                after={**what, **(after or {})},
            )
        )
    )


def list_tokens(
    unit: Unit, *, account: Account | None = None, include_revoked: bool = True
) -> list[FeedToken]:
    """Feed tokens (of ``account``, if given), oldest first. An administrator sees
    every token; anyone else only their own account's (``account`` another's:
    PermissionDenied, naming no one)."""
    stmt = select(FeedToken)
    if not authz.can_administer(unit):
        if account is not None:
            check_tokens_of(unit, account)
        if unit.actor is None:
            return []  # no account, no tokens (and "account_id IS NULL" is the shared ones)
        # Not the shared calendars' tokens either: they are the administrators'.
        stmt = stmt.where(col(FeedToken.account_id) == unit.actor.id)
    elif account is not None:
        stmt = stmt.where(col(FeedToken.account_id) == account.id)
    if not include_revoked:
        stmt = stmt.where(col(FeedToken.revoked_at).is_(None))
    return list(unit.session.scalars(stmt.order_by(col(FeedToken.created_at), col(FeedToken.id))))


def revoke_tokens(
    unit: Unit,
    *,
    account: Account | None = None,
    scope: str = "user",
    token_id: str | None = None,
) -> list[FeedToken]:
    """Revoke one token (``token_id``: its id or the first 8+ characters of it) or every
    live token of ``account`` (or of the shared calendar ``scope``). Returns those
    revoked; revoking is immediate (the next fetch gets 404). Another account's tokens,
    and those of the shared calendars, are revoked by administrators. Each revoked
    token gets an audit entry."""
    if scope not in SCOPES:
        raise ValidationError.one("scope", scope, N_("one of {scopes}"), scopes=", ".join(SCOPES))
    _check_holder(unit, account, "user" if account is not None else scope)
    stmt = select(FeedToken).where(col(FeedToken.revoked_at).is_(None))
    if account is not None:
        stmt = stmt.where(col(FeedToken.account_id) == account.id)
    else:
        stmt = stmt.where(col(FeedToken.scope) == scope, col(FeedToken.account_id).is_(None))
    rows = list(unit.session.scalars(stmt))
    if token_id:
        ref = token_id.strip().lower()
        rows = [r for r in rows if str(r.id).startswith(ref)]
        if not rows:
            raise NotFound("feed token", token_id)
        if len(rows) > 1:
            raise ValidationError.one(
                "token", token_id, N_("matches several tokens: give more of it")
            )
    now = clock.now()
    for r in rows:
        r.revoked_at = now
        _audit(unit, "revoke", r, account, before={"revoked_at": None},
               after={"revoked_at": now.isoformat()})  # fmt: skip
    unit.session.flush()
    return rows


def check_tokens_of(unit: Unit, account: Account) -> None:
    """PermissionDenied unless the unit may make, list or revoke ``account``'s feed
    tokens: its own, or any for an administrator. The message names only who asked:
    a county clerk learns nothing about the account asked for."""
    own = unit.actor is not None and unit.actor.id == account.id
    if not (own or authz.can_administer(unit)):
        raise _not_yours(unit)


def _not_yours(unit: Unit) -> PermissionDenied:
    return PermissionDenied(
        _("{who} may not manage other accounts' feed tokens, only their own ({role})").format(
            who=unit.actor_name, role=authz.role_label(unit)
        )
    )


def token_account(unit: Unit, ref: str) -> Account:
    """The account ``ref`` (id, username or display name) names, for a token command.
    An administrator may name anyone; anyone else only their own account, and for any
    other ``ref`` gets the same refusal whether or not such an account exists (no
    "not found" or list of similar accounts to probe with)."""
    if authz.can_administer(unit):
        return accounts.resolve_account(unit, ref)
    me = unit.actor
    if me is not None:
        text = ref.strip()
        if text in (me.username, me.display_name, str(me.id)):
            return me
        try:
            found = accounts.resolve_account(unit, text)
        except (NotFound, Ambiguous, ValidationError):
            found = None
        if found is not None and found.id == me.id:
            return me
    raise _not_yours(unit)


def _check_holder(unit: Unit, account: Account | None, scope: str) -> None:
    if account is not None:
        check_tokens_of(unit, account)
    elif scope == "institutional":
        # Nothing private in it, but its tokens are the office's: one person revoking
        # them all would cut everyone's subscriptions (on PostgreSQL the row-level
        # security of migration 0005 refuses it too).
        authz.require_admin(unit, _("give out the institutional calendar"))
    else:
        authz.require_admin(unit, _("give out the office calendar"))


def resolve_token(unit: Unit, token: str) -> FeedToken | None:
    """The live token row for ``token`` (None if unknown, revoked, or its account is
    no longer active)."""
    if not _TOKEN_RE.match(token):
        return None
    row = unit.session.scalars(
        select(FeedToken).where(col(FeedToken.token_hash) == hash_token(token))
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if row.scope == "user":
        account = unit.session.get(Account, row.account_id) if row.account_id else None
        if account is None or not account.active:
            return None
    return row


def feed_urls(config: Config, token: str) -> tuple[str, str]:
    """The https:// and webcal:// addresses of a feed token under ``[feed] public_url``."""
    base = feed_settings(config).public_url
    https = f"{base}/cal/{token}.ics"
    webcal = "webcal://" + https.split("://", 1)[1]
    return https, webcal


@dataclass(frozen=True)
class Feed:
    """A feed's body with its validators."""

    body: bytes
    etag: str
    last_modified: datetime

    @cached_property
    def http_date(self) -> str:
        """``last_modified`` as an HTTP date, formatted once per cached feed."""
        return format_datetime(self.last_modified.astimezone(UTC), usegmt=True)

    @cached_property
    def gzipped(self) -> bytes:
        """The body gzip-compressed (about a seventh of its size for a calendar), made
        once per cached feed; ``mtime=0`` so the same body always gives the same bytes."""
        return gzip.compress(self.body, compresslevel=6, mtime=0)


def render_feed(unit: Unit, row: FeedToken) -> Feed:
    """The calendar of a token, with a strong ETag (hash of the bytes) and a
    Last-Modified that moves whenever the bytes change: an item that leaves the
    calendar (deleted, moved out of the span) changes it too, which no item's own time
    would show. Built acting as the token's holder (a shared calendar: as trusted code),
    whatever account ``unit`` acts as; only the bookkeeping is written through ``unit``."""
    account = unit.session.get(Account, row.account_id) if row.account_id else None
    if row.scope == "user" and account is None:
        raise NotFound("account", str(row.account_id))
    holder = authz.acting_for(unit, account)
    rng = calendar_range(holder, account=account, scope=row.scope)
    body = export_ics(holder, rng)
    digest = hashlib.sha256(body).hexdigest()
    if row.content_hash != digest or row.content_changed_at is None:
        row.content_hash = digest
        row.content_changed_at = clock.now().replace(microsecond=0)
        unit.session.flush()
    assert row.content_changed_at is not None
    return Feed(body, etag_of(body), row.content_changed_at)


class FeedCache:
    """The last feed served per token, reused while :func:`data_version` is unchanged,
    so an unchanged calendar is answered (200 or 304) without being built again.

    Not used when a plugin implements ``add_events``: a plugin's own tables leave no
    audit-log rows, so nothing would tell the cache that its events changed."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._feeds: dict[uuid.UUID, tuple[tuple[object, ...], Feed]] = {}
        self._lock = threading.Lock()

    def usable(self, unit: Unit | PluginHostPort) -> bool:
        """Whether caching is safe with the plugins loaded (those of ``unit``, or a
        plugin host)."""
        host = unit.plugins if isinstance(unit, Unit) else unit
        return not host.pm.hook.add_events.get_hookimpls()

    def get(self, token_id: uuid.UUID, version: tuple[object, ...]) -> Feed | None:
        """The cached feed of a token if the data has not changed since."""
        with self._lock:
            hit = self._feeds.get(token_id)
        return hit[1] if hit is not None and hit[0] == version else None

    def put(self, token_id: uuid.UUID, version: tuple[object, ...], feed: Feed) -> None:
        """Remember a token's feed at ``version``."""
        with self._lock:
            if len(self._feeds) >= self.size:
                self._feeds.clear()
            self._feeds[token_id] = (version, feed)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, headers, body (empty for HEAD and 304), and the id of
    the token it served (for the log, which never names the token itself)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    token_id: uuid.UUID | None = None


NOT_FOUND = Answer(404, [("Content-Length", "0")], b"")
METHOD_NOT_ALLOWED = Answer(405, [("Allow", "GET, HEAD"), ("Content-Length", "0")], b"")


# Below this a calendar is not worth compressing (an empty one is a few hundred bytes).
_GZIP_FROM = 1024


def accepts_gzip(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header accepts gzip (``gzip``, ``x-gzip`` or ``*``
    with a q-value above 0; an explicit ``gzip;q=0`` refuses it even beside ``*``)."""
    if not header:
        return False
    wildcard = False
    for part in header.split(","):
        name, _sep, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        coding = name.strip().lower()
        if coding in ("gzip", "x-gzip"):
            return q > 0
        if coding == "*":
            wildcard = q > 0
    return wildcard


def _matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == wanted for t in header.split(","))


def answer(
    unit: Unit,
    method: str,
    path: str,
    headers: dict[str, str],
    cache: FeedCache | None = None,
) -> Answer:
    """The answer to ``method path`` with request ``headers`` (names lower-case):
    200 with the calendar, 304 when ``If-None-Match`` (or, without it,
    ``If-Modified-Since``) shows the client has it, 405 for a method other than GET and
    HEAD, and the very same bare 404 for anything else (an unknown, revoked or
    malformed token, a disabled account's, any other path).
    ``cache`` reuses the last feed of the token while the data is unchanged.

    A client that accepts gzip gets the body compressed (``Content-Encoding: gzip``)
    under the weak form of the ETag, as nginx does: the two encodings are the same
    calendar, and ``If-None-Match`` compares weakly, so either validator gives a 304.
    Every answer carries ``Vary: Accept-Encoding`` for caches in between."""
    if method not in ("GET", "HEAD"):
        return METHOD_NOT_ALLOWED
    m = PATH_RE.match(path.split("?", 1)[0])
    if m is None:
        return NOT_FOUND
    found = probe(unit, m.group(1))
    if found is None:
        return NOT_FOUND
    row = unit.session.get(FeedToken, found.token_id)
    if row is None:  # gone between the two reads
        return NOT_FOUND
    if cache is not None and cache.usable(unit):
        feed = cache.get(row.id, found.version)
        if feed is None:
            feed = render_feed(unit, row)
            cache.put(row.id, found.version, feed)
    else:
        feed = render_feed(unit, row)
    return respond(method, headers, feed, row.id)


def answer_cached(
    prober: Prober,
    plugins: PluginHostPort,
    method: str,
    path: str,
    headers: dict[str, str],
    cache: FeedCache | None,
) -> Answer | None:
    """The answer :func:`answer` would give, when it needs no unit of work: an error, or
    a cached feed still current (one statement through ``prober``: the token's row and
    the data version, then a header compare). None when the feed must be built (not
    cached, changed, or caching not usable): then :func:`answer`."""
    if method not in ("GET", "HEAD"):
        return METHOD_NOT_ALLOWED
    m = PATH_RE.match(path.split("?", 1)[0])
    if m is None:
        return NOT_FOUND
    if cache is None or not cache.usable(plugins):
        return None
    found = prober.probe(m.group(1))
    if found is None:
        return NOT_FOUND
    feed = cache.get(found.token_id, found.version)
    if feed is None:
        return None
    return respond(method, headers, feed, found.token_id)


def respond(method: str, headers: dict[str, str], feed: Feed, token_id: uuid.UUID) -> Answer:
    """200 with ``feed`` (gzip-compressed if the client takes it) or 304 when the
    request's validators show the client has it (see :func:`answer`)."""
    compress = len(feed.body) >= _GZIP_FROM and accepts_gzip(headers.get("accept-encoding"))
    common = [
        ("ETag", f"W/{feed.etag}" if compress else feed.etag),
        ("Last-Modified", feed.http_date),
        ("Cache-Control", "private, no-cache"),
        ("Vary", "Accept-Encoding"),
    ]
    inm = headers.get("if-none-match")
    ims = headers.get("if-modified-since")
    fresh = False
    if inm is not None:
        fresh = _matches(inm, feed.etag)
    elif ims:
        try:
            since = parsedate_to_datetime(ims)
            fresh = since.tzinfo is not None and feed.last_modified <= since
        except (TypeError, ValueError):
            fresh = False
    if fresh:
        return Answer(304, common, b"", token_id)
    body = feed.gzipped if compress else feed.body
    out = [
        ("Content-Type", "text/calendar; charset=utf-8"),
        *([("Content-Encoding", "gzip")] if compress else []),
        ("Content-Length", str(len(body))),
        *common,
    ]
    return Answer(200, out, b"" if method == "HEAD" else body, token_id)


def token_json(row: FeedToken, account: Account | None = None) -> dict[str, object]:
    """The JSON form of a token row (never the token itself)."""
    return {
        "id": str(row.id),
        "scope": row.scope,
        "account": account.username if account else None,
        "name": row.name,
        "created_at": row.created_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "hash_prefix": row.token_hash[:12],
    }


def parse_uuid(value: str) -> uuid.UUID | None:
    """``value`` as a UUID, or None."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def qr_text(data: str, *, invert: bool = True) -> str:
    """A QR code of ``data`` drawn with block characters for a terminal (``invert`` for
    a dark background), so a phone's camera can subscribe from the screen."""
    import io

    import qrcode  # only the terminal QR code needs it

    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(data)
    code.make(fit=True)
    buf = io.StringIO()
    code.print_ascii(out=buf, invert=invert)
    return buf.getvalue()
