"""Demo data: a credible roster of a municipal CPPCC and a year of its liaison work.

``generate(app)`` fills an *empty* database with what a newcomer expects to see in the
Yangzhou office: about 450 members (委员, a few dozen of them 常委) and outside contacts,
with Chinese names drawn by real surname frequencies (polyphonic and compound surnames
included, so pinyin search shows what it can do), parties and sectors that agree with
each other, employers typical of Yangzhou, the eight democratic parties and the
federation of industry and commerce with their contact persons, the office's accounts
(chair, vice-chairs, secretary-general, party group, committee directors, office, county
staff), the chair-meeting members' liaison assignments (seed 二.9) with a gap and some
overdue contacts, a year of calls, meetings and notes (and the next four weeks' plan),
and the follow-ups of the concerns raised in them. Then each plugin's ``populate_demo``
hook adds its own kinds of work (visits, heart-to-heart talks, ...) through the services,
from the same seeded generator.

The same seed and the same ``today`` give the same rows, ids included: every UUID and
every time comes from ``random.Random(seed)`` and from ``today``, never from the clock
(rows that plugins write through the services have the services' own ids).

The bulk (people, interactions, participants, follow-ups) is written with multi-row
``INSERT`` statements in one transaction, deriving the computed columns exactly as the
services do (pinyin keys, normalised names, phone digits); 100,000 people and a million
interactions take about two and a half minutes of one CPU on SQLite (bench/RESULTS.md).
Bulk statements bypass the audit listener, so one ``AuditLog`` row (action ``demo``)
records what was generated. Accounts go through
:func:`crm_core.services.accounts.create_account`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text
from sqlmodel import SQLModel

from crm_core import clock
from crm_core.demo.bulk import _DEFERRED_INDEX_TABLES, _bulk_settings
from crm_core.demo.generator import _Generator
from crm_core.demo.sizes import (
    BATCH,
    DEFAULT_INTERACTIONS_CAP,
    MEMBERS,
    MIN_CONTACTS,
    default_interactions,
)
from crm_core.errors import TongxinError, ValidationError
from crm_core.i18n import N_
from crm_core.models import (
    Account,
    Assignment,
    AuditLog,
    FollowUp,
    Interaction,
    Organisation,
    Person,
)

if TYPE_CHECKING:
    from crm_core.app import Tongxin
    from crm_core.unit import Unit

__all__ = [
    "BATCH",
    "DEFAULT_INTERACTIONS_CAP",
    "MEMBERS",
    "MIN_CONTACTS",
    "_DEFERRED_INDEX_TABLES",
    "DemoRefused",
    "DemoSummary",
    "default_interactions",
    "generate",
]


class DemoRefused(TongxinError):
    """The database already holds people: demo data is never mixed with real data."""


@dataclass
class DemoSummary:
    """How many rows of each kind :func:`generate` wrote."""

    people: int
    accounts: int
    interactions: int
    follow_ups: int
    assignments: int
    organisations: int


def generate(
    app: Tongxin,
    *,
    contacts: int = 2000,
    seed: int = 2019,
    interactions: int | None = None,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Fill the empty database of ``app`` with ``contacts`` people and their history.

    ``interactions`` is how many the core writes, about a year of work by default
    (:func:`default_interactions`), never fewer than the assignments' own history (a
    few per assignment); the plugins' ``populate_demo`` add their own after that.
    ``today`` (default: today in the office's zone) anchors every date, so the same
    ``seed`` and ``today`` give identical rows. ``progress(done, total)`` is called as
    rows are written (people plus interactions). Everything is one transaction: on any
    error nothing is left behind. Raises :class:`DemoRefused` if the database already
    holds people, and ValidationError for fewer than ``MIN_CONTACTS`` contacts.
    """
    if contacts < MIN_CONTACTS:
        raise ValidationError.one(
            "contacts", contacts, N_("the demo needs at least {n}"), n=MIN_CONTACTS
        )
    count = default_interactions(contacts) if interactions is None else interactions
    if count < 0:
        raise ValidationError.one("interactions", interactions, N_("cannot be negative"))
    day = today or clock.today(app.config.tz)
    with app.unit() as unit:
        existing = unit.session.scalar(select(func.count()).select_from(Person)) or 0
        if existing:
            raise DemoRefused.of(
                N_(
                    "the database already holds {existing} people: demo data is only "
                    "generated into an empty database"
                ),
                existing=existing,
            )
        with _bulk_settings(unit):
            gen = _Generator(unit, seed=seed, today=day, progress=progress)
            gen.run(contacts=contacts, interactions=count)
        # Each plugin adds its own kinds of work through the services, from the same
        # seeded generator; one that fails leaves nothing behind and the rest go on.
        unit.plugins.call("populate_demo", guard=unit.savepoint, unit=unit, demo=gen.context())
        unit.session.flush()
        if unit.session.connection().dialect.name == "postgresql":
            # Fresh statistics for the planner (autovacuum would gather them a minute
            # later; until then a join can pick a plan that takes seconds).
            unit.session.execute(text("ANALYZE"))
        summary = _summary(unit)
        unit.session.add(
            AuditLog(
                actor_id=unit.actor.id if unit.actor else None,
                actor=unit.actor_name,
                action="demo",
                entity="database",
                entity_id="demo",
                after={
                    **asdict(summary),
                    "seed": seed,
                    "today": day.isoformat(),
                    "interactions_requested": count,
                },
            )
        )
    return summary


def _summary(unit: Unit) -> DemoSummary:
    def count(model: type[SQLModel]) -> int:
        return unit.session.scalar(select(func.count()).select_from(model)) or 0

    return DemoSummary(
        people=count(Person),
        accounts=count(Account),
        interactions=count(Interaction),
        follow_ups=count(FollowUp),
        assignments=count(Assignment),
        organisations=count(Organisation),
    )
