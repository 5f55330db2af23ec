"""Who is overdue (二.9): assignments whose contact has not been met for too long, and
chair-meeting members missing a contact of a required category."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core import clock
from crm_core.models import Account, Person
from crm_core.services import assignments as assignment_service
from crm_core.services import obligations as obligation_service
from crm_core.services._common import as_uuid
from crm_core.unit import Unit


@dataclass(frozen=True)
class OverdueItem:
    """An assignment past its ideal (``level`` "ideal") or maximum ("max") interval."""

    assignment_id: uuid.UUID
    keeper_id: uuid.UUID
    keeper: str
    contact_id: uuid.UUID
    contact: str
    category: str | None
    ideal_days: int
    max_days: int
    last_contact: datetime | None
    days_since: int  # since the last contact, or since the assignment began if never
    level: str
    days_overdue: int  # days past the interval the level names
    snoozed_until: date | None = None


@dataclass(frozen=True)
class Gap:
    """A chair-meeting member who keeps no contact of a required category (二.9)."""

    keeper_id: uuid.UUID
    keeper: str
    category: str


@dataclass(frozen=True)
class OverdueReport:
    """Overdue assignments (past maximum first, most overdue first), gaps, and the
    plugins' obligations (``collect_obligations``; ``obligations.failed`` names the
    plugins whose hook raised and whose rows are missing)."""

    items: list[OverdueItem]
    gaps: list[Gap]
    obligations: obligation_service.Obligations = field(
        default_factory=lambda: obligation_service.Obligations(date.min)
    )


def overdue(
    unit: Unit,
    *,
    keeper_id: uuid.UUID | str | None = None,
    today: date | None = None,
    include_snoozed: bool = False,
) -> OverdueReport:
    """Every active assignment (of one keeper, if given) whose contact is due: past the
    maximum interval first, then past the ideal one, each most overdue first. Any done
    interaction of any kind with both keeper and contact resets the clock. Snoozed
    assignments are left out until their snooze ends, unless ``include_snoozed``.

    The plugins' obligations on ``today`` come with them (:func:`crm_core.services.
    obligations.collect`): with a keeper, those it owes (and the office's, if it is an
    administrator); without, all the reader is given."""
    tz = unit.config.tz
    today = today or clock.today(tz)
    keeper = as_uuid(keeper_id, "account") if keeper_id is not None else None
    active = assignment_service.list_assignments(unit, keeper_id=keeper, active_on=today)
    last = assignment_service.last_contacts(unit, keeper_id=keeper)
    people = _by_id(unit, Person, {a.contact_id for a in active})
    accounts = _by_id(unit, Account, {a.keeper_id for a in active})
    items: list[OverdueItem] = []
    for a in active:
        snoozed = a.snoozed_until is not None and a.snoozed_until >= today
        if snoozed and not include_snoozed:
            continue
        contact = people[a.contact_id]
        cad = assignment_service.cadence(unit, a, contact)
        seen = last.get(a.id)
        since = seen.astimezone(tz).date() if seen else a.start_on
        days = (today - since).days
        if days > cad.max_days:
            level, past = "max", days - cad.max_days
        elif days > cad.ideal_days:
            level, past = "ideal", days - cad.ideal_days
        else:
            continue
        items.append(
            OverdueItem(
                a.id,
                a.keeper_id,
                accounts[a.keeper_id].display_name,
                a.contact_id,
                contact.name,
                a.category,
                cad.ideal_days,
                cad.max_days,
                seen,
                days,
                level,
                past,
                a.snoozed_until if snoozed else None,
            )
        )
    items.sort(key=lambda i: (i.level != "max", -i.days_overdue, i.contact))
    owing = unit.session.get(Account, keeper) if keeper is not None else None
    if keeper is not None and owing is None:  # nobody's: nothing is owed by them
        duties = obligation_service.Obligations(today)
    else:
        duties = obligation_service.collect(unit, as_of=today, account=owing)
    return OverdueReport(items, _gaps(unit, keeper, today), duties)


def _gaps(unit: Unit, keeper: uuid.UUID | None, today: date) -> list[Gap]:
    required = [t.code for t in unit.app.categories if t.extra.get("liaison_required")]
    stmt = select(Account).where(
        col(Account.chair_meeting).is_(True), col(Account.active).is_(True)
    )
    if keeper is not None:
        stmt = stmt.where(col(Account.id) == keeper)
    gaps = []
    for account in unit.session.scalars(stmt.order_by(col(Account.display_name))):
        held = {
            a.category
            for a in assignment_service.list_assignments(
                unit, keeper_id=account.id, active_on=today
            )
        }
        gaps += [Gap(account.id, account.display_name, c) for c in required if c not in held]
    return gaps


def _by_id(unit: Unit, model: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not ids:
        return {}
    return {r.id: r for r in unit.session.scalars(select(model).where(col(model.id).in_(ids)))}


def overdue_json(report: OverdueReport) -> dict[str, Any]:
    """The stable JSON form of an overdue report (documented in docs/cli-json.md)."""

    def plain(obj: Any) -> dict[str, Any]:
        out = {}
        for k, v in asdict(obj).items():
            out[k] = (
                v.isoformat()
                if isinstance(v, datetime | date)
                else str(v)
                if isinstance(v, uuid.UUID)
                else v
            )
        return out

    duties = report.obligations
    return {
        "overdue": [plain(i) for i in report.items],
        "gaps": [plain(g) for g in report.gaps],
        "obligations": [obligation_service.as_json(o, duties.as_of) for o in duties.rows],
        "plugins_failed": list(duties.failed),
    }
