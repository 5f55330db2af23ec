"""Writing to the office's config file: the vocabulary entries and saved import mappings
an import adds (:mod:`crm_core.roster.unknowns`).

The file is the office's own, often annotated by hand: it is edited with tomlkit, which
keeps its comments, order and layout, and only the new entries are appended. Values
come from spreadsheets (anything at all, quotes and line breaks included), so they are
never pasted into TOML text: tomlkit writes them as escaped strings, and the new text
is read back and validated like any config file before it replaces the old one (a
temporary file beside it, then an atomic rename), so a failed write leaves the file as
it was.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from crm_core.errors import ConfigError
from crm_core.i18n import N_

__all__ = ["NewTerm", "SavedChoice", "new_code", "write_import_choices"]

_HEADER = (
    "# tongxin (同心): this office's configuration. See README, 配置 / Configuration.\n"
    "# Entries below were added by `tongxin import` (unknown values of a roster).\n"
)


@dataclass(frozen=True)
class NewTerm:
    """A vocabulary entry to append: ``[[vocabulary]] code, zh``."""

    vocabulary: str  # "regions", "committees", …
    code: str
    zh: str


@dataclass(frozen=True)
class SavedChoice:
    """One saved import mapping: in ``source``, ``value`` of ``field`` stands for
    ``codes`` (none: leave those rows out)."""

    source: str
    field: str
    value: str
    codes: tuple[str, ...]


def new_code(label: str, taken: Iterable[str]) -> str:
    """A code for a new entry, from the pinyin of its label (经济技术开发区 ->
    ``jingji_jishu_kaifaqu``-like, lower-case ASCII), not one of ``taken``."""
    # Imported here: pypinyin's phrase dictionary costs ~0.3 s, and every `tongxin`
    # command imports this module (through the import commands) but few write codes.
    from pypinyin import lazy_pinyin  # type: ignore[import-untyped, unused-ignore]

    words = [re.sub(r"[^a-z0-9]+", "", w.lower()) for w in lazy_pinyin(label)]
    base = "_".join(w for w in words if w)[:40].strip("_") or "entry"
    used = set(taken)
    code, n = base, 2
    while code in used:
        code, n = f"{base}_{n}", n + 1
    return code


def write_import_choices(
    path: Path, terms: Iterable[NewTerm] = (), choices: Iterable[SavedChoice] = ()
) -> None:
    """Append ``terms`` and ``choices`` to the config file at ``path`` (created if
    missing), keeping everything already in it; raises :class:`ConfigError` (and leaves
    the file alone) if the result would not be a valid config file."""
    terms, choices = list(terms), list(choices)
    if not terms and not choices:
        return
    try:
        text = path.read_text("utf-8") if path.exists() else _HEADER
        doc = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
        raise ConfigError.of(
            N_("{path}: cannot be updated: {error}"), path=path, error=exc
        ) from exc
    for term in terms:
        aot = doc.get(term.vocabulary)
        if aot is None:
            aot = tomlkit.aot()
            doc.append(term.vocabulary, aot)
        if not isinstance(aot, AoT):
            raise ConfigError.of(
                N_("{path}: [[{name}]] is not a list of entries; add {code} by hand"),
                path=path,
                name=term.vocabulary,
                code=term.code,
            )
        entry = tomlkit.table()
        entry.add("code", term.code)
        entry.add("zh", term.zh)
        aot.append(entry)
    for choice in choices:
        table = _table(doc, ("import", "mappings", choice.source, choice.field), path)
        table[choice.value] = list(choice.codes)
    new_text = tomlkit.dumps(doc)
    _check(new_text, terms, choices, path)
    _replace(path, new_text)


def _table(doc: Any, keys: tuple[str, ...], path: Path) -> Table:
    node = doc
    for key in keys:
        child = node.get(key)
        if child is None:
            child = tomlkit.table(is_super_table=key != keys[-1])
            node[key] = child
        if not isinstance(child, Table):
            raise ConfigError.of(
                N_("{path}: [{key}] is not a table; the import mapping cannot be saved"),
                path=path,
                key=".".join(keys[: keys.index(key) + 1]),
            )
        node = child
    assert isinstance(node, Table)
    return node


def _check(text: str, terms: list[NewTerm], choices: list[SavedChoice], path: Path) -> None:
    """The new text reads back as TOML holding exactly the values written, and is a
    valid config file (validated by the loader)."""
    from crm_core.config import load_config

    data = tomllib.loads(text)
    for term in terms:
        assert any(
            e.get("code") == term.code and e.get("zh") == term.zh
            for e in data.get(term.vocabulary, [])
        ), term
    for c in choices:
        got = data["import"]["mappings"][c.source][c.field][c.value]
        assert got == list(c.codes), c
    fd, tmp = tempfile.mkstemp(suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        load_config(Path(tmp))  # raises ConfigError naming the problem
    finally:
        os.unlink(tmp)


def _replace(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
