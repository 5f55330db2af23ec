"""The one statement a feed request costs: the token's row and the data version.

Split from :mod:`crm_core.calendar.feeds` (which re-exports every name): a cached
feed is answered from :func:`probe` (or :class:`Prober`, the same statement at the
driver's speed) and a header compare, so a revoked token is refused at once whatever
is cached.
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from crm_core import clock
from crm_core.calendar_models import FeedToken
from crm_core.models import Account, AuditLog
from crm_core.unit import Unit

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,128}$")

__all__ = ["Probe", "Prober", "data_version", "hash_token", "probe"]


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def data_version(unit: Unit) -> tuple[object, ...]:
    """What changes whenever anything a calendar shows may have changed: every write
    through the services leaves an audit-log row (deletes too), so the newest row's time
    and how many rows carry it, with today's date (the calendar's span moves daily).
    Two index lookups, however long the log."""
    row = unit.session.execute(_VERSION).one()
    return (row.top, row.same, clock.today(unit.config.tz))


def _version_columns() -> tuple[Any, Any]:
    # Aliases, so that no subquery correlates with another (each reads the whole log).
    newest, counted, inner = (AuditLog.__table__.alias(n) for n in ("av1", "av2", "av3"))  # type: ignore[attr-defined]
    top = select(func.max(newest.c.at)).scalar_subquery()
    same = (
        select(func.count())
        .select_from(counted)
        .where(counted.c.at == select(func.max(inner.c.at)).scalar_subquery())
        .scalar_subquery()
    )
    return top.label("top"), same.label("same")


_VERSION = select(*_version_columns())

# One statement for a request: the token's row (by the hash's unique index), whether its
# holder is active, and the data version (two index lookups). A cached feed is answered
# from this alone, so a revoked token is refused at once whatever is cached.
_PROBE = (
    select(
        col(FeedToken.id),
        col(FeedToken.scope),
        col(FeedToken.revoked_at),
        col(FeedToken.account_id),
        col(Account.active),
        *_version_columns(),
    )
    .select_from(FeedToken)
    .outerjoin(Account, col(Account.id) == col(FeedToken.account_id))
    .where(col(FeedToken.token_hash) == bindparam("digest"))
)


@dataclass(frozen=True)
class Probe:
    """What one request learns of its token in one statement: the live token's id and
    the data version its cached feed must match (values as the driver gives them)."""

    token_id: uuid.UUID
    version: tuple[object, ...]


def _probe_sql(dialect: Any) -> tuple[str, Callable[[str], Any]]:
    """:data:`_PROBE` compiled once for ``dialect``, and how to pass the digest."""
    compiled = _PROBE.compile(dialect=dialect)
    sql = str(compiled)
    if compiled.positional:
        return sql, lambda digest: (digest,)
    return sql, lambda digest: {"digest": digest}


def _probe_row(row: Any, tz: Any) -> Probe | None:
    if row is None:
        return None
    token_id, scope, revoked_at, _account_id, active, top, same = row
    if revoked_at is not None:
        return None
    if scope == "user" and not active:  # no account (outer join: None) or disabled
        return None
    ident = token_id if isinstance(token_id, uuid.UUID) else uuid.UUID(str(token_id))
    return Probe(ident, (top, same, clock.today(tz)))


def probe(unit: Unit, token: str) -> Probe | None:
    """The live token ``token`` (None if unknown, revoked, malformed, or its account is
    disabled or gone) with the data version, in one statement on ``unit``'s
    connection: the very statement :class:`Prober` runs, so both give the same keys."""
    if not _TOKEN_RE.match(token):
        return None
    conn = unit.session.connection()
    sql, params = _probe_sql(conn.dialect)
    row = conn.exec_driver_sql(sql, params(hash_token(token))).first()
    return _probe_row(tuple(row) if row is not None else None, unit.config.tz)


class Prober:
    """:func:`probe` at the driver's speed for the server's threads: the statement is
    compiled once, and each thread keeps one pooled connection (in autocommit: every
    probe sees what is committed, and holds no transaction open) until
    :meth:`release`. A cached 304 then costs this one statement and a header compare."""

    def __init__(self, engine: Any, tz: Any) -> None:
        self._engine = engine
        self._tz = tz
        self._sql, self._params = _probe_sql(engine.dialect)
        self._local = threading.local()

    def _connection(self) -> Any:
        raw = getattr(self._local, "raw", None)
        if raw is None:
            raw = self._engine.raw_connection()
            if self._engine.dialect.name == "postgresql":
                raw.driver_connection.autocommit = True
            self._local.raw = raw
        return raw

    def probe(self, token: str) -> Probe | None:
        """As :func:`probe`, on this thread's connection."""
        if not _TOKEN_RE.match(token):
            return None
        raw = self._connection()
        try:
            cur = raw.cursor()
            cur.execute(self._sql, self._params(hash_token(token)))
            row = cur.fetchone()
            cur.close()
        except self._engine.dialect.loaded_dbapi.Error as exc:
            self.release(broken=True)
            # As SQLAlchemy reports it everywhere else (OperationalError, …); the
            # parameters (the token's hash) are left out.
            raise DBAPIError.instance(
                self._sql, None, exc, self._engine.dialect.loaded_dbapi.Error
            ) from exc
        except Exception:
            self.release(broken=True)
            raise
        return _probe_row(row, self._tz)

    def release(self, *, broken: bool = False) -> None:
        """Give this thread's connection back to the pool (a broken one is discarded)."""
        raw = getattr(self._local, "raw", None)
        if raw is None:
            return
        self._local.raw = None
        if broken:
            raw.invalidate()
        elif self._engine.dialect.name == "postgresql":
            raw.driver_connection.autocommit = False
        raw.close()
