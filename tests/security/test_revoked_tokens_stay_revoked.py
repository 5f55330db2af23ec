"""A revoked feed token stays revoked (migration 0005), on both backends and whoever
writes: the program, an administrator, or someone writing the SQLite file directly. Its
hash, holder and scope never change either, so a token cannot be turned into another."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from crm_core.app import Tongxin
from crm_core.calendar import feeds
from crm_core.services import accounts

from .conftest import PG_ADMIN_URL


def _token(app: Tongxin) -> tuple[str, str]:
    with app.unit() as unit:
        me = accounts.create_account(unit, username="wangzx", role="leader")
        row, token = feeds.create_token(unit, account=me, name="手机")
        feeds.revoke_tokens(unit, account=me)
        return str(row.id), token


@pytest.mark.parametrize(
    "change",
    [
        "revoked_at = NULL",
        "revoked_at = CURRENT_TIMESTAMP",
        "token_hash = 'x'",
        "scope = 'office'",
        "account_id = NULL",
    ],
)
def test_the_program_cannot_change_a_revoked_token(app: Tongxin, change: str) -> None:
    token_id, token = _token(app)
    refused = pytest.raises(DBAPIError, match=r"stays revoked|cannot be changed")
    with refused, app.engine.begin() as conn:
        conn.execute(text(f"UPDATE feed_token SET {change}"))
    with app.unit() as unit:
        assert feeds.resolve_token(unit, token) is None
        (row,) = feeds.list_tokens(unit)
        assert str(row.id) == token_id and row.revoked_at is not None


def test_writing_the_database_directly_cannot_unrevoke_either(
    app: Tongxin, backend: str, db_url: str
) -> None:
    _id, token = _token(app)
    if backend == "sqlite":
        refused = pytest.raises(sqlite3.IntegrityError, match="stays revoked")
        with refused, sqlite3.connect(db_url) as conn:
            conn.execute("UPDATE feed_token SET revoked_at = NULL")
    else:  # even the superuser goes through the trigger
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db_url.rsplit("/", 1)[1]
        refused = pytest.raises(psycopg.errors.InsufficientPrivilege, match="stays revoked")
        with psycopg.connect(url, autocommit=True) as conn, refused:
            conn.execute("UPDATE feed_token SET revoked_at = NULL")
    with app.unit() as unit:
        assert feeds.resolve_token(unit, token) is None
