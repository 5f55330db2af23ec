"""Answering the unknown values of a read sheet (:mod:`crm_core.roster.unknowns`): list
them once each, take the choices, write the config file (not in a dry run) and read the
rows that carried them again."""

from __future__ import annotations

from pathlib import Path

from crm_core.config import Term, user_config_path
from crm_core.config_writer import NewTerm, SavedChoice, write_import_choices
from crm_core.roster.closest import value_key
from crm_core.roster.planner_read import _Reader, _Row
from crm_core.roster.unknowns import (
    VOCAB_FIELDS,
    Choice,
    UnknownPolicy,
    UnknownValue,
    ValueMap,
    add_choice,
    resolve_value_maps,
    saved_choice,
    suggest,
)
from crm_core.unit import Unit


def vocab_columns(reader: _Reader) -> dict[str, str]:
    """Header key and field name -> field, for the sheet's vocabulary columns."""
    out: dict[str, str] = {}
    for c in reader.report.columns:
        if c.field in VOCAB_FIELDS:
            out.setdefault(value_key(c.header), c.field)
            out.setdefault(c.field, c.field)
            out.setdefault(VOCAB_FIELDS[c.field], c.field)
    return out


def settle(reader: _Reader, rows: list[_Row], policy: UnknownPolicy, dry_run: bool) -> list[_Row]:
    """The rows, those carrying unknown values read again with the choices made (rows
    whose values got no answer keep ``unknown``); the values are in
    ``reader.report.unknown_values``."""
    explicit = resolve_value_maps(policy.value_maps, vocab_columns(reader), reader.vocabs)
    pending = [r for r in rows if r.unknown]
    if not pending:
        return rows
    found: dict[tuple[str, str], UnknownValue] = {}
    for r in pending:
        seen: set[tuple[str, str]] = set()
        for f, header, items in r.unknown or ():
            for item in items:
                uv = UnknownValue(f, header, item)
                uv = found.setdefault(uv.key, uv)
                if uv.key not in seen:
                    uv.rows += 1
                    seen.add(uv.key)
    unit = reader.unit
    mappings = unit.config.sections.import_.mappings
    taken: set[str] = set()
    terms: list[NewTerm] = []
    saved: list[SavedChoice] = []
    for uv in found.values():
        vocab = reader.vocabs[uv.field]
        uv.suggestions = suggest(uv.value, vocab)
        uv.choice = explicit.get(uv.key) or saved_choice(
            mappings, policy.source, uv.field, uv.value, vocab
        )
        if uv.choice is None and policy.add_missing:
            uv.choice = add_choice(uv.value, vocab, taken)
        elif uv.choice is None and policy.ask is not None and not dry_run:
            uv.choice = policy.ask(uv)
            if uv.choice is not None and uv.choice.action == "add" and not uv.choice.codes:
                uv.choice = add_choice(uv.value, vocab, taken)
            elif uv.choice is not None and uv.choice.action == "map":
                # typed on a prompt: codes or labels, checked as --map's are
                given = ValueMap(uv.field, uv.value, uv.choice.codes)
                checked = resolve_value_maps([given], {uv.field: uv.field}, reader.vocabs)
                uv.choice = Choice("map", checked[uv.key].codes, "asked")
        if uv.choice is None:
            continue
        reader.choices[uv.key] = uv.choice
        if uv.choice.action == "add":
            terms.append(NewTerm(VOCAB_FIELDS[uv.field], uv.choice.codes[0], uv.value))
        elif uv.choice.origin != "saved":
            saved.append(SavedChoice(policy.source, uv.field, uv.value, uv.choice.codes))
            if not dry_run:  # a run again (after a concurrent write) finds it saved
                table = mappings.setdefault(policy.source, {}).setdefault(uv.field, {})  # type: ignore[arg-type]
                table[uv.value] = list(uv.choice.codes)
    reader.report.unknown_values = sorted(found.values(), key=lambda u: (u.column, -u.rows))
    if not dry_run and (terms or saved):
        path = unit.config.source or user_config_path()
        write_import_choices(Path(path), terms, saved)
        reader.report.config_written = str(path)
        for t in terms:
            _register(unit, t)
    # The column caches hold the unknown values' problems: read those rows again.
    for cache in reader._caches.values():
        cache.clear()
    return [reader._parse(r.row, r.cells or [], r.raw) if r.unknown else r for r in rows]


def _register(unit: Unit, term: NewTerm) -> None:
    """The new entry, known to this process too (the services check codes against it)."""
    new = Term(term.code, term.zh, term.code)
    unit.config.vocab[term.vocabulary].add(new)
    if term.vocabulary == "categories":
        unit.app.categories.add(new)


__all__ = ["Choice", "settle"]
