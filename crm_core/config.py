"""Configuration: one loader for the shipped defaults and the office's own file.

Where it is read
    The shipped defaults (``crm_config/defaults.toml``, installed from ``config/``), then
    the office's file: ``$TONGXIN_CONFIG``, or ``config.toml`` in the platformdirs config
    directory, or the path given to :func:`load_config`. Environment variables win over
    both: ``TONGXIN_DB``, ``TONGXIN_LANG``, ``TONGXIN_TZ``.

The merge rule (one, for every section)
    Tables merge key by key, at any depth: the office's ``[reminders.kinds] call = [5]``
    changes that one key and keeps the other kinds and every other ``[reminders]`` key.
    The arrays of tables of the vocabularies and series (``[[categories]]``,
    ``[[parties]]``, ``[[sectors]]``, ``[[committees]]``, ``[[regions]]``,
    ``[[series]]``) merge entry by entry, matched by ``code``: the office's entry is
    merged key by key into the default one of that code (``max_days = 60`` alone keeps
    its labels), a new code is added at the end, and ``enabled = false`` removes one.
    Any other value (a number, a text, a plain array such as ``channels = [...]``)
    replaces the default whole.

Validation
    The merged configuration is checked against the models of
    :mod:`crm_core.config_models`: a key tongxin does not know, or a value of the wrong
    type, is a :class:`ConfigError` naming the file, the key and the value, e.g.
    ``config.toml: [settings] office_timzone: unknown key (did you mean
    office_timezone?)``. The plugins' own tables, ``[plugins.NAME]``, are kept as
    ``config.plugins["NAME"]`` and validated when the plugins are loaded, by the model
    each plugin declares (hook ``plugin_config_model``, :func:`validate_plugin_table`),
    with errors of the same form: ``config.toml: [plugins.homes] homs: unknown key``.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import platformdirs
import pydantic
from pydantic import BaseModel

from crm_core.config_models import ConfigFile
from crm_core.errors import ConfigError
from crm_core.i18n import N_
from crm_core.vocabulary import Term, Vocabulary

__all__ = [
    "APP_NAME",
    "IMPORT_KEYS",
    "VOCABULARIES",
    "Config",
    "ConfigError",
    "ConfigFile",
    "ImportLimits",
    "Term",
    "Vocabulary",
    "load_config",
    "unknown_plugin_tables",
    "user_config_path",
    "validate_plugin_table",
]

APP_NAME = "tongxin"
VOCABULARIES = ("categories", "parties", "sectors", "committees", "regions")
# The arrays of tables merged entry by entry, matched by ``code``.
KEYED = (*VOCABULARIES, "series")
DEFAULTS_NAME = "crm_config/defaults.toml"


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


@dataclass
class Config:
    """Everything read from configuration: settings, vocabularies and every section.

    ``sections`` is the validated configuration (``config.sections.feed.public_url``;
    ``config.section("feed")`` gives a table as a dict); ``plugins`` the plugins' own
    tables by plugin name; ``raw`` the office's file as it was read."""

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
    sections: ConfigFile = field(default_factory=ConfigFile)
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        """The office's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def categories(self) -> Vocabulary:
        """Contact categories, with cadence in ``extra`` (ideal_days, max_days)."""
        return self.vocab["categories"]

    def section(self, name: str) -> dict[str, Any]:
        """The table ``[name]`` (merged and validated, defaults filled in) as a dict."""
        return self.sections.section(name)


def user_config_path() -> Path:
    """Where the office's config file is looked for."""
    env = os.environ.get("TONGXIN_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


class Layer(NamedTuple):
    """One file of the configuration: its name in messages and what it holds."""

    name: str
    data: dict[str, Any]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except OSError as exc:
        raise ConfigError.of(
            N_("{path}: cannot be read: {error}"), path=path, error=exc.strerror or exc
        ) from exc


@functools.cache
def _parsed_defaults() -> dict[str, Any]:
    text = resources.files("crm_config").joinpath("defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


def _defaults() -> dict[str, Any]:
    # The shipped file cannot change while the program runs; a command read it three
    # times (~30 ms each). A copy each time, so no caller can change the defaults.
    return copy.deepcopy(_parsed_defaults())


# -- the merge rule --------------------------------------------------------------------


def merge(
    base: dict[str, Any], over: dict[str, Any], source: str, keyed: bool = True
) -> dict[str, Any]:
    """``over`` merged into ``base`` by the one rule of the module docstring (neither is
    changed). ``keyed``: this is the top level, where the vocabularies and series are
    arrays of tables matched by ``code``."""
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        if keyed and key in KEYED and _tables(value) and _tables(old):
            out[key] = _merge_entries(key, old or [], value, source)
        elif isinstance(value, dict) and isinstance(old, dict):
            out[key] = merge(old, value, source, keyed=False)
        else:
            out[key] = value
    return out


def _tables(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(e, dict) for e in value))


def _merge_entries(
    name: str, base: list[dict[str, Any]], override: list[dict[str, Any]], source: str
) -> list[dict[str, Any]]:
    merged = {e.get("code"): e for e in base}
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


# -- errors naming the file, the key and the value -------------------------------------

# What a value should have been, by pydantic's error type; each a whole msgid.
_REASONS = {
    "int_type": N_("{source}: {key} = {value}: not a whole number"),
    "int_from_float": N_("{source}: {key} = {value}: not a whole number"),
    "bool_type": N_("{source}: {key} = {value}: not true or false"),
    "string_type": N_("{source}: {key} = {value}: not a text (write it in quotes)"),
    "float_type": N_("{source}: {key} = {value}: not a number"),
    "list_type": N_("{source}: {key} = {value}: not a list [ … ]"),
    "dict_type": N_("{source}: {key} = {value}: not a table"),
    "model_type": N_("{source}: {key} = {value}: not a table"),
    "model_attributes_type": N_("{source}: {key} = {value}: not a table"),
    "greater_than_equal": N_("{source}: {key} = {value}: must be at least {ge}"),
    "greater_than": N_("{source}: {key} = {value}: must be more than {gt}"),
    "less_than_equal": N_("{source}: {key} = {value}: must be at most {le}"),
    "literal_error": N_("{source}: {key} = {value}: must be one of {expected}"),
    "string_too_short": N_("{source}: {key} = {value}: must not be empty"),
    "time_of_day": N_("{source}: {key} = {value}: not a time of day as HH:MM, e.g. 08:00"),
    "time_zone": N_("{source}: {key} = {value}: unknown time zone"),
    "dav_home": N_(
        "{source}: {key} = {value}: must hold {{user}} where the username goes, "
        "e.g. https://dav.zxyz.gov.cn/{{user}}/"
    ),
}
# Keys whose value may be one of several types, and what they take.
_UNIONS = {
    "start": N_(
        "{source}: {key} = {value}: not a date (2026-06-08) or a local time (2026-01-29T14:30:00)"
    ),
    "time": _REASONS["time_of_day"],
    "all_day_time": _REASONS["time_of_day"],
    "digest_time": _REASONS["time_of_day"],
    "urls": N_("{source}: {key} = {value}: not an address or a list of addresses"),
}
_UNKNOWN = N_("{source}: {key}: unknown key (did you mean {suggestion}?)")
_UNKNOWN_BARE = N_("{source}: {key}: unknown key (the keys here: {known})")
_MISSING = N_("{source}: {key}: missing (it is required)")
_INVALID = N_("{source}: {key} = {value}: not valid ({reason})")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "…"


def _walk(data: Any, loc: tuple[Any, ...]) -> Iterator[tuple[Any, Any]]:
    """The parts of ``loc`` that are keys and indexes of ``data``, with their values;
    it stops where ``loc`` leaves the data (a missing key, a union member's tag)."""
    for part in loc:
        in_table = isinstance(data, dict) and isinstance(part, str) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_table or in_list):
            return
        data = data[part]
        yield part, data


