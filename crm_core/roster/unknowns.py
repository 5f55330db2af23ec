"""Values a roster holds that the configuration does not know: a question, not a refusal.

A region, committee, sector, party or category in the sheet that no entry of the
vocabulary reads as (code, label, alias, or the close readings of
:class:`~crm_core.roster.cells.Resolver`) makes an :class:`UnknownValue`: listed once,
with its column, how many rows carry it and the closest entries. Its rows are not bad;
they wait for a :class:`Choice`:

- ``add``: a new entry of the vocabulary (a code from the pinyin of the label, the label
  as the sheet spells it), written to the office's config file;
- ``map``: the value stands for one or more existing entries (民族宗教和港澳台侨委员会 ->
  民族宗教委员会 and 港澳台侨和外事委员会);
- ``leave_out``: those rows are not imported (deliberately: not an error).

The choices come, in this order, from the import's own ``value_maps`` (``--map
'COLUMN:VALUE=CODE,CODE'``), the saved import mapping of the source (``[import.mappings.
SOURCE.FIELD]`` in config, then the ``default`` source, where the shipped defaults keep
the merged forms), ``add_missing``, and the ``ask`` callback (a prompt, the TUI). Maps
and answers given now are saved in the office's config file, so next month's sheet from
the same source imports with no questions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any, Literal

from crm_core.config import Term, Vocabulary
from crm_core.config_writer import new_code
from crm_core.errors import ValidationError
from crm_core.i18n import N_, _
from crm_core.roster.cells import LeftOut, UnknownTerm
from crm_core.roster.closest import suggest, value_key

# Fields read against a vocabulary, and the vocabulary (config name) of each.
VOCAB_FIELDS = {
    "party": "parties",
    "sector": "sectors",
    "region": "regions",
    "categories": "categories",
    "committees": "committees",
}
SINGLE = ("party", "sector", "region")  # one code per person
DEFAULT_SOURCE = "default"
__all__ = [
    "Choice",
    "LeftOut",
    "UnknownPolicy",
    "UnknownTerm",
    "UnknownValue",
    "ValueMap",
    "suggest",
]

Action = Literal["add", "map", "leave_out"]


@dataclass(frozen=True)
class Choice:
    """What to do with the rows carrying an unknown value. ``origin``: ``map`` (given
    with the import), ``saved`` (the saved mapping), ``add_missing`` or ``asked``."""

    action: Action
    codes: tuple[str, ...] = ()
    origin: str = "asked"

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form."""
        return {"action": self.action, "codes": list(self.codes), "origin": self.origin}


@dataclass
class UnknownValue:
    """A value of the sheet the vocabulary does not know, listed once."""

    field: str  # party, sector, region, categories, committees
    column: str  # the header as in the sheet
    value: str
    rows: int = 0
    suggestions: list[Term] = _field(default_factory=list)
    choice: Choice | None = None

    @property
    def key(self) -> tuple[str, str]:
        """(field, the value as compared)."""
        return self.field, value_key(self.value)

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form (``tongxin import --json``: ``unknown_values``)."""
        return {
            "column": self.column,
            "field": self.field,
            "value": self.value,
            "rows": self.rows,
            "suggestions": [{"code": t.code, "label": t.zh} for t in self.suggestions],
            "choice": self.choice.as_json() if self.choice else None,
        }


@dataclass(frozen=True)
class ValueMap:
    """``--map 'COLUMN:VALUE=CODE[,CODE]'``: COLUMN a header of the sheet or a field name,
    each CODE a code or a label of the vocabulary; no codes (``=-``) leaves the rows out."""

    column: str
    value: str
    codes: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> ValueMap:
        """Read ``COLUMN:VALUE=CODE[,CODE]`` (or ``=-``); raises ValidationError."""
        left, sep, right = text.rpartition("=")
        column, colon, value = left.partition(":")
        if not sep or not colon or not column.strip() or not value.strip() or not right.strip():
            raise ValidationError.one(
                "--map", text, N_("write it as COLUMN:VALUE=CODE[,CODE] (or =- to leave out)")
            )
        codes = tuple(c.strip() for c in re.split(r"[,，、]", right) if c.strip())
        return cls(column.strip(), value.strip(), () if codes == ("-",) else codes)


Ask = Callable[[UnknownValue], Choice | None]


@dataclass
class UnknownPolicy:
    """How an import answers its unknown values (see the module docstring)."""

    add_missing: bool = False
    value_maps: list[ValueMap] = _field(default_factory=list)
    ask: Ask | None = None
    source: str = DEFAULT_SOURCE


def resolve_value_maps(
    maps: list[ValueMap],
    columns: dict[str, str],
    vocabs: dict[str, Vocabulary],
) -> dict[tuple[str, str], Choice]:
    """The ``--map`` value choices, checked: ``columns`` maps a header key and a field
    name to the field of that column. Raises ValidationError naming the map when the
    column holds no vocabulary or a code is no entry."""
    out: dict[tuple[str, str], Choice] = {}
    for m in maps:
        shown = f"{m.column}:{m.value}=" + (",".join(m.codes) or "-")
        f = columns.get(value_key(m.column))
        if f is None:
            raise ValidationError.one(
                "--map",
                shown,
                _("no column {column} holding parties, sectors, regions, categories or "
                  "committees in this sheet").format(column=m.column),
            )  # fmt: skip
        vocab = vocabs[f]
        codes: list[str] = []
        for given in m.codes:
            term = vocab.resolve(given)
            if term is None:
                raise ValidationError.one(
                    "--map",
                    shown,
                    _("{code} is not a code or label of the {what}; the codes are: "
                      "{codes}").format(code=given, what=_(VOCAB_LABELS[f]),
                                        codes=", ".join(vocab.codes())),
                )  # fmt: skip
            codes.append(term.code)
        if f in SINGLE and len(codes) > 1:
            raise ValidationError.one(
                "--map", shown, _("a person has one {what}: give one code").format(
                    what=_(SINGLE_LABELS[f]))
            )  # fmt: skip
        action: Action = "map" if codes else "leave_out"
        out[(f, value_key(m.value))] = Choice(action, tuple(dict.fromkeys(codes)), "map")
    return out


VOCAB_LABELS = {
    "party": N_("parties"),
    "sector": N_("sectors"),
    "region": N_("regions"),
    "categories": N_("categories"),
    "committees": N_("committees"),
}
SINGLE_LABELS = {"party": N_("party"), "sector": N_("sector"), "region": N_("region")}


def saved_choice(
    mappings: Mapping[str, Mapping[Any, Mapping[str, list[str]]]],
    source: str,
    f: str,
    value: str,
    vocab: Vocabulary,
) -> Choice | None:
    """The saved mapping for ``value`` of field ``f``: the source's, else the default
    source's; None if there is none or it names a code no longer in the vocabulary."""
    key = value_key(value)
    for src in dict.fromkeys((source, DEFAULT_SOURCE)):
        table = (mappings.get(src) or {}).get(f) or {}
        for saved, codes in table.items():
            if value_key(saved) == key:
                if not all(c in vocab for c in codes):
                    return None
                return Choice("map" if codes else "leave_out", tuple(codes), "saved")
    return None


def add_choice(value: str, vocab: Vocabulary, taken: set[str]) -> Choice:
    """``add``: a new code for ``value``, not one of the vocabulary's nor of ``taken``."""
    code = new_code(value, [*vocab.codes(), *taken])
    taken.add(code)
    return Choice("add", (code,), "add_missing")
