"""Run a short unit of work again when a concurrent writer got in first.

The feed server and the reminder service write only small bookkeeping rows (when a
feed last changed, what was delivered) from several threads at once. On SQLite a unit
that read before another committed may not write (the core raises Conflict); on either
backend a unique key may have been claimed meanwhile. Such a unit is simply run again
with fresh reads, a few times, with a short pause.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError

from crm_core.errors import Conflict

T = TypeVar("T")


def retry_conflicts(work: Callable[[], T], *, attempts: int = 20) -> T:
    """``work()``, run again (up to ``attempts`` times) when it raises Conflict, or
    SQLite's "database is locked" (a write lock it could not take: the unit was rolled
    back whole, so running it again is safe)."""
    for attempt in range(attempts):
        try:
            return work()
        except (Conflict, OperationalError) as exc:
            if isinstance(exc, OperationalError) and "database is locked" not in str(exc):
                raise
            if attempt == attempts - 1:
                raise
            time.sleep(0.005 + random.random() * 0.02 * (attempt + 1))
    raise AssertionError("unreachable")