def _child(node: Any, part: Any) -> Any:
    if isinstance(node, dict) and isinstance(part, str):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _entries(node: Any, part: Any) -> bool:
    return isinstance(node, list) and isinstance(_child(node, part), dict)


def _key_text(data: dict[str, Any], path: tuple[Any, ...]) -> str:
    """The key at ``path`` as the file spells it: ``[settings] timezone``,
    ``[reminders.kinds] visit``, ``[[series]] code="x" start``, ``channels[2]``, and a
    table as ``[feed]``."""
    header: list[str] = []
    entry, key = "", ""
    node: Any = data
    for i, part in enumerate(path):
        child = _child(node, part)
        more = i < len(path) - 1
        if isinstance(part, int) and isinstance(child, dict) and not key:
            code = json.dumps(child.get("code", part + 1), ensure_ascii=False)
            entry, header = f"[[{'.'.join(header)}]] code={code}", []
        elif isinstance(part, int):
            key += f"[{part + 1}]"
        elif not key and more and (isinstance(child, dict) or _entries(child, path[i + 1])):
            header.append(part)  # a table, or an array of tables
        else:
            key += f".{part}" if key else part
        node = child
    if isinstance(node, dict) and key and "[" not in key and "." not in key:
        header, key = [*header, key], ""  # the key names a table
    table = f"[{'.'.join(header)}]" if header else ""
    return " ".join(p for p in (entry, table, key) if p) or "?"


