"""Reminders while the terminal UI is open: the user's own desk reminders
(:class:`crm_core.reminders.desk.DeskReminders`), run in the background, each shown as a
notification and written to the log.

They are the reminders of the person at the keyboard (their account, whatever its
role), shown once per person however many of their apps are open; a login without an
account gets none. The office's reminder service (``tongxin remind``) sends e-mail and
notification URLs independently of them. Turned off with ``[tui] reminders = false`` in
the office's config.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING, Any

from crm_tui.common import report

from crm_core.calendar.settings import section
from crm_core.config import Config
from crm_core.reminders.channels import Message

if TYPE_CHECKING:
    from crm_core.reminders.desk import DeskReminders

log = logging.getLogger("tongxin.tui")

# A reminder stays on screen this long (seconds): long enough to be seen after a glance
# away, short enough not to pile up.
NOTIFY_SECONDS = 30.0


def reminders_enabled(config: Config) -> bool:
    """Whether the terminal UI shows the user's reminders (``[tui] reminders``, on by
    default)."""
    return bool(section(config, "tui").get("reminders", True))


class TuiReminders:
    """Starts the user's desk reminders in a thread when the app starts, shows each as a
    notification, and stops them when the app ends."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.desk: DeskReminders | None = None
        self.username: str | None = None  # None: no account, no reminders
        self.shown: list[Message] = []  # what was shown (tests and the log read it)
        self.started = threading.Event()  # set once start() has finished, well or not
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> None:
        """Start the desk reminders in the background (planning reads the database, so
        it must not hold up the first screen)."""
        self._thread = threading.Thread(target=self._start, name="tongxin-tui-reminders")
        self._thread.daemon = True
        self._thread.start()

    def _start(self) -> None:
        from crm_core.reminders.desk import DeskReminders

        try:
            with self.app.unit() as unit:
                # The person at the keyboard: an administrator acting as someone else
                # (--as) gets their own reminders, and leaves that person's to them.
                account = unit.real_actor
            if account is None:
                log.info("no account for this login: no reminders shown")
                return
            self.username = account.username
            desk = DeskReminders(self.app.core, account, self._on_message)
            if self._stopping:
                return
            desk.start()
            self.desk = desk
            log.info("reminders shown in the terminal UI for %s", self.username)
        except Exception as exc:
            # The app works without reminders: say why they are missing, keep going.
            report(self.app, exc)
        finally:
            self.started.set()

    def _on_message(self, message: Message) -> None:
        """The desk's listener (on its scheduler's thread): show the reminder."""
        self.shown.append(message)
        log.info("reminder shown: %s %s", message.key, message.title)
        # App.notify is thread-safe: it posts a message to the app's loop.
        self.app.notify(message.body, title=message.title, timeout=NOTIFY_SECONDS, markup=False)

    async def stop(self) -> None:
        """Stop the desk reminders (what was not shown yet is shown at the next start)."""
        self._stopping = True
        await asyncio.to_thread(self._stop)

    def _stop(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.desk is not None:
            try:
                self.desk.shutdown(wait=True)
            except Exception:  # the app is closing: log, never block the exit
                log.exception("could not stop the reminders")
            self.desk = None
