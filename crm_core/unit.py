"""A unit of work: one session, one transaction, one acting account.

Every front end does its work inside ``with app.unit(actor) as unit:``; services take the
unit as their first argument and never commit. The unit commits when the block ends and
rolls everything back when it raises, so one command is one transaction.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction
from sqlmodel import Session

from crm_core import clock
from crm_core.models import AUDITED, Account, AuditLog, Record

if TYPE_CHECKING:
    from crm_core.app import Tongxin
    from crm_core.config import Config
    from crm_core.kinds import KindSpec
    from crm_core.plugins import PluginHost


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
        app: Tongxin,
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
    def plugins(self) -> PluginHost:
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


@event.listens_for(TxSession, "before_flush")
def _audit_flush(session: OrmSession, _ctx: UOWTransaction, _instances: Any) -> None:
    real_actor_id = session.info.get("real_actor_id")
    now = clock.now()

    def entry(action: str, obj: Any, **values: Any) -> AuditLog:
        return AuditLog(
            at=now,
            actor_id=session.info.get("actor_id"),
            actor=session.info.get("actor_name"),
            real_actor_id=real_actor_id,
            action=action,
            entity=obj.__tablename__,
            entity_id=_entity_id(obj),
            **values,
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
