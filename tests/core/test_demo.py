"""Tests of crm_core.demo: realistic demo data, the same for a seed, on a real database."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from sqlmodel import SQLModel, col

from crm_core import clock, demo, pinyin
from crm_core.app import Tongxin
from crm_core.config import Config
from crm_core.demo_context import DemoContext
from crm_core.errors import ValidationError
from crm_core.hookspecs import hookimpl
from crm_core.models import (
    Account,
    Assignment,
    AuditLog,
    FollowUp,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Membership,
    Organisation,
    OrganisationContact,
    Person,
    PersonCategory,
    PersonCommittee,
)
from crm_core.phones import display_phone, is_mobile, normalize_phone, search_digits
from crm_core.plugins import PluginHost
from crm_core.services import accounts, assignments, contacts, followups, interactions

TODAY = date(2026, 5, 20)
NOW = datetime(2026, 5, 20, 1, 30, tzinfo=UTC)  # 09:30 in Yangzhou
LIAISON = ("non_party_intellectual", "private_economy", "new_social_stratum")
SMALL = 300  # contacts in most tests: quick, and still every part of the demo


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.fixture
def second_app(empty_db_url: str, config: Config, plugins: PluginHost) -> Iterator[Tongxin]:
    """Another fresh database of the same backend as ``app``."""
    application = Tongxin(config, db_url=empty_db_url, plugins=plugins)
    yield application
    application.close()


def _rows(app: Tongxin, model: type[SQLModel], *order: Any) -> list[tuple[Any, ...]]:
    """Every row of ``model`` as a tuple of its columns (audit and time columns too)."""
    columns = list(model.__table__.columns)  # type: ignore[attr-defined]
    with app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(*columns).order_by(*order))]


def _people(app: Tongxin) -> list[Person]:
    with app.unit() as unit:
        return list(unit.session.scalars(select(Person).order_by(col(Person.id))))


def _count(app: Tongxin, model: type[SQLModel]) -> int:
    with app.unit() as unit:
        return unit.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def demo_app(app: Tongxin) -> Tongxin:
    """``app`` filled with a small demo."""
    demo.generate(app, contacts=SMALL, seed=2019)
    return app


# ---------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------


def test_same_seed_and_today_give_identical_rows(app: Tongxin, second_app: Tongxin) -> None:
    first = demo.generate(app, contacts=SMALL, seed=7, today=TODAY)
    second = demo.generate(second_app, contacts=SMALL, seed=7, today=TODAY)
    assert first == second
    people = [(p.id, p.name, p.mobile) for p in _people(app)]
    assert people == [(p.id, p.name, p.mobile) for p in _people(second_app)]
    assert len(people) == SMALL
    # Every core row, ids and times included; accounts too (made by the service).
    for model, key in (
        (Person, Person.id),
        (Account, Account.id),
        (Organisation, Organisation.id),
        (Assignment, Assignment.id),
        (Interaction, Interaction.id),
        (InteractionParticipant, InteractionParticipant.id),
        (FollowUp, FollowUp.id),
    ):
        assert _rows(app, model, key) == _rows(second_app, model, key), model.__name__
    assert _count(app, Interaction) == first.interactions


def test_a_different_seed_gives_different_people(app: Tongxin, second_app: Tongxin) -> None:
    demo.generate(app, contacts=SMALL, seed=1, today=TODAY)
    demo.generate(second_app, contacts=SMALL, seed=2, today=TODAY)
    ids = {p.id for p in _people(app)}
    assert ids.isdisjoint({p.id for p in _people(second_app)})
    names = [p.name for p in _people(app)]
    assert sorted(names) != sorted(p.name for p in _people(second_app))


def test_today_defaults_to_the_clock_and_anchors_every_date(app: Tongxin) -> None:
    demo.generate(app, contacts=SMALL)
    with app.unit() as unit:
        starts = list(
            unit.session.execute(select(col(Interaction.status), col(Interaction.start_at)))
        )
        created = unit.session.scalars(select(col(Person.created_at))).all()
    done = [s for st, s in starts if st is InteractionStatus.done]
    planned = [s for st, s in starts if st is InteractionStatus.planned]
    assert done and planned
    assert max(done) < NOW  # done work lies in the past of today ...
    assert min(done) > NOW - timedelta(days=400)  # ... within about a year
    assert min(planned) > NOW - timedelta(days=1)  # planned work lies ahead ...
    assert max(planned) < NOW + timedelta(days=30)  # ... within four weeks
    assert len(set(created)) == 1 and created[0] < NOW  # roster imported at a fixed time


# ---------------------------------------------------------------------------------------
# What is made
# ---------------------------------------------------------------------------------------


def test_counts_and_summary(app: Tongxin) -> None:
    summary = demo.generate(app, contacts=SMALL, seed=3)
    assert summary.people == SMALL == _count(app, Person)
    assert summary.accounts == _count(app, Account)
    assert summary.interactions == _count(app, Interaction)
    assert summary.interactions == demo.default_interactions(SMALL) == 450
    assert summary.follow_ups == _count(app, FollowUp) > 0
    assert summary.assignments == _count(app, Assignment) > 0
    assert summary.organisations == _count(app, Organisation) == 9
    with app.unit() as unit:
        log = unit.session.scalars(select(AuditLog).where(col(AuditLog.action) == "demo")).one()
        members = Counter(unit.session.scalars(select(col(Person.membership))))
    assert log.entity == "database"
    assert log.after is not None and log.after["people"] == SMALL and log.after["seed"] == 3
    assert members[Membership.standing] >= 8
    assert members[Membership.member] + members[Membership.standing] == round(SMALL * 0.225)
    assert members[Membership.none] > 0


def test_interactions_can_be_asked_for_explicitly(app: Tongxin) -> None:
    summary = demo.generate(app, contacts=SMALL, interactions=1234)
    assert summary.interactions == 1234


def test_default_interactions_are_about_a_year_of_work() -> None:
    assert demo.default_interactions(2000) == 3000
    assert demo.default_interactions(1_000_000) == demo.DEFAULT_INTERACTIONS_CAP


def test_accounts_of_the_office(demo_app: Tongxin) -> None:
    with demo_app.unit() as unit:
        every = accounts.list_accounts(unit)
        chairs = [a for a in every if a.chair_meeting]
        committees = {a.committee for a in every if a.committee}
        positions = Counter(a.position for a in chairs)
        county = {a.region_scope for a in every if a.role == "county_staff"}
        regions = set(unit.config.vocab["regions"].codes()) - {"city"}
        usernames = {a.username for a in every}
        linked = [unit.session.get(Person, a.person_id) for a in chairs]
    assert positions == {"主席": 1, "副主席": 6, "秘书长": 1}
    assert all(a.role == "leader" for a in chairs)
    assert committees == set(demo_app.config.vocab["committees"].codes())
    assert county == regions
    assert {"office", "admin"} <= usernames
    assert sum(a.role == "admin" for a in every) == 2
    assert sum(a.role == "staff" for a in every) == 3
    assert sum(a.position == "党组成员" or "党组成员、" in (a.position or "") for a in every) == 3
    # Usernames are the pinyin of the Chinese names of the people they belong to.
    for account, person in zip(chairs, linked, strict=True):
        assert person is not None and person.name == account.display_name
        assert account.username.startswith(pinyin.name_pinyin(person.name)[0])
        assert person.membership is Membership.standing


def test_organisations_have_two_contact_persons(demo_app: Tongxin) -> None:
    with demo_app.unit() as unit:
        orgs = unit.session.scalars(select(Organisation)).all()
        links = unit.session.scalars(select(OrganisationContact)).all()
        people = {p.id: p for p in unit.session.scalars(select(Person))}
    assert sorted(o.kind for o in orgs) == ["democratic_party"] * 8 + ["federation_ic"]
    assert {o.name for o in orgs} >= {
        "民盟扬州市委员会",
        "九三学社扬州市委员会",
        "扬州市工商业联合会",
    }
    per_org = Counter(link.organisation_id for link in links)
    assert set(per_org.values()) == {2}
    for org in orgs:
        for link in links:
            if link.organisation_id == org.id and org.party:
                assert people[link.person_id].party == org.party
                assert people[link.person_id].organisation_id == org.id


def test_people_are_consistent(demo_app: Tongxin) -> None:
    config = demo_app.config
    with demo_app.unit() as unit:
        people = unit.session.scalars(select(Person)).all()
        cats: dict[uuid.UUID, set[str]] = {}
        for link in unit.session.scalars(select(PersonCategory)):
            cats.setdefault(link.person_id, set()).add(link.category)
        comms = Counter(link.person_id for link in unit.session.scalars(select(PersonCommittee)))
        known_categories = set(demo_app.categories.codes())
    mobiles = [p.mobile for p in people if p.mobile]
    assert len(mobiles) == len(set(mobiles))
    for p in people:
        # Derived columns exactly as the services derive them.
        assert p.name == pinyin.normalize_name(p.name)
        assert (p.name_pinyin, p.name_initials) == pinyin.name_pinyin(p.name)
        assert p.phone_digits == search_digits([p.mobile, *p.phones])
        # Stored as `contacts add` stores a typed number (E.164), so a duplicate's mobile,
        # a phone card and a search all read the demo's numbers as they read real ones.
        assert all(normalize_phone(x) == x for x in [p.mobile, *p.phones] if x)
        assert p.mobile is None or is_mobile(p.mobile)
        assert p.birth_year is not None and 1955 <= p.birth_year <= 1990
        assert p.birth_month is not None and 1 <= p.birth_month <= 12
        assert p.party in config.vocab["parties"]
        assert p.region in config.vocab["regions"]
        assert p.sector is None or p.sector in config.vocab["sectors"]
        assert p.version == 1
        mine = cats.get(p.id, set())
        assert mine <= known_categories
        member = p.membership is not Membership.none
        # Categories follow party, membership and ethnicity.
        assert ("non_party_member" in mine) == (member and p.party != "ccp"), p.name
        assert ("ethnic_minority" in mine) == (p.ethnicity != "汉族"), p.name
        if p.party in ("cdl", "cndca", "jiusan", "capd", "rcck", "cpwdp", "czgp", "tdsgl"):
            assert "democratic_party" in mine
        if "non_party_intellectual" in mine:
            assert p.party != "ccp"
        # A member of a democratic party's sector belongs to that party.
        if p.sector in ("cdl", "cndca", "jiusan", "capd", "rcck", "cpwdp", "czgp"):
            assert p.party == p.sector
        # Members sit on one or two special committees; outside contacts on none.
        assert (1 <= comms[p.id] <= 2) if member else comms[p.id] == 0
    outside = [p for p in people if p.membership is Membership.none]
    assert sum(p.party in ("masses", "non_affiliated") for p in outside) > 0.7 * len(outside)
    surnames = Counter(p.name[0] for p in people)
    assert surnames.most_common(1)[0][0] in "王张陈李刘"


def test_search_finds_demo_people_by_initials_pinyin_and_phone(demo_app: Tongxin) -> None:
    with demo_app.unit() as unit:
        people = unit.session.scalars(select(Person).order_by(Person.name_pinyin)).all()
        for person in random.Random(5).sample(list(people), 10):
            assert person.mobile is not None
            for query in (
                person.name_initials,
                person.name_pinyin,
                person.name,
                person.mobile,  # as stored, +86…
                display_phone(person.mobile),  # as shown: 138 1234 5678
                person.mobile[3:10],  # the first seven digits a user remembers
            ):
                page = contacts.search_people(unit, query, limit=SMALL)
                assert person.id in {p.id for p in page.items}, query
                assert page.total >= 1
        # 张三 ↔ zs: initials find every 张 whose given name starts with s.
        zs = contacts.search_people(unit, "zs", limit=SMALL)
        assert zs.total == sum(p.name_initials.startswith("zs") for p in people)


def test_every_chair_meeting_member_keeps_liaison_contacts_with_a_gap(
    demo_app: Tongxin,
) -> None:
    with demo_app.unit() as unit:
        chairs = accounts.list_accounts(unit, chair_meeting=True)
        kept: dict[uuid.UUID, list[str | None]] = {}
        for a in assignments.list_assignments(unit):
            kept.setdefault(a.keeper_id, []).append(a.category)
            contact = unit.session.get(Person, a.contact_id)
            assert contact is not None
            assert a.category in contacts.categories_of(unit, contact.id)
            assert a.ideal_days is None and a.max_days is None  # the category's cadence
            assert TODAY - timedelta(days=731) <= a.start_on < TODAY
        last = assignments.last_contacts(unit)
        cadence = {a.id: assignments.cadence(unit, a) for a in assignments.list_assignments(unit)}
    assert {a.id for a in chairs} == set(kept)
    assert all(len(set(c)) == len(c) for c in kept.values())  # one per category
    gaps = [k for k, c in kept.items() if set(c) != set(LIAISON)]
    assert 1 <= len(gaps) <= 2
    ages = {aid: (NOW - when).days if when else None for aid, when in last.items()}
    overdue = [a for a, age in ages.items() if age is None or age > cadence[a].max_days]
    recent = [a for a, age in ages.items() if age is not None and age <= 14]
    assert len(overdue) >= 3
    assert len(recent) >= 3


def test_follow_ups_span_every_status_and_some_are_overdue(demo_app: Tongxin) -> None:
    with demo_app.unit() as unit:
        rows = followups.list_follow_ups(unit)
        overdue = followups.list_follow_ups(unit, open_only=True, due_before=TODAY)
        owners = {a.id for a in accounts.list_accounts(unit)}
        sources = {i.id: i for i in unit.session.scalars(select(Interaction))}
    assert {f.status.value for f in rows} == {"open", "in_progress", "answered", "closed"}
    assert len(overdue) >= 3
    for f in rows:
        assert f.owner_id in owners
        assert f.person_id is not None and f.due_on is not None
        assert f.interaction_id is not None
        source = sources[f.interaction_id]
        assert source.status is InteractionStatus.done
        assert f.title in source.data.get("concerns", [])
        if f.status.value in ("answered", "closed"):
            assert f.response and f.answered_on is not None
        if f.status.value == "closed":
            assert f.closed_on is not None and f.closed_on >= f.answered_on  # type: ignore[operator]


def test_interactions_pass_their_kinds_schemas_and_the_constraints(demo_app: Tongxin) -> None:
    with demo_app.unit() as unit:
        rows = unit.session.scalars(select(Interaction)).all()
        parts = unit.session.scalars(select(InteractionParticipant)).all()
        kinds = unit.kinds
        for i in rows:
            spec = kinds[i.kind]
            assert spec.validate_data(i.data) == i.data
            assert i.summary
            assert i.end_at is not None and i.end_at > i.start_at
            if i.status is InteractionStatus.cancelled:
                assert i.cancel_reason and i.sequence == 1
        # A person's timeline through the service, for the busiest contact.
        busiest = Counter(p.person_id for p in parts if p.person_id).most_common(1)[0][0]
        timeline = interactions.timeline(unit, busiest, limit=50)
    statuses = Counter(i.status for i in rows)
    assert statuses[InteractionStatus.done] > 0.8 * len(rows)
    assert statuses[InteractionStatus.planned] > 0
    assert statuses[InteractionStatus.cancelled] > 0
    by_interaction: dict[uuid.UUID, list[InteractionParticipant]] = {}
    for p in parts:
        assert (p.person_id is None) != (p.account_id is None)
        by_interaction.setdefault(p.interaction_id, []).append(p)
    for i in rows:
        who = by_interaction[i.id]
        assert any(p.account_id for p in who) and any(p.person_id for p in who)
        assert 1 <= sum(p.person_id is not None for p in who) <= 3
    assert timeline and [t.start_at for t in timeline] == sorted(
        (t.start_at for t in timeline), reverse=True
    )


# ---------------------------------------------------------------------------------------
# Refusals, plugins, progress, large loads
# ---------------------------------------------------------------------------------------


def test_refuses_a_database_that_holds_people(app: Tongxin) -> None:
    with app.unit() as unit:
        contacts.create_person(unit, name="张三")
    with pytest.raises(demo.DemoRefused, match="already holds 1 people"):
        demo.generate(app, contacts=SMALL)
    assert _count(app, Person) == 1
    assert _count(app, Account) == 0
    assert _count(app, Interaction) == 0


def test_refuses_too_few_contacts(app: Tongxin) -> None:
    with pytest.raises(ValidationError, match="contacts"):
        demo.generate(app, contacts=demo.MIN_CONTACTS - 1)
    assert _count(app, Person) == 0


def test_plugins_populate_from_the_same_generator(app: Tongxin) -> None:
    seen: list[DemoContext] = []

    class Plugin:
        @hookimpl
        def populate_demo(self, unit: Any, demo: DemoContext) -> None:
            seen.append(demo)
            chair = demo.accounts_by_role["chair_meeting"][0]
            person = demo.people_by_category["private_economy"][0]
            interactions.log_interaction(
                unit, kind="call", people=[person], accounts=[chair.id],
                start=datetime.combine(demo.today, datetime.min.time(), UTC)
                - timedelta(days=demo.rng.randint(1, 9)),
                summary="插件的演示数据",
            )  # fmt: skip

    class Broken:
        @hookimpl
        def populate_demo(self, unit: Any, demo: DemoContext) -> None:
            contacts.create_person(unit, name="半途而废")
            raise RuntimeError("boom")

    app.plugins.register(Plugin(), "demo_plugin")
    app.plugins.register(Broken(), "broken_plugin")
    summary = demo.generate(app, contacts=SMALL, interactions=200)
    (context,) = seen
    assert context.today == TODAY
    assert len(context.accounts_by_role["chair_meeting"]) == 8
    assert {"admin", "leader", "staff", "county_staff"} <= set(context.accounts_by_role)
    assert len(context.members) == round(SMALL * 0.225)
    assert len(context.organisations) == 9
    assert summary.interactions == 201  # the plugin's call is counted
    assert summary.people == SMALL  # the broken plugin's person was rolled back
    assert "boom" in (app.plugins.info["broken_plugin"].last_error or "")


def test_progress_is_reported_up_to_the_total(app: Tongxin) -> None:
    calls: list[tuple[int, int]] = []
    demo.generate(
        app, contacts=SMALL, interactions=12_000, progress=lambda d, t: calls.append((d, t))
    )
    assert calls[-1] == (SMALL + 12_000, SMALL + 12_000)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(calls) >= 3


def test_a_large_load_rebuilds_the_indexes_it_drops(
    app: Tongxin, monkeypatch: pytest.MonkeyPatch
) -> None:
    def indexes() -> dict[str, list[str]]:
        found = inspect(app.engine)
        return {
            t: sorted(i["name"] or "" for i in found.get_indexes(t))
            for t in demo._DEFERRED_INDEX_TABLES
        }

    before = indexes()
    assert before["interaction_participant"]  # there is something to drop
    monkeypatch.setattr(demo.generator, "_DEFER_INDEXES_FROM", 0)
    demo.generate(app, contacts=SMALL, interactions=500)
    assert indexes() == before
    with app.unit() as unit:
        person = unit.session.scalars(
            select(Person).where(col(Person.membership) == Membership.member)
        ).first()
        assert person is not None
        assert interactions.timeline(unit, person.id) is not None


# The digest of every core row that ``generate(contacts=SMALL, seed=7, today=TODAY)``
# writes (the same on SQLite and PostgreSQL): recorded before crm_core/demo.py became a
# package, so a change that moves a single drawn value (a name, an id, a time) fails here.
# Regenerate it only when the demo is meant to change.
# Re-recorded on 2026-12-07 when the shipped defaults gained Yangzhou's three functional
# zones (issue 12): the demo draws each person's region over the configured regions (and
# gives each a county office), so every later draw moved; checked the same on both backends.
# Again the same day when the demo's phone numbers became E.164 (+86…), as stored by
# every other write path: the draws are unchanged, the stored numbers are not.
_GOLDEN = "83d2e5cd398af3edc6a2ead9250d6e5d3f5995acbfcac96c56e16f223ebab9b5"


def _digest(app: Tongxin) -> str:
    import hashlib

    h = hashlib.sha256()
    for model in (
        Person,
        PersonCategory,
        PersonCommittee,
        Account,
        Organisation,
        OrganisationContact,
        Assignment,
        Interaction,
        InteractionParticipant,
        FollowUp,
    ):
        rows = sorted(repr(r) for r in _rows(app, model))
        h.update(model.__name__.encode())
        for row in rows:
            h.update(row.encode())
    return h.hexdigest()


def test_a_seed_gives_the_recorded_rows(app: Tongxin) -> None:
    demo.generate(app, contacts=SMALL, seed=7, today=TODAY)
    assert _digest(app) == _GOLDEN
