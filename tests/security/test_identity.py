"""Who is using tongxin: the authenticated login (OS user on SQLite, database role on
PostgreSQL), mapped to an account; never a name typed in. Administrators may act as
another account (--as), and the audit log names both.

Every test runs on SQLite and on PostgreSQL (the ``app`` fixture); on PostgreSQL the
logins are real database roles.
"""

from __future__ import annotations

import os
import pwd
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from crm_core import identity
from crm_core.app import Tongxin
from crm_core.errors import NotFound, PermissionDenied
from crm_core.models import AuditLog
from crm_core.services import accounts, contacts


def add(app: Tongxin, username: str, **values: object) -> None:
    with app.unit() as unit:
        accounts.create_account(unit, username=username, display_name=username, **values)


def test_the_os_login_is_the_process_user_not_a_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("USER", "LOGNAME", "USERNAME", "LNAME"):
        monkeypatch.setenv(var, "chair")  # anyone can set these
    assert identity.os_login() == pwd.getpwuid(os.geteuid()).pw_name != "chair"


def test_the_login_and_who_owns_the_database(app: Tongxin, backend: str) -> None:
    login = app.login()
    if backend == "sqlite":
        assert login.name == identity.os_login()
    else:
        assert login.name == "postgres"  # SELECT current_user: the role connected as
    # The tests' database file is ours; on PostgreSQL we are a superuser.
    assert login.owner is True


def test_a_sqlite_file_belongs_to_its_owner(tmp_path: Path, config, plugins) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "office.db"
    app = Tongxin(config, db_url=str(path), plugins=plugins)
    try:
        assert app.login().owner is True
    finally:
        app.close()
    other = tmp_path / "other.db"
    shutil.copy(path, other)
    if os.geteuid() == 0:  # give the copy to someone else
        os.chown(other, 65534, 65534)
    app = Tongxin(config, db_url=str(other), plugins=plugins)
    try:
        owner = pwd.getpwuid(other.stat().st_uid).pw_name
        assert app.login().owner is (owner == identity.os_login())
    finally:
        app.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_new_sqlite_database_is_a_single_user_tool_until_an_administrator_exists(
    app: Tongxin, login: Callable[..., Tongxin], names: Callable[[str], str]
) -> None:
    someone = login(names("someone"))
    with someone.unit() as unit:
        assert unit.actor is None and unit.implicit_admin and unit.is_admin
        contacts.create_person(unit, name="张三", region="guangling")
        # A staff account does not end it: only an administrator does.
        accounts.create_account(unit, username=names("xiaoli"), display_name="小李")
    with someone.unit() as unit:
        assert unit.is_admin
        accounts.create_account(unit, username=names("office"), display_name="办公室", role="admin")
    with pytest.raises(PermissionDenied) as refused, someone.unit():
        pass
    assert f"tongxin users add {names('someone')}" in str(refused.value)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_postgresql_role_without_an_account_is_refused(
    app: Tongxin, login: Callable[..., Tongxin], names: Callable[[str], str]
) -> None:
    # No administrator yet: the owner of the database adds the first one.
    with pytest.raises(PermissionDenied) as refused, login(names("someone")).unit():
        pass
    assert f"tongxin users add {names('someone')}" in str(refused.value)
    app.authenticate()  # the owner (here a superuser)
    with app.unit() as unit:
        assert unit.is_admin
        accounts.create_account(unit, username=names("office"), role="admin")
    with login(names("office")).unit() as unit:
        assert unit.is_admin and unit.actor is not None


def test_the_login_acts_as_its_own_account(
    app: Tongxin, login: Callable[..., Tongxin], names: Callable[[str], str]
) -> None:
    office, xiaoli = names("office"), names("xiaoli")
    add(app, office, role="admin")
    add(app, xiaoli, role="staff")
    with login(xiaoli).unit() as unit:
        assert unit.actor is not None and unit.actor.username == xiaoli
        assert unit.actor_name == xiaoli
        assert not unit.is_admin and not unit.implicit_admin and not unit.system
        contacts.create_person(unit, name="李四")
        with pytest.raises(PermissionDenied):
            accounts.create_account(unit, username=names("other"))
    with app.unit() as unit:
        entry = unit.session.scalars(select(AuditLog).where(AuditLog.entity == "person")).one()
        assert entry.actor == xiaoli
        assert entry.actor_id == accounts.resolve_account(unit, xiaoli).id


def test_a_disabled_account_is_refused_from_its_next_unit_on(
    app: Tongxin, login: Callable[..., Tongxin], names: Callable[[str], str]
) -> None:
    office, xiaoli = names("office"), names("xiaoli")
    add(app, office, role="admin")
    add(app, xiaoli)
    session = login(xiaoli)  # a long terminal-UI session
    with session.unit() as unit:
        contacts.create_person(unit, name="李四")
    with login(office).unit() as unit:
        accounts.set_active(unit, accounts.resolve_account(unit, xiaoli).id, False)
    with pytest.raises(PermissionDenied, match=xiaoli), session.unit():
        pass
    # Trusted code acting for a disabled account is refused too.
    with pytest.raises(PermissionDenied), app.unit(xiaoli):
        pass


def test_the_owner_of_the_database_is_an_administrator_without_an_account(
    app: Tongxin, names: Callable[[str], str]
) -> None:
    add(app, names("office"), role="admin")
    app.authenticate()
    with app.unit() as unit:
        assert unit.actor is None and unit.implicit_admin and unit.is_admin
        accounts.create_account(unit, username=names("xiaoli"))


def test_an_administrator_acts_as_another_account_and_both_are_audited(
    app: Tongxin, login: Callable[..., Tongxin], names: Callable[[str], str]
) -> None:
    office, chair = names("office"), names("chair")
    add(app, office, role="admin")
    add(app, chair, role="leader", chair_meeting=True)
    with login(office, as_user=chair).unit() as unit:
        assert unit.actor is not None and unit.actor.username == chair
        assert unit.real_actor is not None and unit.real_actor.username == office
        assert unit.actor_name == f"{office} (as {chair})"
        assert not unit.is_admin  # the chair's rights, not the office's
        pid = contacts.create_person(unit, name="王五").id
    with app.unit() as unit:
        entry = unit.session.scalars(
            select(AuditLog).where(AuditLog.entity == "person", AuditLog.entity_id == str(pid))
        ).one()
        assert entry.actor == f"{office} (as {chair})"
        assert entry.actor_id == accounts.resolve_account(unit, chair).id
        assert entry.real_actor_id == accounts.resolve_account(unit, office).id


def test_only_an_administrator_may_act_as_another_account(
    app: Tongxin, login: Callable[..., Tongxin], names: Callable[[str], str]
) -> None:
    office, xiaoli, chair = names("office"), names("xiaoli"), names("chair")
    add(app, office, role="admin")
    add(app, xiaoli)
    add(app, chair, role="leader")
    with pytest.raises(PermissionDenied, match="--as"), login(xiaoli, as_user=chair).unit():
        pass
    with pytest.raises(NotFound), login(office, as_user="nobody").unit():
        pass
    with app.unit() as unit:
        accounts.set_active(unit, accounts.resolve_account(unit, chair).id, False)
    with pytest.raises(PermissionDenied), login(names("office"), as_user=chair).unit():
        pass
