"""Finding contacts: get, list with filters, search (Chinese, pinyin, initials, phone,
employer), resolve a reference, describe and serialise a person.

The writes (create, update, merge, bulk import) are in :mod:`crm_core.services.contacts`,
which re-exports every name here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, String, case, exists, func, literal, or_, select
from sqlmodel import col

from crm_core import authz, pinyin, search_index, validation
from crm_core.errors import Ambiguous, NotFound, ValidationError
from crm_core.i18n import N_
from crm_core.models import (
    Gender,
    Membership,
    Person,
    PersonCategory,
    PersonCommittee,
    PersonStatus,
)
from crm_core.phones import normalize_phone, search_key
from crm_core.services._common import (
    as_uuid,
    code_of,
    fetch,
)
from crm_core.unit import (
    Unit,
)


class PersonRow(NamedTuple):
    """A person as a search shows them: the columns of ``person`` a list or a choice
    needs (no address, email or notes), read without the ORM.
    Immutable; :func:`get_person` gives the whole record."""

    id: uuid.UUID
    name: str
    name_pinyin: str
    name_initials: str
    gender: Gender | None
    birth_year: int | None
    birth_month: int | None
    party: str | None
    sector: str | None
    region: str | None
    employer: str | None
    title: str | None
    mobile: str | None
    phones: list[str]
    membership: Membership
    status: PersonStatus
    organisation_id: uuid.UUID | None
    merged_into_id: uuid.UUID | None
    updated_at: datetime


_ROW_COLUMNS = [Person.__table__.c[f] for f in PersonRow._fields]  # type: ignore[attr-defined]
T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of people, with the total count of matches."""

    items: list[T]
    total: int
    offset: int
    limit: int


def get_person(unit: Unit, person_id: uuid.UUID | str) -> Person:
    """The person with this id (NotFound otherwise; PermissionDenied when the acting
    account's region does not cover them)."""
    return authz.check_person(unit, fetch(unit, Person, person_id, "person"))


def categories_of(unit: Unit, person_id: uuid.UUID) -> list[str]:
    """The category codes a person carries."""
    return list(
        unit.session.scalars(
            select(col(PersonCategory.category))
            .where(col(PersonCategory.person_id) == person_id)
            .order_by(PersonCategory.category)
        )
    )


def committees_of(unit: Unit, person_id: uuid.UUID) -> list[str]:
    """The special-committee codes a person belongs to."""
    return list(
        unit.session.scalars(
            select(col(PersonCommittee.committee))
            .where(col(PersonCommittee.person_id) == person_id)
            .order_by(PersonCommittee.committee)
        )
    )


