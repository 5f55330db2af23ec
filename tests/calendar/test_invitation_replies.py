"""Answers to invitations read from the office's mailbox (``[invitations]``): a real
Maildir, and a real IMAP server (Dovecot on 127.0.0.1, over TLS and STARTTLS). A REPLY
from the attendee sets the RSVP; a forged one (another sender), one naming someone not
invited, and ordinary mail are reported, not applied, and flagged; every message is
marked read; a second reading writes nothing."""

from __future__ import annotations

import imaplib
import io
import json
import mailbox
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import icalendar
import pytest
from crm_cli.main import run

from crm_core.calendar.itip import send_invitations
from crm_core.calendar.itip_inbox import fetch_replies
from crm_core.models import Rsvp

from . import test_invitations
from .conftest import World, free_port
from .test_invitations import _calendar_of, _reply, _rsvp
from .test_reminders import Inbox

ZHANG = "zhangsan@example.org"
mailed = test_invitations.mailed  # the SMTP server the invitations go through


def _request(world: World, box: Inbox) -> icalendar.Calendar:
    with world.app.unit("wangzx") as unit:
        send_invitations(unit, world.visit)
    return _calendar_of(box.mails[-1][1], "REQUEST")


def _mail(sender: str, reply: bytes | None, subject: str = "答复") -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "tongxin@yangzhou.example"
    mail["Subject"] = subject
    mail.set_content("见附件。" if reply else "我这周出差，下周回复。")
    if reply is not None:
        mail.add_attachment(reply, maintype="text", subtype="calendar", params={"method": "REPLY"})
    return mail.as_bytes()


def _later(reply: bytes) -> bytes:
    """The same REPLY answered a day later (its DTSTAMP moved on)."""
    cal = icalendar.Calendar.from_ical(reply)
    for ev in cal.walk("VEVENT"):
        stamp = ev.decoded("DTSTAMP")
        del ev["DTSTAMP"]
        ev.add("dtstamp", stamp.replace(day=stamp.day + 1) if stamp.day < 28 else stamp)
    return bytes(cal.to_ical())


def _messages(request: icalendar.Calendar) -> dict[str, bytes]:
    accepted = _reply(request, "ACCEPTED", ZHANG)
    return {
        "accepted": _mail("张三 <ZhangSan@Example.org>", accepted),
        "again": _mail(ZHANG, accepted),  # the same answer, delivered twice
        "forged": _mail("mallory@example.org", _reply(request, "DECLINED", ZHANG)),
        "stranger": _mail(
            "stranger@example.org", _reply(request, "DECLINED", "stranger@example.org")
        ),
        "ordinary": _mail(ZHANG, None, "出差"),
    }


def _configure(world: World, **settings: object) -> None:
    sections = world.app.config.sections
    sections.invitations = sections.invitations.model_copy(update=settings)


def _check_first_reading(world: World, report: object, keys: dict[str, str]) -> None:
    status = {o.message: o for o in report.outcomes}  # type: ignore[attr-defined]
    assert status[keys["accepted"]].status == "applied"
    assert status[keys["accepted"]].answers == [("张三", "accepted")]
    assert status[keys["again"]].status == "unchanged"
    forged = status[keys["forged"]]
    assert forged.status == "refused" and "mallory@example.org" in forged.reason
    stranger = status[keys["stranger"]]
    assert stranger.status == "refused" and "stranger@example.org" in stranger.reason
    assert status[keys["ordinary"]].status == "ignored"
    assert _rsvp(world, world.zhang) is Rsvp.accepted  # the forged DECLINED took nothing


