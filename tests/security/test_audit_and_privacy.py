"""The audit log (read by administrators, filtered by person, user and day; append-only
in the database) and personal-data requests (export everything held about a person;
anonymise them, keeping the counts in reports).

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from crm_plugins import visits as visits_plugin
from sqlalchemy import select, text

from crm_core import clock, db
from crm_core.app import Tongxin
from crm_core.errors import PermissionDenied
from crm_core.models import AuditLog, Person
from crm_core.reports import Period, report_json, run_report
from crm_core.services import (
    accounts,
    assignments,
    audit,
    contacts,
    followups,
    interactions,
    privacy,
)

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def test_the_audit_log_by_person_user_and_day(
    app: Tongxin, login: Callable[..., Tongxin], names: Callable[[str], str]
) -> None:
    office, chair = names("office"), names("chair")
    clock.freeze(T0)
    with app.unit() as unit:
        accounts.create_account(unit, username=office, role="admin")
        accounts.create_account(unit, username=chair, role="leader")
        zhang = contacts.create_person(unit, name="张三", categories=["党外知识分子"]).id
        li = contacts.create_person(unit, name="李四").id
    clock.freeze(T0 + timedelta(days=2))
    with login(office, as_user=chair).unit() as unit:
        talk = interactions.log_interaction(unit, kind="call", people=[zhang]).id
        contacts.update_person(unit, li, title="主任")
    clock.freeze(T0 + timedelta(days=5))
    with app.unit(office) as unit:
        contacts.update_person(unit, zhang, title="教授")
        about = audit.list_audit(unit, person_id=zhang)
        assert {(e.entity, e.action) for e in about} == {
            ("person", "create"), ("person_category", "create"), ("person", "update"),
            ("interaction", "create"), ("interaction_participant", "create"),
        }  # fmt: skip
        assert str(li) not in {e.entity_id for e in about}
        assert any(e.entity_id == str(talk) for e in about)
        # What the office did as the chair shows under both.
        by_chair = audit.list_audit(unit, user=chair)
        by_office = audit.list_audit(unit, user=office)
        assert {e.actor for e in by_chair} == {f"{office} (as {chair})"}
        assert {e.actor for e in by_office} == {f"{office} (as {chair})", office}
        assert len(by_office) == len(by_chair) + 1
        since = audit.list_audit(unit, since=date(2026, 3, 4))
        assert [(e.entity, e.action) for e in since] == [("person", "update")]
        assert audit.list_audit(unit, since=date(2026, 3, 3), entity="interaction")[0].action == (
            "create"
        )
        newest_first = audit.list_audit(unit)
        assert [e.at for e in newest_first] == sorted((e.at for e in newest_first), reverse=True)
    with app.unit(chair) as unit, pytest.raises(PermissionDenied):
        audit.list_audit(unit)


def test_the_audit_log_cannot_be_changed_or_deleted(
    app: Tongxin, db_url: str, backend: str
) -> None:
    with app.unit() as unit:
        contacts.create_person(unit, name="张三")
    engine = db.make_engine(db_url)
    try:
        for sql in ("UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"):
            with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
                conn.execute(text(sql))
    finally:
        engine.dispose()
    if backend == "sqlite":  # nor from outside the program (the sqlite3 shell, a script)
        raw = sqlite3.connect(db_url)
        try:
            for sql in ("UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"):
                with pytest.raises(sqlite3.DatabaseError):
                    raw.execute(sql)
        finally:
            raw.close()
    with app.unit() as unit:
        [entry] = unit.session.scalars(select(AuditLog).where(AuditLog.entity == "person")).all()
        assert entry.actor == app.login_name()


@pytest.fixture
def member(app: Tongxin, names: Callable[[str], str]) -> dict[str, uuid.UUID | str]:
    clock.freeze(T0)
    office, chair = names("office"), names("chair")
    with app.unit() as unit:
        accounts.create_account(unit, username=office, role="admin")
        keeper = accounts.create_account(unit, username=chair, role="leader").id
        pid = contacts.create_person(
            unit, name="欧阳修", mobile="13912345678", address="扬州市文昌中路1号",
            employer="扬州大学", title="教授", birth="1965-03", region="guangling",
            sector="教育界", categories=["党外知识分子"], notes="喜欢书法",
        ).id  # fmt: skip
        dup = contacts.create_person(unit, name="欧阳修", phones=["0514-87654321"]).id
        contacts.merge_people(unit, pid, dup)
        other = contacts.create_person(unit, name="张三", region="guangling").id
        assignments.assign(unit, keeper_id=keeper, contact_id=pid, category="党外知识分子")
    with app.unit(chair) as unit:
        talk = interactions.log_interaction(
            unit, kind="meeting", people=[pid], notes="欧阳修谈到子女就业", confidential=True,
            summary="谈心谈话", start=T0 - timedelta(days=1),
        ).id  # fmt: skip
        group = interactions.log_interaction(
            unit, kind="meeting", people=[pid, other], notes="座谈纪要",
            start=T0 - timedelta(days=2),
        ).id  # fmt: skip
        followups.raise_follow_up(unit, title="停车难", person_id=pid, detail="欧阳修家门口")
    return {"pid": pid, "dup": dup, "talk": talk, "group": group, "office": office,
            "chair": chair}  # fmt: skip


def test_export_everything_held_about_a_person(app: Tongxin, member: dict) -> None:  # type: ignore[type-arg]
    with app.unit(member["chair"]) as unit, pytest.raises(PermissionDenied):
        privacy.export_person(unit, member["pid"])
    with app.unit(member["office"]) as unit:
        doc = privacy.export_person(unit, member["pid"])
    doc = json.loads(json.dumps(doc, ensure_ascii=False))  # JSON as written
    assert doc["format"] == privacy.EXPORT_FORMAT
    assert doc["person"]["name"] == "欧阳修" and doc["person"]["mobile"] == "+8613912345678"
    assert doc["person"]["categories"] == ["non_party_intellectual"]
    assert [m["id"] for m in doc["merged_records"]] == [str(member["dup"])]
    assert {i["id"] for i in doc["interactions"]} == {str(member["talk"]), str(member["group"])}
    notes = {i["id"]: i["notes"] for i in doc["interactions"]}
    assert notes[str(member["talk"])] == "欧阳修谈到子女就业"  # an administrator reads it
    assert [f["title"] for f in doc["follow_ups"]] == ["停车难"]
    assert [a["category"] for a in doc["assignments"]] == ["non_party_intellectual"]
    actions = {(e["entity"], e["action"]) for e in doc["audit"]}
    assert {("person", "create"), ("person", "merge"), ("interaction", "create")} <= actions
    with app.unit() as unit:
        done = unit.session.scalars(select(AuditLog).where(AuditLog.action == "export")).one()
        assert done.entity_id == str(member["pid"]) and done.actor == member["office"]
        assert "欧阳修" not in json.dumps(done.after, ensure_ascii=False)


def test_anonymise_keeps_the_counts_and_leaves_no_personal_data(
    app: Tongxin,
    member: dict,  # type: ignore[type-arg]
) -> None:
    period = Period(date(2026, 1, 1), date(2026, 12, 31))
    app.plugins.register(visits_plugin, "visits")  # the report "visits" is the plugin's
    app.refresh_registries()

    def reports() -> list[object]:
        # The counts of the office's reports: each report's summary and sections' sizes.
        out: list[object] = []
        with app.unit(member["office"]) as unit:
            for code in ("coverage", "liaison", "visits", "followups"):
                spec, table = run_report(unit, code, period)
                shown = report_json(spec, period, table)
                out.append((code, shown["summary"], [len(s["rows"]) for s in shown["sections"]]))
        return out

    before = reports()
    with app.unit(member["chair"]) as unit, pytest.raises(PermissionDenied):
        privacy.anonymise_person(unit, member["pid"])
    with app.unit(member["office"]) as unit:
        privacy.anonymise_person(unit, member["pid"])
    assert reports() == before
    with app.unit(member["office"]) as unit:
        p = contacts.get_person(unit, member["pid"])
        assert (p.name, p.name_pinyin, p.name_initials) == ("已匿名", "yiniming", "ynm")
        assert (p.mobile, p.phones, p.address, p.employer, p.title, p.notes) == (
            None, [], None, None, None, None,
        )  # fmt: skip
        assert (p.region, p.sector, p.birth_year, p.birth_month) == (
            "guangling", "education", 1965, None,
        )  # fmt: skip
        assert contacts.categories_of(unit, p.id) == ["non_party_intellectual"]
        assert contacts.get_person(unit, member["dup"]).name == "已匿名"
        assert contacts.search_people(unit, "欧阳修").total == 0
        assert contacts.search_people(unit, "yiniming").total == 1  # (merged copies are not listed)
        assert len(interactions.timeline(unit, p.id)) == 2
        assert interactions.read_notes(unit, member["talk"]) == "已匿名"  # only about them
        assert interactions.read_notes(unit, member["group"]) == "座谈纪要"  # others took part
        [fu] = followups.list_follow_ups(unit, person_id=p.id)
        assert (fu.title, fu.detail) == ("停车难", "已匿名")
        assert len(assignments.list_assignments(unit, contact_id=p.id)) == 1  # counted still
        log = unit.session.scalars(select(AuditLog)).all()
        dumped = json.dumps([(e.before, e.after) for e in log], ensure_ascii=False)
        for secret in ("欧阳修", "13912345678", "87654321", "文昌中路", "扬州大学", "书法",
                       "子女就业", "家门口", "ouyangxiu"):  # fmt: skip
            assert secret not in dumped, secret
        done = [e for e in log if e.action == "anonymise"]
        assert [e.entity_id for e in done] == [str(member["pid"])]
        assert done[0].after["records"] == 2
        assert unit.session.get(Person, member["pid"]).status == "active"
