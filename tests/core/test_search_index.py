"""The substring-search index (issue 16, item 3): every write keeps it, and a search
through it answers and ranks exactly as the plain scan of ``person`` did.

Runs on SQLite and PostgreSQL. The invariant checked after each write: the grams stored
for every person are the grams of what the person's row holds now, no more, no less.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlmodel import col

from crm_core import search_index
from crm_core.app import Tongxin
from crm_core.models import AuditLog, Person
from crm_core.search_models import PersonGram
from crm_core.services import contacts, duplicates_undo, privacy
from crm_core.unit import Unit


def grams_stored(unit: Unit) -> dict[uuid.UUID, set[str]]:
    out: dict[uuid.UUID, set[str]] = {}
    for gram, pid in unit.session.execute(select(PersonGram.gram, PersonGram.person_id)):
        out.setdefault(pid, set()).add(gram)
    return out


def assert_index_matches(unit: Unit) -> None:
    unit.session.flush()
    stored = grams_stored(unit)
    people = unit.session.scalars(select(Person)).all()
    expected = {
        p.id: search_index.grams_of(p.name, p.employer, p.title, p.phone_digits) for p in people
    }
    assert {k: v for k, v in expected.items() if v} == stored


def names(unit: Unit, query: str) -> list[str]:
    return [p.name for p in contacts.search_people(unit, query).items]


def test_every_write_keeps_the_index(app: Tongxin, admin: str) -> None:
    with app.unit(admin) as unit:
        zhuge = contacts.create_person(
            unit, name="诸葛青云", employer="扬州大学", title="教授", mobile="13988776655"
        )
        contacts.create_person(unit, name="诸葛亮", employer="扬州职业大学")
        assert_index_matches(unit)
        assert names(unit, "青") == ["诸葛青云"]
        assert names(unit, "诸葛") == ["诸葛亮", "诸葛青云"]  # prefix of name, pinyin order
        assert names(unit, "8877") == ["诸葛青云"]
        # Edit: the old employer's grams go, the new one's come.
        contacts.update_person(unit, zhuge.id, employer="江都中学", mobile="13600001111")
        assert_index_matches(unit)
        assert names(unit, "扬州大学") == []
        assert names(unit, "江都") == ["诸葛青云"]
        assert names(unit, "8877") == [] and names(unit, "0000111") == ["诸葛青云"]
        # Import (the bulk path bypasses the ORM).
        contacts.bulk_create_people(
            unit, [{"name": "司马光", "employer": "宝应县政协", "mobile": "13512345678"}]
        )
        assert_index_matches(unit)
        assert names(unit, "宝应") == ["司马光"] and names(unit, "2345") == ["司马光"]
        dup = contacts.create_person(
            unit, name="诸葛青云", mobile="13988776655", phones=["0514-87654321"]
        )
        assert_index_matches(unit)
    with app.unit(admin) as unit:
        # Merge: the kept record takes the duplicate's numbers, and is found by them.
        contacts.merge_people(unit, zhuge.id, dup.id)
        assert_index_matches(unit)
        assert names(unit, "87654321") == ["诸葛青云"]
    with app.unit(admin) as unit:
        entry = unit.session.scalars(
            select(AuditLog).where(
                col(AuditLog.action) == "merge", col(AuditLog.entity_id) == str(zhuge.id)
            )
        ).one()
        duplicates_undo.unmerge(unit, entry.id)
        assert_index_matches(unit)
        assert len(names(unit, "诸葛青云")) == 2
    with app.unit(admin) as unit:
        # Erasure: no gram of the erased name or numbers is left behind.
        privacy.anonymise(unit, zhuge.id)
        assert_index_matches(unit)
        left = grams_stored(unit).get(zhuge.id, set())
        assert not left & (search_index.text_grams("诸葛青云") - search_index.text_grams("已匿名"))
        assert not {g for g in left if g.startswith(search_index.PHONE_MARK)}
        assert names(unit, "0000111") == []
        # Deleting people deletes their grams (the database's cascade).
        unit.session.delete(unit.session.get(Person, dup.id))
        unit.session.flush()
        assert dup.id not in grams_stored(unit)


QUERIES = ("张", "建华", "扬州大学", "大学", "university", "华 ", "381", "1234", "12345678",
           "+852 9123 4567", "0514")  # fmt: skip


def test_a_search_through_the_index_answers_and_ranks_as_the_scan(
    app: Tongxin, admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = [
        ("张三", "扬州大学", "教授", "13812345678"),
        ("张建华", "扬州大学附属医院", None, "13912345678"),
        ("王建华", "江苏张氏集团", "张总", None),
        ("建华", None, None, "13381234567"),
        ("李四", "Yangzhou University", "Prof.", "+85291234567"),
        ("赵张", "大学城", None, "0514-87331234"),
    ]
    with app.unit(admin) as unit:
        for name, employer, title, mobile in people:
            numbers = {"phones": [mobile]} if mobile and mobile[0] == "0" else {"mobile": mobile}
            contacts.create_person(unit, name=name, employer=employer, title=title, **numbers)
    with app.unit(admin) as unit:
        indexed = {q: contacts.search_people(unit, q) for q in QUERIES}
        assert [p.name for p in indexed["张"].items] == ["张建华", "张三", "赵张", "王建华"]
        assert [p.name for p in indexed["381"].items] == ["建华", "张三"]  # pinyin order
        # The same searches as the plain scan of person answered them (no index).
        monkeypatch.setattr(search_index, "candidates", lambda *_sets: None)
        for q, page in indexed.items():
            scan = contacts.search_people(unit, q)
            assert (page.items, page.total) == (scan.items, scan.total), q
        assert sum(page.total for page in indexed.values()) > 15


def test_batched_writes_the_grams_once_at_the_end(app: Tongxin, admin: str) -> None:
    """Inside ``search_index.batched``, ORM writes of many people leave their grams to
    the end of the block: one DELETE per 500 people and one executemany in all, not a
    pair of statements per person; the index then matches the rows exactly."""
    from sqlalchemy import event

    with app.unit(admin) as unit:
        made = [
            contacts.create_person(unit, name=f"钱{c}", employer="高邮中学") for c in "甲乙丙丁戊"
        ]
        ids = [p.id for p in made]
    statements: list[str] = []
    with app.unit(admin) as unit:
        engine = unit.session.get_bind()

        def seen(_conn: object, _cur: object, stmt: str, *_rest: object) -> None:
            if "person_gram" in stmt:
                statements.append(stmt.split()[0].upper())

        event.listen(engine, "before_cursor_execute", seen)
        try:
            with search_index.batched(unit.session):
                for i, pid in enumerate(ids):
                    contacts.update_person(unit, pid, employer=f"宝应{i}号学校")
                    unit.session.flush()
                assert statements == []  # nothing written person by person
                assert names(unit, "宝应") == []  # not yet: the block has not ended
                statements.clear()  # the search read the index
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert statements == ["DELETE", "INSERT"]
        assert_index_matches(unit)
        assert len(names(unit, "宝应")) == 5 and names(unit, "高邮") == []