def _origin(layers: list[Layer], data: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """The file the value at ``loc`` of the merged ``data`` came from: the last layer
    that holds the longest part of the way to it (array entries matched by code)."""
    best, depth = layers[0].name, -1
    for layer in layers:
        node: Any = layer.data
        merged: Any = data
        n = 0
        for part in loc:
            if isinstance(part, int) and isinstance(merged, list) and isinstance(node, list):
                merged = merged[part] if part < len(merged) else None
                code = merged.get("code") if isinstance(merged, dict) else None
                same = [e for e in node if isinstance(e, dict) and e.get("code") == code]
                if code is not None and same:
                    node = same[-1]
                elif code is None and part < len(node):
                    node = node[part]
                else:
                    break
            elif isinstance(part, str) and isinstance(node, dict) and part in node:
                node = node[part]
                merged = merged.get(part) if isinstance(merged, dict) else None
            else:
                break
            n += 1
        if n >= depth:
            best, depth = layer.name, n
    return best


def _known_keys(loc: tuple[Any, ...], root: type[BaseModel] = ConfigFile) -> list[str]:
    """The keys the table at ``loc`` may hold (for "did you mean"); ``root`` is the
    model of the top table (a plugin's model for ``[plugins.NAME]``, whose ``loc`` then
    starts inside it)."""
    model: type[BaseModel] = root
    keyed = False  # the part is a key of a table of tables ([duplicates.rules.CODE])
    for part in loc:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        fields = {f.alias or name: f for name, f in model.model_fields.items()}
        found = fields.get(part)
        inner = _model_in(found.annotation) if found else None
        if inner is None:
            return []
        keyed = found is not None and getattr(found.annotation, "__origin__", None) is dict
        model = inner
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        inner = _model_in(arg)
        if inner is not None:
            return inner
    return None


def _error(
    layers: list[Layer],
    data: dict[str, Any],
    err: Any,
    root: tuple[type[BaseModel], int] = (ConfigFile, 0),
) -> ConfigError:
    """One pydantic error (a dict of ``ValidationError.errors()``) as a ConfigError;
    ``root`` is the model the error's ``loc`` is checked against, below how many parts
    of ``loc`` (a plugin's model under ``("plugins", NAME)``)."""
    loc = tuple(err["loc"])
    walked = list(_walk(data, loc))
    path = tuple(p for p, _v in walked)
    kind = err["type"]
    rest = loc[len(path) :]
    if kind == "missing" and rest:
        path, value = (*path, rest[0]), None
    else:
        value = walked[-1][1] if walked else err.get("input")
    where = _key_text(data, path)
    source = _origin(layers, data, path)
    if kind == "extra_forbidden":
        known = _known_keys(path[root[1] : -1], root[0])
        near = difflib.get_close_matches(str(path[-1]), known, n=1)
        if near:
            return ConfigError.of(_UNKNOWN, source=source, key=where, suggestion=near[0])
        return ConfigError.of(_UNKNOWN_BARE, source=source, key=where, known=", ".join(known))
    if kind == "missing":
        return ConfigError.of(_MISSING, source=source, key=where)
    names = [p for p in path if isinstance(p, str)]
    ctx = {k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, (int, float, str))}
    if rest and names and (names[-1] in _UNIONS or names[-2:-1] == ["urls"]):
        template = _UNIONS.get(names[-1], _UNIONS["urls"])
    else:
        template = _REASONS.get(kind, _INVALID)
    params = {"ge": "", "gt": "", "le": "", "expected": "", **ctx, "reason": err.get("msg")}
    return ConfigError.of(template, source=source, key=where, value=_shown(value), **params)


def _plugin_tables(data: dict[str, Any], layers: list[Layer]) -> dict[str, dict[str, Any]]:
    """Take the plugins' own tables, ``[plugins.NAME]``, out of ``[plugins]``."""
    section = data.get("plugins")
    if not isinstance(section, dict):
        return {}
    known = {"disabled", "folders"}
    tables: dict[str, dict[str, Any]] = {}
    for key, value in list(section.items()):
        if key in known:
            continue
        if not isinstance(value, dict):
            err = {"type": "extra_forbidden", "loc": ("plugins", key), "input": value}
            raise _error(layers, data, err)
        tables[key] = value
    data["plugins"] = {k: v for k, v in section.items() if k in known}
    return tables


