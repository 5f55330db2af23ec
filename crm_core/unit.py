"""A unit of work: one session, one transaction, one acting account.

Every front end does its work inside ``with app.unit(actor) as unit:``; services take the
unit as their first argument and never commit. The unit commits when the block ends and
rolls everything back when it raises, so one command is one transaction.
"""

from __future__ import annotations

import enum
import os
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Connection, Table, event, insert, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction
from sqlmodel import Session

from crm_core import clock
from crm_core.models import AUDITED, Account, AuditLog, Record, table_of

if TYPE_CHECKING:
    from crm_core.config import Config
    from crm_core.kinds import KindSpec
    from crm_core.ports import AppPort, PluginHostPort


class Unit:
    """The context every service receives: session, acting account, and the application.

    ``actor`` is the account whose rights apply (None: no account). ``actor_name`` is
    what the audit log records as "who": the login, or ``"office (as chair)"`` when an
    administrator acts as another account, whose own account is then ``real_actor``.
    ``implicit_admin`` marks a login with administrator rights but no account (the
    owner of the database, or anyone while no administrator account exists);
    ``system`` marks trusted in-process code that opened the unit without an account
    and without authenticating (daemons, tests): it may administer but, being no
    person, never reads confidential notes. See :mod:`crm_core.authz`."""

    def __init__(
        self,
        app: AppPort,
        session: Session,
        actor: Account | None,
        actor_name: str,
        *,
        real_actor: Account | None = None,
        implicit_admin: bool = False,
        system: bool = False,
    ):
        self.app = app
        self.session = session
        self.actor = actor
        self.actor_name = actor_name
        self.real_actor = real_actor if real_actor is not None else actor
        self.implicit_admin = implicit_admin
        self.system = system

    @property
    def config(self) -> Config:
        """The application's configuration."""
        return self.app.config

    @property
    def plugins(self) -> PluginHostPort:
        """The plugin host."""
        return self.app.plugins

    @property
    def kinds(self) -> dict[str, KindSpec]:
        """Every registered interaction kind by code."""
        return self.app.kinds

    @property
    def is_admin(self) -> bool:
        """True when the acting account is an office administrator (or the login has
        administrator rights without an account: ``implicit_admin``)."""
        if self.implicit_admin:
            return True
        return self.actor is not None and self.actor.role == "admin" and self.actor.active

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: what happens inside is undone alone if it raises."""
        with self.session.begin_nested():
            yield


class TxSession(Session):
    """The session class of tongxin: audits every flush (see :func:`_audit_flush`)."""


def jsonable(value: Any) -> Any:
    """A value as it is written into the audit log (JSON)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: Any) -> dict[str, Any]:
    """Every column of a row, JSON-ready."""
    mapper = inspect(obj).mapper
    return {attr.key: jsonable(getattr(obj, attr.key)) for attr in mapper.column_attrs}


def _entity_id(obj: Any) -> str:
    ident = inspect(obj).identity or tuple(
        getattr(obj, c.key) for c in inspect(obj).mapper.primary_key
    )
    return "/".join(str(v) for v in ident)


