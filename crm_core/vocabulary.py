"""Vocabularies (categories, parties, sectors, committees, regions): ordered terms, and
the one resolver that reads a value as people type it.

:meth:`Vocabulary.resolve` is what every service asks (contacts add and edit, bulk
edits, the filters of search, list, export and groups, the roster import): a code, the
Chinese or English label, or an alias of config (``aliases = [...]`` on an entry: the
older and merged names, 经开区 for 经济技术开发区), compared exactly first, then with
width, case, spaces and dashes ignored (``蜀冈—瘦西湖`` as ``蜀冈-瘦西湖``). Nothing
approximate: the import's close readings (a membership suffix dropped, an abbreviation)
are its own and are reported (:class:`crm_core.roster.cells.Resolver`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Term", "Vocabulary", "term_key"]


@dataclass(frozen=True)
class Term:
    """One entry of a vocabulary: a stable code and its Chinese and English labels
    (``extra`` holds the rest of its config entry: ``aliases``, a category's cadence)."""

    code: str
    zh: str
    en: str
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def label(self, lang: str) -> str:
        """The label in ``lang`` ("zh" or "en")."""
        return self.en if lang == "en" else self.zh

    @property
    def aliases(self) -> tuple[str, ...]:
        """The other spellings config gives this entry."""
        return tuple(str(a) for a in self.extra.get("aliases") or ())


_LOOSE = re.compile(r"[\s\-–—·・()（）]+")


def term_key(text: str) -> str:
    """``text`` as values are compared loosely: NFKC, case folded, without spaces,
    dashes, middle dots and brackets."""
    return _LOOSE.sub("", unicodedata.normalize("NFKC", text).casefold())


class Vocabulary:
    """An ordered set of terms, looked up by code, label or alias."""

    def __init__(self, name: str, terms: list[Term]) -> None:
        self.name = name
        self._by_code: dict[str, Term] = {}
        self._by_label: dict[str, Term] = {}
        self._by_alias: dict[str, Term] = {}
        self._by_key: dict[str, Term] = {}
        for t in terms:
            self._by_code[t.code] = t
        for t in terms:
            self._index(t)

    def _index(self, t: Term) -> None:
        self._by_label.setdefault(t.zh, t)
        self._by_label.setdefault(t.en.casefold(), t)
        for alias in t.aliases:
            self._by_alias.setdefault(alias.strip(), t)
        for spelling in (t.code, t.zh, t.en, *t.aliases):
            if key := term_key(spelling):
                self._by_key.setdefault(key, t)

    def __iter__(self) -> Iterator[Term]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Term | None:
        """The term with this code, or None."""
        return self._by_code.get(code)

    def resolve(self, value: str) -> Term | None:
        """The term ``value`` names: its code, Chinese or English label or an alias,
        exactly, else with width, case, spaces and dashes ignored; None if none does."""
        value = value.strip()
        return (
            self._by_code.get(value)
            or self._by_label.get(value)
            or self._by_label.get(value.casefold())
            or self._by_alias.get(value)
            or self._by_key.get(term_key(value))
        )

    def add(self, term: Term) -> None:
        """Add or replace a term (plugins registering categories use this)."""
        self._by_code[term.code] = term
        self._index(term)

    def codes(self) -> list[str]:
        """Every code, in order."""
        return list(self._by_code)
