"""Fuzz of the real `tongxin` command line with hostile values (issue 11, item 9a), on
SQLite and PostgreSQL.

`contacts add`, `log` and `schedule` are fed control characters, NUL, ESC sequences,
a megabyte, years 0/1/9999, local times the clocks skip, console markup and
right-to-left overrides. Each refusal exits non-zero naming the field, no output holds a
traceback, no row is half-written, and afterwards `export people` and `export ics` still
work for everyone. Most runs are in-process (``crm_cli.main.run``, as tests/cli do);
the ones a shell hands over as raw bytes (not UTF-8) run `tongxin` as a real process.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import cycle
from pathlib import Path

import pytest
from crm_cli.main import run
from sqlalchemy import func, select

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.models import AuditLog, FollowUp, Interaction, InteractionParticipant, Person

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
MEGABYTE = "同" * 1_000_000

# Each inside other text: leading and trailing white space (CR, NEL and the like) is
# stripped from every value before it is kept, harmlessly.
CONTROLS = [
    "\x00",
    "张\x00三",
    "\x1b[2J\x1b[H",
    "名\x1b]0;owned\x07名",
    "\x1b[31m红\x1b[0m",
    "甲\x07\x08\x0b\x0c乙",
    "覆\r盖",
    "甲\x7f乙",
    "甲\x9b31m",
    "甲\x85乙",
    "甲\ud800",
    "abc\u202eexe.txt",
    "\u2067隔离\u2069",
]

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def tx(db_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `tongxin --db URL ARGS...` in this process; (exit code, stdout, stderr)."""

    def call(*args: str) -> tuple[int, str, str]:
        code = run(["--db", db_url, "--lang", "en", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


@pytest.fixture
def office(tx: Cli) -> None:
    clock.freeze(NOW)
    assert tx("contacts", "add", "--name", "王委员")[0] == 0


def counts(app: Tongxin) -> dict[str, int]:
    """Rows in the tables the commands write, read through a program of its own."""
    with app.unit() as unit:
        return {
            m.__tablename__: unit.session.scalar(select(func.count()).select_from(m)) or 0  # type: ignore[attr-defined]
            for m in (Person, Interaction, InteractionParticipant, FollowUp, AuditLog)
        }


def refused(tx: Cli, app: Tongxin, field: str, *args: str) -> str:
    """Run the command: it must fail, name ``field``, show no traceback, write nothing."""
    before = counts(app)
    code, out, err = tx(*args)
    assert code != 0, (args, out)
    assert "Traceback" not in out + err
    assert f"  {field} = " in err, (field, err[:500])
    assert "refused, nothing was written" in err
    assert counts(app) == before, "a refused command left rows behind"
    # The refused value is not printed back raw: no control character reaches the terminal.
    assert not any(c in err for c in "\x00\x1b\x07\x9b\x85\u202e\u2067"), err[:300]
    assert len(err) < 5_000  # a megabyte is not repeated back
    return err


def test_contacts_add_refuses_hostile_values_naming_the_field(
    tx: Cli, app: Tongxin, office: None
) -> None:
    # Every hostile value, each against one of the text options in turn.
    options = cycle([("--name", "name"), ("--title", "title"), ("--employer", "employer")])
    for value, (option, field) in zip(CONTROLS, options, strict=False):
        args = ["contacts", "add", "--name", "李四", option, value]
        if option == "--name":
            args = ["contacts", "add", "--name", value]
        refused(tx, app, field, *args)
    refused(tx, app, "mobile", "contacts", "add", "--name", "李四", "--mobile", "\x1b[6n")
    refused(tx, app, "region", "contacts", "add", "--name", "李四", "--region", "\x00")
    err = refused(tx, app, "name", "contacts", "add", "--name", MEGABYTE)
    assert "at most 100" in err
    err = refused(tx, app, "title", "contacts", "add", "--name", "李四", "--title", MEGABYTE)
    assert "at most 200" in err
    for birth in ("0000", "0001-01", "1899-12", "9999-12"):
        refused(tx, app, "birth", "contacts", "add", "--name", "李四", "--birth", birth)


def test_markup_in_a_name_is_kept_as_typed_and_printed_as_typed(
    tx: Cli, app: Tongxin, office: None
) -> None:
    for name in ("[b]粗[/b]", "[/b]", "[@click=app.quit]点我[/]", "[link=http://x]y[/link]"):
        code, out, err = tx("contacts", "add", "--name", name)
        assert (code, err) == (0, ""), err
        assert out.startswith(f"Added {name} (")
    code, out, _ = tx("contacts", "search", "[/b]")
    assert code == 0 and "[/b]" in out


def test_log_refuses_hostile_values_naming_the_field(tx: Cli, app: Tongxin, office: None) -> None:
    log = ("log", "meeting", "--with", "王委员")
    fields = cycle(["summary", "location", "notes", "data.topic", "data.concerns[1]", "query"])
    for value, field in zip(CONTROLS, fields, strict=False):
        args = {
            "summary": [*log, "--summary", value],
            "location": [*log, "--location", value],
            "notes": [*log, "--notes", value],
            "data.topic": [*log, "--field", f"topic={value}"],
            "data.concerns[1]": [*log, "--field", "concerns=好", "--field", f"concerns={value}"],
            "query": ["log", "meeting", "--with", value],
        }[field]
        refused(tx, app, field, *args)
    err = refused(tx, app, "summary", *log, "--summary", MEGABYTE)
    assert "at most 500" in err
    refused(tx, app, "notes", *log, "--notes", MEGABYTE)
    refused(tx, app, "data.topic", *log, "--field", f"topic={MEGABYTE}")
    for at in ("0000-01-01 10:00", "0001-01-01 00:00", "9999-12-31 23:59"):
        err = refused(tx, app, "--at", *log, "--at", at)
    assert "1900-01-01 to 2200-12-31" in err
    refused(tx, app, "--end", *log, "--at", "2026-03-09 10:00", "--end", "9999-01-01 10:00")
    # Notes keep their line breaks and tabs: those are text, not controls.
    code, _, err = tx(*log, "--notes", "第一行\n\t第二行", "--summary", "座谈")
    assert code == 0, err


def test_a_time_the_clocks_skip_is_refused_naming_it(
    tx: Cli, app: Tongxin, office: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TONGXIN_TZ", "America/New_York")
    err = refused(tx, app, "--at", "log", "call", "--with", "王委员", "--at", "2026-03-08 02:30")
    assert "2026-03-08 02:30 does not exist in America/New_York" in err
    assert "from 02:00 to 03:00" in err
    err = refused(
        tx, app, "--at", "schedule", "call", "--with", "王委员", "--at", "2027-03-14 2:15"
    )
    assert "does not exist" in err
    refused(
        tx, app, "--end", "schedule", "call", "--with", "王委员",
        "--at", "2027-03-14 01:00", "--end", "2027-03-14 02:45",
    )  # fmt: skip
    monkeypatch.setenv("TONGXIN_TZ", "Asia/Shanghai")  # summer time 1986-1991
    err = refused(tx, app, "--at", "log", "call", "--with", "王委员", "--at", "1986-05-04 02:30")
    assert "does not exist in Asia/Shanghai" in err
    # The hour the clocks repeat is its first occurrence, and says so in the output.
    code, out, err = tx("log", "call", "--with", "王委员", "--at", "1986-09-14 01:30", "--json")
    assert code == 0, err
    assert '"start": "1986-09-13T16:30:00+00:00"' in out  # +09:00, the earlier instant


def test_schedule_refuses_hostile_values_naming_the_field(
    tx: Cli, app: Tongxin, office: None
) -> None:
    plan = ("schedule", "meeting", "--with", "王委员", "--at", "2026-04-01 15:00")
    for value, field in zip(CONTROLS[:6], cycle(["summary", "location"]), strict=False):
        refused(tx, app, field, *plan, f"--{field}", value)
    refused(tx, app, "notes", *plan, "--notes", "\x00")
    refused(tx, app, "data.topic", *plan, "--field", "topic=\x1b[5m")
    refused(tx, app, "location", *plan, "--location", MEGABYTE)
    for at in ("9999-12-31 23:00", "2201-01-01"):
        refused(tx, app, "--at", "schedule", "call", "--with", "王委员", "--at", at)


def test_exports_still_work_for_everyone_after_the_fuzz(
    tx: Cli, app: Tongxin, office: None, tmp_path: Path
) -> None:
    for value in CONTROLS[1:5]:  # refused: they leave nothing that could break an export
        tx("contacts", "add", "--name", value)
        tx("log", "meeting", "--with", "王委员", "--summary", value)
        tx("schedule", "call", "--with", "王委员", "--at", "2026-04-01 9:00", "--location", value)
    assert tx("schedule", "call", "--with", "王委员", "--at", "2026-04-02 9:00")[0] == 0
    assert tx("contacts", "add", "--name", "[b]x[/b]")[0] == 0
    people = tmp_path / "people.csv"
    code, out, err = tx("export", "people", "-o", str(people))
    assert code == 0 and "Traceback" not in out + err, err
    with people.open(encoding="utf-8-sig") as f:
        names = sorted(row[0] for row in list(csv.reader(f))[1:])
    assert names == ["[b]x[/b]", "王委员"]
    code, out, err = tx("export", "ics")
    assert code == 0 and "Traceback" not in out + err, err
    assert out.count("BEGIN:VEVENT") >= 1 and "END:VCALENDAR" in out


def test_raw_bytes_from_a_shell_are_refused_by_the_real_program(
    db_url: str, app: Tongxin, office: None
) -> None:
    # Bytes that are not UTF-8 reach Python as lone surrogates; an ESC typed (or pasted)
    # in a shell reaches the program as it is.
    env = {**os.environ, "TONGXIN_NOW": NOW.isoformat(), "TONGXIN_LANG": "en"}
    before = counts(app)
    for args in (
        [b"contacts", b"add", b"--name", b"\xff\xfe\xe5\xbc"],
        [b"contacts", b"add", b"--name", "王\x1b[2J".encode()],
        [b"log", b"call", b"--with", "王委员".encode(), b"--summary", b"\x9b\xc2\x9b"],
        [b"schedule", b"call", b"--with", "王委员".encode(), b"--at", b"9999-12-31 23:00"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "crm_cli.main", b"--db", db_url.encode(), *args],
            capture_output=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 1, done
        output = done.stdout + done.stderr
        assert b"Traceback" not in output
        assert b"refused, nothing was written" in done.stderr
        assert b"\x1b" not in output and b"\xc2\x9b" not in output
    assert counts(app) == before
