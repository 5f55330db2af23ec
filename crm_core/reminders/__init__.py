"""Reminders (``tongxin remind``): per-item reminders before scheduled work, a daily
digest, and plugins' reminder rules, delivered once to the log, by e-mail and through
apprise notification URLs. See :mod:`crm_core.reminders.service` for how a reminder is
never sent twice and never silently dropped, and docs/calendar.md for the settings."""

from crm_core.reminders.plan import Digest, Planned, Reminder, ReminderWindow, digest_for

__all__ = ["Digest", "Planned", "Reminder", "ReminderWindow", "digest_for"]
