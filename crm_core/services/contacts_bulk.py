"""Bulk work on people (roster imports).

An import of a whole roster writes tens of thousands of people in one transaction. The
functions here do it with set-based statements instead of one ORM object (and one
flush, and one audit listener pass) per person, while applying the same validation
(PersonFields), the same derived columns (pinyin, initials, phone digits) and still
writing an audit entry for every person.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core import authz, clock, pinyin, search_index, validation
from crm_core.errors import ValidationError
from crm_core.i18n import N_
from crm_core.models import (
    Gender,
    Membership,
    Person,
    PersonCategory,
    PersonCommittee,
    PersonStatus,
)
from crm_core.phones import is_mobile, is_stored, search_digits
from crm_core.services._common import (
    clean_text,
    code_of,
    parse,
)
from crm_core.services.contacts_fields import PersonFields
from crm_core.unit import (
    Unit,
    audit_entry,
    insert_rows,
    time_ordered_ids,
    write_audit,
)


@dataclass(frozen=True)
class PersonKey:
    """What duplicate detection needs of a person: id, normalised name, birth, mobile."""

    id: uuid.UUID
    name: str
    birth_year: int | None
    birth_month: int | None
    mobile: str | None


def person_keys(unit: Unit) -> list[PersonKey]:
    """Id, name, birth year and month and mobile of every person not merged away, in
    one query (an import finds duplicates against these without a query per row)."""
    stmt = select(
        col(Person.id),
        col(Person.name),
        col(Person.birth_year),
        col(Person.birth_month),
        col(Person.mobile),
    ).where(col(Person.status) != PersonStatus.merged, *authz.person_scope(unit))
    return [PersonKey(*row) for row in unit.session.execute(stmt)]


def people_by_ids(
    unit: Unit, ids: list[uuid.UUID] | set[uuid.UUID]
) -> tuple[dict[uuid.UUID, Person], dict[uuid.UUID, list[str]], dict[uuid.UUID, list[str]]]:
    """The people with these ids, and their category and committee codes, by id: a few
    queries per 500 people instead of three per person."""
    people: dict[uuid.UUID, Person] = {}
    cats: dict[uuid.UUID, list[str]] = {}
    comms: dict[uuid.UUID, list[str]] = {}
    wanted = list(ids)
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        for p in unit.session.scalars(
            select(Person).where(col(Person.id).in_(chunk), *authz.person_scope(unit))
        ):
            people[p.id] = p
        for pid, code in unit.session.execute(
            select(col(PersonCategory.person_id), col(PersonCategory.category))
            .where(col(PersonCategory.person_id).in_(chunk))
            .order_by(PersonCategory.category)
        ):
            cats.setdefault(pid, []).append(code)
        for pid, code in unit.session.execute(
            select(col(PersonCommittee.person_id), col(PersonCommittee.committee))
            .where(col(PersonCommittee.person_id).in_(chunk))
            .order_by(PersonCommittee.committee)
        ):
            comms.setdefault(pid, []).append(code)
    return people, cats, comms


_STORED_BIRTH = re.compile(r"^\d{4}(?:-(?:0[1-9]|1[0-2]))?$")
_STORED_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FAST_TEXT = ("name", "ethnicity", "employer", "title", "email", "address", "notes")
_FAST_CODES = ("party", "sector", "region")
# How _stored_form checks each key it knows (any other key: the full check).
_FORM = {
    **dict.fromkeys(_FAST_TEXT + _FAST_CODES, "text"),
    "gender": "gender",
    "birth": "birth",
    "mobile": "mobile",
    "phones": "digits",
    "categories": "list",
    "committees": "list",
    "membership": "membership",
    "extra": "dict",
}


def _stored_form(values: dict[str, Any]) -> bool:
    """True when every value is already in the form it is stored in (codes, 11-digit
    mobile, YYYY-MM birth, male/female, stripped text), so that PersonFields would
    accept it unchanged: the bulk path then skips pydantic for that row."""
    form = _FORM
    text_problem = validation.text_problem
    for key, v in values.items():
        if v is None:
            continue
        kind = form.get(key)
        if kind == "text":
            if type(v) is not str or not v or v != v.strip() or text_problem(v, field=key):
                return False
        elif kind == "gender":
            if v != "male" and v != "female":
                return False
        elif kind == "birth":
            if type(v) is not str or not _STORED_BIRTH.match(v):
                return False
            if not validation.FIRST_DAY.year <= int(v[:4]) <= validation.LAST_DAY.year:
                return False  # the full check says why
        elif kind == "mobile":
            if type(v) is not str or not is_mobile(v):
                return False
        elif kind == "list" or kind == "digits":
            if type(v) is not list:
                return False
            for x in v:
                if type(x) is not str or not x or (kind == "digits" and not is_stored(x)):
                    return False
                if text_problem(x, field=key):
                    return False
        elif kind == "membership":
            if v not in ("standing", "member", "none"):
                return False
        elif kind == "dict":
            if type(v) is not dict:
                return False
            try:
                validation.check_data(v, "extra")
            except ValidationError:
                return False  # the full check names what is wrong
        else:
            return False  # status, organisation_id, unknown keys: the full check
    email = values.get("email")
    return not email or bool(_STORED_EMAIL.match(email))


@contextmanager
def bulk_writing(unit: Unit, cache_mib: int = 256) -> Iterator[None]:
    """Around writing many people in the unit's transaction: on SQLite, a page cache of
    up to ``cache_mib`` MiB for the connection, so that the indexes being filled stay
    in memory until the commit instead of being spilled to the write-ahead log and read
    back again and again; the connection's own size is restored afterwards. The cache
    only grows as pages are used. Nothing changes on PostgreSQL (the server's buffers
    are its own)."""
    conn = unit.session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{int(cache_mib) * 1024}")
    try:
        yield
    finally:
        with suppress(Exception):  # a connection broken meanwhile is discarded anyway
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")


def create_in_batches(
    unit: Unit,
    rows: Sequence[dict[str, Any]],
    *,
    batch: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[uuid.UUID]:
    """:func:`crm_core.services.contacts.bulk_create_people`, ``batch`` people per
    statement (that function's docstring says what it checks and writes)."""
    from crm_core.errors import FieldError

    errors: list[FieldError] = []
    vocabs = {
        "party": unit.config.vocab["parties"],
        "sector": unit.config.vocab["sectors"],
        "region": unit.config.vocab["regions"],
        "categories": unit.app.categories,
        "committees": unit.config.vocab["committees"],
    }
    codes: dict[tuple[str, str], str | None] = {}

    def code(field_name: str, value: str) -> str | None:
        key = (field_name, value)
        if key not in codes:
            codes[key] = code_of(vocabs[field_name], field_name, value)
        return codes[key]

    def link_codes(field_name: str, values: list[str] | None) -> list[str]:
        if not values:
            return []
        if len(values) == 1:
            c = code(field_name, values[0])
            return [c] if c else []
        return sorted({c for v in values if (c := code(field_name, v))})

    # 1. Check every row (nothing is written yet).
    normalize_name = pinyin.normalize_name
    check_region = authz.check_region
    checked: list[tuple[dict[str, Any], str, list[str | None], list[str], list[str]]] = []
    for i, values in enumerate(rows):
        try:
            given = (
                values
                if _stored_form(values)
                else parse(PersonFields, values).model_dump(exclude_unset=True)
            )
            name = normalize_name(given.get("name") or "")
            if not name:
                raise ValidationError.one("name", values.get("name"), N_("a name is required"))
            party, sector, region = (
                code(f, v) if (v := given.get(f)) else None for f in _FAST_CODES
            )
            cats = link_codes("categories", given.get("categories"))
            comms = link_codes("committees", given.get("committees"))
        except ValidationError as exc:
            errors += [replace(e, field=f"rows[{i}].{e.field}") for e in exc.errors]
            continue
        region = check_region(unit, region, name)
        if not errors:  # once a row is refused, nothing is written: just find the others
            checked.append((given, name, [party, sector, region], cats, comms))
    if errors:
        raise ValidationError(errors)

    # 2. Write, a batch at a time.
    session = unit.session
    now = clock.now()
    now_iso = now.isoformat()
    name_pinyin = pinyin.name_pinyin
    total = len(checked)
    # Ids in ascending order (so are the audit entries'): each batch appends to the
    # indexes on them rather than landing all over them.
    ids = time_ordered_ids(total)
    entry_ids = iter(time_ordered_ids(total))

    def rows_of(start: int) -> tuple[list[dict[str, Any]], ...]:
        """The rows of the batch from ``start`` for each table."""
        people: list[dict[str, Any]] = []
        categories: list[dict[str, Any]] = []
        committees: list[dict[str, Any]] = []
        audit: list[dict[str, Any]] = []
        end = start + batch
        for pid, (given, name, (party, sector, region), cats, comms) in zip(
            ids[start:end], checked[start:end], strict=True
        ):
            full, initials = name_pinyin(name)
            birth = given.get("birth")
            mobile = given.get("mobile")
            phones = list(given.get("phones") or [])
            gender = given.get("gender")
            membership = given.get("membership")
            status = given.get("status")
            org = given.get("organisation_id")
            person: dict[str, Any] = {
                "id": pid,
                "created_at": now,
                "updated_at": now,
                "version": 1,
                "name": name,
                "name_pinyin": full,
                "name_initials": initials,
                "gender": gender.value if isinstance(gender, Gender) else gender,
                "birth_year": int(birth[:4]) if birth else None,
                "birth_month": int(birth[5:]) if birth and len(birth) > 4 else None,
                "ethnicity": clean_text(given.get("ethnicity")),
                "party": party,
                "sector": sector,
                "region": region,
                "employer": clean_text(given.get("employer")),
                "title": clean_text(given.get("title")),
                "mobile": mobile,
                "phones": phones,
                "phone_digits": search_digits([mobile, *phones]),
                "email": clean_text(given.get("email")),
                "address": clean_text(given.get("address")),
                "membership": (
                    membership.value if isinstance(membership, Membership) else membership
                )
                or "none",
                "status": (status.value if isinstance(status, PersonStatus) else status)
                or "active",
                "notes": clean_text(given.get("notes")),
                "extra": given.get("extra") or {},
                "organisation_id": org,
                "merged_into_id": None,
            }
            people.append(person)
            for c in cats:
                categories.append({"person_id": pid, "category": c})
            for c in comms:
                committees.append({"person_id": pid, "committee": c})
            # The entry holds what the flush listener's snapshot of a new person would
            # (its columns, JSON-ready), and the person's categories and committees.
            after = person.copy()
            after["id"] = entity_id = str(pid)
            after["created_at"] = after["updated_at"] = now_iso
            if org:
                after["organisation_id"] = str(org)
            after["categories"] = cats
            after["committees"] = comms
            audit.append(
                audit_entry(
                    session,
                    "create",
                    "person",
                    entity_id,
                    at=now,
                    after=after,
                    entry_id=next(entry_ids),
                )
            )
        return people, categories, committees, audit

    session.flush()  # anything pending goes first, in its own order
    conn = session.connection()

    def write(
        people: list[Any], categories: list[Any], committees: list[Any], audit: list[Any]
    ) -> None:
        insert_rows(conn, Person.__table__, people)  # type: ignore[attr-defined]
        search_index.index_new(conn, people)  # the substring index, beside the rows
        insert_rows(conn, PersonCategory.__table__, categories)  # type: ignore[attr-defined]
        insert_rows(conn, PersonCommittee.__table__, committees)  # type: ignore[attr-defined]
        write_audit(conn, audit)

    # On PostgreSQL the server stores a batch in its own process while this one makes
    # the next: a second thread hands the batches over and waits for the server (this
    # thread never touches the connection meanwhile). SQLite does its work in this
    # process, holding the interpreter between rows: there it would only slow both.
    background = conn.dialect.name == "postgresql"
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-write") as pool:
        pending: Future[None] | None = None
        for start in range(0, total, batch):
            tables = rows_of(start)
            if pending is not None:
                pending.result()  # the previous batch is in (or its error is raised here)
                if progress:
                    progress(start, total)
            if background:
                pending = pool.submit(write, *tables)
            else:
                write(*tables)
                if progress:
                    progress(min(start + batch, total), total)
        if pending is not None:
            pending.result()
            if progress:
                progress(total, total)
    return ids
