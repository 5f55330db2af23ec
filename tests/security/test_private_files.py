"""Files holding personal data are readable by their owner only, from the first byte.

Real commands of the real CLI (in-process, the same code as `tongxin`), with the
process umask set to the usual 0o022 and to a hostile 0o000; then the real modes by
``os.stat``: the database and its WAL and SHM files, backups and their manifests (one
file, and ``--keep`` rotation folders), PostgreSQL dumps, `person export` files,
exports (people, interactions, vCards, calendars) and reports are 0600, and every
folder the program made for them (the data directory included) is 0700.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from crm_cli.main import run

UMASKS = {"umask022": 0o022, "umask000": 0o000}


@pytest.fixture(params=list(UMASKS.values()), ids=list(UMASKS))
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The process umask during the test (the CLI runs in this process)."""
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def tongxin(capsys: pytest.CaptureFixture[str]) -> Callable[..., str]:
    def call(*args: str) -> str:
        code = run(["--lang", "en", *args])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        return captured.out

    return call


def _all_private(root: Path, made: list[Path]) -> None:
    """Every file under ``root`` is 0600 and every folder in ``made`` 0700; no partial
    file is left behind."""
    for path in made:
        assert path.is_dir() and mode(path) == 0o700, (path, oct(mode(path)))
    files = [p for p in root.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert mode(path) == 0o600, (path, oct(mode(path)))
        assert not path.name.endswith(".partial"), path


def test_sqlite_database_backups_exports_and_reports_are_private(
    umask: int, tmp_path: Path, tongxin: Callable[..., str]
) -> None:
    # The default database: the data directory does not exist yet (XDG_DATA_HOME is a
    # fresh folder), so the program makes it.
    data = tmp_path / "data"
    assert not data.exists()
    tongxin("contacts", "add", "--name", "张三", "--region", "guangling", "--mobile", "13812345678")
    database = data / "tongxin" / "tongxin.db"
    assert mode(data) == 0o700 and mode(data / "tongxin") == 0o700
    assert mode(database) == 0o600
    # Keep a reader on the database so the WAL and SHM files outlive the next command.
    reader = sqlite3.connect(database)
    try:
        assert reader.execute("SELECT count(*) FROM person").fetchone() == (1,)
        tongxin("contacts", "add", "--name", "李四", "--region", "hanjiang")
        tongxin("log", "meeting", "--with", "张三", "--summary", "谈心谈话")
        wal, shm = Path(f"{database}-wal"), Path(f"{database}-shm")
        assert wal.exists() and shm.exists()
        assert mode(wal) == 0o600 and mode(shm) == 0o600
    finally:
        reader.close()

    out = tmp_path / "out"
    tongxin("backup", str(out / "one" / "office.bak"))
    for _ in range(3):
        tongxin("backup", str(out / "rotating"), "--keep", "2")
    assert len(list((out / "rotating").glob("tongxin-*.sqlite"))) == 2
    tongxin("person", "export", "张三", "-o", str(out / "requests" / "zhang.json"))
    exports = out / "exports"
    for name in ("people.csv", "people.xlsx"):
        tongxin("export", "people", "-o", str(exports / name))
    for name in ("work.csv", "work.xlsx"):
        tongxin("export", "interactions", "-o", str(exports / name))
    tongxin("export", "vcf", "-o", str(exports / "phones.vcf"))
    tongxin("export", "ics", "-o", str(exports / "calendar.ics"))
    for name in ("coverage.csv", "coverage.xlsx", "coverage.docx"):
        tongxin("report", "coverage", "-o", str(exports / "reports" / name))
    # A file that was there, readable by all: replaced by a private one, not reused.
    old = exports / "old.csv"
    old.write_text("stale\n", "utf-8")
    old.chmod(0o644)
    tongxin("export", "people", "-o", str(old))
    assert "张三" in old.read_text("utf-8-sig")

    made = [out, out / "one", out / "rotating", out / "requests", exports, exports / "reports"]
    _all_private(out, made)
    assert "张三" in (out / "requests" / "zhang.json").read_text("utf-8")


@pytest.mark.parametrize("backend", ["postgresql"])  # pg_dump (SQLite's backups: above)
def test_postgresql_dumps_are_private(
    umask: int, db_url: str, tmp_path: Path, tongxin: Callable[..., str]
) -> None:
    tongxin("--db", db_url, "contacts", "add", "--name", "张三", "--region", "guangling")
    out = tmp_path / "dumps"
    tongxin("--db", db_url, "backup", str(out / "office.pgdump"))
    for _ in range(2):
        tongxin("--db", db_url, "backup", str(out / "rotating"), "--keep", "1")
    tongxin("--db", db_url, "person", "export", "张三", "-o", str(out / "zhang.json"))
    with (out / "office.pgdump").open("rb") as fh:
        assert fh.read(5) == b"PGDMP"
    _all_private(out, [out, out / "rotating"])


def test_a_write_that_fails_leaves_the_old_file_and_no_partial_one(
    umask: int, tmp_path: Path
) -> None:
    from crm_core.private_files import private_open, write_private_text

    target = tmp_path / "exports" / "people.csv"
    write_private_text(target, "old\n")
    with pytest.raises(RuntimeError), private_open(target, "w", encoding="utf-8") as fh:
        fh.write("half of the new")
        raise RuntimeError("disk full")
    assert target.read_text("utf-8") == "old\n"
    assert [p.name for p in target.parent.iterdir()] == ["people.csv"]
    assert mode(target) == 0o600
    # /dev/stdout and pipes are written in place, not replaced.
    with private_open("/dev/null", "w") as fh:
        fh.write("x")
    assert Path("/dev/null").is_char_device()