def audit_entry(
    session: OrmSession,
    action: str,
    entity: str,
    entity_id: str,
    *,
    at: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    entry_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The columns of one audit-log entry: its id (``entry_id``, else a new random
    one); who acted, from the session's acting account (``actor_id``, ``actor``, and
    ``real_actor_id`` behind an administrator's ``--as``); when (``at``); what
    (``action`` on ``entity`` / ``entity_id``); and the values ``before`` and ``after``
    (JSON-ready).

    The one way an entry is built: the flush listener makes its AuditLog rows from it,
    and a bulk writer (:func:`write_audit`) inserts these dicts as they are."""
    info = session.info
    return {
        "id": entry_id or uuid.uuid4(),
        "at": at,
        "actor_id": info.get("actor_id"),
        "actor": info.get("actor_name"),
        "real_actor_id": info.get("real_actor_id"),
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "before": before,
        "after": after,
    }


_UUID7 = 7 << 76 | 2 << 62  # version 7, RFC 9562 variant
_RAND_B = (1 << 62) - 1


def time_ordered_ids(count: int) -> list[uuid.UUID]:
    """``count`` new UUIDs of version 7 (RFC 9562: the Unix time in milliseconds, then
    74 random bits), in ascending order. Rows inserted in this order land at the end
    of the indexes on their ids (primary keys, the audit log's ``entity_id``) instead
    of all over them, which makes a bulk insert cheaper."""
    prefix = (time.time_ns() // 1_000_000) << 80 | _UUID7
    raw = os.urandom(10 * count)
    bits = sorted(int.from_bytes(raw[i : i + 10]) >> 6 for i in range(0, 10 * count, 10))
    return [uuid.UUID(int=prefix | (r >> 62) << 64 | (r & _RAND_B)) for r in bits]


def write_audit(target: OrmSession | Connection, entries: Sequence[Mapping[str, Any]]) -> None:
    """Insert audit-log entries built by :func:`audit_entry` (for rows a service wrote
    in bulk with :func:`insert_rows`, which the flush listener never sees), in the
    transaction of ``target`` (a session, or the connection of one)."""
    insert_rows(target, table_of(AuditLog), entries)


def insert_rows(
    target: OrmSession | Connection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """INSERT ``rows`` into ``table`` in the transaction of ``target``, bypassing the ORM.

    ``target`` is a session (whose pending changes are flushed first) or the
    connection of one (as a thread writing for the session uses: a session belongs to
    one thread). Each row maps every column of the table (the same keys in every row:
    no default is filled in) to its Python value; values are
    converted by the columns' own types, as the ORM would store them. SQLite gets one
    ``executemany``; PostgreSQL (psycopg) one ``COPY``, or, where row-level security
    applies to the role (``COPY`` refuses those tables), one ``executemany`` that the
    policies check row by row. No flush event sees these rows, so nothing is
    audited: the caller writes the entries (:func:`write_audit`)."""
    if not rows:
        return
    if isinstance(target, OrmSession):
        target.flush()  # anything pending goes first, in its own order
        conn = target.connection()
    else:
        conn = target
    dialect = conn.dialect
    keys = list(rows[0])
    unknown = [k for k in keys if k not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no columns {unknown}")
    missing = [c.key for c in table.c if c.key not in keys]
    if missing:  # no default is filled in: a row gives every column
        raise ValueError(f"rows for {table.name} without values for {missing}")
    stmt = insert(table).compile(dialect=dialect, column_keys=keys)
    order = list(stmt.positiontup or []) if stmt.positional else [c.key for c in table.c]
    # Column by column: each column's converter runs over a plain list, and a value
    # every row shares (the time of the import, no organisation) is converted once.
    get = itemgetter(*order)
    columns: list[Sequence[Any]] = (
        list(zip(*map(get, rows), strict=True))
        if len(order) > 1
        else [[row[order[0]] for row in rows]]
    )
    for i, key in enumerate(order):
        proc = table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
        if proc is not None:
            json_doc = isinstance(table.c[key].type, JSON)
            columns[i] = (_converted_json if json_doc else _converted)(proc, columns[i])
    params = list(zip(*columns, strict=True))
    if dialect.name == "postgresql" and dialect.driver == "psycopg" and _may_copy(conn, table):
        quote = dialect.identifier_preparer
        names = ", ".join(quote.format_column(table.c[k]) for k in order)
        copy_sql = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"
        driver, dbapi = conn.connection.driver_connection, dialect.dbapi
        assert driver is not None and dbapi is not None
        try:
            with driver.cursor() as cur, cur.copy(copy_sql) as copy:
                write = copy.write_row
                for row in params:
                    write(row)
        except dbapi.Error as exc:
            # Raised past SQLAlchemy: wrapped as SQLAlchemy wraps any other, so the unit of
            # work reports a lock or a deadlock as busy (and retries), never raw.
            raise DBAPIError.instance(copy_sql, None, exc, dbapi.Error) from exc
        return
    if not stmt.positional:
        params = [dict(zip(order, row, strict=True)) for row in params]  # type: ignore[misc]
    conn.exec_driver_sql(stmt.string, params)


def _may_copy(conn: Connection, table: Table) -> bool:
    # COPY FROM is refused on a table whose row-level security applies to the current
    # role (a person's own login on the shared server, migration 0003).
    found = conn.exec_driver_sql("SELECT row_security_active(%(t)s)", {"t": table.name})
    return not found.scalar()


def _converted(proc: Any, values: Sequence[Any]) -> list[Any]:
    first = values[0]
    if all(v is first for v in values):
        return [None if first is None else proc(first)] * len(values)
    return [None if v is None else proc(v) for v in values]


def _converted_json(proc: Any, values: Sequence[Any]) -> list[Any]:
    # JSON documents: most are empty (no other phones, no extra fields) or None (an
    # audit entry's "before" of a creation), each serialised once, not once per row.
    # None becomes JSON null, as when the ORM writes it.
    empty = {list: proc([]), dict: proc({}), type(None): proc(None)}
    return [proc(v) if v or type(v) not in empty else empty[type(v)] for v in values]


@event.listens_for(TxSession, "before_flush")
def _audit_flush(session: OrmSession, _ctx: UOWTransaction, _instances: Any) -> None:
    real_actor_id = session.info.get("real_actor_id")
    now = clock.now()

    def entry(action: str, obj: Any, **values: Any) -> AuditLog:
        return AuditLog(
            **audit_entry(session, action, obj.__tablename__, _entity_id(obj), at=now, **values)
        )

    entries: list[AuditLog] = []
    for obj in session.new:
        if isinstance(obj, AuditLog) and obj.real_actor_id is None:
            # Entries a service writes itself (a merge, the demo) name the real person
            # behind an administrator's --as too.
            obj.real_actor_id = real_actor_id
        if isinstance(obj, AUDITED):
            entries.append(entry("create", obj, after=snapshot(obj)))
    for obj in session.dirty:
        if not isinstance(obj, AUDITED) or not session.is_modified(obj):
            continue
        state = inspect(obj)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for attr in state.mapper.column_attrs:
            hist = state.attrs[attr.key].history
            if hist.has_changes():
                before[attr.key] = jsonable(hist.deleted[0]) if hist.deleted else None
                after[attr.key] = jsonable(hist.added[0]) if hist.added else None
        if not after:
            continue
        if isinstance(obj, Record):
            obj.updated_at = now
        entries.append(entry("update", obj, before=before, after=after))
    for obj in session.deleted:
        if isinstance(obj, AUDITED):
            entries.append(entry("delete", obj, before=snapshot(obj)))
    session.add_all(entries)
