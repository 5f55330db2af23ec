"""Configuration: the shipped defaults (``crm_config/defaults.toml``) merged with the
office's own file.

The office's file is ``$TONGXIN_CONFIG`` or ``config.toml`` in the platformdirs config
directory. Vocabulary entries (categories, parties, sectors, committees, regions, series)
are matched by ``code``: the office's entry replaces the default one, a new code is added,
and ``enabled = false`` removes one. Environment variables win over the file:
``TONGXIN_DB``, ``TONGXIN_LANG``, ``TONGXIN_TZ``.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import platformdirs

from crm_core.errors import TongxinError
from crm_core.i18n import N_

APP_NAME = "tongxin"
VOCABULARIES = ("categories", "parties", "sectors", "committees", "regions")


class ConfigError(TongxinError):
    """The configuration file is unreadable or holds a bad value."""


@dataclass(frozen=True)
class Term:
    """One entry of a vocabulary: a stable code and its Chinese and English labels."""

    code: str
    zh: str
    en: str
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def label(self, lang: str) -> str:
        """The label in ``lang`` ("zh" or "en")."""
        return self.en if lang == "en" else self.zh


class Vocabulary:
    """An ordered set of terms, looked up by code or by either label."""

    def __init__(self, name: str, terms: list[Term]) -> None:
        self.name = name
        self._by_code: dict[str, Term] = {t.code: t for t in terms}
        self._by_label: dict[str, Term] = {}
        for t in terms:
            self._by_label.setdefault(t.zh, t)
            self._by_label.setdefault(t.en.casefold(), t)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Term | None:
        """The term with this code, or None."""
        return self._by_code.get(code)

    def resolve(self, value: str) -> Term | None:
        """The term whose code, Chinese label or English label is ``value``."""
        value = value.strip()
        return (
            self._by_code.get(value)
            or self._by_label.get(value)
            or self._by_label.get(value.casefold())
        )

    def add(self, term: Term) -> None:
        """Add or replace a term (plugins registering categories use this)."""
        self._by_code[term.code] = term
        self._by_label.setdefault(term.zh, term)
        self._by_label.setdefault(term.en.casefold(), term)

    def codes(self) -> list[str]:
        """Every code, in order."""
        return list(self._by_code)


@dataclass(frozen=True)
class ImportLimits:
    """``[import]``: the bounds of a roster import (``tongxin import``).

    A file over a bound is refused whole, before anything is written; the message names
    the bound and the key to raise it. The zip bounds guard against workbooks (``.xlsx``
    and ``.ods`` are zip files) that unpack to far more than they weigh (zip bombs).
    """

    max_rows: int = 100_000
    max_cell_chars: int = 10_000
    max_columns: int = 500
    max_unzipped_mb: int = 1024
    max_zip_ratio: int = 200


IMPORT_KEYS = tuple(ImportLimits.__dataclass_fields__)


def _import_limits(raw: dict[str, Any], source: str) -> ImportLimits:
    unknown = sorted(set(raw) - set(IMPORT_KEYS))
    if unknown:
        raise ConfigError.of(
            N_("{source}: [import] has no key {keys}; its keys are: {known}"),
            source=source,
            keys=", ".join(unknown),
            known=", ".join(IMPORT_KEYS),
        )
    values: dict[str, int] = {}
    for key, value in raw.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError.of(
                N_("{source}: [import] {key} = {value!r}: a whole number ≥ 1"),
                source=source,
                key=key,
                value=value,
            )
        values[key] = value
    return ImportLimits(**values)


@dataclass
class Config:
    """Everything read from configuration: settings and vocabularies."""

    db_url: str | None
    timezone: str
    language: str
    plugins_disabled: list[str]
    plugin_folders: list[Path]
    vocab: dict[str, Vocabulary]
    series: list[dict[str, Any]]
    follow_up_days: int
    source: Path | None
    raw: dict[str, Any]
    import_limits: ImportLimits = field(default_factory=ImportLimits)

    @property
    def tz(self) -> ZoneInfo:
        """The office's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def categories(self) -> Vocabulary:
        """Contact categories, with cadence in ``extra`` (ideal_days, max_days)."""
        return self.vocab["categories"]


def user_config_path() -> Path:
    """Where the office's config file is looked for."""
    env = os.environ.get("TONGXIN_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _defaults() -> dict[str, Any]:
    text = resources.files("crm_config").joinpath("defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


def _merge_entries(
    name: str, base: list[dict[str, Any]], override: list[dict[str, Any]], source: str
) -> list[dict[str, Any]]:
    merged = {e["code"]: e for e in base}
    for i, entry in enumerate(override):
        code = entry.get("code")
        if not isinstance(code, str) or not code:
            raise ConfigError.of(
                N_("{source}: [[{name}]] entry {n} has no code"), source=source, name=name, n=i + 1
            )
        if entry.get("enabled", True) is False:
            merged.pop(code, None)
        else:
            merged[code] = {**merged.get(code, {}), **entry}
    return list(merged.values())


def _term(name: str, entry: dict[str, Any], source: str) -> Term:
    missing = [k for k in ("code", "zh") if not entry.get(k)]
    if missing:
        raise ConfigError.of(
            N_("{source}: [[{name}]] {entry!r} lacks {missing}"),
            source=source,
            name=name,
            entry=entry,
            missing=", ".join(missing),
        )
    extra = {k: v for k, v in entry.items() if k not in {"code", "zh", "en", "enabled"}}
    return Term(entry["code"], entry["zh"], entry.get("en") or entry["code"], extra)


def load_config(path: Path | None = None) -> Config:
    """Read the defaults and the office's file (``path``, or the usual place if it exists)."""
    data = _defaults()
    source = path or user_config_path()
    user: dict[str, Any] = {}
    if source.exists():
        user = _read_toml(source)
    elif path is not None:
        raise ConfigError.of(N_("config file not found: {path}"), path=path)
    for name in (*VOCABULARIES, "series"):
        data[name] = _merge_entries(name, data.get(name, []), user.get(name, []), str(source))
    settings = {**data.get("settings", {}), **user.get("settings", {})}
    plugins = user.get("plugins", {})
    vocab = {
        name: Vocabulary(name, [_term(name, e, str(source)) for e in data[name]])
        for name in VOCABULARIES
    }
    timezone = os.environ.get("TONGXIN_TZ") or settings.get("timezone", "Asia/Shanghai")
    try:
        ZoneInfo(timezone)
    except Exception as exc:
        raise ConfigError.of(
            N_("{source}: unknown time zone {timezone!r}"), source=source, timezone=timezone
        ) from exc
    language = os.environ.get("TONGXIN_LANG") or settings.get("language", "zh")
    return Config(
        db_url=os.environ.get("TONGXIN_DB") or settings.get("db"),
        timezone=timezone,
        language=language,
        plugins_disabled=list(plugins.get("disabled", [])),
        plugin_folders=[Path(p).expanduser() for p in plugins.get("folders", [])],
        vocab=vocab,
        series=data["series"],
        follow_up_days=int(settings.get("follow_up_days", 30)),
        source=source if source.exists() else None,
        raw=user,
        import_limits=_import_limits(
            {**data.get("import", {}), **user.get("import", {})}, str(source)
        ),
    )
