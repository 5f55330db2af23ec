"""The one table of a person's fields (crm_core.person_fields) agrees with the model, the
contact services, the people export and the roster importer that read it."""

from __future__ import annotations

import csv
from pathlib import Path

from crm_core import exporter, person_fields
from crm_core.app import Tongxin
from crm_core.importer import import_roster
from crm_core.models import Gender, Person
from crm_core.person_fields import EXPORTED, PERSON_FIELDS, FieldKind
from crm_core.roster import FIELDS, header_field
from crm_core.roster.cells import parse_gender
from crm_core.services import contacts
from crm_core.services.privacy import PERSONAL_KEYS

# Columns of Person that are no field anyone gives: bookkeeping, and what is derived
# on write (initials from the name, digits from the phones) or set by merging.
NOT_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "version",
    "name_initials",
    "phone_digits",
    "merged_into_id",
}


def test_every_column_of_the_model_is_a_field_or_bookkeeping() -> None:
    columns = set(Person.model_fields)
    in_table = [c for f in PERSON_FIELDS for c in f.columns]
    assert len(in_table) == len(set(in_table))  # no column held by two fields
    assert set(in_table) <= columns
    assert columns - set(in_table) == NOT_FIELDS
    for f in PERSON_FIELDS:
        # Link tables hold lists of codes; every other field has a column.
        assert (f.kind is FieldKind.codes) == (not f.columns), f.name


def test_the_services_accept_exactly_the_editable_fields() -> None:
    editable = {f.name for f in PERSON_FIELDS if f.editable}
    assert set(contacts.PersonFields.model_fields) == editable


def test_personal_fields_are_those_anonymising_removes() -> None:
    personal = {c for f in PERSON_FIELDS if f.personal for c in f.columns}
    other = {c for f in PERSON_FIELDS if not f.personal for c in f.columns}
    # Reports count people by year of birth: anonymising keeps it, clears the month.
    assert personal - {"birth_year"} <= set(PERSONAL_KEYS)
    assert not other & set(PERSONAL_KEYS)


def test_the_export_header_is_the_table_and_the_roster_reads_it_back() -> None:
    assert [c.header for c in exporter.PEOPLE_COLUMNS] == [f.header for f in EXPORTED]
    for f in EXPORTED:
        assert f.header is not None
        assert header_field(f.header) == (f.name if f.roster else "ignore"), f.header


def test_the_roster_fields_are_the_tables_and_its_own() -> None:
    for f in PERSON_FIELDS:
        if f.roster:
            assert FIELDS[f.name] == f.label
        else:
            assert f.name not in FIELDS or f.name == "extra", f.name
    own = [name for name in FIELDS if name not in person_fields.BY_NAME or name == "extra"]
    # 标签 and 关系 are the roster's own columns too: links to tags and people, written by
    # the export and read back by the import (crm_core.roster.links), not person fields.
    assert own == ["employer_title", "phone", "tags", "relations", "extra", "ignore"]


def test_gender_words_are_read_by_the_services_and_the_roster() -> None:
    for word, code in person_fields.GENDER_WORDS.items():
        assert contacts.PersonFields(gender=word).gender == Gender(code)
        assert parse_gender(word) == code
    for code, zh in person_fields.GENDER_ZH.items():
        assert person_fields.GENDER_WORDS[zh] == code


def test_one_person_exported_with_every_field_and_read_back(app: Tongxin, tmp_path: Path) -> None:
    with app.unit() as unit:
        person = contacts.create_person(
            unit,
            name="王晓梅",
            gender="女",
            birth="1971-04",
            ethnicity="回族",
            party="rcck",
            sector="rcck",
            region="guangling",
            employer="扬州大学",
            title="教授",
            mobile="13905271234",
            phones=["0514-87654321"],
            email="wxm@example.cn",
            address="扬州市大学南路88号",
            categories=["non_party_intellectual"],
            committees=["economy"],
            membership="standing",
            notes="常委会委员",
        )
        from crm_core.services import tags

        tags.add_person_tags(unit, person.id, ["重点"])
    path = tmp_path / "people.csv"
    with app.unit() as unit:
        assert exporter.export_people(unit, path) == 1
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header, row = list(csv.reader(fh))
    assert dict(zip(header, row, strict=True)) == {
        "姓名": "王晓梅",
        "拼音": "wangxiaomei",
        "性别": "女",
        "出生年月": "1971.04",
        "民族": "回族",
        "党派": "民革",
        "界别": "民革",
        "所在地": "广陵区",
        "工作单位": "扬州大学",
        "职务": "教授",
        "手机": "139 0527 1234",
        "其他电话": "0514 8765 4321",  # shown as users read them; stored in E.164
        "电子邮箱": "wxm@example.cn",
        "通讯地址": "扬州市大学南路88号",
        "联系对象类别": "党外知识分子",
        "专委会": "经济委员会",
        "委员身份": "常委",
        "备注": "常委会委员",
        # Relationships and tags (issue 18) travel with the export; the importer leaves
        # these two columns to their own commands.
        "关系": "",
        "标签": "重点",
    }
    # Imported again, the file names the same person with nothing to change.
    with app.unit() as unit:
        report = import_roster(unit, path)
    assert not report.errors
    assert [(o.action, o.duplicate_of, o.changes) for o in report.outcomes] == [
        ("unchanged", "database", [])
    ]
