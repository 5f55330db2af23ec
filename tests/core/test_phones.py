"""Tests of crm_core.phones: phone numbers of the whole world as people type them, stored
in E.164, shown as users read them, found by any run of digits; and migration 0008,
which rewrites the numbers stored before it."""

from __future__ import annotations

import csv
import json
import logging
import uuid
from pathlib import Path

import pytest
from crm_cli.main import run
from sqlalchemy import text

from crm_core import db
from crm_core.app import Tongxin
from crm_core.config import Config
from crm_core.contacts_vcard import card_tels, vcard
from crm_core.errors import ValidationError
from crm_core.i18n import set_language
from crm_core.importer import import_roster
from crm_core.phones import (
    display_phone,
    is_mobile,
    is_stored,
    normalize_phone,
    search_digits,
    vcard_tel,
)
from crm_core.plugins import PluginHost
from crm_core.services import contacts, organisations

# The numbers of issue 12, as an office's sheet holds them, and their stored form.
WORLD = {
    "+852 9123 4567": "+85291234567",  # Hong Kong mobile
    "+853 6612 3456": "+85366123456",  # Macao mobile
    "+886 912 345 678": "+886912345678",  # Taiwan mobile
    "13812345678": "+8613812345678",  # mainland mobile
}
LANDLINE_EXT = ("0514-87654321 转 8001", "+8651487654321;ext=8001")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("138-1234-5678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("+8613812345678", "+8613812345678"),
        ("0086 138 1234 5678", "+8613812345678"),
        ("8613812345678", "+8613812345678"),
        ("１３８１２３４５６７８", "+8613812345678"),  # full-width digits
        ("＋８６　１３８　１２３４　５６７８", "+8613812345678"),  # full-width plus and spaces
        (" 138.1234.5678 ", "+8613812345678"),
        ("(0514) 8733 1234", "+8651487331234"),
        ("（0514）87331234", "+8651487331234"),  # full-width parentheses
        ("0514-87331234", "+8651487331234"),
        ("010-12345678", "+861012345678"),
        ("0514-87654321 转 8001", "+8651487654321;ext=8001"),
        ("0514-87654321转8001", "+8651487654321;ext=8001"),
        ("0514-87654321 分机 8001", "+8651487654321;ext=8001"),
        ("0514-87654321-8001", "+8651487654321;ext=8001"),
        ("0514 8765 4321 ext. 8001", "+8651487654321;ext=8001"),
        ("+852 9123 4567", "+85291234567"),
        ("+852 2123 4567", "+85221234567"),  # a Hong Kong landline
        ("00852 9123 4567", "+85291234567"),
        ("+853 6612 3456", "+85366123456"),
        ("+886 912 345 678", "+886912345678"),
        ("+886 2 2345 6789", "+886223456789"),  # a Taipei landline
        ("+1 650-253-0000", "+16502530000"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_a_number_is_stored_in_e164(typed: str, stored: str) -> None:
    assert normalize_phone(typed) == stored
    assert normalize_phone(stored) == stored  # the stored form reads as itself
    assert is_stored(stored) and not is_stored(typed.replace("+", "x"))


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("1381234567", "11 digits, this has 10"),
        ("138123456789", "11 digits, this has 12"),
        ("+86 1381234567", "11 digits, this has 10"),
        ("138-1234-567x", "not digits"),
        ("转8001", "not digits"),
        ("12345", "11 digits, this has 5"),
        ("23456", "not a mainland phone number \\(5 digits\\)"),
        ("8733 1234", "needs its area code, e.g. 0514-87331234"),
        ("+999 123 4567", "country calling code"),
        ("+852 123", "not a valid number for \\+852 \\(3 digits after it\\)"),
    ],
)
def test_a_value_that_is_no_number_says_why(typed: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize_phone(typed)


@pytest.mark.parametrize(
    ("number", "mobile"),
    [
        ("+8613812345678", True),
        ("+8619912345678", True),
        ("+85291234567", True),
        ("+85366123456", True),
        ("+886912345678", True),
        ("+8612812345678", False),  # no mainland mobile starts with 12
        ("+8651487331234", False),  # a landline
        ("+85221234567", False),
        ("13812345678", False),  # not the stored form
    ],
)
def test_is_mobile(number: str, mobile: bool) -> None:
    assert is_mobile(number) is mobile


@pytest.mark.parametrize(
    ("stored", "zh", "en"),
    [
        # Mainland numbers in the national format mainland users read...
        ("+8613812345678", "138 1234 5678", "138 1234 5678"),
        ("+8651487331234", "0514 8733 1234", "0514 8733 1234"),
        ("+8651487654321;ext=8001", "0514 8765 4321 转 8001", "0514 8765 4321 ext. 8001"),
        # ... every other number with its country code, as they dial it.
        ("+85291234567", "+852 9123 4567", "+852 9123 4567"),
        ("+85366123456", "+853 6612 3456", "+853 6612 3456"),
        ("+886912345678", "+886 912 345 678", "+886 912 345 678"),
        ("87331234", "87331234", "87331234"),  # left by migration 0008: shown as it is
    ],
)
def test_a_number_is_shown_as_users_read_it(stored: str, zh: str, en: str) -> None:
    assert display_phone(stored) == zh
    if stored.startswith("+"):
        assert normalize_phone(display_phone(stored)) == stored  # the importer reads it back
    set_language("en")
    assert display_phone(stored) == en


def test_the_search_column_holds_the_digits_as_shown_and_abroad_with_the_country_code() -> None:
    assert search_digits(["+8613812345678", None, "+8651487331234"]) == "13812345678 051487331234"
    assert search_digits(["+85291234567"]) == "91234567 85291234567"
    assert search_digits(["+886912345678"]) == "0912345678 886912345678"
    assert search_digits(["+8651487654321;ext=8001"]) == "051487654321"


def test_vcards_carry_the_plus_form_and_read_back_to_the_same_numbers(app: Tongxin) -> None:
    with app.unit() as unit:
        pid = contacts.create_person(
            unit,
            name="陈大文",
            mobile="+852 9123 4567",
            phones=[LANDLINE_EXT[0], "+886 2 2345 6789"],
        ).id
    with app.unit() as unit:
        card = vcard(contacts.get_person(unit, pid))
    assert b"TEL;TYPE=CELL:+85291234567\r\n" in card
    assert b"TEL;TYPE=VOICE:+8651487654321,8001\r\n" in card  # the extension after a pause
    assert b"TEL;TYPE=VOICE:+886223456789\r\n" in card
    assert card_tels(card) == ["+85291234567", "+8651487654321;ext=8001", "+886223456789"]
    assert vcard_tel("+85291234567") == "+85291234567"


def test_a_person_is_found_by_the_number_however_it_is_typed(app: Tongxin) -> None:
    with app.unit() as unit:
        contacts.create_person(unit, name="张三", mobile="138 1234 5678")
        contacts.create_person(unit, name="李四", phones=["(0514) 8733-1234"])
        contacts.create_person(unit, name="陈大文", mobile="+852 9123 4567")
    with app.unit() as unit:
        for typed in (
            "13812345678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "+8613812345678",
            "0086 13812345678",
            "１３８１２３４５６７８",
            "5678",
        ):
            found = [p.name for p in contacts.search_people(unit, typed).items]
            assert found == ["张三"], typed
        for typed in ("0514-87331234", "87331234", "8733 1234", "+86 514 8733 1234", "0514"):
            found = [p.name for p in contacts.search_people(unit, typed).items]
            assert found == ["李四"], typed
        for typed in ("9123", "+852 9123 4567", "91234567", "852 9123 4567", "00852 91234567"):
            found = [p.name for p in contacts.search_people(unit, typed).items]
            assert found == ["陈大文"], typed


def test_a_person_without_a_valid_mobile_is_refused_with_the_reason(app: Tongxin) -> None:
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            contacts.create_person(unit, name="张三", mobile="0514-87331234")
        assert caught.value.errors[0].field == "mobile"
        assert caught.value.errors[0].message == "not a mobile number: 0514 8733 1234 is a landline"
        with pytest.raises(ValidationError) as caught:
            contacts.create_person(unit, name="张三", mobile="+852 2123 4567")
        assert "+852 2123 4567 is a landline" in caught.value.errors[0].message
        with pytest.raises(ValidationError) as caught:
            contacts.create_person(unit, name="张三", phones=["138-1234-567"])
        assert caught.value.errors[0].field == "phones"
        assert "138-1234-567" in str(caught.value)
        assert "11 digits" in caught.value.errors[0].message
        with pytest.raises(ValidationError) as caught:
            organisations.create_organisation(unit, name="民盟", kind="其他组织", phone="8733 1234")
        assert caught.value.errors[0].field == "phone"
        assert caught.value.errors[0].text == "固定电话须带区号，例如 0514-87331234"


def _tx(db_url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["--db", db_url, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_contacts_add_takes_a_hong_kong_mobile_and_search_finds_it(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _tx(
        db_url, capsys, "contacts", "add", "--name", "陈大文", "--mobile", "+852 9123 4567"
    )
    assert code == 0, err
    code, out, err = _tx(db_url, capsys, "contacts", "search", "9123", "--json")
    assert code == 0, err
    assert [r["name"] for r in json.loads(out)["results"]] == ["陈大文"]
    code, out, _ = _tx(db_url, capsys, "contacts", "show", "陈大文", "--json")
    assert json.loads(out)["mobile"] == "+85291234567"  # stored in E.164
    code, out, _ = _tx(db_url, capsys, "contacts", "show", "陈大文")
    assert code == 0 and "+852 9123 4567" in out  # shown with its country code
    code, _, err = _tx(db_url, capsys, "contacts", "add", "--name", "李四", "--mobile", "+852 123")
    assert code != 0 and "+852" in err


def test_a_sheet_with_numbers_of_the_whole_world_imports_and_reports_bad_ones(
    app: Tongxin, tmp_path: Path
) -> None:
    path = tmp_path / "名单.csv"
    rows = [["姓名", "手机", "办公电话"]]
    rows += [[f"委员{i}", typed, ""] for i, typed in enumerate(WORLD)]
    rows += [["王五", "", LANDLINE_EXT[0]], ["赵六", "+852 123", ""], ["钱七", "", "8733 1234"]]
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with app.unit() as unit:
        report = import_roster(unit, path)
    errors = {(e.row, e.column, e.value): e.reason for e in report.errors}
    assert errors == {
        (7, "手机", "+852 123"): "不是有效的 +852 号码（其后 3 位）",
        (8, "办公电话", "8733 1234"): "固定电话须带区号，例如 0514-87331234",
    }
    with app.unit() as unit:
        for i, stored in enumerate(WORLD.values()):
            [person] = contacts.search_people(unit, f"委员{i}").items
            assert person.mobile == stored
        [wang] = contacts.search_people(unit, "王五").items
        assert (wang.mobile, wang.phones) == (None, [LANDLINE_EXT[1]])
        # +852 9123 4567, and +886 912 345 678 (0912 345 678) holds the same run of digits.
        assert [p.name for p in contacts.search_people(unit, "9123").items] == ["委员0", "委员2"]
        assert [p.name for p in contacts.search_people(unit, "+852 9123 4567").items] == ["委员0"]
        assert [p.name for p in contacts.search_people(unit, "87654321").items] == ["王五"]


# -- migration 0008 -------------------------------------------------------------


def test_migration_0008_converts_old_rows_and_keeps_what_it_cannot_read(
    empty_db_url: str, config: Config, plugins: PluginHost, caplog: pytest.LogCaptureFixture
) -> None:
    app = Tongxin(config, db_url=empty_db_url, plugins=plugins)
    try:
        with app.unit() as unit:
            zhang = contacts.create_person(
                unit, name="张三", mobile="13812345678", phones=["0514-87331234"]
            ).id
            chen = contacts.create_person(unit, name="陈大文", mobile="+852 9123 4567").id
            org = organisations.create_organisation(
                unit, name="民盟扬州市委员会", kind="其他组织", phone="010-12345678"
            ).id
        # Down to 0007: the numbers as 0007 kept them (mainland digits). A number abroad
        # had no such form: kept in E.164, and logged.
        with caplog.at_level(logging.WARNING, logger="tongxin.migrations"):
            db.downgrade(app.engine, "0007")
        assert "+85291234567" in caplog.text and str(chen) in caplog.text
        li = uuid.uuid4()
        with app.engine.begin() as conn:

            def row(pid: uuid.UUID) -> tuple[str | None, object, str]:
                r = conn.execute(
                    text("SELECT mobile, phones, phone_digits FROM person WHERE id = :id"),
                    {"id": pid.hex if conn.dialect.name == "sqlite" else pid},
                ).one()
                phones = json.loads(r[1]) if isinstance(r[1], str) else r[1]
                return r[0], phones, r[2]

            assert row(zhang) == ("13812345678", ["051487331234"], "13812345678 051487331234")
            assert row(chen)[0] == "+85291234567"
            # A row as 0007 allowed it: a local number without its area code.
            conn.execute(
                text(
                    "INSERT INTO person (id, created_at, updated_at, version, name, name_pinyin,"
                    " name_initials, mobile, phones, phone_digits, membership, status, extra)"
                    " VALUES (:id, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1, '李四',"
                    " 'lisi', 'ls', '13900001111', :phones, '13900001111 87331234', 'none',"
                    " 'active', '{}')"
                ),
                {"id": li.hex if conn.dialect.name == "sqlite" else li, "phones": '["87331234"]'},
            )
            (org_phone,) = conn.execute(
                text("SELECT phone FROM organisation WHERE id = :id"),
                {"id": org.hex if conn.dialect.name == "sqlite" else org},
            ).one()
            assert org_phone == "01012345678"
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="tongxin.migrations"):
            db.upgrade(app.engine)
        # The number it cannot read is kept as it was and listed with its row and column.
        assert f"person {li}, column phones: the number '87331234' could not be converted" in (
            caplog.text
        )
        with app.unit() as unit:
            p = contacts.get_person(unit, zhang)
            assert (p.mobile, p.phones) == ("+8613812345678", ["+8651487331234"])
            assert contacts.get_person(unit, chen).mobile == "+85291234567"
            lisi = contacts.get_person(unit, li)
            assert (lisi.mobile, lisi.phones) == ("+8613900001111", ["87331234"])
            assert lisi.phone_digits == "13900001111 87331234"
            assert organisations.get_organisation(unit, org).phone == "+861012345678"
            for typed, names in (
                ("0514 8733", ["张三"]),
                ("9123", ["陈大文"]),
                ("87331234", ["李四", "张三"]),  # his local number, and 张三's 0514 8733 1234
            ):
                assert [x.name for x in contacts.search_people(unit, typed).items] == names
    finally:
        app.close()
