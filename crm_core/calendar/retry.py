"""Run a short unit of work again when a concurrent writer got in first.

The feed server and the reminder service write only small bookkeeping rows (when a
feed last changed, what was delivered) from several threads at once. A unit that
clashed with another (see :mod:`crm_core.retry`) is run again with fresh reads; a
unique key claimed meanwhile (IntegrityError) is the caller's to handle, not retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from crm_core.retry import retry

T = TypeVar("T")


def retry_conflicts(work: Callable[[], T], *, attempts: int = 20) -> T:
    """``work()``, run up to ``attempts`` times while it raises a retryable clash
    (:func:`crm_core.retry.is_retryable`): a retryable Conflict, SQLite busy/locked, a
    PostgreSQL serialization failure or deadlock. A non-retryable Conflict is raised."""
    return retry(lambda _attempt: work(), retries=attempts - 1)
