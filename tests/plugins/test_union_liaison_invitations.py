"""`tongxin gathering --create --invite … --send-invitations`: the 中秋联谊会's invitation
goes by e-mail (iTIP REQUEST, through a real SMTP server here) to each invitee with an
address; an answer entered with `tongxin invite reply` shows in the gathering's RSVPs.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import icalendar
import pytest
from aiosmtpd.controller import Controller
from crm_cli.main import run

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.services import contacts

from ..calendar.conftest import free_port
from ..calendar.test_invitations import _reply
from ..calendar.test_reminders import Inbox, _Smtp


@pytest.fixture
def office(
    app: Tongxin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Inbox, str]]:
    box = Inbox()
    smtp = Controller(_Smtp(box), hostname="127.0.0.1", port=free_port())
    smtp.start()
    config = tmp_path / "office.toml"
    config.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsender = "zx@yz.example"\n')
    monkeypatch.setenv("TONGXIN_CONFIG", str(config))
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "union_liaison")
    clock.freeze(datetime(2026, 8, 1, 2, tzinfo=UTC))
    with app.unit() as unit:
        contacts.create_person(unit, name="欧阳春", email="ouyang@example.org")
        contacts.create_person(unit, name="司马秋")
    yield box, str(config)
    clock.freeze(None)
    smtp.stop()


def test_the_gathering_s_invitations_go_by_e_mail_and_answers_come_back(
    office: tuple[Inbox, str], db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    box, _config = office
    args = ["--db", db_url, "gathering", "--year", "2026", "--create",
            "--invite", "欧阳春", "--invite", "司马秋", "--send-invitations", "--json"]  # fmt: skip
    assert run(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["invitations"] == {
        "method": "REQUEST", "sent": ["ouyang@example.org"], "no_email": ["司马秋"],
    }  # fmt: skip
    [(to, mail)] = box.mails
    assert to == ["ouyang@example.org"]
    [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    request = icalendar.Calendar.from_ical(part.get_content().encode())
    [ev] = request.walk("VEVENT")
    assert ev.decoded("dtstart").astimezone(UTC) == datetime(2026, 9, 25, 10, 30, tzinfo=UTC)
    assert "司马秋" not in mail.as_string()  # the guest list stays in the office
    answer = tmp_path / "reply.ics"
    answer.write_bytes(_reply(request, "ACCEPTED", "ouyang@example.org"))
    assert run(["--db", db_url, "invite", "reply", str(answer)]) == 0
    capsys.readouterr()
    assert run(["--db", db_url, "gathering", "--year", "2026", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert (summary["invited"], summary["accepted"], summary["awaiting"]) == (2, 1, 1)
