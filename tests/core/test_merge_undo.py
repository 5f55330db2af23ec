"""Merging with choices, the review before it, and undoing it (issue 20), on both
backends: every link moves, the undo gives back exactly what was there, the county and
confidential talks are respected."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.errors import NotFound, PermissionDenied, ValidationError
from crm_core.models import (
    Account,
    Assignment,
    AuditLog,
    FollowUp,
    InteractionParticipant,
    OrganisationContact,
    Person,
    PersonCategory,
    PersonCommittee,
)
from crm_core.services import (
    accounts,
    assignments,
    contacts,
    duplicates_review,
    duplicates_undo,
    followups,
    interactions,
    organisations,
)
from crm_core.unit import Unit, snapshot

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
SECRET = "谈到家里的难处"


@dataclass
class Pair:
    keep: uuid.UUID
    drop: uuid.UUID
    other: uuid.UUID
    talk: uuid.UUID


@pytest.fixture
def pair(app: Tongxin, admin: str) -> Pair:
    """Two records of 张三 with every kind of link, some shared."""
    clock.freeze(NOW)
    with app.unit(admin) as unit:
        chair = accounts.create_account(unit, username="chair", display_name="主席", role="leader")
        accounts.create_account(unit, username="xiaoli", display_name="小李", role="staff")
        keep = contacts.create_person(
            unit, name="张三", employer="扬州大学", mobile="13812345678", region="guangling",
            categories=["党外知识分子"], committees=["提案委员会"], notes="老委员",
        ).id  # fmt: skip
        drop = contacts.create_person(
            unit, name="张三", employer="扬州职业大学", title="教授", birth="1965-03",
            mobile="13900000000", phones=["0514-87331234"], region="guangling",
            categories=["党外知识分子", "非公有制经济人士"], committees=["经济委员会"],
            notes="导入的重复记录",
        ).id  # fmt: skip
        other = contacts.create_person(unit, name="李四", region="guangling").id
        interactions.log_interaction(
            unit, kind="meeting", people=[keep, drop, other], start=NOW - timedelta(days=9)
        )
        interactions.log_interaction(
            unit, kind="call", people=[drop], start=NOW - timedelta(days=3)
        )
        talk = interactions.log_interaction(
            unit, kind="call", people=[drop], accounts=[chair.id], start=NOW - timedelta(days=2),
            summary=SECRET, notes=SECRET, confidential=True,
        ).id  # fmt: skip
        both = organisations.create_organisation(unit, name="民盟扬州市委", kind="other")
        only = organisations.create_organisation(unit, name="扬州市侨联", kind="other")
        organisations.add_contact(unit, both.id, keep, role="委员")
        organisations.add_contact(unit, both.id, drop, role="副主委")
        organisations.add_contact(unit, only.id, drop, role="联络人")
        followups.raise_follow_up(unit, title="路灯不亮", person_id=drop)
        assignments.assign(unit, keeper_id=chair.id, contact_id=keep)
        assignments.assign(unit, keeper_id=chair.id, contact_id=drop)
        accounts.create_account(unit, username="zs", display_name="张三", person_id=drop)
        earlier = contacts.create_person(unit, name="张三", region="guangling").id
        contacts.merge_people(unit, drop, earlier)  # merged into the duplicate before
    return Pair(keep, drop, other, talk)


def state(unit: Unit, *people: uuid.UUID) -> dict[str, Any]:
    """Everything of these people a merge touches, comparable before and after."""
    unit.session.expire_all()
    s = unit.session

    def rows(model: Any, column: Any, *attrs: str) -> list[tuple[Any, ...]]:
        found = s.scalars(select(model).where(column.in_(people)))
        return sorted(tuple(str(getattr(r, a)) for a in attrs) for r in found)

    bookkeeping = ("version", "updated_at")
    return {
        "people": {
            str(p): {k: v for k, v in snapshot(s.get(Person, p)).items() if k not in bookkeeping}
            for p in people
        },
        "participants": rows(
            InteractionParticipant,
            InteractionParticipant.person_id,
            "id",
            "interaction_id",
            "person_id",
            "role",
            "rsvp",
        ),
        "organisations": rows(
            OrganisationContact,
            OrganisationContact.person_id,
            "organisation_id",
            "person_id",
            "role",
        ),
        "categories": rows(PersonCategory, PersonCategory.person_id, "person_id", "category"),
        "committees": rows(PersonCommittee, PersonCommittee.person_id, "person_id", "committee"),
        "assignments": rows(Assignment, Assignment.contact_id, "id", "contact_id", "end_on"),
        "follow_ups": rows(FollowUp, FollowUp.person_id, "id", "person_id"),
        "accounts": rows(Account, Account.person_id, "id", "person_id"),
        "merged_records": rows(Person, Person.merged_into_id, "id", "merged_into_id"),
    }


def merge_entry(unit: Unit, keep: uuid.UUID) -> AuditLog:
    """The audit entry of the merge into ``keep``."""
    found = select(AuditLog).where(AuditLog.action == "merge", AuditLog.entity_id == str(keep))
    return unit.session.scalars(found).one()


def test_a_merge_moves_every_link_and_is_undone_exactly(
    app: Tongxin, admin: str, pair: Pair
) -> None:
    with app.unit(admin) as unit:
        before = state(unit, pair.keep, pair.drop)
        kept = contacts.merge_people(
            unit, pair.keep, pair.drop, take={"employer": "drop", "committees": "keep"}
        )
        assert kept.employer == "扬州职业大学"  # chosen; the title filled from the duplicate
        assert (kept.title, kept.birth_year, kept.mobile) == ("教授", 1965, "+8613812345678")
        assert kept.phones == ["+8613900000000", "+8651487331234"]  # both sides' numbers
    with app.unit(admin) as unit:
        merged = state(unit, pair.keep, pair.drop)
        drop, keep = str(pair.drop), str(pair.keep)
        # Nothing of the duplicate's is left on it: everything points at the kept record.
        for name in ("participants", "organisations", "categories", "committees",
                     "assignments", "follow_ups", "accounts"):  # fmt: skip
            assert all(drop not in row for row in merged[name]), name
        assert [r[1] for r in merged["merged_records"]] == [keep, keep]  # earlier's, drop's
        assert len(merged["participants"]) == 3  # the shared meeting once, the call, the talk
        assert merged["organisations"] == sorted(
            [(str(o), keep, r) for o, r in _orgs(unit, pair.keep)]
        )
        assert {r[2] for r in merged["organisations"]} == {"委员", "联络人"}
        categories = [c for _p, c in merged["categories"]]
        assert categories == ["non_party_intellectual", "private_economy"]
        assert [c for _p, c in merged["committees"]] == ["proposals"]  # kept side only
        assert merged["people"][drop]["status"] == "merged"
        assert merged["people"][drop]["merged_into_id"] == keep
        ended = [r for r in merged["assignments"] if r[2] != "None"]
        assert len(ended) == 1  # the chair keeps one active assignment
        entry = merge_entry(unit, pair.keep)
        assert entry.before is not None and entry.after is not None
        assert entry.before["keep"]["employer"] == "扬州大学"
        assert entry.before["drop"]["employer"] == "扬州职业大学"  # both before-images
        _kept, restored = duplicates_undo.unmerge(unit, entry.id)
        assert restored.status == "active" and restored.merged_into_id is None
    with app.unit(admin) as unit:
        assert state(unit, pair.keep, pair.drop) == before
        assert [e.after for e in unit.session.scalars(
            select(AuditLog).where(AuditLog.action == "unmerge"))] == [
            {"undoes": str(entry.id), "keep": keep, "restored": drop}
        ]  # fmt: skip
        with pytest.raises(ValidationError, match="undone already"):
            duplicates_undo.unmerge(unit, entry.id)


def _orgs(unit: Unit, person: uuid.UUID) -> list[tuple[uuid.UUID, str | None]]:
    return [(o.id, r) for o, r in organisations.organisations_of(unit, person)]


def test_links_added_after_the_merge_stay_with_the_kept_record(
    app: Tongxin, admin: str, pair: Pair
) -> None:
    with app.unit(admin) as unit:
        contacts.merge_people(unit, pair.keep, pair.drop)
    with app.unit(admin) as unit:
        later = interactions.log_interaction(unit, kind="call", people=[pair.keep]).id
        duplicates_undo.unmerge(unit, merge_entry(unit, pair.keep).id)
    with app.unit(admin) as unit:
        assert later in [i.id for i in interactions.timeline(unit, pair.keep)]
        assert later not in [i.id for i in interactions.timeline(unit, pair.drop)]


def test_an_undo_is_refused_when_late_changed_or_not_an_administrators(
    app: Tongxin, admin: str, pair: Pair
) -> None:
    with app.unit(admin) as unit:
        contacts.merge_people(unit, pair.keep, pair.drop)
        entry_id = merge_entry(unit, pair.keep).id
    with app.unit("chair") as unit, pytest.raises(PermissionDenied, match="管理员"):
        duplicates_undo.unmerge(unit, entry_id)
    with app.unit(admin) as unit, pytest.raises(NotFound):
        duplicates_undo.unmerge(unit, uuid.uuid4())
    clock.freeze(NOW + timedelta(days=31))  # [duplicates] undo_days = 30
    with app.unit(admin) as unit, pytest.raises(ValidationError, match="30 days"):
        duplicates_undo.unmerge(unit, entry_id)
    clock.freeze(NOW + timedelta(days=1))
    with app.unit(admin) as unit:
        contacts.update_person(unit, pair.keep, title="主任")
    with app.unit(admin) as unit, pytest.raises(ValidationError, match="title") as caught:
        duplicates_undo.unmerge(unit, entry_id)
    assert "changed since the merge" in str(caught.value)
    with app.unit(admin) as unit:  # nothing was undone
        assert contacts.get_person(unit, pair.drop).status == "merged"


def test_a_county_clerk_merges_only_inside_the_county(app: Tongxin, admin: str) -> None:
    with app.unit(admin) as unit:
        accounts.create_account(
            unit, username="gl", display_name="广陵", role="county_staff", region_scope="guangling"
        )
        a = contacts.create_person(unit, name="陈静", region="guangling").id
        b = contacts.create_person(unit, name="陈静", region="guangling").id
        far = contacts.create_person(unit, name="陈静", region="hanjiang").id
    with app.unit("gl") as unit:
        for keep, drop in ((a, far), (far, a)):
            with pytest.raises(PermissionDenied):
                contacts.merge_people(unit, keep, drop)
            with pytest.raises(PermissionDenied):
                duplicates_review.preview_merge(unit, keep, drop)
    with app.unit(admin) as unit:  # refused means nothing written
        assert contacts.get_person(unit, far).status == "active"
    with app.unit("gl") as unit:
        contacts.merge_people(unit, a, b)
    with app.unit(admin) as unit:
        assert contacts.get_person(unit, b).merged_into_id == a


def test_a_confidential_talk_keeps_its_rights_through_a_merge(
    app: Tongxin, admin: str, pair: Pair
) -> None:
    # 小李 may not read the talk: may not move its participant either.
    with app.unit("xiaoli") as unit, pytest.raises(PermissionDenied, match="保密"):
        contacts.merge_people(unit, pair.keep, pair.drop)
    with app.unit("xiaoli") as unit:  # the review shows only that it happened
        preview = duplicates_review.preview_merge(unit, pair.keep, pair.drop)
        talk = next(i for i in preview.links["drop"]["interactions"] if i["id"] == str(pair.talk))
        assert talk["confidential_hidden"] is True
        assert SECRET not in repr(duplicates_review.preview_json(preview))
    with app.unit("chair") as unit:  # the talker may merge
        contacts.merge_people(unit, pair.keep, pair.drop)
    # zs, the account of the person talked with, still reads it: it moved with them.
    with app.unit("zs") as unit:
        assert interactions.read_notes(unit, pair.talk) == SECRET
    with app.unit("xiaoli") as unit, pytest.raises(PermissionDenied):
        interactions.read_notes(unit, pair.talk)


def test_the_preview_marks_differences_and_bad_choices_are_named(
    app: Tongxin, admin: str, pair: Pair
) -> None:
    with app.unit(admin) as unit:
        preview = duplicates_review.preview_merge(
            unit, pair.keep, pair.drop, take={"title": "keep"}
        )
        rows = {r.name: r for r in preview.fields}
        assert not rows["name"].differs and rows["employer"].differs
        assert (rows["employer"].side, rows["employer"].result) == ("keep", "扬州大学")
        assert (rows["birth"].side, rows["birth"].result) == ("drop", "1965-03")  # filled
        assert (rows["title"].side, rows["title"].result) == ("keep", None)  # as chosen
        assert rows["categories"].result == ["non_party_intellectual", "private_economy"]
        assert rows["phones"].result == ["+8613900000000", "+8651487331234"]
        moves = duplicates_review.preview_json(preview)["moves"]
        assert moves == {"interactions": 3, "follow_ups": 1, "assignments": 1,
                         "organisations": 2, "accounts": 1, "relations": 0, "tags": 0}  # fmt: skip
        for take, field in (({"employr": "drop"}, "take"), ({"employer": "both"}, "take.employer"),
                            ({"phones": "all"}, "take.phones")):  # fmt: skip
            with pytest.raises(ValidationError) as caught:
                contacts.merge_people(unit, pair.keep, pair.drop, take=take)
            assert caught.value.errors[0].field == field
        assert contacts.get_person(unit, pair.drop).status == "active"
