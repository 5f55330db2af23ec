"""The one retry helper: run a unit of work again when it clashed with a concurrent one.

Only a clash is retried, never a refusal: a retryable :class:`~crm_core.errors.Conflict`
(the core's translation of a row changed meanwhile, SQLite's stale snapshot, a lock, a
deadlock), or a raw database error that is such a clash (SQLite busy/locked, PostgreSQL
serialization failure 40001, deadlock 40P01, lock not available 55P03). A Conflict on
what the caller expected (``retryable=False``), an IntegrityError (a unique key taken)
or any other error is raised at once: running the same work again would fail the same way.
Safe because a clashing unit was rolled back whole and the work reads again what it
decides on. The pause between attempts grows (random, capped at half a second).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from crm_core.errors import Conflict

T = TypeVar("T")

# SQLite's result codes and PostgreSQL's SQLSTATEs of a clash with a concurrent unit:
# nothing was written and the unit can be run again.
SQLITE_BUSY = frozenset(
    {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_BUSY_TIMEOUT", "SQLITE_LOCKED_SHAREDCACHE"}
)
PG_RETRY = frozenset({"40001", "40P01", "55P03"})  # serialization, deadlock, lock not available


def transient(exc: DBAPIError) -> str | None:
    """ "snapshot" for SQLite's stale snapshot, "busy" for a lock, a busy database, a
    serialization failure or a deadlock, None for an error that is not a clash."""
    orig = exc.orig
    name = getattr(orig, "sqlite_errorname", "")
    if name == "SQLITE_BUSY_SNAPSHOT":
        return "snapshot"
    if name in SQLITE_BUSY or "database is locked" in str(orig):
        return "busy"
    if getattr(orig, "sqlstate", None) in PG_RETRY:
        return "busy"
    return None


def is_retryable(exc: BaseException) -> bool:
    """True when ``exc`` is a clash with a concurrent unit (see the module docstring)."""
    if isinstance(exc, Conflict):
        return exc.retryable
    if isinstance(exc, DBAPIError):
        return transient(exc) is not None
    return False


def backoff(attempt: int) -> float:
    """The pause (seconds) before attempt ``attempt`` (1 for the first retry)."""
    return random.uniform(0.001, min(0.5, 0.005 * 2**attempt))


def retry(work: Callable[[int], T], *, retries: int = 10) -> T:
    """``work(attempt)`` (attempt 0 first), run again up to ``retries`` more times with
    a growing pause while it raises a retryable error (:func:`is_retryable`); any other
    error, or the last retryable one, is raised."""
    attempt = 0
    while True:
        try:
            return work(attempt)
        except (Conflict, DBAPIError) as exc:
            if not is_retryable(exc) or attempt >= retries:
                raise
        attempt += 1
        time.sleep(backoff(attempt))
