"""Organisations (组织): the democratic parties' municipal committees (民主党派市委会),
the federation of industry and commerce (工商联), and any other body the office liaises
with, each with its contact persons and their roles there (主委, 联络人, …).

Create, change, get, list and resolve organisations (by id, exact name, or a part of the
name that names one, e.g. "民盟"); link people as contacts.
"""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import select
from sqlmodel import col

from crm_core import validation
from crm_core.errors import Ambiguous, NotFound, ValidationError
from crm_core.i18n import N_
from crm_core.models import Organisation, OrganisationContact, Person, PersonStatus
from crm_core.phones import normalize_phone
from crm_core.services._common import as_uuid, check_version, clean_text, code_of, fetch, parse
from crm_core.unit import Unit

__all__ = [
    "KINDS",
    "OrganisationFields",
    "add_contact",
    "contacts_of",
    "create_organisation",
    "describe",
    "get_organisation",
    "list_organisations",
    "organisation_json",
    "organisations_of",
    "remove_contact",
    "resolve_organisation",
    "update_organisation",
]

# The kinds of organisation, in the order lists show them.
KINDS: dict[str, tuple[str, str]] = {
    "democratic_party": ("民主党派", "Democratic party"),
    "federation_ic": ("工商联", "Federation of industry and commerce"),
    "other": ("其他组织", "Other organisation"),
}
_KIND_LABELS = {label.casefold(): code for code, pair in KINDS.items() for label in pair}

OrganisationKind = Literal["democratic_party", "federation_ic", "other"]


