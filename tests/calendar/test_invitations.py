"""Invitations by e-mail (iTIP over iMIP) through a real SMTP server here (aiosmtpd on
127.0.0.1): a REQUEST per person with an address, holding only that person; a CANCEL
with a higher SEQUENCE; a REPLY (the .ics or the whole e-mail) sets the RSVP; bad
replies are refused naming the value, and change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import icalendar
import pytest
import vobject
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlmodel import col

from crm_core.calendar.itip import InvitationError, apply_reply, send_invitations
from crm_core.errors import ValidationError
from crm_core.models import InteractionParticipant, Rsvp
from crm_core.services import interactions

from .conftest import World, free_port
from .test_reminders import Inbox, _Smtp

SENDER = "tongxin@yangzhou.example"


@pytest.fixture
def mailed(world: World) -> Iterator[Inbox]:
    """``world`` with ``[smtp]`` pointing at a local SMTP server; what it receives."""
    box = Inbox()
    smtp = Controller(_Smtp(box), hostname="127.0.0.1", port=free_port())
    smtp.start()
    sections = world.app.config.sections
    sections.smtp = sections.smtp.model_copy(
        update={"host": "127.0.0.1", "port": smtp.port, "sender": SENDER}
    )
    with world.app.unit("wangzx") as unit:  # 李四 has no e-mail address
        interactions.add_participants(unit, world.visit, people=[world.li])
    yield box
    smtp.stop()


def _calendar_of(mail: Any, method: str) -> icalendar.Calendar:
    parts = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1 and parts[0].get_param("method") == method
    return icalendar.Calendar.from_ical(parts[0].get_content().encode("utf-8"))


def _rsvp(world: World, person: object) -> Rsvp | None:
    ip = InteractionParticipant
    with world.app.unit() as unit:
        found: Rsvp | None = unit.session.scalars(
            select(col(ip.rsvp)).where(
                col(ip.interaction_id) == world.visit, col(ip.person_id) == person
            )
        ).one()
        return found


def test_a_request_goes_to_each_person_with_an_address_and_names_only_them(
    world: World, mailed: Inbox
) -> None:
    with world.app.unit("wangzx") as unit:
        report = send_invitations(unit, world.visit)
    assert report.method == "REQUEST"
    assert report.sent == ["zhangsan@example.org"] and report.no_email == ["李四"]
    [(to, mail)] = mailed.mails
    assert to == ["zhangsan@example.org"] and mail["From"] == SENDER
    cal = _calendar_of(mail, "REQUEST")
    assert cal["METHOD"] == "REQUEST"
    [ev] = cal.walk("VEVENT")
    assert str(ev["UID"]) == f"interaction-{world.visit}@tongxin"
    assert str(ev["ORGANIZER"]) == f"mailto:{SENDER}"
    attendee = ev["ATTENDEE"]
    assert not isinstance(attendee, list)  # only the one it is sent to
    assert str(attendee) == "mailto:zhangsan@example.org"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION" and attendee.params["RSVP"] == "TRUE"
    assert attendee.params["CN"] == "张三"
    whole = mail.as_bytes()
    for secret in ("李四", "注意保密", "子女就业"):  # neither the others nor the notes
        assert secret.encode() not in whole
        assert secret not in cal.to_ical().decode()
    assert str(ev["SUMMARY"]) == "走访了解企业用工情况"
    # Strict readers take it.
    vobject.readOne(cal.to_ical().decode("utf-8"), validate=True)
    assert _rsvp(world, world.zhang) is Rsvp.invited  # marked invited when sent


def _reply(request: icalendar.Calendar, partstat: str, address: str) -> bytes:
    """What a calendar program sends back: METHOD:REPLY with the attendee's answer."""
    [ev] = request.walk("VEVENT")
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Apple Inc.//iPhone//EN")
    cal.add("version", "2.0")
    cal.add("method", "REPLY")
    answer = icalendar.Event()
    for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE", "ORGANIZER"):
        answer.add(prop, ev[prop])
    who = icalendar.vCalAddress(f"mailto:{address}")
    who.params["PARTSTAT"] = partstat
    answer.add("attendee", who)
    cal.add_component(answer)
    return bytes(cal.to_ical())


