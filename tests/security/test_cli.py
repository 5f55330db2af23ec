"""The security commands on the command line, run in-process on a real database of each
backend: `users`, `--as`, `audit`, `person export|anonymise`, `backup`, `restore`; and
the same refusals as the services (county scope, confidential notes, no account).

``tx(..., login=NAME)`` runs tongxin as another login: on SQLite the OS login read by
the program is NAME (the database file stays the test runner's); on PostgreSQL it
connects as the real database role NAME.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from crm_core.app import Tongxin
from crm_core.services import accounts, contacts, interactions

from_cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def people(app: Tongxin, names: Callable[[str], str]) -> dict[str, str]:
    n = {k: names(k) for k in ("office", "chair", "xiaoli", "gl")}
    with app.unit() as unit:
        accounts.create_account(unit, username=n["office"], display_name="办公室", role="admin")
        accounts.create_account(unit, username=n["chair"], display_name="王主席", role="leader")
        accounts.create_account(unit, username=n["xiaoli"], display_name="小李")
        accounts.create_account(
            unit, username=n["gl"], role="county_staff", region_scope="guangling"
        )
        n["zhang"] = str(contacts.create_person(unit, name="张三", region="guangling").id)
        n["li"] = str(contacts.create_person(unit, name="李四", region="hanjiang").id)
    with app.unit(n["chair"]) as unit:
        n["talk"] = str(
            interactions.log_interaction(
                unit, kind="meeting", people=[n["zhang"]], notes="谈心内容", confidential=True,
                summary="谈心谈话",
            ).id
        )  # fmt: skip
    return n


def test_users_add_list_role_disable_enable(tx: from_cli, people: dict[str, str]) -> None:
    code, out, err = tx("users", "add", "wangxm", "--name", "王小明", "--role", "county_staff",
                        "--region", "邗江区", "--json")  # fmt: skip
    assert code == 0, err
    added = json.loads(out)
    assert (added["role"], added["region_scope"], added["active"]) == (
        "county_staff", "hanjiang", True,
    )  # fmt: skip
    code, out, _ = tx("users", "role", "wangxm", "staff", "--json")
    assert json.loads(out)["role"] == "staff" and json.loads(out)["region_scope"] is None
    assert tx("users", "disable", "wangxm")[0] == 0
    code, out, _ = tx("users", "list", "--json")
    assert "wangxm" not in {a["username"] for a in json.loads(out)}
    code, out, _ = tx("users", "list", "--all", "--json")
    assert {a["username"]: a["active"] for a in json.loads(out)}["wangxm"] is False
    assert tx("users", "enable", "wangxm")[0] == 0
    code, out, _ = tx("users", "list")
    assert "wangxm" in out and "王主席" in out
    # The last administrator stays one.
    code, _, err = tx("users", "disable", people["office"])
    assert code == 1 and "last active administrator" in err


def test_only_administrators_manage_users(tx: from_cli, people: dict[str, str]) -> None:
    code, _, err = tx("users", "add", "newbie", login=people["xiaoli"])
    assert code == 1 and "only an administrator" in err
    code, _, err = tx("users", "add", "newbie", login=people["office"])
    assert code == 0, err


def test_a_login_without_an_account_is_told_how_to_get_one(
    tx: from_cli, people: dict[str, str], names: Callable[[str], str]
) -> None:
    stranger = names("stranger")
    code, out, err = tx("contacts", "search", "张三", login=stranger)
    assert code == 1 and out == ""
    assert f"tongxin users add {stranger}" in err
    assert "Traceback" not in err


def test_whoami_and_acting_as_another_account_is_audited(
    tx: from_cli, people: dict[str, str]
) -> None:
    office, chair = people["office"], people["chair"]
    code, out, err = tx("users", "whoami", "--json", login=office)
    assert code == 0, err
    me = json.loads(out)
    assert (me["login"], me["account"]["username"], me["admin"]) == (office, office, True)
    code, out, err = tx("--as", chair, "users", "whoami", "--json", login=office)
    me = json.loads(out)
    assert me["acting_as"] == f"{office} (as {chair})"
    assert me["account"]["username"] == chair and me["real_account"]["username"] == office
    code, out, err = tx("--as", chair, "log", "call", "--with", "张三", "--json", login=office)
    assert code == 0, err
    logged = json.loads(out)
    assert [p["role"] for p in logged["participants"] if p["account_id"]]  # the chair took part
    code, out, err = tx("audit", "--entity", "interaction", "--json", login=office)
    assert code == 0, err
    entry = next(e for e in json.loads(out) if e["entity_id"] == logged["id"])
    assert entry["actor"] == f"{office} (as {chair})"
    # Only an administrator may act as someone else.
    code, _, err = tx("--as", chair, "contacts", "search", "张三", login=people["xiaoli"])
    assert code == 1 and "--as" in err


def test_county_staff_cannot_read_or_change_another_countys_people(
    tx: from_cli, people: dict[str, str]
) -> None:
    gl = people["gl"]
    code, out, _ = tx("contacts", "search", "", "--json", login=gl)
    assert code == 0 and [r["name"] for r in json.loads(out)["results"]] == ["张三"]
    code, out, _ = tx("contacts", "search", "李四", "--json", login=gl)
    assert json.loads(out)["total"] == 0
    code, out, err = tx("contacts", "show", people["li"], login=gl)
    assert code == 1 and "李四" not in out and "Traceback" not in err
    code, _, err = tx("contacts", "add", "--name", "王五", "--region", "hanjiang", login=gl)
    assert code == 1 and "Traceback" not in err
    code, _, err = tx("log", "call", "--with", people["li"], login=gl)
    assert code == 1 and "Traceback" not in err
    code, out, err = tx("contacts", "add", "--name", "王五", "--json", login=gl)
    assert code == 0, err
    assert json.loads(out)["region"] == "guangling"
    code, out, _ = tx("contacts", "search", "", "--json", login=people["xiaoli"])
    assert {r["name"] for r in json.loads(out)["results"]} == {"张三", "李四", "王五"}


def test_a_talks_notes_are_refused_to_non_participants(
    tx: from_cli, people: dict[str, str]
) -> None:
    def recent_notes(login: str) -> list[object]:
        code, out, err = tx("contacts", "show", people["zhang"], "--json", login=login)
        assert code == 0, err
        return [i["notes"] for i in json.loads(out)["recent"] if i["id"] == people["talk"]]

    assert recent_notes(people["chair"]) == ["谈心内容"]
    assert recent_notes(people["office"]) == ["谈心内容"]
    # A staffer is refused the notes (on PostgreSQL the database hides the whole record).
    assert recent_notes(people["xiaoli"]) in ([None], [])


def test_audit_person_export_and_anonymise(
    tx: from_cli, people: dict[str, str], tmp_path: Path
) -> None:
    office = people["office"]
    code, out, err = tx("audit", "--person", people["zhang"], "--json", login=office)
    assert code == 0, err
    assert {e["entity"] for e in json.loads(out)} >= {"person", "interaction"}
    code, out, _ = tx("audit", "--user", people["chair"], "--since", "2000-01-01", login=office)
    assert code == 0 and "interaction" in out
    code, _, err = tx("audit", login=people["xiaoli"])
    assert code == 1 and "only an administrator" in err
    target = tmp_path / "zhang.json"
    code, out, err = tx("person", "export", people["zhang"], "-o", str(target), login=office)
    assert code == 0, err
    exported = json.loads(target.read_text("utf-8"))
    assert exported["person"]["name"] == "张三" and len(exported["interactions"]) == 1
    code, _, err = tx("person", "anonymise", people["zhang"], login=office)
    assert code != 0 and "--yes" in err
    code, out, err = tx("person", "anonymise", people["zhang"], "--yes", "--json", login=office)
    assert code == 0, err
    assert json.loads(out)["name"] == "已匿名"


def test_backup_and_restore_on_the_command_line(
    tx: from_cli, people: dict[str, str], tmp_path: Path, backend: str
) -> None:
    office = people["office"]
    target = tmp_path / "office.bak"
    code, _, err = tx("backup", str(target), login=people["xiaoli"])
    assert code == 1 and "only an administrator" in err
    # On PostgreSQL backups read around row-level security: for the owner role only.
    owner = office if backend == "sqlite" else None
    code, out, err = tx("backup", str(target), "--json", login=owner)
    assert code == 0, err
    assert json.loads(out)["counts"]["person"] == 2
    if backend == "postgresql":
        code, _, err = tx("backup", str(tmp_path / "other.bak"), login=office)
        assert code == 1 and "owner" in err
        code, _, err = tx("restore", str(target), "--yes", login=office)
        assert code == 1 and "owner" in err
    assert tx("contacts", "add", "--name", "后来的人", login=office)[0] == 0
    code, _, err = tx("restore", str(target), login=owner)
    assert code != 0 and "--yes" in err
    code, out, err = tx("restore", str(target), "--yes", login=owner)
    assert code == 0, err
    assert "checked" in out
    code, out, _ = tx("contacts", "search", "后来的人", "--json", login=office)
    assert json.loads(out)["total"] == 0
    folder = tmp_path / "rotating"
    for _ in range(3):
        assert tx("backup", str(folder), "--keep", "2", login=owner)[0] == 0
    assert len([p for p in folder.iterdir() if not p.name.endswith(".json")]) == 2


def test_the_demo_runs_as_the_first_administrator(
    tx: from_cli, backend: str, names: Callable[[str], str]
) -> None:
    # On a new SQLite database anyone is an administrator until there is one: the demo
    # adds accounts, so whoever ran it gets an administrator account and stays in.
    someone = names("someone") if backend == "sqlite" else None  # PostgreSQL: the owner
    code, out, err = tx("demo", "--contacts", "100", login=someone)
    assert code == 0, err
    code, out, err = tx("users", "whoami", "--json", login=someone)
    assert code == 0, err
    me = json.loads(out)
    assert me["admin"] is True
    if someone:
        assert me["account"]["username"] == someone and me["account"]["role"] == "admin"
    else:
        assert me["owner"] is True and me["account"] is None
    code, out, _ = tx("contacts", "search", "", "--json", login=someone)
    assert json.loads(out)["total"] >= 100