class OrganisationFields(BaseModel):
    """The fields of an organisation a caller may set; every one is optional on update."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, description="名称 / Name")
    kind: OrganisationKind | None = Field(
        default=None, description="类型 / Kind: democratic_party, federation_ic, other"
    )
    party: str | None = Field(default=None, description="党派 / Party (code or label)")
    region: str | None = Field(default=None, description="所在地 / Region (code or label)")
    address: str | None = Field(default=None, description="地址 / Address")
    phone: str | None = Field(default=None, description="电话 / Phone")
    notes: str | None = Field(default=None, description="备注 / Notes")

    @field_validator("name", "kind", "party", "region", "address", "phone", "notes", mode="before")
    @classmethod
    def _text(cls, v: Any, info: ValidationInfo) -> Any:
        # Controls and overlong values first (crm_core.validation).
        return validation.valid_text(info.field_name or "", v)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, v: Any) -> Any:
        if isinstance(v, str):
            key = v.strip()
            return _KIND_LABELS.get(key.casefold(), key)
        return v

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return normalize_phone(v) if v else None


def _name_key(name: str) -> str:
    # For comparing names only: full-width forms folded (NFKC), spaces and case ignored.
    return "".join(unicodedata.normalize("NFKC", name or "").split()).casefold()


def _by_name(unit: Unit, name: str) -> Organisation | None:
    key = _name_key(name)
    for org in unit.session.scalars(select(Organisation)):
        if _name_key(org.name) == key:
            return org
    return None


def _apply(unit: Unit, org: Organisation, fields: OrganisationFields) -> None:
    given = fields.model_dump(exclude_unset=True)
    # Resolve and check everything before setting anything: a refused value leaves the
    # organisation as it was.
    party = (
        code_of(unit.config.vocab["parties"], "party", given["party"])
        if "party" in given
        else org.party
    )
    region = (
        code_of(unit.config.vocab["regions"], "region", given["region"])
        if "region" in given
        else org.region
    )
    kind = given.get("kind") or org.kind
    name = org.name
    if "name" in given:
        name = clean_text(given["name"]) or ""
        if not name:
            raise ValidationError.one("name", given["name"], N_("an organisation needs a name"))
        other = _by_name(unit, name)
        if other is not None and other.id != org.id:
            raise ValidationError.one(
                "name", name, N_("an organisation of this name exists already ({id})"), id=other.id
            )
    if kind == "democratic_party" and not party:
        raise ValidationError.one(
            "party", given.get("party"), N_("a democratic party's organisation names its party")
        )
    org.name, org.kind, org.party, org.region = name, kind, party, region
    for text_field in ("address", "notes"):
        if text_field in given:
            setattr(org, text_field, clean_text(given[text_field]))
    if "phone" in given:
        org.phone = given["phone"]


def create_organisation(unit: Unit, **values: Any) -> Organisation:
    """Create an organisation from ``values`` (the fields of :class:`OrganisationFields`).

    ``name`` is required and unique (ignoring spaces and full-width forms); ``kind`` is
    ``democratic_party``, ``federation_ic`` or ``other`` (default; the Chinese labels
    民主党派, 工商联, 其他组织 are accepted too); a democratic party's organisation names
    its ``party`` (a code or label of the configured parties). ``region`` is a configured
    region, ``phone`` a phone number (stored in E.164, :mod:`crm_core.phones`)."""
    fields = parse(OrganisationFields, values)
    if not fields.name:
        raise ValidationError.one("name", values.get("name"), N_("an organisation needs a name"))
    org = Organisation(name="", kind="other")
    _apply(unit, org, fields)
    unit.session.add(org)
    unit.session.flush()
    return org


def update_organisation(
    unit: Unit,
    organisation_id: uuid.UUID | str,
    *,
    expected_version: int | None = None,
    **values: Any,
) -> Organisation:
    """Change the given fields of an organisation (same checks as creating). With
    ``expected_version``, a concurrent change by someone else raises Conflict."""
    org = get_organisation(unit, organisation_id)
    check_version(org, expected_version, "organisation")
    _apply(unit, org, parse(OrganisationFields, values))
    unit.session.flush()
    return org


def get_organisation(unit: Unit, organisation_id: uuid.UUID | str) -> Organisation:
    """The organisation with this id (NotFound otherwise)."""
    return fetch(unit, Organisation, organisation_id, "organisation")


def _order(unit: Unit, org: Organisation) -> tuple[int, int, str]:
    kinds = list(KINDS)
    parties = unit.config.vocab["parties"].codes()
    return (
        kinds.index(org.kind) if org.kind in kinds else len(kinds),
        parties.index(org.party) if org.party in parties else len(parties),
        org.name,
    )


def list_organisations(
    unit: Unit, *, kind: str | None = None, region: str | None = None
) -> list[Organisation]:
    """Organisations, optionally of one ``kind`` and ``region`` (codes): the democratic
    parties first, in the configured order of parties, then the federation of industry
    and commerce, then the others by name."""
    stmt = select(Organisation)
    if kind:
        stmt = stmt.where(col(Organisation.kind) == kind)
    if region:
        stmt = stmt.where(col(Organisation.region) == region)
    return sorted(unit.session.scalars(stmt), key=lambda o: _order(unit, o))


def resolve_organisation(unit: Unit, ref: str | uuid.UUID) -> Organisation:
    """The one organisation ``ref`` names: an id, the exact name (ignoring spaces and
    full-width forms), or a part of the name that only one organisation's name contains
    (``民盟`` → 民盟扬州市委员会). Otherwise NotFound, or Ambiguous listing the candidates."""
    if isinstance(ref, uuid.UUID):
        return get_organisation(unit, ref)
    text = (ref or "").strip()
    try:
        found = unit.session.get(Organisation, as_uuid(text, "organisation"))
        if found is not None:
            return found
    except NotFound:
        pass
    key = _name_key(text)
    if not key:
        raise NotFound("organisation", ref)
    everyone = list_organisations(unit)
    exact = [o for o in everyone if _name_key(o.name) == key]
    if exact:
        return exact[0]
    partial = [o for o in everyone if key in _name_key(o.name)]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise NotFound("organisation", ref)
    raise Ambiguous(text, [describe(o) for o in partial])


def describe(org: Organisation) -> str:
    """One line naming an organisation unambiguously: name and short id."""
    return f"{org.name}  [{str(org.id)[:8]}]"


# -- contacts --------------------------------------------------------------------------


def add_contact(
    unit: Unit,
    organisation_id: uuid.UUID | str,
    person_id: uuid.UUID | str,
    *,
    role: str | None = None,
) -> OrganisationContact:
    """Make a person a contact of an organisation, with their ``role`` there (主委,
    联络人, …). A person already linked keeps the link and gets the new role if one is
    given. A person without an organisation of their own gets this one."""
    org = get_organisation(unit, organisation_id)
    person = fetch(unit, Person, person_id, "person")
    if person.status == PersonStatus.merged:
        raise ValidationError.one(
            "person_id",
            str(person.id),
            N_("merged into {id}: use that record"),
            id=person.merged_into_id,
        )
    link = unit.session.get(OrganisationContact, (org.id, person.id))
    if link is None:
        link = OrganisationContact(organisation_id=org.id, person_id=person.id)
        unit.session.add(link)
    if role is not None or link.role is None:
        link.role = clean_text(role)
    if person.organisation_id is None:
        person.organisation_id = org.id
    unit.session.flush()
    return link


def remove_contact(
    unit: Unit, organisation_id: uuid.UUID | str, person_id: uuid.UUID | str
) -> None:
    """Unlink a person from an organisation (NotFound if they were not linked). A person
    whose own organisation it was loses it."""
    oid, pid = as_uuid(organisation_id, "organisation"), as_uuid(person_id, "person")
    link = unit.session.get(OrganisationContact, (oid, pid))
    if link is None:
        raise NotFound("organisation contact", f"{oid}/{pid}")
    unit.session.delete(link)
    person = unit.session.get(Person, pid)
    if person is not None and person.organisation_id == oid:
        person.organisation_id = None
    unit.session.flush()


def contacts_of(unit: Unit, organisation_id: uuid.UUID | str) -> list[tuple[Person, str | None]]:
    """The contact persons of an organisation with their roles, in pinyin order (merged
    records left out)."""
    org = get_organisation(unit, organisation_id)
    rows = unit.session.execute(
        select(Person, col(OrganisationContact.role))
        .join(OrganisationContact, col(OrganisationContact.person_id) == col(Person.id))
        .where(
            col(OrganisationContact.organisation_id) == org.id,
            col(Person.status) != PersonStatus.merged,
        )
        .order_by(col(Person.name_pinyin), col(Person.id))
    )
    return [(person, role) for person, role in rows]


def organisations_of(
    unit: Unit, person_id: uuid.UUID | str
) -> list[tuple[Organisation, str | None]]:
    """The organisations a person is a contact of, with their role in each."""
    person = fetch(unit, Person, person_id, "person")
    rows = unit.session.execute(
        select(Organisation, col(OrganisationContact.role))
        .join(OrganisationContact, col(OrganisationContact.organisation_id) == Organisation.id)
        .where(col(OrganisationContact.person_id) == person.id)
    )
    return sorted(((o, r) for o, r in rows), key=lambda pair: _order(unit, pair[0]))


def organisation_json(unit: Unit, org: Organisation) -> dict[str, Any]:
    """The stable JSON form of an organisation, with its contacts."""
    return {
        "id": str(org.id),
        "name": org.name,
        "kind": org.kind,
        "party": org.party,
        "region": org.region,
        "address": org.address,
        "phone": org.phone,
        "notes": org.notes,
        "contacts": [
            {"person_id": str(p.id), "name": p.name, "role": role}
            for p, role in contacts_of(unit, org.id)
        ],
        "version": org.version,
    }
