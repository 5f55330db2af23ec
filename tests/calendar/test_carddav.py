"""`tongxin sync carddav` against a real Radicale on 127.0.0.1: the people an account may
see become cards a phone reads (checked with vobject, from what the server holds), a
second sync writes nothing, a change goes out as one PUT, a county account's address
book never holds another county's people, a phone's change of a number comes back as
a proposal an administrator accepts, a deleted person's card goes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import pytest
import vobject
from crm_cli.main import run
from sqlalchemy import select
from sqlmodel import col

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.calendar_models import CaldavState
from crm_core.carddav_sync import CarddavReport, accept_proposal, sync_carddav
from crm_core.contacts_vcard import card_tels
from crm_core.errors import PermissionDenied
from crm_core.models import AuditLog, Person
from crm_core.services import accounts, contacts

from .test_caldav import PASSWORD, USER, Radicale

BOOK = "同心 · 通讯录"


@pytest.fixture
def people(app: Tongxin) -> dict[str, uuid.UUID]:
    clock.freeze(datetime(2026, 9, 1, 2, 0, tzinfo=UTC))
    with app.unit() as unit:
        accounts.create_account(unit, username="office", display_name="办公室", role="admin")
        accounts.create_account(unit, username="wangzx", display_name="王主席", role="leader")
        accounts.create_account(
            unit, username="gl", display_name="广陵区", role="county_staff",
            region_scope="guangling",
        )  # fmt: skip
        zhang = contacts.create_person(
            unit, name="张三", region="guangling", mobile="13812345678",
            phones=["0514-87331234"], employer="扬州市科技局", title="副局长",
            email="zhangsan@example.org", sector="economy", categories=["non_party_member"],
            notes="子女就业困难，注意保密",
        )  # fmt: skip
        li = contacts.create_person(unit, name="李四", region="hanjiang", mobile="13900001111")
        ouyang = contacts.create_person(unit, name="欧阳娜娜", region="guangling")
        ids = {"zhang": zhang.id, "li": li.id, "ouyang": ouyang.id}
    yield ids
    clock.freeze(None)


def _sync(app: Tongxin, rad: Radicale, account: str = "wangzx") -> CarddavReport:
    return sync_carddav(
        app, url=rad.url, username=USER, password=PASSWORD, target=BOOK, account=account
    )


def _cards(rad: Radicale, book: str) -> dict[str, Any]:
    """Every card the server holds in ``book``, parsed by vobject, by UID."""
    client = rad.client()
    body = (
        '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'
    )
    listing = client.request(book, "PROPFIND", body, {"Depth": "1"})
    out = {}
    for href in {h for h in _hrefs(listing.raw) if h.endswith(".vcf")}:
        text = client.request(urljoin(book, href), "GET", "", {}).raw
        card = vobject.readOne(text)
        out[card.uid.value] = card
    return out


def _hrefs(xml: str) -> list[str]:
    import xml.etree.ElementTree as ET

    return [e.text or "" for e in ET.fromstring(xml).iter("{DAV:}href")]


def _quiet(app: Tongxin, rad: Radicale, account: str = "wangzx") -> CarddavReport:
    rad.seen.clear()
    again = _sync(app, rad, account)
    assert rad.writes() == [] and again.writes == 0
    assert (again.created, again.updated, again.deleted) == (0, 0, 0)
    return again


def _uid(pid: uuid.UUID) -> str:
    return f"tongxin-person-{pid}"


def test_first_sync_writes_cards_a_phone_reads_and_a_second_writes_nothing(
    app: Tongxin, people: dict[str, uuid.UUID], radicale_server: Radicale
) -> None:
    rad = radicale_server
    first = _sync(app, rad)
    assert (first.created, first.updated, first.deleted, first.writes) == (3, 0, 0, 3)
    assert all(h.get("if-none-match") == "*" for m, _p, h in rad.writes() if m == "PUT")
    cards = _cards(rad, first.book_url)
    assert set(cards) == {_uid(p) for p in people.values()}
    zhang = cards[_uid(people["zhang"])]
    assert zhang.version.value == "3.0"
    assert zhang.fn.value == "张三"
    assert (zhang.n.value.family, zhang.n.value.given) == ("张", "三")
    assert zhang.contents["x-phonetic-last-name"][0].value == "Zhang"
    assert zhang.contents["x-phonetic-first-name"][0].value == "San"
    assert zhang.org.value == ["扬州市科技局"] and zhang.title.value == "副局长"
    tels = {t.value: t.params.get("TYPE") for t in zhang.contents["tel"]}
    assert tels == {"+8613812345678": ["CELL"], "+8651487331234": ["VOICE"]}
    assert zhang.email.value == "zhangsan@example.org"
    assert set(zhang.categories.value) == {"党外委员", "经济界"}
    assert "note" not in zhang.contents  # tongxin's notes on a person stay in tongxin
    ouyang = cards[_uid(people["ouyang"])]
    assert (ouyang.n.value.family, ouyang.n.value.given) == ("欧阳", "娜娜")
    assert ouyang.contents["x-phonetic-last-name"][0].value == "Ouyang"

    again = _quiet(app, rad)
    assert again.unchanged == 3

    # A person changed in tongxin: one PUT, with If-Match.
    with app.unit("wangzx") as unit:
        contacts.update_person(unit, people["li"], title="主任", employer="邗江区政协")
    rad.seen.clear()
    changed = _sync(app, rad)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)
    [(method, path, headers)] = rad.writes()
    assert method == "PUT" and path.endswith(f"{_uid(people['li'])}.vcf")
    assert headers["if-match"].startswith('"')
    li = _cards(rad, changed.book_url)[_uid(people["li"])]
    assert li.org.value == ["邗江区政协"] and li.title.value == "主任"
    _quiet(app, rad)


def test_a_county_account_s_book_never_holds_another_county_s_people(
    app: Tongxin, people: dict[str, uuid.UUID], radicale_server: Radicale, db_url: str
) -> None:
    rad = radicale_server
    report = _sync(app, rad, "gl")
    on_server = _cards(rad, report.book_url)
    assert set(on_server) == {_uid(people["zhang"]), _uid(people["ouyang"])}
    raw = b"".join(
        rad.client().request(report.book_url + f"{uid}.vcf", "GET", "", {}).raw.encode()
        for uid in on_server
    )
    assert "李四".encode() not in raw and b"13900001111" not in raw

    # 张三 moves to 邗江: his card leaves the county's book (not only our report).
    with app.unit() as unit:
        contacts.update_person(unit, people["zhang"], region="hanjiang")
    rad.seen.clear()
    moved = _sync(app, rad, "gl")
    assert moved.deleted == 1 and [m for m, _p, _h in rad.writes()] == ["DELETE"]
    assert set(_cards(rad, report.book_url)) == {_uid(people["ouyang"])}
    _quiet(app, rad, "gl")

    # The leader's cards in that book, then the county's sync again without any record
    # of them (a lost state): what the county may not see is removed from the server.
    _sync(app, rad, "wangzx")
    assert _uid(people["li"]) in _cards(rad, report.book_url)
    with app.unit() as unit:
        for row in unit.session.scalars(select(CaldavState)):
            unit.session.delete(row)
    _sync(app, rad, "gl")
    assert set(_cards(rad, report.book_url)) == {_uid(people["ouyang"])}
    _quiet(app, rad, "gl")

    # A county account may not fill the leader's book (nor see whose people are there).
    rad.seen.clear()
    refused = run(["--db", db_url, "--as", "gl", "sync", "carddav", "--url", rad.url,
                   "--username", USER, "--target", BOOK, "--user", "wangzx"])  # fmt: skip
    assert refused != 0 and rad.writes() == []


def _phone_edit(rad: Radicale, href: str, old: str, new: str) -> None:
    """Change a number in a card as a phone does: GET, edit, PUT with If-Match."""
    client = rad.client()
    got = client.request(href, "GET", "", {})
    etag = got.headers["ETag"]
    body = got.raw.replace(old, new).replace("END:VCARD", "NOTE:from the phone\r\nEND:VCARD")
    put = client.request(
        href, "PUT", body, {"If-Match": etag, "Content-Type": "text/vcard; charset=utf-8"}
    )
    assert put.status in (201, 204)


def test_a_number_changed_on_the_phone_is_a_proposal_an_administrator_accepts(
    app: Tongxin,
    people: dict[str, uuid.UUID],
    radicale_server: Radicale,
    capsys: Any,
    db_url: str,
) -> None:
    rad = radicale_server
    book = _sync(app, rad).book_url
    href = book + f"{_uid(people['zhang'])}.vcf"
    _phone_edit(rad, href, "+8613812345678", "+86 139-8888-7777")

    rad.seen.clear()
    report = _sync(app, rad)
    assert report.proposals == [_uid(people["zhang"])] and report.conflicts == []
    assert rad.writes() == []  # the phone's edit stays
    assert card_tels(rad.client().request(href, "GET", "", {}).raw.encode()) == [
        "+8613988887777",
        "+8651487331234",
    ]
    _quiet(app, rad)  # the same proposal, not a second one

    # Changed in tongxin meanwhile: a conflict, still not pushed over the phone's edit.
    with app.unit() as unit:
        contacts.update_person(unit, people["zhang"], title="局长")
    rad.seen.clear()
    conflict = _sync(app, rad)
    assert conflict.conflicts == [_uid(people["zhang"])] and rad.writes() == []

    # The list, in Chinese by default.
    assert run(["--db", db_url, "contacts", "proposals"]) == 0
    listed = capsys.readouterr().out
    assert "张三" in listed and "139 8888 7777" in listed and "138 1234 5678" in listed
    assert run(["--db", db_url, "contacts", "proposals", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["person"] == "张三" and row["phones"] == ["+8613988887777", "+8651487331234"]

    # Only an administrator accepts.
    with app.unit("wangzx") as unit, pytest.raises(PermissionDenied):
        accept_proposal(unit, row["id"])
    assert (
        run(["--db", db_url, "--as", "office", "contacts", "proposals", "accept", row["id"][:8]])
        == 0
    )
    capsys.readouterr()
    with app.unit() as unit:
        person = unit.session.get(Person, people["zhang"])
        assert person is not None
        assert (person.mobile, person.phones) == ("+8613988887777", ["+8651487331234"])
        entries = unit.session.scalars(
            select(AuditLog).where(col(AuditLog.entity_id) == str(people["zhang"]))
        ).all()
        [entry] = [e for e in entries if (e.after or {}).get("mobile") == "+8613988887777"]
        assert entry.actor.endswith("(as office)") and (entry.before or {}).get("mobile") == (
            "+8613812345678"
        )
    assert run(["--db", db_url, "contacts", "proposals", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []

    # The next sync is quiet: the phone already holds the accepted numbers.
    after = _quiet(app, rad)
    assert after.proposals == [] and after.conflicts == []
    assert card_tels(rad.client().request(href, "GET", "", {}).raw.encode())[0] == "+8613988887777"

    # Later changes in tongxin go out again.
    with app.unit() as unit:
        contacts.update_person(unit, people["zhang"], title="副主任")
    rad.seen.clear()
    assert _sync(app, rad).updated == 1 and len(rad.writes()) == 1
    assert _cards(rad, book)[_uid(people["zhang"])].title.value == "副主任"


def test_a_deleted_person_s_card_disappears(
    app: Tongxin, people: dict[str, uuid.UUID], radicale_server: Radicale
) -> None:
    rad = radicale_server
    book = _sync(app, rad).book_url
    with app.unit() as unit:
        unit.session.delete(unit.session.get(Person, people["ouyang"]))
        contacts.update_person(unit, people["li"], status="inactive")
    rad.seen.clear()
    gone = _sync(app, rad)
    assert gone.deleted == 2 and sorted(m for m, _p, _h in rad.writes()) == ["DELETE", "DELETE"]
    assert set(_cards(rad, book)) == {_uid(people["zhang"])}
    _quiet(app, rad)


def test_the_command_prints_the_counts(
    app: Tongxin, people: dict[str, uuid.UUID], radicale_server: Radicale, capsys: Any,
    monkeypatch: pytest.MonkeyPatch, db_url: str,
) -> None:  # fmt: skip
    rad = radicale_server
    monkeypatch.setenv("DAV_PASSWORD", PASSWORD)
    args = ["--db", db_url, "sync", "carddav", "--url", rad.url, "--username", USER,
            "--password-env", "DAV_PASSWORD", "--target", BOOK, "--user", "wangzx"]  # fmt: skip
    assert run(args) == 0
    text = capsys.readouterr().out
    assert "新建 3" in text and "未变 0" in text and "待审 0" in text
    assert run([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unchanged"] == 3 and report["writes"] == 0


def test_a_card_deleted_on_the_phone_is_put_back_and_reported(
    app: Tongxin, people: dict[str, uuid.UUID], radicale_server: Radicale
) -> None:
    rad = radicale_server
    book = _sync(app, rad).book_url
    href = book + f"{_uid(people['li'])}.vcf"
    assert rad.client().request(href, "DELETE", "", {}).status in (200, 204)
    report = _sync(app, rad)
    assert report.restored == [_uid(people["li"])] and report.created == 1
    assert _cards(rad, book)[_uid(people["li"])].fn.value == "李四"
    with app.unit() as unit:
        assert unit.session.get(Person, people["li"]) is not None  # nobody is deleted
    _quiet(app, rad)


def test_a_card_made_or_renamed_on_the_phone_is_left_as_the_phone_has_it(
    app: Tongxin, people: dict[str, uuid.UUID], radicale_server: Radicale
) -> None:
    rad = radicale_server
    book = _sync(app, rad).book_url
    client = rad.client()
    mine = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:phone-own-card-1\r\nFN:快递小哥\r\n"
        "N:;快递小哥;;;\r\nTEL;TYPE=CELL:+86 137 0000 0000\r\nEND:VCARD\r\n"
    )
    made = client.request(
        book + "phone-own-card-1.vcf", "PUT", mine,
        {"Content-Type": "text/vcard; charset=utf-8", "If-None-Match": "*"},
    )  # fmt: skip
    assert made.status == 201
    href = book + f"{_uid(people['zhang'])}.vcf"
    text = client.request(href, "GET", "", {}).raw
    edited = text.replace("FN:张三", "FN:张三（科技局）")
    assert edited != text
    assert client.request(href, "PUT", edited, {"Content-Type": "text/vcard"}).status == 204
    with app.unit() as unit:
        before = len(unit.session.scalars(select(AuditLog)).all())
    report = _quiet(app, rad)  # nothing written on either side
    assert report.proposals == [] and report.conflicts == [] and report.restored == []
    cards = _cards(rad, book)
    assert cards["phone-own-card-1"].fn.value == "快递小哥"
    assert cards[_uid(people["zhang"])].fn.value == "张三（科技局）"
    with app.unit() as unit:
        assert len(unit.session.scalars(select(AuditLog)).all()) == before
        person = unit.session.get(Person, people["zhang"])
        assert person is not None and person.name == "张三"
    _quiet(app, rad)
