"""Tests of crm_core.services.organisations (the democratic parties, the federation of
industry and commerce and their contacts) and of the participation functions of
crm_core.services.interactions (invitations, RSVP, attendance).

Every test runs on SQLite and on PostgreSQL (the ``app`` fixture).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.errors import Ambiguous, Conflict, NotFound, ValidationError
from crm_core.models import (
    InteractionParticipant,
    InteractionStatus,
    Organisation,
    OrganisationContact,
    Rsvp,
)
from crm_core.services import accounts, contacts, interactions, organisations
from crm_core.unit import Unit


def count(unit: Unit, model: Any) -> int:
    return unit.session.scalar(select(func.count()).select_from(model)) or 0


def fields(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, Any]:
    return {e.field: e.value for e in exc.value.errors}


# -- organisations -----------------------------------------------------------------------


def test_create_takes_labels_and_stores_codes(app: Tongxin) -> None:
    with app.unit() as unit:
        org = organisations.create_organisation(
            unit,
            name="  民盟扬州市委员会 ",
            kind="民主党派",
            party="民盟",
            region="市直",
            address="扬州市文昌中路 1 号",
            phone="(0514) 8733 1234",
            notes="主委：某某",
        )
        oid = org.id
    with app.unit() as unit:
        org = organisations.get_organisation(unit, oid)
        assert (org.name, org.kind, org.party, org.region, org.phone) == (
            "民盟扬州市委员会", "democratic_party", "cdl", "city", "+8651487331234",
        )  # fmt: skip
        fic = organisations.create_organisation(unit, name="扬州市工商业联合会", kind="工商联")
        other = organisations.create_organisation(unit, name="扬州市台湾同胞联谊会")
        assert (fic.kind, other.kind) == ("federation_ic", "other")
        assert organisations.organisation_json(unit, org)["party"] == "cdl"


@pytest.mark.parametrize(
    ("values", "field", "value"),
    [
        ({"name": " "}, "name", " "),
        ({"kind": "other"}, "name", None),
        ({"name": "民革扬州市委员会", "kind": "democratic_party"}, "party", None),
        ({"name": "某组织", "kind": "club"}, "kind", "club"),
        ({"name": "某组织", "party": "共和党"}, "party", "共和党"),
        ({"name": "某组织", "region": "火星"}, "region", "火星"),
        ({"name": "某组织", "phone": "12345"}, "phone", "12345"),
        ({"name": "某组织", "colour": "red"}, "colour", "red"),
    ],
)
def test_bad_values_are_refused_naming_field_and_value(
    app: Tongxin, values: dict[str, Any], field: str, value: Any
) -> None:
    with app.unit() as unit:
        with pytest.raises(ValidationError) as exc:
            organisations.create_organisation(unit, **values)
        assert fields(exc) == {field: value}
        assert count(unit, Organisation) == 0


def test_names_are_unique_ignoring_spaces_and_full_width(app: Tongxin) -> None:
    with app.unit() as unit:
        first = organisations.create_organisation(
            unit, name="九三学社扬州市委员会", party="九三学社"
        )
        with pytest.raises(ValidationError) as exc:
            organisations.create_organisation(unit, name="九三学社 扬州市委员会")
        assert "exists already" in str(exc.value) and str(first.id) in str(exc.value)
        second = organisations.create_organisation(unit, name="ABC 协会")
        with pytest.raises(ValidationError):
            organisations.create_organisation(unit, name="ＡＢＣ協会".replace("協", "协"))
        with pytest.raises(ValidationError):
            organisations.update_organisation(unit, second.id, name="九三学社扬州市委员会")


def test_update_checks_everything_before_changing_anything(app: Tongxin) -> None:
    with app.unit() as unit:
        org = organisations.create_organisation(
            unit, name="民进扬州市委员会", kind="democratic_party", party="capd"
        )
        oid, version = org.id, org.version
    with app.unit() as unit:
        with pytest.raises(ValidationError) as exc:
            organisations.update_organisation(unit, oid, address="新地址", region="火星")
        assert fields(exc) == {"region": "火星"}
        assert organisations.get_organisation(unit, oid).address is None
    with app.unit() as unit:
        org = organisations.update_organisation(
            unit, oid, expected_version=version, address="扬州市 汶河北路", party="民进"
        )
        assert (org.address, org.party) == ("扬州市 汶河北路", "capd")
    with app.unit() as unit, pytest.raises(Conflict):
        organisations.update_organisation(unit, oid, expected_version=version, notes="x")


def _parties(unit: Unit) -> dict[str, uuid.UUID]:
    made = {}
    for name, kind, party in (
        ("扬州市工商业联合会", "federation_ic", None),
        ("扬州市侨商会", "other", None),
        ("民盟扬州市委员会", "democratic_party", "cdl"),
        ("民革扬州市委员会", "democratic_party", "rcck"),
        ("民建扬州市委员会", "democratic_party", "cndca"),
    ):
        made[name] = organisations.create_organisation(unit, name=name, kind=kind, party=party).id
    return made


def test_list_orders_parties_by_config_then_federation_then_others(app: Tongxin) -> None:
    with app.unit() as unit:
        _parties(unit)
        names = [o.name for o in organisations.list_organisations(unit)]
        assert names == [
            "民革扬州市委员会", "民盟扬州市委员会", "民建扬州市委员会",
            "扬州市工商业联合会", "扬州市侨商会",
        ]  # fmt: skip
        assert [o.name for o in organisations.list_organisations(unit, kind="federation_ic")] == [
            "扬州市工商业联合会"
        ]


def test_resolve_by_id_name_or_a_unique_part(app: Tongxin) -> None:
    with app.unit() as unit:
        made = _parties(unit)
        cdl = made["民盟扬州市委员会"]
        assert organisations.resolve_organisation(unit, cdl).id == cdl
        assert organisations.resolve_organisation(unit, str(cdl)).id == cdl
        assert organisations.resolve_organisation(unit, " 民盟扬州市委员会 ").id == cdl
        assert organisations.resolve_organisation(unit, "民盟").id == cdl
        assert organisations.resolve_organisation(unit, "工商业联合会").name == "扬州市工商业联合会"
        with pytest.raises(Ambiguous) as amb:
            organisations.resolve_organisation(unit, "扬州市委员会")
        assert len(amb.value.candidates) == 3
        with pytest.raises(NotFound):
            organisations.resolve_organisation(unit, "农工党")
        with pytest.raises(NotFound):
            organisations.resolve_organisation(unit, str(uuid.uuid4()))
        with pytest.raises(NotFound):
            organisations.resolve_organisation(unit, "  ")


def test_contacts_with_roles(app: Tongxin) -> None:
    with app.unit() as unit:
        made = _parties(unit)
        cdl, fic = made["民盟扬州市委员会"], made["扬州市工商业联合会"]
        zhang = contacts.create_person(unit, name="张明", party="民盟")
        li = contacts.create_person(unit, name="李华")
        organisations.add_contact(unit, cdl, zhang.id, role="主委")
        organisations.add_contact(unit, cdl, li.id, role="联络人")
        organisations.add_contact(unit, fic, li.id)
        # Linking again keeps the link; a new role replaces the old one.
        organisations.add_contact(unit, cdl, li.id)
        assert [(p.name, r) for p, r in organisations.contacts_of(unit, cdl)] == [
            ("李华", "联络人"), ("张明", "主委"),
        ]  # fmt: skip
        organisations.add_contact(unit, cdl, li.id, role="专职副主委")
        assert [(o.name, r) for o, r in organisations.organisations_of(unit, li.id)] == [
            ("民盟扬州市委员会", "专职副主委"), ("扬州市工商业联合会", None),
        ]  # fmt: skip
        # A person without an organisation of their own gets the first one linked.
        assert contacts.get_person(unit, zhang.id).organisation_id == cdl
        assert contacts.get_person(unit, li.id).organisation_id == cdl
        organisations.remove_contact(unit, cdl, li.id)
        assert contacts.get_person(unit, li.id).organisation_id is None
        assert [o.name for o, _r in organisations.organisations_of(unit, li.id)] == [
            "扬州市工商业联合会"
        ]
        with pytest.raises(NotFound):
            organisations.remove_contact(unit, cdl, li.id)
        with pytest.raises(NotFound):
            organisations.add_contact(unit, cdl, uuid.uuid4())
        assert organisations.organisation_json(unit, organisations.get_organisation(unit, cdl))[
            "contacts"
        ] == [{"person_id": str(zhang.id), "name": "张明", "role": "主委"}]


def test_merged_people_are_not_contacts(app: Tongxin) -> None:
    with app.unit() as unit:
        cdl = _parties(unit)["民盟扬州市委员会"]
        keep = contacts.create_person(unit, name="王芳")
        drop = contacts.create_person(unit, name="王芳")
        organisations.add_contact(unit, cdl, drop.id, role="联络人")
        contacts.merge_people(unit, keep.id, drop.id)
        # The merge moved the link to the kept record.
        assert [(p.id, r) for p, r in organisations.contacts_of(unit, cdl)] == [(keep.id, "联络人")]
        with pytest.raises(ValidationError) as exc:
            organisations.add_contact(unit, cdl, drop.id)
        assert fields(exc) == {"person_id": str(drop.id)}
        assert count(unit, OrganisationContact) == 1


# -- participation (crm_core.services.interactions) --------------------------------------


def _meeting(unit: Unit, *, planned_in: timedelta | None = timedelta(days=3)) -> tuple[Any, ...]:
    a = contacts.create_person(unit, name="赵一")
    b = contacts.create_person(unit, name="钱二")
    c = contacts.create_person(unit, name="孙三")
    host = accounts.create_account(unit, username="host", display_name="办公室小王")
    if planned_in is None:
        i = interactions.log_interaction(unit, kind="meeting", people=[a.id], accounts=[host.id])
    else:
        i = interactions.schedule_interaction(
            unit, kind="meeting", start=clock.now() + planned_in, people=[a.id], accounts=[host.id]
        )
    return i, a, b, c, host


def test_add_participants_skips_those_in_and_bumps_sequence(app: Tongxin) -> None:
    clock.freeze(datetime(2026, 9, 1, 2, tzinfo=UTC))
    with app.unit() as unit:
        i, a, b, c, _host = _meeting(unit)
        assert i.sequence == 0
        added = interactions.add_participants(
            unit, i.id, people=[a.id, b.id, str(c.id), b.id], rsvp="invited"
        )
        assert [r.person_id for r in added] == [b.id, c.id]
        assert {r.rsvp for r in added} == {Rsvp.invited}
        assert {r.role for r in added} == {"contact"}  # the kind's person role
        assert i.sequence == 1
        # Nobody new: nothing changes, the calendars are not told.
        assert interactions.add_participants(unit, i.id, people=[a.id, c.id]) == []
        assert i.sequence == 1
        guest = accounts.create_account(unit, username="guest", display_name="秘书长")
        added = interactions.add_participants(unit, i.id, accounts=[guest.id], role="guest")
        assert (added[0].account_id, added[0].role, added[0].rsvp) == (guest.id, "guest", None)
        assert i.sequence == 2
        # The first participant kept their own role and answer.
        rows = {p.person_id: p for p in interactions.participants_of(unit, i.id)}
        assert rows[a.id].rsvp is None


def test_add_participants_refuses_unknown_people_bad_rsvp_and_cancelled(app: Tongxin) -> None:
    with app.unit() as unit:
        i, _a, b, _c, _host = _meeting(unit)
        with pytest.raises(ValidationError) as exc:
            interactions.add_participants(unit, i.id, people=[b.id], rsvp="maybe")
        assert fields(exc) == {"rsvp": "maybe"}
        ghost = uuid.uuid4()
        with pytest.raises(ValidationError) as exc:
            interactions.add_participants(unit, i.id, people=[ghost])
        assert fields(exc) == {"people": str(ghost)}
        assert len(interactions.participants_of(unit, i.id)) == 2
        interactions.cancel_interaction(unit, i.id)
        seq = i.sequence
        with pytest.raises(ValidationError) as exc:
            interactions.add_participants(unit, i.id, people=[b.id])
        assert fields(exc) == {"status": "cancelled"}
        assert i.sequence == seq
        with pytest.raises(NotFound):
            interactions.add_participants(unit, uuid.uuid4(), people=[b.id])


def test_add_participants_runs_the_plugins_save_hooks(app: Tongxin) -> None:
    from crm_core import hookimpl

    seen: list[tuple[str, int]] = []

    class Watcher:
        @hookimpl
        def validate_interaction(self, unit, interaction, kind):  # type: ignore[no-untyped-def]
            people = [p for p in interactions.participants_of(unit, interaction.id) if p.person_id]
            if len(people) > 2:
                raise ValidationError.one("people", len(people), "at most two people")

        @hookimpl
        def interaction_saved(self, unit, interaction, created):  # type: ignore[no-untyped-def]
            seen.append((interaction.kind, interaction.sequence))

    app.plugins.register(Watcher(), "watcher")
    with app.unit() as unit:
        i, _a, b, c, _host = _meeting(unit)
        iid = i.id
        interactions.add_participants(unit, i.id, people=[b.id])
        assert seen[-1] == ("meeting", 1)
        # A refusal by a plugin leaves the list as it was.
        with pytest.raises(ValidationError), unit.savepoint():
            interactions.add_participants(unit, i.id, people=[c.id])
    with app.unit() as unit:
        assert len(interactions.participants_of(unit, iid)) == 3  # two people, one account
        assert interactions.get_interaction(unit, iid).sequence == 1


def test_remove_participants(app: Tongxin) -> None:
    with app.unit() as unit:
        i, a, b, _c, host = _meeting(unit)
        interactions.add_participants(unit, i.id, people=[b.id])
        assert interactions.remove_participants(unit, i.id, people=[b.id, uuid.uuid4()]) == 1
        assert i.sequence == 2
        assert interactions.remove_participants(unit, i.id, people=[b.id]) == 0
        assert i.sequence == 2
        with pytest.raises(ValidationError) as exc:
            interactions.remove_participants(unit, i.id, people=[a.id], accounts=[host.id])
        assert "at least one participant" in str(exc.value)
        assert len(interactions.participants_of(unit, i.id)) == 2


def test_rsvp_transitions_and_attendance(app: Tongxin) -> None:
    clock.freeze(datetime(2026, 9, 1, 2, tzinfo=UTC))
    with app.unit() as unit:
        i, a, b, _c, host = _meeting(unit)
        iid, aid, bid, host_id = i.id, a.id, b.id, host.id
        interactions.add_participants(unit, iid, people=[b.id], rsvp=Rsvp.invited)
        seq = i.sequence
        for answer in ("accepted", "declined", "accepted", Rsvp.invited, "declined"):
            row = interactions.set_participation(unit, iid, person_id=bid, rsvp=answer)
            assert row.rsvp == Rsvp(answer)
        assert i.sequence == seq  # answers do not change the attendee list
        row = interactions.set_participation(unit, iid, account_id=host_id, rsvp="accepted")
        assert row.rsvp is Rsvp.accepted
        with pytest.raises(ValidationError) as exc:
            interactions.set_participation(unit, iid, person_id=bid, rsvp="perhaps")
        assert fields(exc) == {"rsvp": "perhaps"}
        # Attendance waits until the meeting has begun.
        with pytest.raises(ValidationError) as exc:
            interactions.set_participation(unit, iid, person_id=aid, attended=True)
        assert fields(exc) == {"attended": True}
        assert "has begun" in str(exc.value)
        with pytest.raises(ValidationError):
            interactions.set_participation(unit, iid, rsvp="accepted")
        with pytest.raises(ValidationError):
            interactions.set_participation(unit, iid, person_id=aid, account_id=host_id)
        with pytest.raises(NotFound):
            interactions.set_participation(unit, iid, person_id=uuid.uuid4(), rsvp="accepted")
    clock.freeze(datetime(2026, 9, 4, 3, tzinfo=UTC))  # the meeting began a day ago
    with app.unit() as unit:
        interactions.set_participation(unit, iid, person_id=aid, attended=True)
        interactions.set_participation(unit, iid, person_id=bid, attended=False)
        # Nothing to change: the row comes back as it is.
        row = interactions.set_participation(unit, iid, person_id=bid)
        assert (row.rsvp, row.attended) == (Rsvp.declined, False)
    with app.unit() as unit:
        rows = interactions.participation(unit, iid)
        assert [(p.name, p.role, p.rsvp, p.attended) for p in rows] == [
            ("钱二", "contact", Rsvp.declined, False),
            ("赵一", "contact", None, True),
            ("办公室小王", "host", Rsvp.accepted, None),
        ]
        assert rows[0].as_json() == {
            "person_id": str(bid), "account_id": None, "name": "钱二", "role": "contact",
            "rsvp": "declined", "attended": False,
        }  # fmt: skip
        interactions.complete_interaction(unit, iid)
        interactions.set_participation(unit, iid, person_id=bid, attended=True, rsvp="accepted")
        assert interactions.get_interaction(unit, iid).status is InteractionStatus.done


def test_attendance_of_done_work_and_none_for_cancelled(app: Tongxin) -> None:
    with app.unit() as unit:
        done, a, *_ = _meeting(unit, planned_in=None)
        assert interactions.set_participation(unit, done.id, person_id=a.id, attended=True).attended
        b = contacts.create_person(unit, name="周四")
        planned = interactions.schedule_interaction(
            unit, kind="meeting", start=clock.now() + timedelta(days=1), people=[b.id]
        )
        interactions.cancel_interaction(unit, planned.id)
        with pytest.raises(ValidationError) as exc:
            interactions.set_participation(unit, planned.id, person_id=b.id, rsvp="accepted")
        assert fields(exc) == {"status": "cancelled"}


def test_set_participation_follows_a_merged_record(app: Tongxin) -> None:
    with app.unit() as unit:
        i, _a, b, _c, _host = _meeting(unit)
        dup = contacts.create_person(unit, name="钱二")
        interactions.add_participants(unit, i.id, people=[dup.id], rsvp="invited")
        contacts.merge_people(unit, b.id, dup.id)
        row = interactions.set_participation(unit, i.id, person_id=dup.id, rsvp="accepted")
        assert (row.person_id, row.rsvp) == (b.id, Rsvp.accepted)
        assert (
            unit.session.scalar(
                select(func.count()).where(InteractionParticipant.interaction_id == i.id)
            )
            == 3
        )
