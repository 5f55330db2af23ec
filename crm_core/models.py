"""The tables of tongxin (SQLModel). Alembic owns the schema: see ``crm_core/migrations``.

Every row has a UUID primary key (records from a county's installation merge into the
city's without renumbering), created and updated times in UTC, and a version number that
the ORM checks on every update, so a concurrent edit is detected rather than overwritten.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, Index, Table, UniqueConstraint
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from crm_core import clock
from crm_core.types import JSONDoc, UTCDateTime, str_enum


class Gender(StrEnum):
    male = "male"
    female = "female"


class Membership(StrEnum):
    """Whether a person sits on the committee (委员, 常委) or is an outside contact."""

    standing = "standing"  # 常委
    member = "member"  # 委员
    none = "none"  # not a member: an outside contact


class PersonStatus(StrEnum):
    active = "active"
    inactive = "inactive"
    deceased = "deceased"
    merged = "merged"  # folded into another record by a merge; kept so old ids resolve


class Role(StrEnum):
    admin = "admin"  # the general office (办公室)
    leader = "leader"  # chair-meeting, party-group and special-committee leaders
    staff = "staff"
    county_staff = "county_staff"  # scoped to one region


class InteractionStatus(StrEnum):
    planned = "planned"
    done = "done"
    cancelled = "cancelled"


class Rsvp(StrEnum):
    invited = "invited"
    accepted = "accepted"
    declined = "declined"


class FollowUpStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    answered = "answered"
    closed = "closed"


def _fk(target: str, *, nullable: bool = True, ondelete: str | None = None) -> Any:
    return Field(
        default=None,
        sa_column_args=[ForeignKey(target, ondelete=ondelete)],
        nullable=nullable,
        index=True,
    )


def table_of(model: type[SQLModel]) -> Table:
    """The :class:`~sqlalchemy.Table` of a table class, typed: SQLAlchemy sets
    ``__table__`` on each one, but SQLModel does not declare it."""
    table: Table = model.__table__  # type: ignore[attr-defined]  # see the docstring
    return table


class Record(SQLModel):
    """Columns every table has."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)
    version: int = Field(default=1, sa_column_kwargs={"nullable": False})

    @declared_attr.directive
    def __mapper_args__(cls: type[Record]) -> dict[str, Any]:
        # The ORM adds "AND version = :old" to every UPDATE and bumps it, so two people
        # editing the same row at once cannot silently overwrite each other.
        return {"version_id_col": table_of(cls).c.version}


class Organisation(Record, table=True):
    """A democratic party's municipal committee, the federation of industry and commerce,
    or another organisation the office liaises with."""

    name: str = Field(index=True)
    kind: str = Field(default="other")  # democratic_party | federation_ic | other
    party: str | None = None
    region: str | None = None
    address: str | None = None
    phone: str | None = None
    notes: str | None = None


class Person(Record, table=True):
    """Someone the office keeps in touch with: a member (委员) or an outside contact."""

    __table_args__: ClassVar[Any] = (
        Index("ix_person_status_pinyin", "status", "name_pinyin"),
        CheckConstraint("birth_month IS NULL OR (birth_month BETWEEN 1 AND 12)"),
    )

    name: str = Field(index=True)
    name_pinyin: str = Field(index=True)  # derived on write: "zhangsan"
    name_initials: str = Field(index=True)  # derived on write: "zs"
    gender: Gender | None = Field(default=None, sa_type=str_enum(Gender))
    birth_year: int | None = None
    birth_month: int | None = None
    ethnicity: str | None = None
    party: str | None = Field(default=None, index=True)
    sector: str | None = Field(default=None, index=True)
    region: str | None = Field(default=None, index=True)
    employer: str | None = None
    title: str | None = None
    mobile: str | None = Field(default=None, index=True)
    phones: list[str] = Field(default_factory=list, sa_type=JSONDoc)
    phone_digits: str = ""  # derived on write: every phone's digits, for search
    email: str | None = None
    address: str | None = None
    membership: Membership = Field(default=Membership.none, sa_type=str_enum(Membership))
    status: PersonStatus = Field(default=PersonStatus.active, sa_type=str_enum(PersonStatus))
    notes: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDoc)
    organisation_id: uuid.UUID | None = _fk("organisation.id", ondelete="SET NULL")
    merged_into_id: uuid.UUID | None = _fk("person.id")


