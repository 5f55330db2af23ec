"""`tongxin contacts duplicates | merge | not-duplicate | unmerge` as real logins (on
PostgreSQL their own database roles, under row-level security), on both backends."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from crm_core.app import Tongxin
from crm_core.services import accounts, contacts, interactions

from .conftest import Cli

SECRET = "Q7X哨兵的家事"


@dataclass
class Office:
    admin: str
    gl: str  # county clerk of 广陵区
    born: tuple[uuid.UUID, uuid.UUID]  # 王建华 ×2, 广陵区, same birth month
    across: tuple[uuid.UUID, uuid.UUID]  # 陈静 in 广陵区 and in 邗江区, same birth month
    sound: tuple[uuid.UUID, uuid.UUID]  # 张伟 / 章伟, 广陵区


@pytest.fixture
def office(app: Tongxin, names: Callable[[str], str]) -> Office:
    admin, gl = names("office"), names("gl")
    with app.unit() as unit:
        accounts.create_account(unit, username=admin, display_name="办公室", role="admin")
        accounts.create_account(
            unit, username=gl, display_name="广陵", role="county_staff", region_scope="guangling"
        )

        def add(name: str, region: str, **values: str) -> uuid.UUID:
            return contacts.create_person(unit, name=name, region=region, **values).id

        born = (add("王建华", "guangling", birth="1965-03", employer="扬州大学"),
                add("王建华", "guangling", birth="1965-03", title="教授"))  # fmt: skip
        across = (
            add("陈静", "guangling", birth="1980-02"),
            add("陈静", "hanjiang", birth="1980-02"),
        )
        sound = (add("张伟", "guangling"), add("章伟", "guangling"))
    return Office(admin, gl, born, across, sound)


def pairs(tx: Cli, login: str, *args: str) -> set[frozenset[str]]:
    code, out, err = tx("contacts", "duplicates", "--json", *args, login=login)
    assert code == 0, err
    data = json.loads(out)
    assert all({"a", "b", "rule", "score"} <= set(p) for p in data)
    return {frozenset((p["a"], p["b"])) for p in data}


def ids(pair: tuple[uuid.UUID, uuid.UUID]) -> frozenset[str]:
    return frozenset(map(str, pair))


def test_review_merge_show_and_undo_from_the_command_line(tx: Cli, office: Office) -> None:
    keep, drop = map(str, office.born)
    assert pairs(tx, office.admin) == {ids(office.born), ids(office.across), ids(office.sound)}
    assert pairs(tx, office.admin, "--rule", "name_sound") == {ids(office.sound)}
    code, _out, err = tx("contacts", "duplicates", "--rule", "nope", login=office.admin)
    assert code != 0 and "nope" in err
    # The review: every field of both, the differing ones marked; nothing written.
    code, out, _err = tx("contacts", "merge", keep, drop, "--dry-run", "--json", login=office.admin)
    assert code == 0
    review = json.loads(out)
    fields = {f["field"]: f for f in review["fields"]}
    assert fields["employer"]["differs"] and fields["employer"]["result"] == "扬州大学"
    assert fields["title"]["take"] == "drop" and not fields["birth"]["differs"]
    code, out, _err = tx("contacts", "merge", keep, drop, "--dry-run", login=office.admin)
    assert code == 0 and "≠" in out and "扬州大学" in out and "教授" in out
    # No terminal to ask on: refused, and says how to go ahead.
    code, _out, err = tx("contacts", "merge", keep, drop, login=office.admin)
    assert code != 0 and "--yes" in err
    code, out, _err = tx("contacts", "merge", keep, drop, "--yes", "--json", login=office.admin)
    assert code == 0, _err
    done = json.loads(out)
    assert (done["keep"]["id"], done["merged"]) == (keep, drop)
    assert done["keep"]["title"] == "教授"
    code, out, _err = tx("contacts", "show", drop, login=office.admin)
    assert code == 0 and "Merged into" in out and keep[:8] in out
    code, out, _err = tx("contacts", "show", drop, "--json", login=office.admin)
    assert json.loads(out)["merged_into_id"] == keep
    assert ids(office.born) not in pairs(tx, office.admin)
    # Undone from its audit entry: the record and its values are back.
    code, out, err = tx("contacts", "unmerge", done["audit_id"], "--json", login=office.admin)
    assert code == 0, err
    assert json.loads(out)["restored"]["status"] == "active"
    code, out, _err = tx("contacts", "show", keep, "--json", login=office.admin)
    assert json.loads(out)["title"] is None
    assert ids(office.born) in pairs(tx, office.admin)
    code, _out, err = tx("contacts", "merge", keep, drop, "--take", "title", login=office.admin)
    assert code != 0 and "FIELD=drop" in err


def test_not_a_duplicate_is_remembered(tx: Cli, office: Office) -> None:
    a, b = map(str, office.sound)
    code, out, err = tx("contacts", "not-duplicate", b, a, "--json", login=office.gl)
    assert code == 0, err
    assert json.loads(out)["new"] is True
    assert ids(office.sound) not in pairs(tx, office.gl)
    assert ids(office.sound) not in pairs(tx, office.admin)  # for the whole office


def test_a_county_clerk_sees_and_merges_only_inside_the_county(tx: Cli, office: Office) -> None:
    assert pairs(tx, office.gl) == {ids(office.born), ids(office.sound)}
    here, there = map(str, office.across)
    # Either way round, reviewing or merging: refused, and nothing of the other shown.
    for keep, drop, extra in ((here, there, "--yes"), (there, here, "--dry-run")):
        code, out, err = tx("contacts", "merge", keep, drop, extra, login=office.gl)
        assert code != 0 and "陈静" not in out, (extra, out)
    code, _out, _err = tx("contacts", "not-duplicate", there, here, login=office.gl)
    assert code != 0
    code, out, _err = tx("contacts", "show", there, "--json", login=office.admin)
    assert json.loads(out)["status"] == "active"  # nothing was merged
    keep, drop = map(str, office.born)
    code, out, err = tx("contacts", "merge", keep, drop, "--yes", "--json", login=office.gl)
    assert code == 0, err
    audit_id = json.loads(out)["audit_id"]
    # Undoing is the administrators' (the audit log is theirs).
    code, _out, err = tx("contacts", "unmerge", audit_id, login=office.gl)
    assert code != 0 and "administrator" in err
    code, _out, err = tx("contacts", "unmerge", audit_id, login=office.admin)
    assert code == 0, err


def test_a_merge_review_shows_a_non_reader_only_that_a_confidential_talk_happened(
    tx: Cli, office: Office, app: Tongxin, names: Callable[[str], str]
) -> None:
    chair, staff = names("chair"), names("staff")
    keep, drop = office.born
    with app.unit() as unit:
        accounts.create_account(unit, username=chair, display_name="主席", role="leader")
        accounts.create_account(unit, username=staff, display_name="小李", role="staff")
    with app.unit(chair) as unit:
        interactions.log_interaction(
            unit, kind="call", people=[drop], summary=SECRET, notes=SECRET, confidential=True
        )
    for extra in ([], ["--json"]):
        code, out, err = tx("contacts", "merge", str(keep), str(drop), "--dry-run", *extra,
                            login=staff)  # fmt: skip
        assert code == 0, err
        assert SECRET not in out and "(confidential)" in out
    code, out, err = tx("contacts", "merge", str(keep), str(drop), "--dry-run", login=chair)
    assert SECRET in out  # the talker reads it
    code, out, err = tx("contacts", "merge", str(keep), str(drop), "--yes", login=staff)
    assert code != 0 and "confidential" in err and SECRET not in out + err
    code, out, err = tx("contacts", "merge", str(keep), str(drop), "--yes", login=chair)
    assert code == 0, err
