"""The shape of the configuration file: one pydantic model per section tongxin reads.

:func:`crm_core.config.load_config` validates the merged configuration (the shipped
defaults with the office's file over them) against :class:`ConfigFile`. Every model
forbids keys it does not know, and the values are checked strictly as TOML gives them
(``follow_up_days = "30"`` is a text, not a number): a typo or a wrong type is an error
naming the file and the key, never a setting silently ignored.

The tables ``[plugins.NAME]`` are the plugins' own, checked by the model each plugin declares
(``crm_core.config.validate_plugin_table``); everything else is checked here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

Minutes = list[Annotated[int, Field(ge=0)]]
Positive = Annotated[int, Field(ge=1)]


class Section(BaseModel):
    """A table of the configuration: unknown keys are refused, types checked strictly."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _clock_text(value: str | dt.time) -> str | dt.time:
    """A time of day, as TOML gives it (``09:00:00``) or as a text ("09:00")."""
    if isinstance(value, str):
        try:
            dt.time.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("time_of_day", "not a time of day (HH:MM)") from None
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except Exception:
        raise PydanticCustomError("time_zone", "unknown time zone") from None
    return value


class Settings(Section):
    """``[settings]``: display zone and language, database, follow-up delay."""

    timezone: str = "Asia/Shanghai"
    language: Literal["zh", "en"] = "zh"
    db: str | None = None
    follow_up_days: Positive = 30
    # The zone the institutional series are kept in, whatever the display zone is.
    office_timezone: str = "Asia/Shanghai"

    @field_validator("timezone", "office_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone(value)


class Plugins(Section):
    """``[plugins]``: plugins switched off, folders of local plugins. The tables
    ``[plugins.NAME]`` beside these two keys are taken out before validation."""

    disabled: list[str] = []
    folders: list[str] = []


class TermEntry(Section):
    """One entry of ``[[parties]]``, ``[[sectors]]``, ``[[committees]]``, ``[[regions]]``."""

    code: str = Field(min_length=1)
    zh: str = Field(min_length=1)
    en: str | None = None
    enabled: bool = True
    # Other spellings of this entry (older and merged names), read wherever a code or
    # label is (crm_core.vocabulary.Vocabulary.resolve).
    aliases: list[str] = []


class CategoryEntry(TermEntry):
    """One entry of ``[[categories]]``: a term with its cadence of exchange."""

    ideal_days: Positive | None = None
    max_days: Positive | None = None
    liaison_required: bool = False


class SeriesEntry(Section):
    """One entry of ``[[series]]``: an institutional series, by RRULE or lunar date."""

    code: str = Field(min_length=1)
    zh: str | None = None
    en: str | None = None
    enabled: bool = True
    kind: str | None = None
    rrule: str | None = None
    start: dt.datetime | dt.date | str | None = None
    duration_minutes: Annotated[int, Field(ge=0)] | None = None
    duration_days: Positive | None = None
    lunar_month: Annotated[int, Field(ge=1, le=12)] | None = None
    lunar_day: Annotated[int, Field(ge=1, le=30)] | None = None
    lunar_leap: bool = False
    time: dt.time | str | None = None
    location: str | None = None

    @field_validator("time")
    @classmethod
    def _time_of_day(cls, value: dt.time | str | None) -> dt.time | str | None:
        return None if value is None else _clock_text(value)


MappedField = Literal["party", "sector", "region", "categories", "committees"]


class ImportSection(Section):
    """``[import]``: the bounds of a roster import (see :class:`crm_core.config.ImportLimits`)."""

    max_rows: Positive = 100_000
    max_cell_chars: Positive = 10_000
    max_columns: Positive = 500
    max_unzipped_mb: Positive = 1024
    max_zip_ratio: Positive = 200
    # The saved import mappings (crm_core.roster.unknowns): per source (a name the import
    # is given, "default" unless told), per field, a value of the sheet that is not in the
    # vocabulary -> the codes it stands for; an empty list leaves those rows out.
    mappings: dict[str, dict[MappedField, dict[str, list[str]]]] = {}


class Feed(Section):
    """``[feed]``: the subscription feed and exported calendars."""

    public_url: str = "https://tongxin.example.org"
    calendar_name: str = "同心 · {name}"
    office_calendar_name: str = "同心 · 全办"
    institutional_calendar_name: str = "同心 · 政协工作日程"
    refresh_minutes: Positive = 60
    past_days: Annotated[int, Field(ge=0)] = 365
    future_days: Annotated[int, Field(ge=0)] = 730


class Reminders(Section):
    """``[reminders]``: minutes before items (per kind of work), the digest, channels."""

    default_minutes: Minutes = [30]
    kinds: dict[str, Minutes] = {}
    all_day_time: dt.time | str = "09:00"
    series_minutes: Minutes = [1440]
    digest_time: dt.time | str = "08:00"
    channels: list[Literal["log", "email", "apprise"]] = ["log", "email", "apprise"]
    horizon_days: Positive = 14
    refresh_minutes: Positive = 5

    @field_validator("all_day_time", "digest_time")
    @classmethod
    def _times_of_day(cls, value: dt.time | str) -> dt.time | str:
        return _clock_text(value)


class Tui(Section):
    """``[tui]``: the terminal UI (desk reminders, theme, key bindings, default kind)."""

    reminders: bool = True
    theme: str | None = None
    keymap: dict[str, str] = {}
    default_kind: str | None = None
    # On a one-person install (SQLite, the login has no account of its own): the
    # account that is "me", chosen in the UI at first start (crm_tui.identity).
    account: str | None = None


class Smtp(Section):
    """``[smtp]``: the mail server reminders go through (no host: no e-mail)."""

    host: str = ""
    port: Annotated[int, Field(ge=1, le=65535)] = 25
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    password_env: str = "TONGXIN_SMTP_PASSWORD"
    sender: str = "tongxin@localhost"
    timeout_seconds: Annotated[float, Field(gt=0)] = 20


class Invitations(Section):
    """``[invitations]``: the mailbox the answers (iTIP REPLY) to the office's invitations
    arrive in, read by ``tongxin invite fetch-replies`` and by the reminder service every
    ``fetch_minutes``: a Maildir (``maildir``, where fetchmail/getmail deliver) or an IMAP
    folder (``imap_host``; ``imap_tls`` ssl, starttls or none)."""

    maildir: str = ""
    imap_host: str = ""
    imap_port: Annotated[int, Field(ge=1, le=65535)] = 993
    imap_tls: Literal["ssl", "starttls", "none"] = "ssl"
    imap_username: str = ""
    imap_password_env: str = "TONGXIN_IMAP_PASSWORD"
    imap_folder: str = "INBOX"
    # A CA file for an office's own certificate authority (empty: the system's).
    imap_cafile: str = ""
    timeout_seconds: Annotated[float, Field(gt=0)] = 20
    fetch_minutes: Annotated[int, Field(ge=0)] = 10


class Notify(Section):
    """``[notify]``: apprise URLs and e-mail addresses per username."""

    urls: dict[str, str | list[str]] = {}
    email: dict[str, str] = {}


class CaldavAccount(Section):
    """``[caldav.accounts.USER]``: what is kept on the server for one tongxin account,
    by the display names of the collections in that user's home."""

    calendar: str | None = None
    contacts: str | None = None


class Caldav(Section):
    """``[caldav]``: the kind of work an event made on the phone becomes, and the
    accounts the reminder service (and ``tongxin sync all``) keeps in step with the
    office's CalDAV/CardDAV server."""

    new_event_kind: str = "note"
    # Each user's home on the server; {user} is the tongxin username.
    home_url: str = ""
    username: str = ""
    password_env: str = "DAV_PASSWORD"
    sync_minutes: int = Field(10, ge=0)
    accounts: dict[str, CaldavAccount] = {}

    @field_validator("home_url")
    @classmethod
    def _home_has_user(cls, value: str) -> str:
        if value and "{user}" not in value:
            raise PydanticCustomError("dav_home", "must hold {user}")
        return value


NameTest = Literal["same", "folded", "sound", "any"]
DuplicateField = Literal["birth", "mobile", "employer"]


class DuplicateRule(Section):
    """``[duplicates.rules.CODE]``: one rule for finding two records of the same person
    (modelled on CiviCRM's dedupe rules). ``name`` says how the names must compare:
    ``same`` written alike, ``folded`` alike only once full-/half-width, case and spaces
    are folded, ``sound`` read alike in pinyin but written with other characters, ``any``
    not compared. ``same`` lists the fields both records must hold alike (``birth`` is
    the year and month); ``conflicts`` the fields that rule a pair out when both hold
    them and they differ (two 王丽华 of one hospital born years apart are two people).
    ``level`` is ``certain`` or ``possible``; ``score`` 1–100."""

    zh: str = Field(min_length=1)
    en: str | None = None
    enabled: bool = True
    name: NameTest = "same"
    same: list[DuplicateField] = []
    conflicts: list[DuplicateField] = []
    level: Literal["certain", "possible"] = "possible"
    score: Annotated[int, Field(ge=1, le=100)] = 50

    @field_validator("same", "conflicts")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise PydanticCustomError("duplicate_rule", "names a field twice")
        return value

    @model_validator(mode="after")
    def _blocks(self) -> DuplicateRule:
        # Comparing neither names nor a phone would compare whole counties pair by pair.
        if self.name == "any" and "mobile" not in self.same:
            raise PydanticCustomError(
                "duplicate_rule", 'a rule with name = "any" must compare "mobile"'
            )
        return self


class Duplicates(Section):
    """``[duplicates]``: the rules ``tongxin contacts duplicates`` applies, and how many
    days a merge may still be undone."""

    undo_days: Annotated[int, Field(ge=0)] = 30
    rules: dict[str, DuplicateRule] = {}


class RelationType(Section):
    """``[relations.types.CODE]``: a kind of relationship. ``zh``/``en`` name what the
    other side is to the person it is recorded for (``introduced_by``: 介绍人), and
    ``zh_reverse``/``en_reverse`` what that person is to the other side (经其介绍);
    without them the type reads alike both ways (配偶, 同事). ``target`` is ``person``
    (between two people) or ``organisation`` (a person and an organisation)."""

    zh: str = Field(min_length=1)
    en: str | None = None
    zh_reverse: str | None = Field(default=None, min_length=1)
    en_reverse: str | None = None
    target: Literal["person", "organisation"] = "person"
    enabled: bool = True


class Relations(Section):
    """``[relations]``: the types of relationship between people (and with organisations)."""

    types: dict[str, RelationType] = {}


class Exchange(Section):
    """``[exchange]``: county → city bundles (``tongxin exchange``). ``key_file`` holds
    the shared signing key (the environment's ``TONGXIN_EXCHANGE_KEY`` wins);
    ``installation_id`` names this installation in the bundles it writes (empty: one
    derived from the database's address). Confidential talks travel only when the
    sender's ``send_confidential`` and the receiver's ``accept_confidential`` are both
    true."""

    key_file: str = ""
    installation_id: str = ""
    send_confidential: bool = False
    accept_confidential: bool = False


class ConfigFile(Section):
    """The whole configuration, every section tongxin reads."""

    settings: Settings = Settings()
    plugins: Plugins = Plugins()
    categories: list[CategoryEntry] = []
    parties: list[TermEntry] = []
    sectors: list[TermEntry] = []
    committees: list[TermEntry] = []
    regions: list[TermEntry] = []
    series: list[SeriesEntry] = []
    import_: ImportSection = Field(ImportSection(), alias="import")
    feed: Feed = Feed()
    reminders: Reminders = Reminders()
    tui: Tui = Tui()
    smtp: Smtp = Smtp()
    notify: Notify = Notify()
    invitations: Invitations = Invitations()
    caldav: Caldav = Caldav()
    duplicates: Duplicates = Duplicates()
    relations: Relations = Relations()
    exchange: Exchange = Exchange()

    def section(self, name: str) -> dict[str, Any]:
        """The table ``[name]`` as a plain dict, every key present (defaults filled in)."""
        model = getattr(self, "import_" if name == "import" else name, None)
        if not isinstance(model, BaseModel):
            return {}
        return model.model_dump()
