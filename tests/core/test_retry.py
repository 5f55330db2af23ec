"""The one retry helper retries a clash with a concurrent unit, never a refusal."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from crm_core.errors import Conflict
from crm_core.retry import is_retryable, retry


def test_integrity_error_is_not_retried(tmp_path: object) -> None:
    engine = create_engine("sqlite://")
    with engine.begin() as c:
        c.execute(text("create table t (k text primary key)"))
        c.execute(text("insert into t values ('a')"))
    calls: list[int] = []

    def work(attempt: int) -> None:
        calls.append(attempt)
        with engine.begin() as c:
            c.execute(text("insert into t values ('a')"))

    with pytest.raises(IntegrityError):
        retry(work, retries=5)
    assert calls == [0]


def test_sqlite_locked_is_retried(tmp_path: pytest.TempPathFactory) -> None:
    path = f"{tmp_path}/db.sqlite"
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    with engine.begin() as c:
        c.execute(text("create table t (k text)"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("begin immediate")
    calls: list[int] = []

    def work(attempt: int) -> int:
        calls.append(attempt)
        if attempt == 2:
            holder.execute("rollback")
        with engine.begin() as c:
            c.execute(text("insert into t values ('x')"))
        return attempt

    assert retry(work, retries=5) == 2
    assert calls == [0, 1, 2]
    holder.close()


def test_conflict_retried_only_when_retryable() -> None:
    calls: list[int] = []

    def refused(attempt: int) -> None:
        calls.append(attempt)
        raise Conflict("expected version 3")

    with pytest.raises(Conflict):
        retry(refused, retries=5)
    assert calls == [0]
    assert is_retryable(Conflict("busy", retryable=True))
    assert not is_retryable(OperationalError("x", {}, Exception("no such table")))
