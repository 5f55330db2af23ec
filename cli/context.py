"""State shared by the commands of one `tongxin` run: config, plugins, the database."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from rich.console import Console
from rich.markup import escape
from rich.segment import Segment

from crm_core.app import Tongxin
from crm_core.config import Config
from crm_core.i18n import language
from crm_core.plugins import PluginHost
from crm_core.unit import Unit
from crm_core.validation import printable


@dataclass
class CliState:
    """What the root callback and `main` set up before a command runs."""

    config: Config
    plugins: PluginHost
    db_url: str | None = None
    as_user: str | None = None  # --as: an administrator acting as this account
    _app: Tongxin | None = field(default=None, repr=False)

    def app(self) -> Tongxin:
        """The application, opened (and the database migrated) on first use. Every
        unit acts as the authenticated login (OS login or database role), or as the
        ``--as`` account of an administrator: never as a name typed in."""
        if self._app is None:
            self._app = Tongxin(self.config, db_url=self.db_url, plugins=self.plugins)
            self._app.authenticate(as_user=self.as_user)
        return self._app

    def close(self) -> None:
        """Release the database."""
        if self._app is not None:
            self._app.close()
            self._app = None


_state: CliState | None = None


class SafeConsole(Console):
    """The console every command (and every plugin's command) prints through: whatever
    a value holds, the terminal gets no markup and no control sequence from it.

    * Markup is off by default: a name such as ``[b]x[/b]`` or ``[link=…]`` prints as
      typed. A command that styles its own words passes ``markup=True`` and puts values
      in through :func:`markup` (rich's ``escape``), or uses ``rich.text.Text``.
    * Every piece of text is passed through :func:`crm_core.validation.printable` as it
      is written out (tables, panels, errors included), so an ESC, a C1 control, a
      bidirectional override or a lone surrogate stored in an older row shows as its
      escape (``\\x1b``) instead of acting on the terminal; only the console's own
      control segments (cursor moves it makes itself) pass untouched.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("markup", False)
        super().__init__(**kwargs)

    def _render_buffer(self, buffer: Any) -> str:
        return super()._render_buffer(
            segment if segment.control else Segment(printable(segment.text), segment.style)
            for segment in buffer
        )


def markup(value: Any) -> str:
    """``value`` as text to put inside console markup (``out.print(f"[bold]{markup(x)}
    [/bold]", markup=True)``): its square brackets are escaped, so data never styles
    itself or makes a link."""
    return escape(str(value))


out = SafeConsole(highlight=False, soft_wrap=True)
err = SafeConsole(stderr=True, highlight=False, soft_wrap=True)


def set_state(state: CliState | None) -> None:
    """Install the state of this run (done by `crm_cli.main.run`)."""
    global _state
    _state = state


def state() -> CliState:
    """The state of this run."""
    if _state is None:
        raise RuntimeError("tongxin CLI state not initialised: call crm_cli.main.run()")
    return _state


def get_app() -> Tongxin:
    """The application of this run (opens the database on first call)."""
    return state().app()


@contextmanager
def open_unit(actor: str | None = None) -> Iterator[Unit]:
    """One transaction for a command, acting as ``actor`` or the authenticated login."""
    with get_app().unit(actor) as unit:
        yield unit


T = TypeVar("T")


def run_unit(work: Callable[[Unit], T], *, write: bool = True) -> T:
    """``work(unit)`` as one unit of work of the authenticated login, run again when it
    clashed with someone else's change at the same moment (:meth:`Tongxin.run`).
    ``work`` returns what to show; print it after this returns, never inside."""
    return get_app().run(work, write=write)


# JSON escapes C0 controls itself; these it would write raw (with ensure_ascii=False).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def print_json(value: Any) -> None:
    """Print ``value`` as JSON (UTF-8, Chinese as is, two-space indent). DEL, C1
    controls, bidirectional controls and lone surrogates are written as ``\\uXXXX``
    escapes (still the same JSON value), never raw to the terminal."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    text = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def label(vocab: str, code: str | None) -> str:
    """The label of ``code`` in vocabulary ``vocab`` (categories include plugins')."""
    if not code:
        return ""
    voc = get_app().categories if vocab == "categories" else state().config.vocab[vocab]
    term = voc.get(code)
    return term.label(language()) if term else code