def test_a_reply_sets_the_rsvp_and_bad_replies_change_nothing(world: World, mailed: Inbox) -> None:
    with world.app.unit("wangzx") as unit:
        send_invitations(unit, world.visit)
    request = _calendar_of(mailed.mails[0][1], "REQUEST")
    # The whole e-mail as it arrives in the office's mailbox (the address in capitals).
    mail = EmailMessage()
    mail["From"] = "ZhangSan@Example.org"
    mail["Subject"] = "已接受：走访了解企业用工情况"
    mail.set_content("我会参加。")
    reply = _reply(request, "ACCEPTED", "ZhangSan@Example.org")
    mail.add_attachment(reply, maintype="text", subtype="calendar", params={"method": "REPLY"})
    with world.app.unit("wangzx") as unit:
        assert apply_reply(unit, mail.as_bytes()) == [("张三", Rsvp.accepted)]
    assert _rsvp(world, world.zhang) is Rsvp.accepted

    bad = {
        "attendee": _reply(request, "DECLINED", "stranger@example.org"),
        "method": _reply(request, "DECLINED", "zhangsan@example.org").replace(
            b"METHOD:REPLY", b"METHOD:REQUEST"
        ),
        "uid": _reply(request, "DECLINED", "zhangsan@example.org").replace(
            b"@tongxin", b"@google.com"
        ),
        "partstat": _reply(request, "DELEGATED", "zhangsan@example.org"),
        "reply": b"hello, I will come",
    }
    for name, body in bad.items():
        with world.app.unit("wangzx") as unit, pytest.raises(ValidationError) as caught:
            apply_reply(unit, body)
        assert caught.value.errors[0].field == name, name
    assert _rsvp(world, world.zhang) is Rsvp.accepted  # none of them changed anything
    # The text of the refusal names the address.
    with world.app.unit("wangzx") as unit, pytest.raises(ValidationError) as caught:
        apply_reply(unit, bad["attendee"])
    assert "stranger@example.org" in str(caught.value)


def test_a_cancelled_interaction_sends_a_cancel_with_a_higher_sequence(
    world: World, mailed: Inbox
) -> None:
    with world.app.unit("wangzx") as unit:
        send_invitations(unit, world.visit)
        interactions.cancel_interaction(unit, world.visit, reason="改期")
    with world.app.unit("wangzx") as unit:
        report = send_invitations(unit, world.visit)
    assert report.method == "CANCEL" and report.sent == ["zhangsan@example.org"]
    request = _calendar_of(mailed.mails[0][1], "REQUEST").walk("VEVENT")[0]
    cancel = _calendar_of(mailed.mails[1][1], "CANCEL").walk("VEVENT")[0]
    assert cancel["STATUS"] == "CANCELLED" and cancel["UID"] == request["UID"]
    assert int(cancel["SEQUENCE"]) > int(request["SEQUENCE"])
    assert "取消" in str(mailed.mails[1][1]["Subject"])


def test_what_sends_no_invitation(world: World, mailed: Inbox) -> None:
    with world.app.unit("wangzx") as unit, pytest.raises(ValidationError) as caught:
        send_invitations(unit, world.talk)  # confidential: who takes part is too
    assert caught.value.errors[0].field == "interaction_id"
    with world.app.unit("wangzx") as unit, pytest.raises(ValidationError):
        send_invitations(unit, world.meeting)  # done: nothing to invite to
    sections = world.app.config.sections
    sections.smtp = sections.smtp.model_copy(update={"host": ""})
    with world.app.unit("wangzx") as unit, pytest.raises(InvitationError) as no_server:
        send_invitations(unit, world.visit)
    assert "[smtp] host" in str(no_server.value)
    assert mailed.mails == []
    assert _rsvp(world, world.zhang) is None  # nothing marked when nothing was sent


