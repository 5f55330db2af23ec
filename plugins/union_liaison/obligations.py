"""What union_liaison says the office owes (the ``collect_obligations`` hook): the
中秋联谊会 without its invitations sent ``INVITE_DAYS`` before the day."""

from __future__ import annotations

from datetime import date, timedelta

from crm_core import api
from crm_core.api import (
    InteractionStatus,
    Obligation,
    OpenTarget,
    Unit,
    ValidationError,
    _,
)

from . import services

# Invitations go out two weeks before the gathering (people travel in for it); the row
# shows from a month before, as "due", and turns "late" after that day.
INVITE_DAYS = 14
SHOW_DAYS = 30


@api.hookimpl
def collect_obligations(unit: Unit, as_of: date) -> list[Obligation] | None:
    """The coming 中秋联谊会, within ``SHOW_DAYS`` of its day, not yet organised or with
    nobody invited: due ``INVITE_DAYS`` before it. The office's (no account); county
    staff are not told (the gathering is the city office's)."""
    if api.region_scope(unit) is not None:
        return None
    try:
        day = services.mid_autumn_date(unit, as_of.year)
    except ValidationError:  # the county's config has no such series: nothing owed
        return None
    if not (day - timedelta(days=SHOW_DAYS) <= as_of < day):
        return None
    gathering = services.find_gathering(unit, as_of.year)  # scoped: only one it may see
    link = OpenTarget("agenda", day.isoformat())
    if gathering is not None:
        if gathering.status is not InteractionStatus.planned:
            return None  # cancelled (or, moved earlier, already done)
        if services.attendance_summary(unit, gathering.id).invited:
            return None
        link = OpenTarget("interaction", str(gathering.id))
    due = day - timedelta(days=INVITE_DAYS)
    return [
        Obligation(
            f"mid_autumn_invitations:{day.year}",
            _("Mid-Autumn gathering ({day}): invitations not sent").format(day=day.isoformat()),
            detail=_("invitations go out {n} days before, by {due}").format(
                n=INVITE_DAYS, due=due.isoformat()
            ),
            due_on=due,
            link=link,
        )
    ]