def test_replies_in_a_maildir_set_the_rsvp_once(
    world: World,
    mailed: Inbox,
    tmp_path: Path,
) -> None:
    request = _request(world, mailed)
    folder = tmp_path / "replies"
    box = mailbox.Maildir(folder, create=True)
    keys = {name: box.add(raw) for name, raw in _messages(request).items()}
    _configure(world, maildir=str(folder))

    report = fetch_replies(world.app, actor="wangzx")
    assert report.source == f"maildir:{folder}"
    _check_first_reading(world, report, keys)
    box = mailbox.Maildir(folder, create=False)
    for name, key in keys.items():
        message = box.get_message(key)
        assert message.get_subdir() == "cur" and "S" in message.get_flags(), name
        assert ("F" in message.get_flags()) == (name in ("forged", "stranger", "ordinary")), name
    assert not list((folder / "new").iterdir())

    # Read again: nothing unread, nothing written.
    assert fetch_replies(world.app, actor="wangzx").outcomes == []
    # A later answer declines; an older copy of the acceptance arriving with it loses.
    declined = _later(_reply(request, "DECLINED", ZHANG))
    late = [
        box.add(_mail(ZHANG, declined)),
        box.add(_mail(ZHANG, _reply(request, "ACCEPTED", ZHANG))),
    ]
    report = fetch_replies(world.app, actor="wangzx")
    assert sorted(o.message for o in report.outcomes) == sorted(late)
    assert _rsvp(world, world.zhang) is Rsvp.declined


