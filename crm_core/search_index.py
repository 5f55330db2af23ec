"""The substring-search index of people (``person_gram``), and the conditions that use it.

A substring search (``张``, ``建华``, ``扬州大学``, ``1381``) cannot use a b-tree on the
column, and trigram indexes (FTS5's trigram tokenizer, PostgreSQL's ``pg_trgm``) need
three characters, while Chinese names are searched by one or two. So each person's
searchable text is cut into grams kept in a table of its own, on both backends alike:

- every character and every pair of adjacent characters of the name, the employer and
  the title, case-folded (``张``, ``张三``, ``扬州``, ``州大``, ``大学`` ...);
- every run of three digits of each phone number in ``phone_digits``, marked ``#``
  (``#138``, ``#381`` ...): a phone search takes three digits or more.

A query's grams (the query itself when it is one character, else its pairs; a phone
query's runs of three) pick the candidates by index, and the search's own conditions
(``LIKE``) are then tested on those few rows only: the answer and its ranking are those
of the plain scan, the index only makes it smaller.

The index is kept in the same transaction as every write of a person: an ORM flush that
adds a person or changes one of those four columns re-indexes that person (add, edit,
merge, unmerge, anonymise, erase), bulk inserts (import, demo) write the grams beside the
rows, and deleting a person deletes its grams (``ON DELETE CASCADE``). Erasure leaves no
gram of the erased values behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, event, inspect, intersect, or_, select
from sqlalchemy.orm import Session, UOWTransaction
from sqlmodel import col

from crm_core.models import Person
from crm_core.search_models import PersonGram

TEXT_FIELDS = ("name", "employer", "title")
WATCHED = (*TEXT_FIELDS, "phone_digits")
PHONE_MARK = "#"
MAX_QUERY_GRAMS = 4  # more narrow a candidate set little, and each costs an index range
_CHUNK = 500


def text_grams(value: str | None) -> set[str]:
    """The grams of one text field: each character and each adjacent pair, case-folded."""
    if not value:
        return set()
    s = value.casefold()
    grams = set(s)
    grams.update(s[i : i + 2] for i in range(len(s) - 1))
    return grams


def phone_grams(phone_digits: str | None) -> set[str]:
    """The grams of ``person.phone_digits``: each run of three digits of each number."""
    grams: set[str] = set()
    for number in (phone_digits or "").split():
        grams.update(PHONE_MARK + number[i : i + 3] for i in range(len(number) - 2))
    return grams


def grams_of(
    name: str | None, employer: str | None, title: str | None, phone_digits: str | None
) -> set[str]:
    """Every gram a person with these values is found by."""
    grams = text_grams(name) | text_grams(employer) | text_grams(title)
    return grams | phone_grams(phone_digits)


def gram_rows(people: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """The ``person_gram`` rows of people given as column mappings (``id``, ``name``,
    ``employer``, ``title``, ``phone_digits``)."""
    for p in people:
        pid = p["id"]
        for gram in grams_of(p.get("name"), p.get("employer"), p.get("title"),
                             p.get("phone_digits")):  # fmt: skip
            yield {"gram": gram, "person_id": pid}


def index_new(conn: Connection, people: Sequence[Mapping[str, Any]]) -> None:
    """Write the grams of people just inserted (no grams of theirs exist yet)."""
    from crm_core.unit import insert_rows

    rows = list(gram_rows(people))
    if rows:
        insert_rows(conn, PersonGram.__table__, rows)  # type: ignore[attr-defined]


def reindex(conn: Connection, people: Sequence[Mapping[str, Any]]) -> None:
    """Replace the grams of these people (column mappings, as for :func:`gram_rows`)."""
    table = PersonGram.__table__  # type: ignore[attr-defined]
    ids = [p["id"] for p in people]
    for i in range(0, len(ids), _CHUNK):
        conn.execute(delete(table).where(table.c.person_id.in_(ids[i : i + _CHUNK])))
    rows = list(gram_rows(people))
    if rows:
        conn.execute(table.insert(), rows)


_DEFERRED = "search_index.deferred"  # Session.info key: people whose grams wait


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """Within this block, the flushes of ``session`` do not write grams person by person:
    the people they add or change are collected, and their grams are replaced at the end
    in one pass (a ``DELETE ... IN`` per 500 people and one ``executemany``), in the same
    transaction. For bulk work through the ORM (a roster import updating thousands of
    people one ``update_person`` at a time). Until the block ends, a substring search in
    the same transaction does not see those people's new grams. Nested blocks write at
    the end of the outermost one; an exception leaves the grams unwritten (the
    transaction is rolled back anyway)."""
    if _DEFERRED in session.info:  # nested: the outer block writes
        yield
        return
    pending: dict[Any, dict[str, Any]] = {}
    session.info[_DEFERRED] = pending
    try:
        yield
        session.flush()  # what is still pending is collected too
    finally:
        session.info.pop(_DEFERRED, None)
    if pending:
        reindex(session.connection(), list(pending.values()))


@event.listens_for(Session, "after_flush")
def _reindex_flushed(session: Session, _ctx: UOWTransaction) -> None:
    """Re-index the people this flush added or whose searchable columns it changed
    (the flush's lists and histories still hold what it wrote); inside :func:`batched`,
    only note them."""
    changed: list[Person] = [p for p in session.new if isinstance(p, Person)]
    for p in session.dirty:
        if isinstance(p, Person):
            attrs = inspect(p).attrs
            if any(attrs[k].history.has_changes() for k in WATCHED):
                changed.append(p)
    if not changed:
        return
    rows = [{"id": p.id, **{k: getattr(p, k) for k in WATCHED}} for p in changed]
    pending = session.info.get(_DEFERRED)
    if pending is not None:
        pending.update((r["id"], r) for r in rows)  # the latest values win
        return
    reindex(session.connection(), rows)


# ---------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------


def _pick(grams: list[str]) -> list[str]:
    if len(grams) <= MAX_QUERY_GRAMS:
        return grams
    step = (len(grams) - 1) / (MAX_QUERY_GRAMS - 1)  # first, last and evenly between
    return [grams[round(i * step)] for i in range(MAX_QUERY_GRAMS)]


def query_text_grams(q: str) -> list[str]:
    """The grams a person must carry to hold ``q`` in a text field."""
    s = q.casefold()
    if len(s) <= 1:
        return [s] if s else []
    return _pick(list(dict.fromkeys(s[i : i + 2] for i in range(len(s) - 1))))


def query_phone_grams(digits: str) -> list[str]:
    """The grams a person must carry to hold ``digits`` in a phone number."""
    runs = dict.fromkeys(PHONE_MARK + digits[i : i + 3] for i in range(len(digits) - 2))
    return _pick(list(runs))


def _having_all(grams: list[str]) -> Any:
    gram, person_id = col(PersonGram.gram), col(PersonGram.person_id)
    selects = [select(person_id).where(gram == g) for g in grams]
    return selects[0] if len(selects) == 1 else intersect(*selects)


def candidates(*gram_sets: list[str]) -> ColumnElement[bool] | None:
    """``person.id IN`` the people carrying every gram of one of ``gram_sets``; None
    when a set is empty (nothing to narrow by)."""
    sets = [g for g in dict.fromkeys(tuple(s) for s in gram_sets)]
    if not sets or any(not s for s in sets):
        return None
    return or_(*(col(Person.id).in_(_having_all(list(s))) for s in sets))