def _filters(
    *,
    category: str | None,
    sector: str | None,
    party: str | None,
    committee: str | None,
    region: str | None,
    membership: str | None,
    status: str | None,
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if status:
        conds.append(col(Person.status) == status)
    else:
        conds.append(col(Person.status) != PersonStatus.merged)
    for column, value in (
        (Person.sector, sector),
        (Person.party, party),
        (Person.region, region),
        (Person.membership, membership),
    ):
        if value:
            conds.append(col(column) == value)
    if category:
        conds.append(
            exists().where(
                col(PersonCategory.person_id) == col(Person.id),
                col(PersonCategory.category) == category,
            )
        )
    if committee:
        conds.append(
            exists().where(
                col(PersonCommittee.person_id) == col(Person.id),
                col(PersonCommittee.committee) == committee,
            )
        )
    return conds


def _prefix(column: Any, text: str) -> ColumnElement[bool]:
    # A range instead of LIKE 'x%': uses the plain b-tree index on SQLite and PostgreSQL
    # alike, whatever the collation or case-sensitivity settings.
    cond: ColumnElement[bool] = (column >= text) & (column < text + "\U0010ffff")
    return cond


def resolve_filters(unit: Unit, **given: str | None) -> dict[str, str]:
    """Filters for :func:`search_people` / :func:`list_people` from codes or labels
    (category, sector, party, committee, region), as people type them on the command
    line or pick them in a form; a value in no vocabulary is a ValidationError."""
    vocabs = {
        "category": unit.app.categories,
        "sector": unit.config.vocab["sectors"],
        "party": unit.config.vocab["parties"],
        "committee": unit.config.vocab["committees"],
        "region": unit.config.vocab["regions"],
    }
    out: dict[str, str] = {}
    for key, value in given.items():
        if value:
            if key not in vocabs:
                raise ValidationError.one(key, value, N_("not a filter"))
            code = code_of(vocabs[key], key, value)
            if code:
                out[key] = code
    return out


def search_people(
    unit: Unit,
    query: str,
    *,
    limit: int = 20,
    offset: int = 0,
    category: str | None = None,
    sector: str | None = None,
    party: str | None = None,
    committee: str | None = None,
    region: str | None = None,
    membership: str | None = None,
    status: str | None = None,
    also: Sequence[ColumnElement[bool]] = (),
) -> Page[PersonRow]:
    """Find people by a Chinese substring of name or employer, full pinyin
    (``zhangsan``), pinyin initials (``zs``) or phone digits; ranked with exact matches
    first, then prefixes, then substrings; paged. Filters narrow the result as in
    :func:`list_people`; ``also`` adds conditions on Person that other services make
    (:func:`crm_core.services.relations.related_filter`,
    :func:`crm_core.services.tags.tag_filter`). An empty query lists everyone in pinyin
    order. A query with
    control characters, or longer than 200 characters, is a ValidationError (no name
    holds them; PostgreSQL could not even compare a NUL)."""
    filters = {
        "category": category,
        "sector": sector,
        "party": party,
        "committee": committee,
        "region": region,
        "membership": membership,
        "status": status,
    }
    conds, rank = _conditions(unit, query, filters)
    conds += list(also)  # relationships, tags (issue 18): conditions on Person
    # The page and the total in one statement, read by Core into light rows: no ORM
    # objects, no identity map (bench/RESULTS.md, "Core operations").
    # Two steps in one statement: the matches are ranked and counted on narrow rows
    # (id, rank, pinyin), and only the page's rows are then read whole; sorting and
    # counting every match with all its columns cost several times more at a common
    # character (bench/RESULTS.md, "Substring search").
    page = (
        select(
            col(Person.id).label("id"),
            rank.label("rank"),
            col(Person.name_pinyin).label("pinyin"),
            func.count().over().label("total"),
        )
        .where(*conds)
        .order_by(rank, col(Person.name_pinyin), col(Person.id))
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    stmt = (
        select(*_ROW_COLUMNS, page.c.total)
        .join(page, col(Person.id) == page.c.id)
        .order_by(page.c.rank, page.c.pinyin, page.c.id)
    )
    conn = _connection(unit)
    rows = conn.execute(stmt).all()
    if rows:
        total = int(rows[0][-1])
    elif offset:  # past the last page: count on its own
        total = conn.execute(select(func.count()).select_from(Person).where(*conds)).scalar() or 0
    else:
        total = 0
    make = PersonRow._make
    return Page([make(row[:-1]) for row in rows], total, offset, limit)


def _conditions(
    unit: Unit, query: str, filters: dict[str, str | None]
) -> tuple[list[ColumnElement[bool]], Any]:
    """The WHERE conditions (filters, the match, the reader's scope) and the rank of a
    search for ``query``."""
    validation.check_texts({"query": query})
    q = pinyin.normalize_text(query or "")
    conds = _filters(**filters)
    rank: Any
    narrow: ColumnElement[bool] | None = None  # candidates from the substring index
    digits = re.sub(r"[\s\-+]", "", q)
    number = digits
    if digits.isdigit():
        with suppress(ValueError):  # a whole number as typed: +86 138-1234-5678, 0086 ...
            number = normalize_phone(q)
            digits = search_key(number)  # as person.phone_digits holds it
    if not q:
        match: ColumnElement[bool] | None = None
        rank = literal(0)  # everyone ranks alike: pinyin order (a bare 0 is no ORDER BY term)
    elif digits.isdigit() and len(digits) >= 3:
        match = col(Person.phone_digits).contains(digits, autoescape=True)
        narrow = search_index.candidates(search_index.query_phone_grams(digits))
        rank = case((col(Person.mobile) == number, 0), else_=1)
    elif pinyin.query_is_pinyin(q):
        p = q.lower().replace(" ", "")
        match = or_(_prefix(Person.name_initials, p), _prefix(Person.name_pinyin, p))
        rank = case(
            (or_(col(Person.name_initials) == p, col(Person.name_pinyin) == p), 0),
            (_prefix(Person.name_pinyin, p), 1),
            else_=2,
        )
    else:
        name_q = pinyin.normalize_name(q)
        match = or_(
            col(Person.name).contains(name_q, autoescape=True),
            col(Person.employer).contains(q, autoescape=True),
            col(Person.title).contains(q, autoescape=True),
        )
        narrow = search_index.candidates(
            search_index.query_text_grams(name_q), search_index.query_text_grams(q)
        )
        rank = case(
            (col(Person.name) == name_q, 0),
            (_prefix(Person.name, name_q), 1),
            (col(Person.name).contains(name_q, autoescape=True), 2),
            else_=3,
        )
    if narrow is not None:
        conds.append(narrow)  # the index finds the few candidates; `match` tests them
    if match is not None:
        conds.append(match)
    conds += authz.person_scope(unit)  # county staff see their region's people only
    return conds, rank


def _connection(unit: Unit) -> Any:
    """The unit's connection, after flushing what its session holds (a search sees the
    unit's own writes, as an ORM query would after its autoflush)."""
    session = unit.session
    if session.new or session.deleted or session.dirty:
        session.flush()
    return session.connection()


def list_people(
    unit: Unit,
    *,
    limit: int = 50,
    offset: int = 0,
    **filters: Any,
) -> Page[Person]:
    """People in pinyin order, filtered by category, sector, party, committee, region,
    membership and status (codes); merged records are left out unless asked for. Whole
    records (exports and address books need every column); a screen's list is
    ``search_people(unit, "")``, which reads light rows."""
    known = ("category", "sector", "party", "committee", "region", "membership", "status")
    conds, _rank = _conditions(unit, "", {k: filters.get(k) for k in known})
    unknown = set(filters) - set(known)
    if unknown:
        raise TypeError(f"list_people() got unexpected filters {sorted(unknown)}")
    stmt = (
        select(Person, func.count().over().label("total"))
        .where(*conds)
        .order_by(col(Person.name_pinyin), col(Person.id))
        .limit(limit)
        .offset(offset)
    )
    rows = unit.session.execute(stmt).all()
    if rows:
        total = int(rows[0].total)
    elif offset:
        total = unit.session.scalar(select(func.count()).select_from(Person).where(*conds)) or 0
    else:
        total = 0
    return Page([row[0] for row in rows], total, offset, limit)


def has_people(unit: Unit) -> bool:
    """Whether the acting account sees anyone at all (merged records aside): an empty
    database, or a county with nobody in it yet. Cheaper than counting everyone."""
    stmt = (
        select(col(Person.id))
        .where(col(Person.status) != PersonStatus.merged, *authz.person_scope(unit))
        .limit(1)
    )
    return unit.session.scalar(stmt) is not None


def resolve_person(unit: Unit, ref: str) -> Person:
    """The one person ``ref`` names: an id, an exact name, or a search (pinyin,
    initials, phone) with exactly one result. Otherwise NotFound, or Ambiguous listing
    the candidates."""
    ref = ref.strip()
    try:
        person = unit.session.get(Person, as_uuid(ref, "person"))
        if person is not None:
            return authz.check_person(unit, person)
    except NotFound:
        pass
    by_prefix = _by_short_id(unit, ref)
    if by_prefix is not None:
        return by_prefix
    page = search_people(unit, ref, limit=10)
    exact: list[Any] = [
        p
        for p in page.items
        if p.name == pinyin.normalize_name(ref) or ref.lower() in (p.name_pinyin, p.name_initials)
    ]
    if len(exact) == 1:
        return _record(unit, exact[0].id)
    if page.total == 1:
        return _record(unit, page.items[0].id)
    if page.total == 0:
        raise NotFound("person", ref)
    shown = exact or page.items
    raise Ambiguous(
        ref,
        [describe(p) for p in shown]
        + ([f"… ({page.total} in all)"] if page.total > len(shown) else []),
    )


_SHORT_ID = re.compile(r"[0-9a-f]{8,31}")


def _by_short_id(unit: Unit, ref: str) -> Person | None:
    """The person whose id starts with ``ref`` (8 hex digits or more, as every listing
    and every "which one?" answer shows it: ``[c1ed8920]``), when exactly one the reader
    may see does; None otherwise, and the reference is searched as text (a run of phone
    digits is also hex)."""
    bare = ref.lower().replace("-", "")
    if not _SHORT_ID.fullmatch(bare):
        return None
    # The id as hex without hyphens on both backends (CHAR(32) on SQLite, uuid on
    # PostgreSQL, whose text form has hyphens).
    hex_id = func.replace(func.cast(col(Person.id), String), "-", "")
    ids = (
        _connection(unit)
        .execute(
            select(col(Person.id))
            .where(hex_id.like(bare + "%"), *authz.person_scope(unit))
            .limit(2)
        )
        .scalars()
        .all()
    )
    return _record(unit, ids[0]) if len(ids) == 1 else None


def _record(unit: Unit, person_id: uuid.UUID) -> Person:
    person = unit.session.get(Person, person_id)
    if person is None:  # gone between the two reads
        raise NotFound("person", str(person_id))
    return person


def describe(person: Person | PersonRow) -> str:
    """One line naming a person unambiguously: name, employer and title, short id."""
    bits = [person.name]
    if person.employer or person.title:
        bits.append(" ".join(b for b in (person.employer, person.title) if b))
    return f"{' · '.join(bits)}  [{str(person.id)[:8]}]"


def summary_json(unit: Unit, p: Person | PersonRow) -> dict[str, Any]:
    """A search result in its stable JSON form (``contacts search --json`` and the HTTP
    API's ``results``, docs/cli-json.md): no phones, no address."""
    return {
        "id": str(p.id),
        "name": p.name,
        "pinyin": p.name_pinyin,
        "initials": p.name_initials,
        "gender": p.gender.value if p.gender else None,
        "sector": p.sector,
        "party": p.party,
        "region": p.region,
        "employer": p.employer,
        "title": p.title,
        "membership": p.membership.value,
        "categories": categories_of(unit, p.id),
    }


def person_json(unit: Unit, person: Person) -> dict[str, Any]:
    """The stable JSON form of a person (documented in docs/cli-json.md)."""
    birth = None
    if person.birth_year:
        birth = f"{person.birth_year:04d}" + (
            f"-{person.birth_month:02d}" if person.birth_month else ""
        )
    return {
        "id": str(person.id),
        "name": person.name,
        "pinyin": person.name_pinyin,
        "initials": person.name_initials,
        "gender": person.gender.value if person.gender else None,
        "birth": birth,
        "ethnicity": person.ethnicity,
        "party": person.party,
        "sector": person.sector,
        "region": person.region,
        "employer": person.employer,
        "title": person.title,
        "mobile": person.mobile,
        "phones": list(person.phones),
        "email": person.email,
        "address": person.address,
        "membership": person.membership.value,
        "status": person.status.value,
        "categories": categories_of(unit, person.id),
        "committees": committees_of(unit, person.id),
        "organisation_id": str(person.organisation_id) if person.organisation_id else None,
        "merged_into_id": str(person.merged_into_id) if person.merged_into_id else None,
        "notes": person.notes,
        "version": person.version,
        "created_at": person.created_at.isoformat(),
        "updated_at": person.updated_at.isoformat(),
    }