class PersonCategory(SQLModel, table=True):
    """A person carries a category (党外知识分子, 非公有制经济人士, ...): codes from config."""

    __tablename__ = "person_category"
    person_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("person.id", ondelete="CASCADE")], primary_key=True
    )
    category: str = Field(primary_key=True, index=True)


class PersonCommittee(SQLModel, table=True):
    """A person belongs to a special committee (专委会): codes from config."""

    __tablename__ = "person_committee"
    person_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("person.id", ondelete="CASCADE")], primary_key=True
    )
    committee: str = Field(primary_key=True, index=True)


class OrganisationContact(SQLModel, table=True):
    """A contact person of an organisation, with their role there."""

    __tablename__ = "organisation_contact"
    organisation_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("organisation.id", ondelete="CASCADE")], primary_key=True
    )
    person_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("person.id", ondelete="CASCADE")], primary_key=True
    )
    role: str | None = None


class Account(Record, table=True):
    """A user of the program (账号): may be linked to the person record of the same human."""

    username: str = Field(unique=True, index=True)
    display_name: str
    role: Role = Field(default=Role.staff, sa_type=str_enum(Role))
    position: str | None = None  # 主席, 副主席, 秘书长, 党组成员, 专委会主任 ...
    chair_meeting: bool = False  # 主席会议成员: keeps one contact per liaison category
    committee: str | None = None  # the special committee this leader looks after
    region_scope: str | None = None  # county staff see only this region
    person_id: uuid.UUID | None = _fk("person.id", ondelete="SET NULL")
    active: bool = True


class Series(Record, table=True):
    """A recurrence: an RFC 5545 RRULE, or a lunar yearly date (农历八月十五)."""

    code: str | None = Field(default=None, unique=True)
    title: str
    kind: str = "event"
    rrule: str | None = None
    start_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lunar_month: int | None = None
    lunar_day: int | None = None
    local_time: str | None = None  # "18:30" for lunar series; None means all day
    duration_minutes: int | None = None
    all_day: bool = False
    location: str | None = None
    source: str = "user"  # config | user | plugin
    active: bool = True


class Interaction(Record, table=True):
    """One piece of work with people: a visit, a talk, a call, an event (planned or done)."""

    __table_args__: ClassVar[Any] = (Index("ix_interaction_status_start", "status", "start_at"),)

    kind: str = Field(index=True)
    status: InteractionStatus = Field(
        default=InteractionStatus.done, sa_type=str_enum(InteractionStatus)
    )
    start_at: datetime = Field(sa_type=UTCDateTime, index=True)
    end_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    all_day: bool = False
    location: str | None = None
    region: str | None = Field(default=None, index=True)
    summary: str | None = None
    notes: str | None = None  # the detailed record; hidden when confidential
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDoc)
    confidential: bool = False
    series_id: uuid.UUID | None = _fk("series.id", ondelete="SET NULL")
    created_by_id: uuid.UUID | None = _fk("account.id", ondelete="SET NULL")
    sequence: int = Field(default=0, sa_column_kwargs={"nullable": False})
    cancel_reason: str | None = None


