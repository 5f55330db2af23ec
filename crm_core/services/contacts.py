"""Contacts (联系人): people the office keeps in touch with.

Create, update, get, list with filters, search (Chinese, pinyin, initials, phone,
employer), and merge two records of the same person keeping all their history.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import delete, select, update
from sqlmodel import col

from crm_core import authz, clock, pinyin, validation
from crm_core.errors import ValidationError
from crm_core.i18n import N_
from crm_core.models import (
    Account,
    Assignment,
    AuditLog,
    FollowUp,
    Gender,
    InteractionParticipant,
    Membership,
    OrganisationContact,
    Person,
    PersonCategory,
    PersonCommittee,
    PersonStatus,
)
from crm_core.phones import (
    display_phone,
    is_mobile,
    is_stored,
    normalize_phone,
    search_digits,
)
from crm_core.services._common import (
    Refusal,
    check_version,
    clean_text,
    code_of,
    parse,
)

# The reading side lives in contacts_search; its names stay importable from here.
from crm_core.services.contacts_search import (
    Page as Page,
)
from crm_core.services.contacts_search import (
    categories_of as categories_of,
)
from crm_core.services.contacts_search import (
    committees_of as committees_of,
)
from crm_core.services.contacts_search import (
    describe as describe,
)
from crm_core.services.contacts_search import (
    get_person as get_person,
)
from crm_core.services.contacts_search import (
    has_people as has_people,
)
from crm_core.services.contacts_search import (
    list_people as list_people,
)
from crm_core.services.contacts_search import (
    person_json as person_json,
)
from crm_core.services.contacts_search import (
    resolve_filters as resolve_filters,
)
from crm_core.services.contacts_search import (
    resolve_person as resolve_person,
)
from crm_core.services.contacts_search import (
    search_people as search_people,
)
from crm_core.unit import (
    Unit,
    audit_entry,
    insert_rows,
    snapshot,
    time_ordered_ids,
    write_audit,
)

_GENDERS = {
    "男": "male",
    "女": "female",
    "m": "male",
    "f": "female",
    "male": "male",
    "female": "female",
}
# Birth as people write it: 1965, 1965-03, 1965-3, 1965.03, 1965/3, 1965年3月.
_BIRTH = re.compile(r"^(\d{4})(?:\s*(?:[-./]|年)\s*(\d{1,2})\s*月?)?$")


class PersonFields(BaseModel):
    """The fields of a person a caller may set. Every one is optional on update."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, description="姓名")
    gender: Gender | None = Field(default=None, description="性别: male/female/男/女")
    birth: str | None = Field(default=None, description="出生年月: YYYY or YYYY-MM")
    ethnicity: str | None = Field(default=None, description="民族")
    party: str | None = Field(default=None, description="党派 (code or label)")
    sector: str | None = Field(default=None, description="界别 (code or label)")
    region: str | None = Field(default=None, description="所在地 县市区 (code or label)")
    employer: str | None = Field(default=None, description="工作单位")
    title: str | None = Field(default=None, description="职务")
    mobile: str | None = Field(default=None, description="手机")
    phones: list[str] | None = Field(default=None, description="其他电话")
    email: str | None = Field(default=None, description="电子邮箱")
    address: str | None = Field(default=None, description="通讯地址")
    membership: Membership | None = Field(default=None, description="standing/member/none")
    status: PersonStatus | None = Field(default=None, description="active/inactive/deceased")
    notes: str | None = Field(default=None, description="备注")
    categories: list[str] | None = Field(default=None, description="类别 (codes or labels)")
    committees: list[str] | None = Field(default=None, description="专委会 (codes or labels)")
    organisation_id: uuid.UUID | None = None
    extra: dict[str, Any] | None = None

    @field_validator(
        "name",
        "ethnicity",
        "party",
        "sector",
        "region",
        "employer",
        "title",
        "mobile",
        "phones",
        "email",
        "address",
        "notes",
        "categories",
        "committees",
        mode="before",
    )
    @classmethod
    def _text(cls, v: Any, info: ValidationInfo) -> Any:
        # Controls, lone surrogates and overlong values are refused before any other
        # rule reads them (crm_core.validation).
        return validation.valid_text(info.field_name or "", v)

    @field_validator("extra")
    @classmethod
    def _extra(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None:
            validation.check_data(v, "extra")
        return v

    @field_validator("gender", mode="before")
    @classmethod
    def _gender(cls, v: Any) -> Any:
        if isinstance(v, str):
            key = v.strip().lower()
            if key in _GENDERS:
                return _GENDERS[key]
            raise ValueError(N_("gender must be 男 or 女 (male or female)"))
        return v

    @field_validator("birth")
    @classmethod
    def _birth(cls, v: str | None) -> str | None:
        if not v:
            return None
        m = _BIRTH.match(unicodedata.normalize("NFKC", v).strip())
        if not m:
            raise ValueError(
                N_("birth must be a year and month, e.g. 1965-03, 1965.03 or 1965年3月")
            )
        if not validation.FIRST_DAY.year <= int(m.group(1)) <= validation.LAST_DAY.year:
            raise Refusal(
                N_("the year {year} is outside {first}-{last}"),
                year=m.group(1),
                first=validation.FIRST_DAY.year,
                last=validation.LAST_DAY.year,
            )
        if m.group(2) is None:
            return m.group(1)
        if not 1 <= int(m.group(2)) <= 12:
            raise Refusal(N_("month {month} is not 1-12"), month=m.group(2))
        return f"{m.group(1)}-{int(m.group(2)):02d}"

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, v: str | None) -> str | None:
        if not v:
            return None
        number = normalize_phone(v)
        if not is_mobile(number):
            raise Refusal(
                N_("not a mobile number: {number} is a landline"), number=display_phone(number)
            )
        return number

    @field_validator("phones")
    @classmethod
    def _phones(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return None
        return [normalize_phone(p) for p in v if p and p.strip()]

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", v):
            raise ValueError(N_("not an e-mail address"))
        return v or None


# -- writing ---------------------------------------------------------------------


def _apply(unit: Unit, person: Person, fields: PersonFields) -> None:
    given = fields.model_dump(exclude_unset=True)
    # Resolve the coded values before setting anything: a refused value leaves the person
    # untouched (a caller that catches the error may still commit its unit).
    coded = {
        field_name: code_of(unit.config.vocab[vocab], field_name, given[field_name])
        for field_name, vocab in (
            ("party", "parties"),
            ("sector", "sectors"),
            ("region", "regions"),
        )
        if field_name in given
    }
    if "name" in given:
        name = pinyin.normalize_name(given["name"] or "")
        if not name:
            raise ValidationError.one("name", given["name"], N_("a name is required"))
        person.name = name
        person.name_pinyin, person.name_initials = pinyin.name_pinyin(name)
    if "birth" in given:
        birth = given["birth"]
        person.birth_year = int(birth[:4]) if birth else None
        person.birth_month = int(birth[5:]) if birth and len(birth) > 4 else None
    for field_name, code in coded.items():
        setattr(person, field_name, code)
    for text_field in ("ethnicity", "employer", "title", "email", "address", "notes"):
        if text_field in given:
            setattr(person, text_field, clean_text(given[text_field]))
    for plain in ("gender", "membership", "status", "organisation_id", "extra"):
        if plain in given and (given[plain] is not None or plain in ("gender", "organisation_id")):
            setattr(person, plain, given[plain])
    if "mobile" in given:
        person.mobile = given["mobile"]
    if "phones" in given:
        person.phones = given["phones"] or []
    if "mobile" in given or "phones" in given:
        person.phone_digits = search_digits([person.mobile, *person.phones])


def _link_codes(unit: Unit, fields: PersonFields) -> dict[str, list[str]]:
    """The category and committee codes ``fields`` sets, resolved (or refused) before
    anything is written."""
    given = fields.model_dump(exclude_unset=True)
    codes: dict[str, list[str]] = {}
    for name, vocab in (
        ("categories", unit.app.categories),
        ("committees", unit.config.vocab["committees"]),
    ):
        if name in given:
            # A blank entry ("党外知识分子、" split on 、) names nothing and is skipped.
            codes[name] = sorted(
                {code for c in given[name] or [] if (code := code_of(vocab, name, c))}
            )
    return codes


def _set_links(unit: Unit, person: Person, codes: dict[str, list[str]]) -> None:
    if "categories" in codes:
        _replace_links(unit, PersonCategory, "category", person.id, codes["categories"])
    if "committees" in codes:
        _replace_links(unit, PersonCommittee, "committee", person.id, codes["committees"])


def _replace_links(
    unit: Unit, model: Any, column: str, person_id: uuid.UUID, codes: list[str]
) -> None:
    session = unit.session
    current = {
        getattr(r, column): r
        for r in session.scalars(select(model).where(model.person_id == person_id))
    }
    for code, row in current.items():
        if code not in codes:
            session.delete(row)
    for code in codes:
        if code not in current:
            session.add(model(person_id=person_id, **{column: code}))


def _move_links(unit: Unit, model: Any, key: Any, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
    """Re-point ``model`` rows from one person to another; where the other already has
    the same link (same ``key``), the duplicate row is dropped instead."""
    already = select(key).where(model.person_id == to_id)
    unit.session.execute(delete(model).where(model.person_id == from_id, key.in_(already)))
    unit.session.execute(update(model).where(model.person_id == from_id).values(person_id=to_id))


def create_person(unit: Unit, **values: Any) -> Person:
    """Create a person from ``values`` (the fields of :class:`PersonFields`); ``name`` is
    required. Pinyin and initials are derived from the name."""
    fields = parse(PersonFields, values)
    if not fields.name:
        raise ValidationError.one("name", values.get("name"), N_("a name is required"))
    links = _link_codes(unit, fields)  # before anything is written
    person = Person(name="", name_pinyin="", name_initials="")
    _apply(unit, person, fields)
    person.region = authz.check_region(unit, person.region, person.name)
    unit.session.add(person)
    unit.session.flush()
    _set_links(unit, person, links)
    unit.session.flush()
    return person


def update_person(
    unit: Unit, person_id: uuid.UUID | str, *, expected_version: int | None = None, **values: Any
) -> Person:
    """Change the given fields of a person. With ``expected_version`` (the version the
    caller read), a concurrent change by someone else raises Conflict instead of being
    overwritten."""
    person = get_person(unit, person_id)
    check_version(person, expected_version, "person")
    fields = parse(PersonFields, values)
    links = _link_codes(unit, fields)  # before anything is changed
    if "region" in fields.model_fields_set:  # county staff keep people in their region
        region = code_of(unit.config.vocab["regions"], "region", fields.region)
        authz.check_move(unit, region, person.name)
    _apply(unit, person, fields)
    _set_links(unit, person, links)
    unit.session.flush()
    return person


def merge_people(unit: Unit, keep_id: uuid.UUID | str, drop_id: uuid.UUID | str) -> Person:
    """Fold the duplicate ``drop_id`` into ``keep_id``: every interaction, assignment,
    follow-up, category and committee of the duplicate moves to the kept record; fields
    the kept record lacks are filled from the duplicate. The duplicate stays as a
    ``merged`` record pointing at the kept one, so old references still resolve."""
    keep = get_person(unit, keep_id)
    drop = get_person(unit, drop_id)
    if keep.id == drop.id:
        raise ValidationError.one("drop_id", str(drop_id), N_("cannot merge a person with itself"))
    if drop.status == PersonStatus.merged:
        raise ValidationError.one("drop_id", str(drop_id), N_("already merged into another record"))
    session = unit.session
    before = {"keep": snapshot(keep), "drop": snapshot(drop)}
    for model, key in (
        (InteractionParticipant, InteractionParticipant.interaction_id),
        (PersonCategory, PersonCategory.category),
        (PersonCommittee, PersonCommittee.committee),
        (OrganisationContact, OrganisationContact.organisation_id),
    ):
        _move_links(unit, model, key, drop.id, keep.id)
    session.expire_all()  # the bulk statements above bypassed the identity map
    keep, drop = get_person(unit, keep.id), get_person(unit, drop.id)
    kept_keepers = {
        a.keeper_id
        for a in session.scalars(
            select(Assignment).where(
                col(Assignment.contact_id) == keep.id, col(Assignment.end_on).is_(None)
            )
        )
    }
    for row in session.scalars(select(Assignment).where(col(Assignment.contact_id) == drop.id)):
        row.contact_id = keep.id
        if row.end_on is None and row.keeper_id in kept_keepers:
            # The keeper already looks after the kept record: one active assignment is
            # enough; the duplicate's ends today and stays in the history.
            row.end_on = clock.today(unit.config.tz)
    for fu in session.scalars(select(FollowUp).where(col(FollowUp.person_id) == drop.id)):
        fu.person_id = keep.id
    for acct in session.scalars(select(Account).where(col(Account.person_id) == drop.id)):
        acct.person_id = keep.id
    for attr in (
        "gender",
        "birth_year",
        "birth_month",
        "ethnicity",
        "party",
        "sector",
        "region",
        "employer",
        "title",
        "mobile",
        "email",
        "address",
        "organisation_id",
    ):
        if getattr(keep, attr) is None and getattr(drop, attr) is not None:
            setattr(keep, attr, getattr(drop, attr))
    keep.phones = list(
        dict.fromkeys(
            [*keep.phones, *[p for p in [drop.mobile, *drop.phones] if p and p != keep.mobile]]
        )
    )
    keep.phone_digits = search_digits([keep.mobile, *keep.phones])
    if drop.notes:
        keep.notes = f"{keep.notes}\n{drop.notes}" if keep.notes else drop.notes
    keep.extra = {**drop.extra, **keep.extra}
    drop.status = PersonStatus.merged
    drop.merged_into_id = keep.id
    session.add(
        AuditLog(
            actor_id=unit.actor.id if unit.actor else None,
            actor=unit.actor_name,
            action="merge",
            entity="person",
            entity_id=str(keep.id),
            before=before,
            after={"keep": str(keep.id), "merged": str(drop.id)},
        )
    )
    session.flush()
    return get_person(unit, keep.id)


# -- bulk work (roster imports) ----------------------------------------------------
#
# An import of a whole roster writes tens of thousands of people in one transaction. The
# functions below do it with set-based statements instead of one ORM object (and one
# flush, and one audit listener pass) per person, while applying the same validation
# (PersonFields), the same derived columns (pinyin, initials, phone digits) and still
# writing an audit entry for every person.


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
BULK_BATCH = 5000  # people per statement of bulk_create_people
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


def bulk_create_people(
    unit: Unit,
    rows: Sequence[dict[str, Any]],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[uuid.UUID]:
    """Create many people at once (the fields of :class:`PersonFields` per row, as for
    :func:`create_person`); return their ids in order.

    Every row is checked before anything is written: if any row is refused, a
    ValidationError names every bad field as ``rows[i].field``; county staff may only
    create people of their own region (:func:`crm_core.authz.check_region`, as
    :func:`create_person`: PermissionDenied). A row whose values are already in stored
    form (codes, an 11-digit mobile, ``YYYY-MM``, ``male``/``female``) is checked by a
    quick test of that form; any other row goes through PersonFields exactly as in
    :func:`create_person`.

    Then, :data:`BULK_BATCH` people at a time, people, their categories and committees
    are inserted with one statement per table, and one audit entry per person
    (:func:`crm_core.unit.audit_entry`: action ``create``, entity ``person``; ``after``
    holds its columns and its ``categories`` and ``committees``), after which
    ``progress(written, total)`` is called. The derived columns (pinyin, initials,
    phone digits) are computed as for :func:`create_person`.
    """
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
        end = start + BULK_BATCH
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
        for start in range(0, total, BULK_BATCH):
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
                    progress(min(start + BULK_BATCH, total), total)
        if pending is not None:
            pending.result()
            if progress:
                progress(total, total)
    return ids