def test_fetch_replies_on_the_command_line(
    world: World, mailed: Inbox, tmp_path: Path, db_url: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    request = _request(world, mailed)
    folder = tmp_path / "replies"
    box = mailbox.Maildir(folder, create=True)
    box.add(_mail(ZHANG, _reply(request, "DECLINED", ZHANG)))
    box.add(_mail("mallory@example.org", _reply(request, "ACCEPTED", ZHANG)))
    config = tmp_path / "config.toml"
    config.write_text(f'[invitations]\nmaildir = "{folder}"\n', "utf-8")
    monkeypatch.setenv("TONGXIN_CONFIG", str(config))
    capsys.readouterr()
    assert run(["--db", db_url, "invite", "fetch-replies", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert sorted(m["status"] for m in found["messages"]) == ["applied", "refused"]
    assert _rsvp(world, world.zhang) is Rsvp.declined
    assert run(["--db", db_url, "invite", "fetch-replies"]) == 0
    assert "0" in capsys.readouterr().out  # nothing left unread


# -- IMAP: a real Dovecot on 127.0.0.1 ------------------------------------------------

PASSWORD = "imap-secret"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[dict[str, object]]:
    """Dovecot (``apt-get install dovecot-imapd``) in its own process on two free ports
    of 127.0.0.1 (IMAPS and IMAP with STARTTLS), a self-signed certificate, a mailbox for
    any user name (its own Maildir) with :data:`PASSWORD`."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    assert os.path.exists(binary), "the IMAP tests need Dovecot: apt-get install dovecot-imapd"
    # Not under pytest's own (0700) folders: Dovecot's mail user must reach the homes.
    root = Path(tempfile.mkdtemp(prefix="tongxin-dovecot-"))
    os.chmod(root, 0o755)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem"),
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    home = root / "home"
    home.mkdir()
    (root / "run").mkdir(mode=0o755)
    if os.geteuid() == 0:  # Dovecot's own users; mail never as root
        internal, login, uid, gid = "dovecot", "dovenull", 65534, 65534
        os.chown(home, uid, gid)
    else:
        import pwd

        me = pwd.getpwuid(os.geteuid()).pw_name
        internal, login, uid, gid = me, me, os.geteuid(), os.getegid()
    imaps, imap = free_port(), free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        f"protocols = imap\nlisten = 127.0.0.1\nbase_dir = {root}/run\nstate_dir = {root}/run\n"
        f"log_path = {root}/log\ninstance_name = tongxin-test-{imaps}\n"
        f"default_internal_user = {internal}\ndefault_internal_group = {internal}\n"
        f"default_login_user = {login}\nfirst_valid_uid = 0\n"
        f"ssl = yes\nssl_cert = <{root}/cert.pem\nssl_key = <{root}/key.pem\n"
        "disable_plaintext_auth = yes\nauth_mechanisms = plain login\n"
        f"passdb {{\n  driver = static\n  args = password={PASSWORD}\n}}\n"
        f"userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={home}/%u\n}}\n"
        "mail_location = maildir:~/Maildir\n"
        "service imap-login {\n  chroot =\n"
        f"  inet_listener imap {{\n    address = 127.0.0.1\n    port = {imap}\n  }}\n"
        f"  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps}\n  }}\n}}\n"
        "service anvil {\n  chroot =\n}\n",
        "utf-8",
    )
    subprocess.run([binary, "-c", str(conf)], check=True)
    context = ssl.create_default_context(cafile=str(root / "cert.pem"))
    for _ in range(100):
        try:
            imaplib.IMAP4_SSL("127.0.0.1", imaps, ssl_context=context, timeout=2).logout()
            break
        except OSError:
            time.sleep(0.1)
    yield {"imaps": imaps, "imap": imap, "cafile": str(root / "cert.pem"), "context": context}
    pid = int((root / "run" / "master.pid").read_text().strip())
    os.kill(pid, 15)
    time.sleep(0.5)
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_replies_in_an_imap_folder_set_the_rsvp_once(
    world: World, mailed: Inbox, dovecot: dict[str, object], tls: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    request = _request(world, mailed)
    user = f"replies-{uuid.uuid4().hex[:8]}"  # a mailbox of its own
    context = dovecot["context"]
    assert isinstance(context, ssl.SSLContext)
    imap = imaplib.IMAP4_SSL("127.0.0.1", int(str(dovecot["imaps"])), ssl_context=context)
    imap.login(user, PASSWORD)
    imap.select("INBOX")
    names = list(_messages(request))
    for raw in _messages(request).values():
        assert imap.append("INBOX", None, None, raw)[0] == "OK"
    uids = imap.uid("SEARCH", "ALL")[1][0].decode().split()
    keys = dict(zip(names, uids, strict=True))
    monkeypatch.setenv("TONGXIN_IMAP_PASSWORD", PASSWORD)
    port = dovecot["imaps"] if tls == "ssl" else dovecot["imap"]
    _configure(
        world, imap_host="127.0.0.1", imap_port=int(str(port)), imap_tls=tls,
        imap_username=user, imap_cafile=str(dovecot["cafile"]),
    )  # fmt: skip

    report = fetch_replies(world.app, actor="wangzx")
    assert report.source.startswith("imap://127.0.0.1:")
    _check_first_reading(world, report, keys)
    imap.select("INBOX")
    assert imap.uid("SEARCH", "UNSEEN")[1][0] == b""  # every message marked read
    flagged = set(imap.uid("SEARCH", "FLAGGED")[1][0].decode().split())
    assert flagged == {keys["forged"], keys["stranger"], keys["ordinary"]}
    assert fetch_replies(world.app, actor="wangzx").outcomes == []  # nothing left, nothing written
    imap.logout()


def test_the_reminder_service_reads_the_replies(
    world: World, mailed: Inbox, tmp_path: Path
) -> None:
    from crm_core.reminders.service import REPLIES_JOB, ReminderService

    request = _request(world, mailed)
    folder = tmp_path / "replies"
    box = mailbox.Maildir(folder, create=True)
    box.add(_mail(ZHANG, _reply(request, "DECLINED", ZHANG)))
    service = ReminderService(world.app, stream=io.StringIO())
    service.start(paused=True)
    assert REPLIES_JOB not in service.job_ids()  # no mailbox configured: no job
    service.shutdown()
    _configure(world, maildir=str(folder))
    service = ReminderService(world.app, stream=io.StringIO())
    service.run_once()
    assert _rsvp(world, world.zhang) is Rsvp.declined
    assert not list((folder / "new").iterdir())
