"""Database settings for a bulk load: page cache, deferred indexes, seeded ids."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, text
from sqlmodel import SQLModel

if TYPE_CHECKING:
    from crm_core.unit import Unit


@contextmanager
def _bulk_settings(unit: Unit) -> Iterator[None]:
    # A bigger page cache for the duration (random UUID keys touch pages all over each
    # index); the connection goes back to the pool as it was.
    conn = unit.session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.execute(text("PRAGMA cache_size")).scalar()
    conn.execute(text("PRAGMA cache_size = -1048576"))  # 1 GiB, taken only as needed
    try:
        yield
    finally:
        conn.execute(text(f"PRAGMA cache_size = {int(before or -2000)}"))


# Tables whose secondary indexes are dropped during a large load and rebuilt after it:
# building an index once from sorted keys is far cheaper than a million random inserts.
_DEFERRED_INDEX_TABLES = ("interaction", "interaction_participant", "follow_up")
_DEFER_INDEXES_FROM = 50_000  # rows of interactions


@contextmanager
def _deferred_indexes(unit: Unit, tables: Sequence[str]) -> Iterator[None]:
    # Only plain indexes are dropped (not those behind a primary key or a unique
    # constraint), and each is recreated from the definition the database itself gave,
    # in the same transaction: on any error, the rollback restores them.
    conn = unit.session.connection()
    if not tables:
        yield
        return
    if conn.dialect.name == "sqlite":
        found = conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                "AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN :tables"
            ).bindparams(bindparam("tables", expanding=True)),
            {"tables": list(tables)},
        ).all()
    elif conn.dialect.name == "postgresql":
        found = conn.execute(
            text(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                "WHERE t.relname = ANY(:tables) "
                "AND t.relnamespace = current_schema()::regnamespace "
                "AND NOT x.indisprimary AND NOT x.indisunique"
            ),
            {"tables": list(tables)},
        ).all()
    else:
        found = []
    preparer = conn.dialect.identifier_preparer
    for name, _sql in found:
        conn.execute(text(f"DROP INDEX {preparer.quote(name)}"))
    yield
    for _name, sql in found:
        conn.execute(text(sql))


@contextmanager
def _seeded_ids(model: type[SQLModel], make: Callable[[], uuid.UUID]) -> Iterator[None]:
    # Rows created through a service get their id from the model's default factory;
    # for the demo to be reproducible, that factory draws from the seeded generator
    # while the demo makes its accounts (a one-off command: no other thread is writing).
    info = model.model_fields["id"]
    original = info.default_factory
    info.default_factory = make
    try:
        yield
    finally:
        info.default_factory = original


# ---------------------------------------------------------------------------------------
# Names
