"""A progress bar for long work (``demo``, ``import``, ``export``, ``report``,
``backup``, ``sync``), in one place.

The core services take a plain ``progress(done, total)`` callable (or, for work in
stages, ``progress(stage, done, total)``) and know nothing of rich; :func:`bar` gives
the command one that draws a bar on stderr when stderr is a terminal, and ``None``
otherwise (a pipe, a file, ``--json``), so a piped run prints exactly what it did before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from crm_cli.context import err
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn


class Bar:
    """A bar (one line per stage) on stderr, started at the first call; every call
    says ``done`` of ``total``. Call :meth:`stop` at the end (:func:`bar` does)."""

    def __init__(self, label: str, labels: dict[str, str] | None = None, minimum: int = 0) -> None:
        self.label = label
        self.labels = labels or {}
        self.minimum = minimum
        self.progress: Progress | None = None
        self.tasks: dict[str, Any] = {}

    def stage(self, stage: str, done: int, total: int) -> None:
        """Progress of ``stage``: ``done`` of ``total``."""
        if total < self.minimum:
            return
        if self.progress is None:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            )
            self.progress.start()
        if stage not in self.tasks:
            label = self.labels.get(stage, self.label)
            self.tasks[stage] = self.progress.add_task(label, total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)

    def __call__(self, done: int, total: int) -> None:
        self.stage("", done, total)

    def stop(self) -> None:
        """Take the bar off the screen."""
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def shows(as_json: bool = False) -> bool:
    """Whether a bar is drawn: on a terminal, never with ``--json``."""
    return not as_json and err.is_terminal


@contextmanager
def bar(
    label: str,
    *,
    as_json: bool = False,
    labels: dict[str, str] | None = None,
    minimum: int = 0,
) -> Iterator[Bar | None]:
    """A :class:`Bar` labelled ``label`` (per stage ``labels``) for the work in the
    ``with`` block, or None when none is drawn (not a terminal, ``--json``); tasks of
    fewer than ``minimum`` steps draw nothing."""
    if not shows(as_json):
        yield None
        return
    b = Bar(label, labels, minimum)
    try:
        yield b
    finally:
        b.stop()


Progress2 = Callable[[int, int], None]
Progress3 = Callable[[str, int, int], None]
