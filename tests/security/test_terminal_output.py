"""Values already in the database never drive the terminal (issue 11, item 9a).

Rows written before the input rules existed, by SQL or by a phone through CalDAV can
hold ESC sequences, C1 controls, bidirectional overrides and console markup. The CLI
(`contacts show`, `contacts search`, `--json`, `log`) and the terminal UI (driven with
Pilot; what the screen would send to the terminal is rendered and inspected) show them
escaped and as typed: never as colours, cursor moves, window titles, bold text or
clickable actions. Both backends.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from crm_cli import context
from crm_cli.main import run
from crm_tui.app import TongxinApp
from sqlalchemy import text

from crm_core.app import Tongxin
from crm_core.services import contacts, interactions

NAME = "\x1b[31m恶意\x1b[0m[b]粗[/b]"
EMPLOYER = "[@click=app.quit]点我[/]\x9b2J\u202ecod.exe"
SUMMARY = "\x1b]0;owned\x07\x1b[2J谈话"
RAW = ("\x1b", "\x9b", "\u202e", "\x07")


@pytest.fixture
def planted(app: Tongxin) -> str:
    """A person and a talk, then overwritten by SQL with hostile values (as an older
    row or a direct write would leave them); returns the person's id."""
    with app.unit() as unit:
        p = contacts.create_person(unit, name="王委员", employer="扬州大学")
        interactions.log_interaction(unit, kind="call", people=[p.id], summary="问候")
        pid = str(p.id)
    with app.engine.begin() as conn:
        conn.execute(
            text("UPDATE person SET name = :n, employer = :e WHERE name = '王委员'"),
            {"n": NAME, "e": EMPLOYER},
        )
        conn.execute(text("UPDATE interaction SET summary = :s"), {"s": SUMMARY})
    return pid


def cli(db_url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["--db", db_url, "--lang", "en", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_cli_shows_stored_escape_sequences_and_markup_as_text(
    db_url: str, planted: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A wide terminal, so that tables keep whole values (the console read COLUMNS when
    # it was made, maybe by another test).
    monkeypatch.setattr(context.out, "_width", 250)
    for args in (("contacts", "show", planted), ("contacts", "search", "wangweiyuan")):
        code, out, err = cli(db_url, capsys, *args)
        assert code == 0, err
        assert not any(c in out + err for c in RAW), repr(out)
        assert "\\x1b[31m恶意\\x1b[0m[b]粗[/b]" in out  # escaped, and the markup as typed
        assert "[@click=app.quit]点我[/]\\x9b2J\\u202ecod.exe" in out
    code, out, _ = cli(db_url, capsys, "contacts", "show", planted)
    assert "\\x1b]0;owned\\x1b[2J谈话" in out  # the talk's summary (BEL is dropped)
    # JSON keeps the exact value, written with escapes only.
    code, out, _ = cli(db_url, capsys, "contacts", "show", planted, "--json")
    assert code == 0 and not any(c in out for c in RAW)
    data = json.loads(out)
    assert (data["name"], data["employer"]) == (NAME, EMPLOYER)
    assert data["recent"][0]["summary"] == SUMMARY
    # The names a command prints back (who took part) are escaped too.
    code, out, err = cli(db_url, capsys, "log", "call", "--with", planted)
    assert code == 0, err
    assert not any(c in out + err for c in RAW) and "\\x1b[31m恶意" in out


SHOWN_NAME = "\\x1b[31m恶意\\x1b[0m[b]粗[/b]"  # the planted name, as typed


async def _screen_output(core: Tongxin, person_id: str) -> tuple[str, str, list[str]]:
    """What the contacts screen and the person's page would send to the terminal, and
    the plain text of the contacts table's first row."""
    app = TongxinApp(core, start="contacts")
    async with app.run_test(size=(140, 40)) as pilot:

        def frame() -> str:
            return str(app.screen._compositor.render_update(full=True).render_segments(app.console))

        async def settle(*shows: str) -> str:
            # Until the screen has drawn the data (a loaded machine takes longer): the
            # frame that first holds it, or the last one tried.
            out = ""
            for _ in range(50):
                await pilot.pause()
                await app.workers.wait_for_complete()
                out = frame()
                if all(text in out for text in shows):
                    break
            return out

        listing = await settle(SHOWN_NAME, "[@click=app.quit]点我[/]")
        table = app.screen.query_one("#people")
        row = [getattr(c, "plain", c) for c in table.get_row_at(0)]  # type: ignore[attr-defined]
        app.open_person(person_id)
        page = await settle(SHOWN_NAME, "owned")  # "owned": the summary, on the timeline
        clicked = app.return_code is None  # nothing ran an action hidden in the data
        assert clicked
    return listing, page, row


def test_the_terminal_ui_shows_stored_escape_sequences_and_markup_as_text(
    app: Tongxin, planted: str
) -> None:
    listing, page, row = asyncio.run(_screen_output(app, planted))
    assert row[0] == "\\x1b[31m恶意\\x1b[0m[b]粗[/b]"
    assert row[5].startswith("[@click=app.quit]点我[/]\\x9b2J")  # employer: the last column
    for output in (listing, page):
        # The program's own sequences are there; the data's never are.
        assert "\x1b[31m恶意" not in output and "\x1b]0;owned" not in output
        assert not any(c in output for c in ("\x9b", "\u202e", "\x07"))
        assert "\\x1b[31m恶" in output  # as typed (the list's name column cuts it with "…")
    assert "\\x1b[31m恶意\\x1b[0m[b]粗[/b]" in page  # whole, as typed, not bold
    assert "[@click=app.quit]点我[/]" in listing  # no action link made of it
    assert "\\x1b]0;owned\\x07\\x1b[2J谈话" in page  # the summary on the timeline