class InteractionParticipant(SQLModel, table=True):
    """A person or an account taking part in an interaction, with role and RSVP."""

    __tablename__ = "interaction_participant"
    __table_args__: ClassVar[Any] = (
        CheckConstraint(
            "(person_id IS NULL) <> (account_id IS NULL)", name="ck_participant_one_of"
        ),
        UniqueConstraint("interaction_id", "person_id", "account_id", name="uq_participant"),
        Index("ix_participant_person_interaction", "person_id", "interaction_id"),
        Index("ix_participant_account_interaction", "account_id", "interaction_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    interaction_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("interaction.id", ondelete="CASCADE")], index=True
    )
    person_id: uuid.UUID | None = Field(
        default=None, sa_column_args=[ForeignKey("person.id", ondelete="CASCADE")]
    )
    account_id: uuid.UUID | None = Field(
        default=None, sa_column_args=[ForeignKey("account.id", ondelete="CASCADE")]
    )
    role: str = "participant"
    rsvp: Rsvp | None = Field(default=None, sa_type=str_enum(Rsvp))
    attended: bool | None = None


class Assignment(Record, table=True):
    """Who keeps whom (二.9): a keeper's regular liaison with one contact, with a cadence."""

    keeper_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("account.id", ondelete="CASCADE")], index=True
    )
    contact_id: uuid.UUID = Field(
        sa_column_args=[ForeignKey("person.id", ondelete="CASCADE")], index=True
    )
    category: str | None = None
    ideal_days: int | None = None  # None: the category's cadence from config
    max_days: int | None = None
    start_on: date
    end_on: date | None = None
    snoozed_until: date | None = None
    snooze_reason: str | None = None
    notes: str | None = None


class FollowUp(Record, table=True):
    """A concern raised by a member (社情民意、诉求) and what the office did about it."""

    __tablename__ = "follow_up"
    interaction_id: uuid.UUID | None = _fk("interaction.id", ondelete="SET NULL")
    person_id: uuid.UUID | None = _fk("person.id", ondelete="SET NULL")
    title: str
    detail: str | None = None
    owner_id: uuid.UUID | None = _fk("account.id", ondelete="SET NULL")
    due_on: date | None = Field(default=None, index=True)
    status: FollowUpStatus = Field(
        default=FollowUpStatus.open, sa_type=str_enum(FollowUpStatus), index=True
    )
    response: str | None = None
    answered_on: date | None = None
    closed_on: date | None = None


class AuditLog(SQLModel, table=True):
    """Who changed what, when, with the values before and after. Written by the session
    itself on every flush, so no service (or plugin) can forget it."""

    __tablename__ = "audit_log"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, index=True)
    actor_id: uuid.UUID | None = Field(default=None, index=True)  # the account acting
    actor: str | None = None  # the login; "office (as chair)" when acting as another
    # The administrator's own account when they acted as ``actor_id`` (tongxin --as).
    real_actor_id: uuid.UUID | None = Field(default=None, index=True)
    action: str  # create | update | delete | merge
    entity: str
    entity_id: str = Field(index=True)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONDoc)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONDoc)


AUDITED: tuple[type[SQLModel], ...] = (
    Person,
    PersonCategory,
    PersonCommittee,
    Organisation,
    OrganisationContact,
    Account,
    Series,
    Interaction,
    InteractionParticipant,
    Assignment,
    FollowUp,
)

__all__ = [
    "AUDITED",
    "Account",
    "Assignment",
    "AuditLog",
    "FollowUp",
    "FollowUpStatus",
    "Gender",
    "Interaction",
    "InteractionParticipant",
    "InteractionStatus",
    "Membership",
    "Organisation",
    "OrganisationContact",
    "Person",
    "PersonCategory",
    "PersonCommittee",
    "PersonStatus",
    "Record",
    "Role",
    "Rsvp",
    "Series",
]

# The calendar and reminder tables (feed tokens, CalDAV state, the reminder delivery log)
# live in their own module; imported here, at the end, so that
# whoever imports the models has the complete metadata (migrations, schema checks).
from crm_core import (  # noqa: E402, F401
    access_models,
    calendar_models,
    dedupe_models,
    exchange_models,
    group_models,
    relation_models,
    search_models,
)

AUDITED = (*AUDITED, *relation_models.AUDITED_LINKS)  # relationships and tags (issue 18)
# Groups and their picked members are audited like people (issue 18).
AUDITED = (*AUDITED, group_models.ContactGroup, group_models.ContactGroupMember)