def test_the_commands_send_and_enter_answers(
    world: World,
    mailed: Inbox,
    db_url: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from crm_cli.main import run

    smtp = world.app.config.sections.smtp
    config = tmp_path / "office.toml"
    config.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsender = "{SENDER}"\n')
    monkeypatch.setenv("TONGXIN_CONFIG", str(config))
    ref = str(world.visit)[:8]
    assert run(["--db", db_url, "--as", "wangzx", "invite", "send", ref]) == 0
    said = capsys.readouterr().out
    assert "REQUEST 已发送 1 封：zhangsan@example.org" in said
    assert "没有电子邮箱、未发送：李四" in said
    request = _calendar_of(mailed.mails[0][1], "REQUEST")
    answer = tmp_path / "answer.ics"
    answer.write_bytes(_reply(request, "DECLINED", "zhangsan@example.org"))
    assert run(["--db", db_url, "--as", "wangzx", "invite", "reply", str(answer)]) == 0
    assert "张三：已婉拒" in capsys.readouterr().out
    assert _rsvp(world, world.zhang) is Rsvp.declined
    # A bad file among good ones: refused by name, none taken.
    junk = tmp_path / "junk.ics"
    junk.write_bytes(b"BEGIN:VCALENDAR\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n")
    good = tmp_path / "yes.ics"
    good.write_bytes(_reply(request, "ACCEPTED", "zhangsan@example.org"))
    assert run(["--db", db_url, "--as", "wangzx", "invite", "reply", str(good), str(junk)]) != 0
    assert "PUBLISH" in capsys.readouterr().err
    assert _rsvp(world, world.zhang) is Rsvp.declined


def test_the_calendar_carries_the_invitees_without_their_addresses(
    world: World, mailed: Inbox
) -> None:
    uid = f"interaction-{world.visit}@tongxin"

    def visit() -> icalendar.Event:
        cal = icalendar.Calendar.from_ical(world.export())
        return next(e for e in cal.walk("VEVENT") if str(e["UID"]) == uid)

    assert "ATTENDEE" not in visit()  # no RSVP recorded yet: nobody invited
    with world.app.unit("wangzx") as unit:
        interactions.set_participation(unit, world.visit, person_id=world.zhang, rsvp="accepted")
    ev = visit()
    assert str(ev["ORGANIZER"]) == f"mailto:{SENDER}"
    attendee = ev["ATTENDEE"]
    assert str(attendee) == f"urn:uuid:{world.zhang}" and attendee.params["CN"] == "张三"
    assert attendee.params["PARTSTAT"] == "ACCEPTED"
    assert b"zhangsan@example.org" not in world.export()
    vobject.readOne(world.export().decode("utf-8"), validate=True)
    with world.app.unit("wangzx") as unit:
        interactions.set_participation(unit, world.talk, person_id=world.li, rsvp="accepted")
    talk = next(
        e
        for e in icalendar.Calendar.from_ical(world.export()).walk("VEVENT")
        if str(e["UID"]) == f"interaction-{world.talk}@tongxin"
    )
    assert "ATTENDEE" not in talk and "ORGANIZER" not in talk  # confidential: nobody named


def test_a_county_account_cannot_invite_to_work_outside_its_county(
    world: World, mailed: Inbox
) -> None:
    from crm_core.errors import PermissionDenied
    from crm_core.services import accounts

    with world.app.unit() as unit:
        accounts.create_account(
            unit, username="gl", display_name="广陵区", role="county_staff",
            region_scope="guangling",
        )  # fmt: skip
    with world.app.unit("gl") as unit, pytest.raises(PermissionDenied):
        send_invitations(unit, world.visit)
    assert mailed.mails == [] and _rsvp(world, world.zhang) is None
