"""Who owns a SQLite database is decided on the file SQLite actually opened, never on
the text of the URL.

Whoever owns the database file is an administrator without an account. A test makes a
real database that an administrator account ("office") uses, gives the file to another
OS user (``nobody``: the tests run as root) and then reaches it as the test runner
through every trick that makes the URL's text name a file of one's own while SQLite
opens the other: a ``file:`` URI whose text is a decoy path the runner owns (absolute
and relative), ``..``, a symbolic link, a hard link, a URI to a link. None of them
gives administrator rights; the owner's own file through a URI still does.
"""

from __future__ import annotations

import json
import os
import pwd
from pathlib import Path

import pytest
from crm_cli.main import run

from crm_core import db, identity
from crm_core.app import Tongxin
from crm_core.config import Config
from crm_core.plugins import PluginHost
from crm_core.services import accounts

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file away")

NOBODY = pwd.getpwnam("nobody")


def _office_database(path: Path, config: Config, plugins: PluginHost) -> None:
    """A migrated database at ``path`` with an administrator account, "office"."""
    app = Tongxin(config, db_url=str(path), plugins=plugins)
    with app.unit() as unit:
        accounts.create_account(unit, username="office", display_name="办公室", role="admin")
    app.close()


def _give_away(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if p.exists():
            os.chown(p, NOBODY.pw_uid, NOBODY.pw_gid)


def _decoy(path: Path) -> None:
    """A file of the test runner's own at ``path`` (what the URL's text names)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    assert path.stat().st_uid == os.geteuid()


def _trick(name: str, base: Path, victim: Path) -> str:
    """The --db value of trick ``name`` for the file ``victim`` (owned by nobody), with
    whatever decoy the trick needs planted under ``base`` (the working directory)."""
    if name == "uri-absolute":
        # The old check stat()ed "file:/…/victim.db" as a relative path: a decoy tree
        # under a folder named "file:" in the working directory.
        _decoy(base / ("file:" + str(victim)))
        return f"sqlite:///file:{victim}?uri=true"
    if name == "uri-relative-mode-rwc":
        link = base / "office.db"
        link.symlink_to(victim)
        _decoy(base / "file:office.db")
        return "sqlite:///file:office.db?mode=rwc&uri=true"
    if name == "uri-triple-slash":
        _decoy(base / ("file:" + str(victim)))  # "file:///x" is the path "file:/x"
        return f"sqlite:///file://{victim}?uri=true"
    if name == "dotdot":
        (base / "mine").mkdir()
        return str(base / "mine" / ".." / victim.relative_to(base))
    if name == "symlink":
        link = base / "mine.db"
        link.symlink_to(victim)
        return str(link)
    if name == "hardlink":
        link = base / "hard.db"
        os.link(victim, link)
        return str(link)
    if name == "uri-to-symlink":
        link = base / "link.db"
        link.symlink_to(victim)
        _decoy(base / ("file:" + str(link)))
        return f"sqlite:///file:{link}?uri=true"
    raise AssertionError(name)


TRICKS = [
    "uri-absolute",
    "uri-relative-mode-rwc",
    "uri-triple-slash",
    "dotdot",
    "symlink",
    "hardlink",
    "uri-to-symlink",
]


@pytest.fixture
def victim(tmp_path: Path, config: Config, plugins: PluginHost) -> Path:
    folder = tmp_path / "theirs"
    folder.mkdir()
    path = folder / "office.db"
    _office_database(path, config, plugins)
    _give_away(path)
    return path


def _whoami(db_arg: str) -> tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(["--lang", "en", "--db", db_arg, "users", "whoami", "--json"])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("trick", TRICKS)
def test_a_file_owned_by_someone_else_gives_no_administrator_rights_through_any_url(
    trick: str,
    tmp_path: Path,
    victim: Path,
    config: Config,
    plugins: PluginHost,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    db_arg = _trick(trick, tmp_path, victim)
    app = Tongxin(config, db_url=db_arg, plugins=plugins)
    try:
        with app.engine.connect() as conn:
            # SQLite really opened the other user's file...
            opened = db.sqlite_main_file(conn)
            assert opened is not None and os.path.samefile(opened, victim)
        # ...and its owner is nobody, not the test runner.
        assert app.login().name == identity.os_login()
        assert app.login().owner is False
    finally:
        app.close()
    # On the command line: no account, not the owner, an administrator exists: refused.
    code, out, err = _whoami(db_arg)
    captured = capsys.readouterr()
    text = err + captured.err
    assert code == 1, out + captured.out
    assert "has no account" in text and "Traceback" not in text
    # Nor can it make itself an administrator.
    code = run(["--lang", "en", "--db", db_arg, "users", "add", "mallory", "--role", "admin"])
    assert code == 1 and "Traceback" not in capsys.readouterr().err
    app = Tongxin(config, db_url=str(victim), plugins=plugins)
    try:
        with app.unit() as unit:
            assert [a.username for a in accounts.list_accounts(unit)] == ["office"]
    finally:
        app.close()


@pytest.mark.parametrize(
    "form",
    ["plain", "uri-absolute", "uri-relative", "uri-triple-slash", "symlink", "dotdot"],
)
def test_the_owners_own_file_through_a_uri_still_makes_them_administrator(
    form: str,
    tmp_path: Path,
    config: Config,
    plugins: PluginHost,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "mine" / "office.db"
    path.parent.mkdir()
    _office_database(path, config, plugins)
    monkeypatch.chdir(path.parent)
    (tmp_path / "other").mkdir()
    (tmp_path / "link.db").symlink_to(path)
    db_arg = {
        "plain": str(path),
        "uri-absolute": f"sqlite:///file:{path}?uri=true",
        "uri-relative": "sqlite:///file:office.db?mode=rwc&uri=true",
        "uri-triple-slash": f"sqlite:///file://{path}?uri=true",
        "symlink": str(tmp_path / "link.db"),
        "dotdot": str(tmp_path / "other" / ".." / "mine" / "office.db"),
    }[form]
    code, out, err = _whoami(db_arg)
    captured = capsys.readouterr()
    assert code == 0, err + captured.err
    data = json.loads(out or captured.out)
    assert data["owner"] is True and data["admin"] is True


def test_world_writable_does_not_make_a_file_yours(
    tmp_path: Path, victim: Path, config: Config, plugins: PluginHost
) -> None:
    # Writable by everyone, in a folder writable by everyone: still nobody's file. Such
    # a file protects nothing (anyone can change it with the sqlite3 shell), but the
    # program does not add to that by handing out its administrator rights.
    victim.chmod(0o666)
    victim.parent.chmod(0o777)
    app = Tongxin(config, db_url=str(victim), plugins=plugins)
    try:
        assert app.login().owner is False
    finally:
        app.close()


def test_the_owner_is_read_from_the_connection_not_the_url(
    tmp_path: Path, victim: Path, config: Config, plugins: PluginHost
) -> None:
    # The same check through owns_database on a live connection.
    engine = db.make_engine(f"sqlite:///file:{victim}?mode=ro&uri=true")
    try:
        with engine.connect() as conn:
            assert identity.owns_database(conn, identity.os_login()) is False
            assert identity.owns_database(conn, "nobody") is True
    finally:
        engine.dispose()


def test_backups_read_the_file_sqlite_opened(
    tmp_path: Path, config: Config, plugins: PluginHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crm_core import backup

    path = tmp_path / "office.db"
    _office_database(path, config, plugins)
    monkeypatch.chdir(tmp_path)
    engine = db.make_engine("sqlite:///file:office.db?uri=true")
    try:
        made = backup.backup(engine, tmp_path / "b.sqlite")
    finally:
        engine.dispose()
    assert made.counts["account"] == 1
