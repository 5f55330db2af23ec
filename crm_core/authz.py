"""Who may read and change what. The services call these checks; no front end does.

The rules, by the acting account's role (``unit.actor``):

- **admin** (the general office): everything, confidential notes included; manages
  accounts, reads the audit log, answers personal-data requests.
- **leader** and **staff**: read and change every person and interaction; the summary,
  notes and fields of a confidential interaction only if they take part in it (or
  recorded it). Of one they may not read, only that it happened shows (kind, time,
  place, participants, status): every output path asks :func:`shown`.
- **county_staff**: only the people of their region (``account.region_scope``) and the
  interactions of that region (its ``region``, or a person of the region taking part,
  or they take part themselves); what they create lands in their region.
- A disabled account is refused when the unit opens (:meth:`Tongxin.unit`).
- No account: a login with administrator rights (``unit.implicit_admin``: the owner of
  the database, or anyone before the first administrator account exists), or trusted
  in-process code (``unit.system``: daemons and tests that did not authenticate), which
  may administer but never reads confidential notes, being no person.

A refusal is :class:`~crm_core.errors.PermissionDenied` with a message saying why.
Lists are filtered instead (:func:`person_scope`, :func:`interaction_scope`, ...): a
county's staff simply never see the other counties' people in a search or a report.

PostgreSQL enforces the same rules again for anyone connecting with their own role
(row-level security, migration 0003), so psql cannot read around the program.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import aliased
from sqlmodel import col

from crm_core.errors import PermissionDenied
from crm_core.i18n import N_, _, language
from crm_core.models import (
    Account,
    Assignment,
    FollowUp,
    Interaction,
    InteractionParticipant,
    Person,
    Role,
)
from crm_core.unit import Unit

# The roles as messages name them (translated through the catalog).
ROLE_WORDS = (N_("admin"), N_("leader"), N_("staff"), N_("county_staff"))

# -- who ---------------------------------------------------------------------------------


def is_admin(unit: Unit) -> bool:
    """Whether the unit acts with administrator rights."""
    return unit.is_admin


def can_administer(unit: Unit) -> bool:
    """Whether the unit may manage accounts and answer personal-data requests: an
    administrator, or trusted in-process code (``unit.system``)."""
    return unit.is_admin or unit.system


def require_admin(unit: Unit, action: str) -> None:
    """PermissionDenied unless the unit may administer; ``action`` says what was
    refused ("add accounts", "read the audit log" ...), already translated."""
    if not can_administer(unit):
        raise PermissionDenied(
            _("only an administrator may {action} ({who} is {role})").format(
                action=action, who=unit.actor_name, role=_role_label(unit)
            )
        )


def acting_for(unit: Unit, account: Account | None) -> Unit:
    """A unit on the same session and transaction as ``unit`` whose rights are those of
    ``account`` (None: trusted in-process code, ``system``): for a service that works
    for several people in turn, such as the feed server rendering a token holder's
    calendar or the reminder service writing each account's digest, so every check
    applies as that person. The audit log still names whoever opened ``unit``.
    A disabled account is refused (PermissionDenied)."""
    if account is None:
        return Unit(unit.app, unit.session, None, unit.actor_name, system=True)
    if not account.active:
        raise PermissionDenied(_("the account {user!r} is disabled").format(user=account.username))
    return Unit(unit.app, unit.session, account, account.username)


def may_see_calendar_of(unit: Unit, account: Account) -> bool:
    """Whether the unit may read ``account``'s calendar (which shows what that account
    may see): its own, or any for an administrator or someone who sees every region
    (leaders and staff); county staff only their own."""
    if unit.actor is not None and unit.actor.id == account.id:
        return True
    if can_administer(unit):
        return True
    return unit.actor is not None and region_scope(unit) is None


def check_calendar_of(unit: Unit, account: Account, *, token: bool = False) -> None:
    """PermissionDenied unless the unit may read ``account``'s calendar; with ``token``
    (a feed address, which keeps working until revoked) only the account itself and
    administrators may."""
    own = unit.actor is not None and unit.actor.id == account.id
    allowed = (own or can_administer(unit)) if token else may_see_calendar_of(unit, account)
    if not allowed:
        raise PermissionDenied(
            _("{who} may not read the calendar of {user} ({role})").format(
                who=unit.actor_name, user=account.username, role=_role_label(unit)
            )
        )


def region_scope(unit: Unit) -> str | None:
    """The region a county-staff account is confined to; None for everyone else."""
    actor = unit.actor
    if actor is None or actor.role != Role.county_staff:
        return None
    # County staff without a region (created before the rule) see no one.
    return actor.region_scope or "\x00"


def role_label(unit: Unit) -> str:
    """The acting account's role as a refusal names it (translated), e.g. "county_staff"
    as 区县工作人员; "without an account" for a login that has none."""
    return _role_label(unit)


def _role_label(unit: Unit) -> str:
    if unit.actor is None:
        return _("without an account")
    return _(unit.actor.role.value if hasattr(unit.actor.role, "value") else unit.actor.role)


def _region_label(unit: Unit, code: str | None) -> str:
    if not code or code == "\x00":
        return _("no region")
    term = unit.config.vocab["regions"].get(code)
    return term.label(language()) if term else code


def _out_of_scope(unit: Unit, what: str, region: str | None) -> PermissionDenied:
    return PermissionDenied(
        _("{what} is in {region}; {who} works for {scope} only").format(
            what=what,
            region=_region_label(unit, region),
            who=unit.actor_name,
            scope=_region_label(unit, region_scope(unit)),
        )
    )


# -- people ------------------------------------------------------------------------------


def _people_in(scope: str) -> Any:
    """The ids of the people of a region (an alias: never correlated with the caller's
    own query of Person)."""
    person = aliased(Person)
    return select(col(person.id)).where(col(person.region) == scope)


def person_scope(unit: Unit) -> list[ColumnElement[bool]]:
    """WHERE conditions on Person that leave only the people the unit may see (and,
    inside :func:`narrowed_to`, only those of that set)."""
    scope = region_scope(unit)
    conds = [] if scope is None else [col(Person.region) == scope]
    narrowed = getattr(unit, "people_filter", None)
    if narrowed is not None:
        conds.append(col(Person.id).in_(narrowed))
    return conds


@contextmanager
def narrowed_to(unit: Unit, people: Iterable[uuid.UUID] | None) -> Iterator[None]:
    """Inside the block, every people query that applies the unit's scope
    (:func:`person_scope`, :func:`person_ids_scope`, :func:`interaction_scope`) keeps
    only ``people`` too (a group's members: ``--group``); None narrows nothing. It
    only ever narrows: what the unit may not see stays out."""
    before = getattr(unit, "people_filter", None)
    if people is not None:
        ids = list(people)
        unit.people_filter = ids if before is None else [i for i in ids if i in set(before)]  # type: ignore[attr-defined]
    try:
        yield
    finally:
        unit.people_filter = before  # type: ignore[attr-defined]


def can_see_person(unit: Unit, person: Person) -> bool:
    """Whether the unit may read (and change) this person."""
    scope = region_scope(unit)
    return scope is None or person.region == scope


def check_person(unit: Unit, person: Person) -> Person:
    """``person``, or PermissionDenied when it is outside the unit's region."""
    if not can_see_person(unit, person):
        # Not their name: whoever may not see the person learns nothing of them.
        raise _out_of_scope(unit, _("this person"), person.region)
    return person


def check_region(unit: Unit, region: str | None, what: str) -> str | None:
    """The region a new or changed record of the unit gets: county staff's own region
    when none is given; PermissionDenied for another one."""
    scope = region_scope(unit)
    if scope is None:
        return region
    if region is None:
        return scope
    if region != scope:
        raise _out_of_scope(unit, what, region)
    return region


def check_move(unit: Unit, region: str | None, what: str) -> None:
    """PermissionDenied when county staff would move ``what`` to another region (or
    to none)."""
    scope = region_scope(unit)
    if scope is not None and region != scope:
        raise _out_of_scope(unit, what, region)


def person_ids_scope(unit: Unit, column: Any) -> list[ColumnElement[bool]]:
    """WHERE conditions keeping rows whose ``column`` names a person the unit may see."""
    scope = region_scope(unit)
    narrowed = getattr(unit, "people_filter", None)
    conds = [] if narrowed is None else [column.in_(narrowed)]
    if scope is None:
        return conds
    return [column.in_(_people_in(scope)), *conds]


# -- interactions -----------------------------------------------------------------------


def _participates(unit: Unit, interaction_id: Any) -> ColumnElement[bool]:
    actor = unit.actor
    if actor is None:
        return false()
    p = aliased(InteractionParticipant)  # the caller's query may join the table itself
    me = [col(p.account_id) == actor.id]
    if actor.person_id is not None:
        me.append(col(p.person_id) == actor.person_id)
    return exists().where(col(p.interaction_id) == interaction_id, or_(*me))


def interaction_scope(unit: Unit) -> list[ColumnElement[bool]]:
    """WHERE conditions on Interaction that leave only those the unit may see: for
    county staff, those of their region, with a person of their region, or their own."""
    scope = region_scope(unit)
    narrowed = getattr(unit, "people_filter", None)
    if narrowed is not None:  # work with someone of the set (narrowed_to)
        q = aliased(InteractionParticipant)
        among = exists().where(
            col(q.interaction_id) == col(Interaction.id), col(q.person_id).in_(narrowed)
        )
        return [among, *interaction_scope_of_region(unit, scope)]
    return interaction_scope_of_region(unit, scope)


def interaction_scope_of_region(unit: Unit, scope: str | None) -> list[ColumnElement[bool]]:
    """:func:`interaction_scope` without a narrowing: the region's rule alone."""
    if scope is None:
        return []
    p = aliased(InteractionParticipant)
    with_our_people = exists().where(
        col(p.interaction_id) == col(Interaction.id),
        col(p.person_id).in_(_people_in(scope)),
    )
    return [
        or_(
            col(Interaction.region) == scope,
            with_our_people,
            _participates(unit, Interaction.id),
        )
    ]


def can_see_interaction(unit: Unit, interaction: Interaction) -> bool:
    """Whether the unit may see this interaction (its notes are a further question:
    :func:`can_read_notes`)."""
    conds = interaction_scope_of_region(unit, region_scope(unit))  # never narrowed
    if not conds:
        return True
    if interaction.region == region_scope(unit):
        return True
    return (
        unit.session.scalar(select(true()).where(col(Interaction.id) == interaction.id, *conds))
        is not None
    )


def check_interaction(unit: Unit, interaction: Interaction, *, change: bool = False) -> None:
    """PermissionDenied unless the unit may see ``interaction``; to ``change`` it,
    county staff also need every person taking part to be of their region, and a
    confidential one is changed only by those who may read its notes (and trusted
    in-process code): PostgreSQL's row-level security refuses anyone else's change
    too, so both backends answer alike."""
    spec = unit.kinds.get(interaction.kind)
    kind = spec.label(language()) if spec else interaction.kind
    if not can_see_interaction(unit, interaction):
        what = _("this {kind}").format(kind=kind)
        raise _out_of_scope(unit, what, interaction.region)
    if (
        change
        and interaction.confidential
        and not unit.system
        and not can_read_notes(unit, interaction)
    ):
        raise PermissionDenied(
            _(
                "this {kind} is confidential: only its participants, whoever recorded "
                "it and administrators may change it"
            ).format(kind=kind)
        )
    scope = region_scope(unit)
    if change and scope is not None:
        other = unit.session.scalars(
            select(Person)
            .join(InteractionParticipant, col(InteractionParticipant.person_id) == Person.id)
            .where(
                col(InteractionParticipant.interaction_id) == interaction.id,
                or_(col(Person.region).is_(None), col(Person.region) != scope),
            )
            .limit(1)
        ).first()
        if other is not None:
            raise _out_of_scope(unit, _("a person taking part"), other.region)


def takes_part(unit: Unit, interaction_id: uuid.UUID) -> bool:
    """Whether the acting account (or the person it is linked to) takes part."""
    if unit.actor is None:
        return False
    return bool(unit.session.scalar(select(_participates(unit, interaction_id))))


def can_read_notes(unit: Unit, interaction: Interaction) -> bool:
    """Whether the unit may read the summary, the notes and the kind's fields (what
    :func:`shown` hides otherwise): anyone who may see an ordinary interaction; for a
    confidential one only its participants (as an account or as the person the account
    is linked to), whoever recorded it, and administrators."""
    if not interaction.confidential:
        return can_see_interaction(unit, interaction)
    if unit.is_admin:
        return True
    if unit.actor is not None and interaction.created_by_id == unit.actor.id:
        return True
    return takes_part(unit, interaction.id)


def check_notes(unit: Unit, interaction: Interaction) -> None:
    """PermissionDenied unless the unit may read the notes of ``interaction``."""
    if not can_read_notes(unit, interaction):
        raise PermissionDenied(
            _(
                "the notes of {kind} {id} are confidential: only its participants "
                "and administrators may read them"
            ).format(kind=interaction.kind, id=interaction.id)
        )


# -- what of a confidential interaction is shown ------------------------------------------


@dataclass(frozen=True)
class Shown:
    """What the acting unit may see of an interaction's content: the one decision every
    output path (CLI, JSON, TUI, exports, reports, calendars, reminders) takes from
    :func:`shown` or :func:`shown_all` instead of reading ``summary``, ``notes`` and
    ``data`` itself.

    For a confidential interaction the unit may not read (:func:`can_read_notes`), only
    that it happened shows: its kind, time, place, participants and status stay on the
    record, while ``summary`` and ``notes`` are None, ``data`` is empty and ``hidden``
    is true. ``headline`` is what a line shows where the summary would be: the summary,
    or for hidden content the kind's label marked confidential ("谈心谈话（保密）")."""

    hidden: bool
    summary: str | None
    notes: str | None
    data: dict[str, Any] = field(default_factory=dict)
    headline: str | None = None


def hidden_label(unit: Unit, kind: str) -> str:
    """What shows in place of a hidden summary: the kind's label marked confidential,
    "谈心谈话（保密）"."""
    spec = unit.kinds.get(kind)
    label = spec.label(language()) if spec else kind
    return _("{kind} (confidential)").format(kind=label)


def readable_ids(unit: Unit, interactions: Iterable[Interaction]) -> set[uuid.UUID]:
    """The ids of ``interactions`` whose summary, notes and fields the unit may read
    (:func:`can_read_notes`), in one query whatever their number. The interactions are
    ones the unit may see (the caller's query applied :func:`interaction_scope`): an
    ordinary one is readable, a confidential one only by its participants, whoever
    recorded it and administrators."""
    items = list(interactions)
    out = {i.id for i in items if not i.confidential}
    secret = [i for i in items if i.confidential]
    if not secret:
        return out
    if unit.is_admin:
        return out | {i.id for i in secret}
    actor = unit.actor
    if actor is None:  # trusted in-process code is no person: it reads no confidential text
        return out
    out |= {i.id for i in secret if i.created_by_id == actor.id}
    rest = [i.id for i in secret if i.id not in out]
    if rest:
        me = [col(InteractionParticipant.account_id) == actor.id]
        if actor.person_id is not None:
            me.append(col(InteractionParticipant.person_id) == actor.person_id)
        out |= set(
            unit.session.scalars(
                select(col(InteractionParticipant.interaction_id)).where(
                    col(InteractionParticipant.interaction_id).in_(rest), or_(*me)
                )
            )
        )
    return out


def _shown(unit: Unit, i: Interaction, readable: bool) -> Shown:
    if readable:
        return Shown(False, i.summary, i.notes, dict(i.data or {}), i.summary)
    return Shown(True, None, None, {}, hidden_label(unit, i.kind))


def shown(unit: Unit, interaction: Interaction) -> Shown:
    """What the unit may see of ``interaction``'s summary, notes and fields
    (:class:`Shown`)."""
    return _shown(unit, interaction, interaction.id in readable_ids(unit, [interaction]))


def shown_all(unit: Unit, interactions: Iterable[Interaction]) -> dict[uuid.UUID, Shown]:
    """:func:`shown` for many interactions at once (one query), by id."""
    items = list(interactions)
    readable = readable_ids(unit, items)
    return {i.id: _shown(unit, i, i.id in readable) for i in items}


# -- follow-ups and assignments ---------------------------------------------------------


def follow_up_scope(unit: Unit) -> list[ColumnElement[bool]]:
    """WHERE conditions on FollowUp: for county staff, those about a person of their
    region, or owned by them."""
    scope = region_scope(unit)
    if scope is None:
        return []
    ours = col(FollowUp.person_id).in_(_people_in(scope))
    mine = col(FollowUp.owner_id) == unit.actor.id if unit.actor else false()
    return [or_(ours, mine)]


def check_follow_up(unit: Unit, row: FollowUp) -> FollowUp:
    """``row``, or PermissionDenied when it is outside the unit's region."""
    scope = region_scope(unit)
    if scope is None or (unit.actor is not None and row.owner_id == unit.actor.id):
        return row
    person = unit.session.get(Person, row.person_id) if row.person_id else None
    if person is None or person.region != scope:
        raise _out_of_scope(
            unit,
            _("the follow-up {title!r}").format(title=row.title),
            person.region if person else None,
        )
    return row


def assignment_scope(unit: Unit) -> list[ColumnElement[bool]]:
    """WHERE conditions on Assignment: for county staff, contacts of their region."""
    return person_ids_scope(unit, col(Assignment.contact_id))


def check_assignment(unit: Unit, row: Assignment) -> Assignment:
    """``row``, or PermissionDenied when its contact is outside the unit's region."""
    contact = unit.session.get(Person, row.contact_id)
    if contact is not None:
        check_person(unit, contact)
    return row


# -- accounts ----------------------------------------------------------------------------


def active_admins(unit: Unit) -> int:
    """How many active administrator accounts exist."""
    from sqlalchemy import func

    return (
        unit.session.scalar(
            select(func.count())
            .select_from(Account)
            .where(and_(col(Account.role) == Role.admin, col(Account.active).is_(True)))
        )
        or 0
    )
