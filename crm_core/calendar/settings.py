"""The settings of calendars, feeds and reminders: ``[feed]``, ``[reminders]``, ``[smtp]``
and ``[notify]`` of the configuration (read, merged and validated by
:func:`crm_core.config.load_config`), as the calendar code uses them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

from crm_core.config import Config, ConfigError
from crm_core.i18n import N_


def section(config: Config, name: str) -> dict[str, Any]:
    """The table ``[name]``: the shipped defaults with the office's keys over them, as
    :func:`crm_core.config.load_config` merged and validated it."""
    return config.section(name)


def _minutes(name: str, value: Any) -> tuple[int, ...]:
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise ConfigError.of(
            N_("[reminders] {name} = {value!r}: minutes are whole numbers ≥ 0"),
            name=name,
            value=value,
        )
    return tuple(sorted(set(values), reverse=True))


def _clock(name: str, value: Any) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ConfigError.of(
            N_("{name} = {value!r}: a time of day as HH:MM, e.g. 08:00"), name=name, value=value
        ) from None


@dataclass(frozen=True)
class FeedSettings:
    """``[feed]``: the public address, the calendars' names, refresh interval, span."""

    public_url: str
    calendar_name: str
    office_calendar_name: str
    institutional_calendar_name: str
    refresh_minutes: int
    past_days: int
    future_days: int


def feed_settings(config: Config) -> FeedSettings:
    """The ``[feed]`` settings."""
    raw = section(config, "feed")
    try:
        return FeedSettings(
            public_url=str(raw["public_url"]).rstrip("/"),
            calendar_name=str(raw["calendar_name"]),
            office_calendar_name=str(raw["office_calendar_name"]),
            institutional_calendar_name=str(raw["institutional_calendar_name"]),
            refresh_minutes=int(raw["refresh_minutes"]),
            past_days=int(raw["past_days"]),
            future_days=int(raw["future_days"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"[feed]: {exc}") from exc


@dataclass(frozen=True)
class ReminderSettings:
    """``[reminders]``: minutes before items (per kind), the digest, channels."""

    default_minutes: tuple[int, ...]
    kinds: dict[str, tuple[int, ...]]
    all_day_time: time
    series_minutes: tuple[int, ...]
    digest_time: time
    channels: tuple[str, ...]
    horizon_days: int
    refresh_minutes: int

    def minutes_for(self, kind: str) -> tuple[int, ...]:
        """Minutes before an item of ``kind`` (config only; plugins may add more)."""
        return self.kinds.get(kind, self.default_minutes)


CHANNELS = ("log", "email", "apprise")


def reminder_settings(config: Config) -> ReminderSettings:
    """The ``[reminders]`` settings."""
    raw = section(config, "reminders")
    channels = tuple(raw.get("channels", ["log"]))
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise ConfigError.of(
            N_("[reminders] channels: unknown {unknown}; known: {known}"),
            unknown=unknown,
            known=list(CHANNELS),
        )
    return ReminderSettings(
        default_minutes=_minutes("default_minutes", raw.get("default_minutes", [30])),
        kinds={k: _minutes(f"kinds.{k}", v) for k, v in dict(raw.get("kinds", {})).items()},
        all_day_time=_clock("[reminders] all_day_time", raw.get("all_day_time", "09:00")),
        series_minutes=_minutes("series_minutes", raw.get("series_minutes", [1440])),
        digest_time=_clock("[reminders] digest_time", raw.get("digest_time", "08:00")),
        channels=channels,
        horizon_days=int(raw.get("horizon_days", 14)),
        refresh_minutes=int(raw.get("refresh_minutes", 5)),
    )


@dataclass(frozen=True)
class SmtpSettings:
    """``[smtp]``: the mail server reminders are sent through (no host: no e-mail)."""

    host: str
    port: int
    starttls: bool
    ssl: bool
    username: str
    password_env: str
    sender: str
    timeout_seconds: float


def smtp_settings(config: Config) -> SmtpSettings:
    """The ``[smtp]`` settings."""
    raw = section(config, "smtp")
    return SmtpSettings(
        host=str(raw.get("host", "")),
        port=int(raw.get("port", 25)),
        starttls=bool(raw.get("starttls", False)),
        ssl=bool(raw.get("ssl", False)),
        username=str(raw.get("username", "")),
        password_env=str(raw.get("password_env", "")),
        sender=str(raw.get("sender", "tongxin@localhost")),
        timeout_seconds=float(raw.get("timeout_seconds", 20)),
    )


def notify_urls(config: Config) -> dict[str, list[str]]:
    """``[notify.urls]``: apprise URLs per username."""
    raw = section(config, "notify").get("urls", {})
    return {str(k): [str(u) for u in (v if isinstance(v, list) else [v])] for k, v in raw.items()}


def notify_emails(config: Config) -> dict[str, str]:
    """``[notify.email]``: an e-mail address per username."""
    return {str(k): str(v) for k, v in section(config, "notify").get("email", {}).items()}


DEFAULT_OFFICE_TIMEZONE = "Asia/Shanghai"


def office_timezone(config: Config) -> ZoneInfo:
    """``[settings] office_timezone``: the zone the office's institutional series are
    kept in (their 09:00 stays 09:00 in Yangzhou), whatever the display zone
    (``TONGXIN_TZ``, ``[settings] timezone``) is. Default Asia/Shanghai."""
    name = config.sections.settings.office_timezone or DEFAULT_OFFICE_TIMEZONE
    try:
        return ZoneInfo(name)
    except Exception:
        raise ConfigError.of(
            N_("[settings] office_timezone = {value!r}: unknown time zone"), value=name
        ) from None
