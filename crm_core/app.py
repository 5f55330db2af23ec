"""The application object: configuration, database engine, plugins and registries."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from crm_core.config import Config, Term, Vocabulary, load_config
from crm_core.db import ensure_schema, make_engine
from crm_core.errors import Conflict, NotFound
from crm_core.kinds import CategorySpec, KindSpec
from crm_core.models import Account
from crm_core.plugins import PluginHost
from crm_core.unit import TxSession, Unit


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
            plugins = PluginHost()
            plugins.load(disabled=self.config.plugins_disabled, folders=self.config.plugin_folders)
        self.plugins = plugins
        self._sessions = sessionmaker(self.engine, class_=TxSession, expire_on_commit=False)

    # -- registries filled by plugins -------------------------------------------

    @cached_property
    def kinds(self) -> dict[str, KindSpec]:
        """Every interaction kind registered by a plugin, by code (first one wins)."""
        kinds: dict[str, KindSpec] = {}
        for plugin, spec in self.plugins.collect("register_kinds"):
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

    # -- units of work ----------------------------------------------------------

    @contextmanager
    def unit(self, actor: str | Account | None = None) -> Iterator[Unit]:
        """One transaction acting as ``actor`` (a username, an account, or None for the
        operating-system login). Commits at the end of the block, rolls back on error.

        A row changed by another unit since this one read it (the ORM's version check)
        raises Conflict, not the ORM's StaleDataError."""
        try:
            with self._sessions() as session, session.begin():
                account: Account | None
                if isinstance(actor, Account):
                    account = session.get(Account, actor.id)
                    name = actor.username
                else:
                    name = actor or getpass.getuser()
                    account = session.scalars(
                        select(Account).where(Account.username == name)
                    ).one_or_none()
                    if actor is not None and account is None:
                        raise NotFound("account", actor)
                session.info["actor_id"] = account.id if account else None
                session.info["actor_name"] = name
                yield Unit(self, session, account, name)
        except StaleDataError as exc:
            raise Conflict(
                f"someone else changed this record at the same time ({exc}): "
                "nothing was saved; reload it and try again"
            ) from exc
        except OperationalError as exc:
            # SQLite's form of the same clash: this unit read a snapshot, another unit
            # committed since, so this one may not write on what it read.
            if getattr(exc.orig, "sqlite_errorname", "") == "SQLITE_BUSY_SNAPSHOT":
                raise Conflict(
                    "someone else changed the data this change was based on: nothing was "
                    "saved; reload and try again"
                ) from exc
            raise

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
