"""Finding duplicates: pairs of records that may be the same person, by the rules of
``[duplicates.rules]`` (modelled on CiviCRM's dedupe rules), each with its reason and
score; and remembering pairs a reviewer said are two people ("not a duplicate").

Never all pairs: each rule's records are first grouped in SQL on a blocking key (the
pinyin of the name for the rules that compare names, the mobile for the others, plus
the birth month where the rule compares it), and only records sharing a key with at
least one other are read; inside a block, names are grouped again in Python (written
alike, folded alike, or one character apart). County staff see only pairs of their
region's people (:func:`crm_core.authz.person_scope` in the SQL).
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, and_, func, select
from sqlmodel import col

from crm_core import authz
from crm_core.config import Config
from crm_core.config_models import DuplicateRule
from crm_core.dedupe_models import NotDuplicate
from crm_core.errors import ValidationError
from crm_core.i18n import N_
from crm_core.models import AuditLog, Person, PersonStatus
from crm_core.services.contacts_search import get_person
from crm_core.unit import Unit


@dataclass(frozen=True)
class Pair:
    """Two records that may be one person: ``a`` the one made first (the one to keep,
    unless the reviewer decides otherwise), the best rule that pairs them, its level
    and score, and every rule that does (best first)."""

    a: uuid.UUID
    b: uuid.UUID
    a_name: str
    b_name: str
    rule: str
    level: str
    score: int
    rules: tuple[str, ...] = field(default=())


def rules_of_config(config: Config) -> dict[str, DuplicateRule]:
    """The enabled rules of a configuration, by code."""
    rules = config.sections.duplicates.rules
    return {code: rule for code, rule in rules.items() if rule.enabled}


def rules_of(unit: Unit) -> dict[str, DuplicateRule]:
    """The enabled rules of the unit's configuration, by code."""
    return rules_of_config(unit.config)


@functools.lru_cache(maxsize=65_536)  # names and employers repeat across a table
def folded(text: str | None) -> str:
    """A name or an employer as the rules compare them loosely: full-width folded to
    half-width (NFKC), case folded, spaces and middle dots removed."""
    if not text:
        return ""
    norm = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in norm if not ch.isspace() and ch not in "·・•‧.")


# What the search reads of each person (never whole records: most of a pinyin block's
# rows are compared and dropped).
PAIR_COLUMNS = (
    Person.id,
    Person.name,
    Person.name_pinyin,
    Person.birth_year,
    Person.birth_month,
    Person.mobile,
    Person.employer,
    Person.created_at,
)


def _block_columns(rule: DuplicateRule) -> tuple[Any, ...]:
    cols: list[Any] = [] if rule.name == "any" else [Person.name_pinyin]
    if "mobile" in rule.same:
        cols.append(Person.mobile)
    if "birth" in rule.same:
        cols += [Person.birth_year, Person.birth_month]
    return tuple(col(c) for c in cols)


def _blocks(unit: Unit, columns: tuple[Any, ...]) -> Iterator[list[Row[Any]]]:
    """The records sharing a blocking key with at least one other (the key's columns
    all known), one list per key; merged records and others' counties left out."""
    scope = [col(Person.status) != PersonStatus.merged, *authz.person_scope(unit)]
    keys = (
        select(*columns)
        .where(*scope, *(c.is_not(None) for c in columns))
        .group_by(*columns)
        .having(func.count() > 1)
        .subquery()
    )
    stmt = (
        select(*(col(c) for c in PAIR_COLUMNS))
        .join(keys, and_(*(c == keys.c[c.key] for c in columns)))
        .where(*scope)
        .order_by(*columns, col(Person.created_at), col(Person.id))
    )
    current: list[Row[Any]] = []
    key: tuple[Any, ...] | None = None
    for row in unit.session.execute(stmt):
        row_key = tuple(getattr(row, c.key) for c in columns)
        if row_key != key and current:
            yield current
            current = []
        key = row_key
        current.append(row)
    if current:
        yield current


