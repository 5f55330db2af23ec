"""Tests of crm_core.phones: phone numbers as people type them, and finding people by them."""

from __future__ import annotations

import pytest

from crm_core.app import Tongxin
from crm_core.errors import ValidationError
from crm_core.phones import is_mobile, normalize_phone
from crm_core.services import contacts


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("0086 138 1234 5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits
        ("＋８６　１３８　１２３４　５６７８", "13812345678"),  # full-width plus and spaces
        (" 138.1234.5678 ", "13812345678"),
        ("(0514) 8733 1234", "051487331234"),
        ("（0514）87331234", "051487331234"),  # full-width parentheses
        ("0514-87331234", "051487331234"),
        ("010-12345678", "01012345678"),
        ("8733 1234", "87331234"),  # a local number without area code
        ("7331234", "7331234"),
    ],
)
def test_normalize_phone_keeps_the_digits(typed: str, digits: str) -> None:
    assert normalize_phone(typed) == digits


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("1381234567", "11 digits, this has 10"),
        ("138123456789", "11 digits, this has 12"),
        ("138-1234-567x", "not digits"),
        ("转8001", "not digits"),
        ("12345", "11 digits, this has 5"),
        ("23456", "not a mainland phone number \\(5 digits\\)"),
    ],
)
def test_normalize_phone_says_why_a_value_is_not_a_number(typed: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize_phone(typed)


@pytest.mark.parametrize(
    ("digits", "mobile"),
    [
        ("13812345678", True),
        ("19912345678", True),
        ("12812345678", False),  # no mainland mobile starts with 12
        ("1381234567", False),
        ("051487331234", False),
        ("+8613812345678", False),  # not normalised
    ],
)
def test_is_mobile(digits: str, mobile: bool) -> None:
    assert is_mobile(digits) is mobile


def test_a_person_is_found_by_the_number_however_it_is_typed(app: Tongxin) -> None:
    with app.unit() as unit:
        contacts.create_person(unit, name="张三", mobile="138 1234 5678")
        contacts.create_person(unit, name="李四", phones=["(0514) 8733-1234"])
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
        for typed in ("0514-87331234", "87331234", "8733 1234"):
            found = [p.name for p in contacts.search_people(unit, typed).items]
            assert found == ["李四"], typed


def test_a_person_without_a_valid_mobile_is_refused_with_the_reason(app: Tongxin) -> None:
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            contacts.create_person(unit, name="张三", mobile="0514-87331234")
        assert caught.value.errors[0].field == "mobile"
        assert "11 digits starting with 1" in caught.value.errors[0].message
        with pytest.raises(ValidationError) as caught:
            contacts.create_person(unit, name="张三", phones=["138-1234-567"])
        assert caught.value.errors[0].field == "phones"
        assert "138-1234-567" in str(caught.value)
        assert "11 digits" in caught.value.errors[0].message