def validate(layers: list[Layer]) -> tuple[ConfigFile, dict[str, Any], dict[str, dict[str, Any]]]:
    """Merge ``layers`` (the defaults first) by the one rule and validate the result:
    the sections, the merged data, and the plugins' own tables."""
    data: dict[str, Any] = {}
    for layer in layers:
        data = merge(data, layer.data, layer.name)
    for name in KEYED:  # a default entry may be off from the start, too
        if isinstance(data.get(name), list):
            data[name] = [
                e for e in data[name] if not (isinstance(e, dict) and e.get("enabled") is False)
            ]
    plugins = _plugin_tables(data, layers)
    try:
        sections = ConfigFile.model_validate(data)
    except pydantic.ValidationError as exc:
        raise _error(layers, data, exc.errors()[0]) from None
    return sections, data, plugins


# -- the plugins' own tables -------------------------------------------------------------

_NO_PLUGIN = N_(
    "{source}: [plugins.{name}]: no plugin of that name is loaded (not installed or "
    "disabled); the table is ignored"
)


def _layers_of(config: Config) -> list[Layer]:
    source = str(config.source) if config.source is not None else str(user_config_path())
    return [Layer(DEFAULTS_NAME, _defaults()), Layer(source, config.raw)]


def validate_plugin_table(config: Config, name: str, model: type[BaseModel]) -> BaseModel:
    """The table ``[plugins.NAME]`` of ``config`` validated by the plugin's ``model``
    (empty when the office has none, so the model's defaults apply).

    Unknown keys are refused whatever the model's own ``extra`` setting says (a typo
    must never be a setting silently ignored); a refused value is a
    :class:`ConfigError` naming the file, ``[plugins.NAME] key`` and the value, in the
    words of the core's own sections."""
    table = config.plugins.get(name, {})
    strict: type[BaseModel] = type(
        model.__name__, (model,), {"model_config": {**model.model_config, "extra": "forbid"}}
    )
    data = {"plugins": {name: table}}
    try:
        return strict.model_validate(table)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        err: dict[str, Any] = {**first, "loc": ("plugins", name, *tuple(first["loc"]))}
        raise _error(_layers_of(config), data, err, root=(model, 2)) from None


def unknown_plugin_tables(config: Config, loaded: set[str]) -> list[str]:
    """Warnings (in the user's language) for the tables ``[plugins.NAME]`` whose plugin
    is not in ``loaded``: such a table is ignored, not an error, since one config file
    often serves desks with different plugins installed."""
    layers = _layers_of(config)
    return [
        ConfigError.of(_NO_PLUGIN, source=layers[-1].name, name=name).text
        for name in sorted(config.plugins)
        if name not in loaded
    ]


def _term(entry: BaseModel) -> Term:
    values = entry.model_dump(exclude_unset=True)
    extra = {k: v for k, v in values.items() if k not in {"code", "zh", "en", "enabled"}}
    return Term(values["code"], values["zh"], values.get("en") or values["code"], extra)


def load_config(path: Path | None = None) -> Config:
    """Read the defaults and the office's file (``path``, or the usual place if it
    exists), merge and validate them (see the module docstring)."""
    source = path or user_config_path()
    user: dict[str, Any] = {}
    if source.is_file() or (path is not None and source.exists()):
        user = _read_toml(source)
    elif path is not None:
        raise ConfigError.of(N_("config file not found: {path}"), path=path)
    layers = [Layer(DEFAULTS_NAME, _defaults()), Layer(str(source), user)]
    sections, data, plugins = validate(layers)
    vocab = {
        name: Vocabulary(name, [_term(e) for e in getattr(sections, name)]) for name in VOCABULARIES
    }
    settings = sections.settings
    timezone = os.environ.get("TONGXIN_TZ") or settings.timezone
    try:
        ZoneInfo(timezone)
    except Exception as exc:
        raise ConfigError.of(
            N_("TONGXIN_TZ = {value!r}: unknown time zone"), value=timezone
        ) from exc
    limits = sections.import_
    return Config(
        db_url=os.environ.get("TONGXIN_DB") or settings.db,
        timezone=timezone,
        language=os.environ.get("TONGXIN_LANG") or settings.language,
        plugins_disabled=list(sections.plugins.disabled),
        plugin_folders=[Path(p).expanduser() for p in sections.plugins.folders],
        vocab=vocab,
        series=[dict(e) for e in data.get("series", [])],
        follow_up_days=settings.follow_up_days,
        source=source if source.exists() else None,
        raw=user,
        import_limits=ImportLimits(**limits.model_dump(exclude={"mappings"})),
        sections=sections,
        plugins=plugins,
    )