def _one_apart(names: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Pairs of distinct names of one length differing in exactly one character."""
    by_mask: dict[tuple[int, str], set[str]] = defaultdict(set)
    for name in names:
        for i in range(len(name)):
            by_mask[(i, name[:i] + name[i + 1 :])].add(name)
    for group in by_mask.values():
        yield from itertools.combinations(sorted(group), 2)


def name_pairs(rule: DuplicateRule, block: list[Row[Any]]) -> Iterator[tuple[Row[Any], Row[Any]]]:
    """The pairs of a block (rows of :data:`PAIR_COLUMNS`) whose names compare as the
    rule's ``name`` asks."""
    if rule.name == "any":
        yield from itertools.combinations(block, 2)
        return
    if rule.name == "same":
        by_name: dict[str, list[Row[Any]]] = defaultdict(list)
        for row in block:
            by_name[row.name].append(row)
        for rows in by_name.values():
            yield from itertools.combinations(rows, 2)
        return
    by_folded: dict[str, list[Row[Any]]] = defaultdict(list)
    for row in block:
        by_folded[folded(row.name)].append(row)
    if rule.name == "folded":  # alike once folded, written otherwise
        for rows in by_folded.values():
            yield from ((x, y) for x, y in itertools.combinations(rows, 2) if x.name != y.name)
        return
    # "sound": the same pinyin (the block), one character written otherwise (张伟/章伟).
    for one, other in _one_apart(by_folded):
        yield from itertools.product(by_folded[one], by_folded[other])


def _value(row: Row[Any], name: str) -> Any:
    if name == "birth":
        return None if row.birth_month is None else (row.birth_year, row.birth_month)
    return row.mobile or None if name == "mobile" else folded(row.employer) or None


def _partitions(rule: DuplicateRule, block: list[Row[Any]]) -> Iterator[list[Row[Any]]]:
    # The block split by the values of the rule's ``same`` fields (rows lacking one left
    # out), so only rows that may agree are paired at all.
    if not rule.same:
        yield block
        return
    groups: dict[tuple[Any, ...], list[Row[Any]]] = defaultdict(list)
    for row in block:
        key = tuple(_value(row, name) for name in rule.same)
        if None not in key:
            groups[key].append(row)
    yield from (rows for rows in groups.values() if len(rows) > 1)


def fields_agree(rule: DuplicateRule, x: Row[Any], y: Row[Any]) -> bool:
    """Whether two rows hold the rule's ``same`` fields alike and none of its
    ``conflicts`` differently."""
    for name in rule.conflicts:
        one, other = _value(x, name), _value(y, name)
        if one is not None and other is not None and one != other:
            return False
    for name in rule.same:
        one = _value(x, name)
        if one is None or one != _value(y, name):
            return False
    return True


def _pair_key(one: uuid.UUID, other: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    # Stored smaller id first: the order the database compares them in (str of a UUID
    # sorts as its bytes do, on both backends).
    return (one, other) if str(one) < str(other) else (other, one)


def _checked_rules(unit: Unit, only: Sequence[str] | None) -> dict[str, DuplicateRule]:
    rules = rules_of(unit)
    if not only:
        return rules
    unknown = [code for code in only if code not in rules]
    if unknown:
        raise ValidationError.one(
            "rule", unknown[0], N_("no such rule (the rules: {known})"), known=", ".join(rules)
        )
    return {code: rules[code] for code in only}


def find_duplicates(
    unit: Unit, *, rules: Sequence[str] | None = None, limit: int | None = None
) -> list[Pair]:
    """Pairs of records that may be one person, best score first, by the enabled rules
    (or only the codes in ``rules``: an unknown one is a ValidationError). Pairs marked
    "not a duplicate" and merged records are left out; county staff get only pairs
    inside their region. ``limit`` caps how many are returned."""
    chosen = _checked_rules(unit, rules)
    by_columns: dict[tuple[Any, ...], list[tuple[str, DuplicateRule]]] = defaultdict(list)
    for code, rule in chosen.items():
        by_columns[tuple(c.key for c in _block_columns(rule))].append((code, rule))
    found: dict[tuple[uuid.UUID, uuid.UUID], list[tuple[int, str, str]]] = defaultdict(list)
    rows: dict[uuid.UUID, Row[Any]] = {}
    for group in by_columns.values():
        columns = _block_columns(group[0][1])
        for block in _blocks(unit, columns):
            for code, rule in group:
                parts = _partitions(rule, block)
                for x, y in (xy for part in parts for xy in name_pairs(rule, part)):
                    if fields_agree(rule, x, y):
                        rows[x.id], rows[y.id] = x, y
                        found[_pair_key(x.id, y.id)].append((rule.score, rule.level, code))
    rejected = not_duplicates(unit, {pid for key in found for pid in key})
    pairs = []
    for key, hits in found.items():
        if key in rejected:
            continue
        hits.sort(key=lambda h: (-h[0], h[2]))
        a, b = sorted((rows[key[0]], rows[key[1]]), key=lambda r: (r.created_at, str(r.id)))
        score, level, code = hits[0]
        codes = tuple(dict.fromkeys(h[2] for h in hits))
        pairs.append(Pair(a.id, b.id, a.name, b.name, code, level, score, codes))
    pairs.sort(key=lambda p: (-p.score, p.a_name, str(p.a), str(p.b)))
    return pairs[:limit] if limit is not None else pairs


def not_duplicates(
    unit: Unit, people: set[uuid.UUID] | None = None
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """The pairs marked "not a duplicate" (smaller id first), of ``people`` if given."""
    stmt = select(col(NotDuplicate.person_a), col(NotDuplicate.person_b))
    if people is not None and len(people) < 10_000:
        stmt = stmt.where(col(NotDuplicate.person_a).in_(people))
    return {(a, b) for a, b in unit.session.execute(stmt)}


def mark_not_duplicate(unit: Unit, one: uuid.UUID | str, other: uuid.UUID | str) -> bool:
    """Remember that these two records are two people: the pair is not offered again.
    Both must be visible to the unit (county staff: of their region). Audited. Returns
    False when the pair was marked already."""
    a, b = get_person(unit, one), get_person(unit, other)
    if a.id == b.id:
        raise ValidationError.one("b", str(other), N_("the same record twice"))
    low, high = _pair_key(a.id, b.id)
    if unit.session.get(NotDuplicate, (low, high)) is not None:
        return False
    unit.session.add(
        NotDuplicate(person_a=low, person_b=high, account_id=unit.actor.id if unit.actor else None)
    )
    unit.session.add(
        AuditLog(
            actor_id=unit.actor.id if unit.actor else None,
            actor=unit.actor_name,
            action="not_duplicate",
            entity="person",
            entity_id=str(low),
            after={"a": str(low), "b": str(high)},
        )
    )
    unit.session.flush()
    return True


def pair_json(pair: Pair) -> dict[str, Any]:
    """The stable JSON form of a pair (docs/cli-json.md)."""
    return {
        "a": str(pair.a),
        "b": str(pair.b),
        "a_name": pair.a_name,
        "b_name": pair.b_name,
        "rule": pair.rule,
        "level": pair.level,
        "score": pair.score,
        "rules": list(pair.rules),
    }
