"""The application object: configuration, database engine, plugins and registries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col

from crm_core import retry as retry_mod
from crm_core import search_index  # noqa: F401  (keeps the substring index on every flush)
from crm_core.config import Config, Term, Vocabulary, load_config
from crm_core.db import ensure_schema, make_engine
from crm_core.errors import Conflict, NotFound, PermissionDenied
from crm_core.i18n import _
from crm_core.identity import Login, login_of
from crm_core.kinds import CategorySpec, KindSpec
from crm_core.models import Account, Role
from crm_core.plugin_status import default_status_path
from crm_core.plugins import PluginHost
from crm_core.unit import TxSession, Unit

T = TypeVar("T")


@dataclass(frozen=True)
class _Auth:
    as_user: str | None


@dataclass(frozen=True)
class _Who:
    account: Account | None
    name: str
    real: Account | None = None
    implicit_admin: bool = False
    system: bool = False


def _refuse_disabled(account: Account) -> None:
    if not account.active:
        raise PermissionDenied(_("the account {user!r} is disabled").format(user=account.username))


def _admin_exists(session: TxSession) -> bool:
    return (
        session.scalar(
            select(col(Account.id))
            .where(col(Account.role) == Role.admin, col(Account.active).is_(True))
            .limit(1)
        )
        is not None
    )


class Tongxin:
    """One running tongxin: what every front end creates first.

    ``Tongxin()`` reads the office's config, opens (and on first use creates and
    migrates) the configured database, and loads the plugins.
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        db_url: str | None = None,
        engine: Engine | None = None,
        plugins: PluginHost | None = None,
        migrate: bool = True,
    ) -> None:
        self.config = config or load_config()
        self.engine = engine or make_engine(db_url or self.config.db_url)
        if migrate:
            ensure_schema(self.engine)
        if plugins is None:
            plugins = PluginHost(status_file=default_status_path())
            plugins.load(disabled=self.config.plugins_disabled, folders=self.config.plugin_folders)
        self.plugins = plugins
        # Each plugin's own table, validated before any hook runs (a bad one stops here).
        plugins.configure(self.config)
        self._sessions = sessionmaker(self.engine, class_=TxSession, expire_on_commit=False)
        self._auth: _Auth | None = None
        self._login: Login | None = None

    # -- registries filled by plugins -------------------------------------------

    @cached_property
    def kinds(self) -> dict[str, KindSpec]:
        """Every interaction kind registered by a plugin, by code (first one wins)."""
        kinds: dict[str, KindSpec] = {}
        offered: dict[str, list[str]] = {}
        for plugin, spec in self.plugins.collect("register_kinds"):
            if isinstance(spec, KindSpec):
                offered.setdefault(plugin, []).append(spec.code)
            if not isinstance(spec, KindSpec):
                self.plugins.record_failure(
                    plugin, "register_kinds", TypeError(f"not a KindSpec: {spec!r}")
                )
            elif spec.code in kinds:
                self.plugins.record_failure(
                    plugin,
                    "register_kinds",
                    ValueError(
                        f"kind {spec.code!r} already registered by {kinds[spec.code].plugin}"
                    ),
                )
            else:
                kinds[spec.code] = KindSpec(**{**spec.__dict__, "plugin": plugin})
        # Remembered (status file), so that a record of one of these kinds can name its
        # plugin on a day the plugin fails to load.
        for plugin, codes in offered.items():
            self.plugins.note_kinds(plugin, codes)
        return kinds

    @cached_property
    def categories(self) -> Vocabulary:
        """Contact categories: config's, then those plugins add (config wins on a clash)."""
        vocab = Vocabulary("categories", list(self.config.categories))
        for plugin, spec in self.plugins.collect("register_categories"):
            if not isinstance(spec, CategorySpec):
                self.plugins.record_failure(
                    plugin, "register_categories", TypeError(f"not a CategorySpec: {spec!r}")
                )
                continue
            if spec.code not in vocab:
                extra = {
                    "ideal_days": spec.ideal_days,
                    "max_days": spec.max_days,
                    "liaison_required": spec.liaison_required,
                    "plugin": plugin,
                }
                vocab.add(Term(spec.code, spec.zh, spec.en, extra))
        return vocab

    def refresh_registries(self) -> None:
        """Forget cached registries (after registering a plugin at run time)."""
        self.__dict__.pop("kinds", None)
        self.__dict__.pop("categories", None)
        self.plugins.configure(self.config)

    # -- identity ---------------------------------------------------------------

    def login(self) -> Login:
        """The authenticated login of this program's database connections (the OS
        login on SQLite, the database role on PostgreSQL) and whether it owns the
        database. Asked once, then remembered."""
        if self._login is None:
            self._login = login_of(self.engine)
        return self._login

    def login_name(self) -> str:
        """The name of :meth:`login`."""
        return self.login().name

    def authenticate(self, *, as_user: str | None = None) -> None:
        """Make every later ``unit()`` without an explicit actor act as the
        authenticated login, strictly, as a front end must (the CLI and the terminal UI
        call this; trusted in-process code need not):

        - the login's own account, if it has one; a disabled account is refused;
        - with no account: administrator rights when the login owns the database, or,
          on SQLite, while no active administrator account exists (a new database is a
          single-user tool until its first administrator is added); otherwise
          PermissionDenied, saying how to get an account (on PostgreSQL the database
          grants a role without an account nothing anyway);
        - ``as_user``: an administrator acts as that account; the audit log names both
          ("office (as chair)").

        The rules are applied again at every unit, so an account disabled during a long
        terminal-UI session is refused from its next action on."""
        self._auth = _Auth(as_user.strip() if as_user else None)

    @property
    def authenticated(self) -> bool:
        """Whether :meth:`authenticate` was called."""
        return self._auth is not None

    def _account(self, session: TxSession, username: str) -> Account | None:
        return session.scalars(
            select(Account).where(col(Account.username) == username)
        ).one_or_none()

    def _resolve(self, session: TxSession, actor: str | Account | None) -> _Who:
        if isinstance(actor, Account):
            account = session.get(Account, actor.id)
            if account is None:
                raise NotFound("account", actor.username)
            _refuse_disabled(account)
            return _Who(account, account.username)
        if actor is not None:
            account = self._account(session, actor)
            if account is None:
                raise NotFound("account", actor)
            _refuse_disabled(account)
            return _Who(account, account.username)
        login = self.login()
        own = self._account(session, login.name)
        if own is not None:
            _refuse_disabled(own)
        if self._auth is None:
            # Trusted in-process code: the login's account if it has one, else the
            # program itself ("system").
            return _Who(own, login.name, system=own is None)
        implicit = own is None
        if implicit and not login.owner:
            if session.get_bind().dialect.name == "postgresql":
                # The database itself grants a role without an account nothing.
                raise PermissionDenied(
                    _(
                        "the database role {login!r} has no account: ask an administrator "
                        "(or the owner of the database) to run: tongxin users add {login}"
                    ).format(login=login.name)
                )
            if _admin_exists(session):
                raise PermissionDenied(
                    _(
                        "your login {login!r} has no account in this database: ask an "
                        "administrator to run: tongxin users add {login}"
                    ).format(login=login.name)
                )
        as_user = self._auth.as_user
        if not as_user or as_user == login.name:
            return _Who(own, login.name, implicit_admin=implicit)
        if not implicit and (own is None or own.role != Role.admin):
            raise PermissionDenied(
                _("only an administrator may act as another account (--as {user})").format(
                    user=as_user
                )
            )
        target = self._account(session, as_user)
        if target is None:
            raise NotFound("account", as_user)
        _refuse_disabled(target)
        return _Who(target, f"{login.name} (as {target.username})", real=own)

    # -- units of work ----------------------------------------------------------

    @contextmanager
    def unit(self, actor: str | Account | None = None, *, write: bool = False) -> Iterator[Unit]:
        """One transaction acting as ``actor``: a username or an account (trusted code
        acting for that account), or None for the login (see :meth:`authenticate`).
        Commits at the end of the block, rolls back on error. ``write=True`` takes
        SQLite's write lock at the start (BEGIN IMMEDIATE), for a unit known to write:
        it then waits its turn instead of failing on a snapshot another unit changed.

        A row changed by another unit since this one read it (the ORM's version check,
        SQLite's stale snapshot), a lock or a deadlock raise Conflict (``retryable``),
        never a raw database error; a disabled or unknown account PermissionDenied or
        NotFound."""
        try:
            with self._sessions() as session, session.begin():
                if write:
                    session.connection(execution_options={"tongxin_immediate": True})
                who = self._resolve(session, actor)
                session.info["actor_id"] = who.account.id if who.account else None
                session.info["actor_name"] = who.name
                session.info["real_actor_id"] = who.real.id if who.real else None
                yield Unit(
                    self,
                    session,
                    who.account,
                    who.name,
                    real_actor=who.real,
                    implicit_admin=who.implicit_admin,
                    system=who.system,
                )
        except StaleDataError as exc:
            raise Conflict(
                _(
                    "someone else changed this record at the same time ({reason}): "
                    "nothing was saved; reload it and try again"
                ).format(reason=exc),
                retryable=True,
            ) from exc
        except DBAPIError as exc:
            transient = retry_mod.transient(exc)
            if transient == "snapshot":
                # SQLite's form of the same clash: this unit read a snapshot, another
                # unit committed since, so this one may not write on what it read.
                raise Conflict(
                    _(
                        "someone else changed the data this change was based on: nothing "
                        "was saved; reload and try again"
                    ),
                    retryable=True,
                ) from exc
            if transient == "busy":
                raise Conflict(
                    _(
                        "the database is busy with other people's changes: nothing was "
                        "saved; try again"
                    ),
                    retryable=True,
                ) from exc
            if getattr(exc.orig, "sqlstate", None) == "42501":
                # PostgreSQL's own checks (row-level security, privileges) refused.
                raise PermissionDenied(
                    _("the database refused this for your role: {reason}").format(
                        reason=str(exc.orig).splitlines()[0]
                    )
                ) from exc
            raise

    def run(
        self,
        work: Callable[[Unit], T],
        *,
        actor: str | Account | None = None,
        retries: int = 10,
        write: bool = True,
    ) -> T:
        """``work(unit)`` in one unit of work, run again on fresh reads (up to
        ``retries`` more times, with a growing random pause) when it clashed with a
        concurrent unit (a retryable Conflict: a lock, SQLite's stale snapshot, a row
        changed between this unit's own read and write, a deadlock). Safe because the
        unit was rolled back whole and ``work`` reads again what it decides on; a
        Conflict on what the caller expected (``expected_version``) is never retried.
        ``write`` (the default) takes SQLite's write lock at the start; a read-only
        unit passes False, and is run again with the lock taken if it clashed.
        ``work`` must not have effects outside the database (print after ``run``)."""

        def attempt_once(attempt: int) -> T:
            # Once it clashed, the unit takes SQLite's write lock first: it then waits
            # its turn (busy timeout) instead of clashing again with every writer.
            with self.unit(actor, write=write or attempt > 0) as unit:
                return work(unit)

        return retry_mod.retry(attempt_once, retries=retries)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
