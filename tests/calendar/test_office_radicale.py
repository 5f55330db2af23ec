"""The office Radicale of docs/calendar.md, as shipped in deploy/: its own config and
rights file (only the paths and the password hashing changed for a test), a sync
account that writes each leader's calendar and address book into that leader's home,
and the leader's phone (the caldav library, logged in as the leader) finding them there
by the ordinary discovery a phone does, and nothing of anyone else's. The systemd
unit's own command lines are what the test runs."""

from __future__ import annotations

import re
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import caldav
import pytest
import radicale.config
from caldav.lib.error import AuthorizationError
from crm_cli.main import run
from radicale.app import Application

from .conftest import World

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PASSWORDS = {"tongxin": "sync-口令", "wangzx": "wang-口令", "yandan": "yan-口令"}


@dataclass
class Office:
    url: str

    def phone(self, user: str) -> caldav.DAVClient:
        """A leader's phone: logged in as the leader, told only the server's address."""
        return caldav.DAVClient(
            url=self.url, username=user, password=PASSWORDS[user], enable_rfc6764=False
        )


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Office]:
    config = radicale.config.load([(str(DEPLOY / "radicale" / "config"), False)])
    # What the guide tells an office to run, checked before the test changes paths.
    assert config.get("auth", "htpasswd_encryption") == "bcrypt"
    assert config.get("auth", "cache_logins") is True
    assert config.get("rights", "type") == "from_file"
    users = tmp_path / "users"
    users.write_text("".join(f"{u}:{p}\n" for u, p in PASSWORDS.items()), "utf-8")
    config.update(
        {
            "storage": {"filesystem_folder": str(tmp_path / "collections")},
            # bcrypt needs a package the suite does not install; the hashing is
            # Radicale's business, who may see what is the rights file's, used as is.
            "auth": {"htpasswd_filename": str(users), "htpasswd_encryption": "plain", "delay": "0"},
            "rights": {"file": str(DEPLOY / "radicale" / "rights")},
        },
        "tongxin test",
    )
    server = make_server(
        "127.0.0.1", 0, Application(config), server_class=_Threading, handler_class=_Quiet
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Office(f"http://127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()


def _unit_commands(office: Office, user: str) -> list[list[str]]:
    """The ExecStart lines of deploy/systemd/tongxin-dav-sync@.service for ``user``, as
    systemd would run them (%i and ${DAV_URL} expanded), without the program path."""
    text = (DEPLOY / "systemd" / "tongxin-dav-sync@.service").read_text("utf-8")
    lines = re.findall(r"^ExecStart=(.+)$", text, re.M)
    assert len(lines) == 2
    out = []
    for line in lines:
        words = shlex.split(line.replace("%i", user).replace("${DAV_URL}", office.url))
        assert words[0].endswith("/tongxin")
        out.append(words[1:])
    return out


def _books(client: caldav.DAVClient, home: str) -> dict[str, str]:
    body = (
        '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/>'
        "<d:displayname/></d:prop></d:propfind>"
    )
    import xml.etree.ElementTree as ET

    reply = client.request(home, "PROPFIND", body, {"Depth": "1"})
    found = {}
    for item in ET.fromstring(reply.raw).iter("{DAV:}response"):
        kind = item.find(".//{DAV:}resourcetype/{urn:ietf:params:xml:ns:carddav}addressbook")
        if kind is not None:
            found[item.findtext(".//{DAV:}displayname") or ""] = item.findtext("{DAV:}href") or ""
    return found


def test_the_units_sync_puts_a_leader_s_work_and_contacts_where_the_leader_s_phone_looks(
    world: World,
    office: Office,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAV_PASSWORD", PASSWORDS["tongxin"])
    for command in _unit_commands(office, "wangzx"):
        assert run(["--db", db_url, *command]) == 0, capsys.readouterr().err
    capsys.readouterr()

    phone = office.phone("wangzx")
    principal = phone.principal()
    calendars = {c.get_display_name(): c for c in principal.calendars()}
    assert set(calendars) == {"同心日程"}
    summaries = {str(e.icalendar_component.get("SUMMARY")) for e in calendars["同心日程"].events()}
    assert any("宝应县委员活动之家" in s or "张三" in s for s in summaries), summaries
    home = str(principal.url)
    books = _books(phone, home)
    assert set(books) == {"同心通讯录"}

    # The timer's next run writes nothing: the units are safe to run every 10 minutes.
    for command in _unit_commands(office, "wangzx"):
        assert run(["--db", db_url, *command]) == 0
        assert "新建 0，更新 0，删除 0" in capsys.readouterr().out


def test_one_leader_s_phone_sees_nothing_of_another_leader_s_home(
    world: World, office: Office, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAV_PASSWORD", PASSWORDS["tongxin"])
    for command in _unit_commands(office, "wangzx"):
        assert run(["--db", db_url, *command]) == 0
    other = office.phone("yandan")
    assert other.principal().calendars() == []
    body = (
        '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:displayname/></d:prop>'
        "</d:propfind>"
    )
    with pytest.raises(AuthorizationError):
        other.request(f"{office.url}/wangzx/", "PROPFIND", body, {"Depth": "1"})
    # Nor can a leader write into another leader's home.
    with pytest.raises(AuthorizationError):
        other.request(
            f"{office.url}/wangzx/forged.ics", "PUT", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
            {"Content-Type": "text/calendar"},
        )  # fmt: skip
