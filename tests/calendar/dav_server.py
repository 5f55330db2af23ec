"""The real Radicale of the CalDAV/CardDAV tests (a WSGI server on a free port of
127.0.0.1 counting every request it gets), and the two-way set-up most of them share: the
leader's calendar pushed once, then edited "on the phone" through the caldav library.
The fixtures are offered to every test of tests/calendar/ by its conftest."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import caldav
import icalendar
import pytest
import radicale.config
from radicale.app import Application

from crm_core.calendar.caldav_sync import sync_caldav

USER, PASSWORD = "office", "s3cret-口令"


@dataclass
class Radicale:
    """A running Radicale and the requests it has seen: (method, path, headers)."""

    url: str
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def writes(self) -> list[tuple[str, str, dict[str, str]]]:
        return [r for r in self.seen if r[0] in ("PUT", "DELETE")]

    def client(self) -> caldav.DAVClient:
        return caldav.DAVClient(
            url=self.url, username=USER, password=PASSWORD, enable_rfc6764=False
        )


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def radicale_server(tmp_path: Path) -> Iterator[Radicale]:
    users = tmp_path / "users"
    users.write_text(f"{USER}:{PASSWORD}\n", "utf-8")
    config = radicale.config.load()
    config.update(
        {
            "storage": {"filesystem_folder": str(tmp_path / "collections")},
            "auth": {
                "type": "htpasswd",
                "htpasswd_filename": str(users),
                "htpasswd_encryption": "plain",
                "delay": "0",  # no pause after the client's first, unauthenticated try
            },
            "rights": {"type": "owner_only"},
            "logging": {"level": "warning"},
        },
        "tongxin test",
    )
    app = Application(config)
    box: list[Radicale] = []

    def counting(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        box[0].seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], headers))
        return app(environ, start_response)

    server = make_server("127.0.0.1", 0, counting, server_class=_Threading, handler_class=_Quiet)
    box.append(Radicale(f"http://127.0.0.1:{server.server_address[1]}/"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box[0]
    server.shutdown()
    server.server_close()


def dump(app: Any) -> list[tuple[str, list[tuple[str, ...]]]]:
    """Every row of every table, as text (what a database dump compares)."""
    from sqlmodel import SQLModel

    out = []
    with app.unit() as unit:
        for table in SQLModel.metadata.sorted_tables:
            rows = unit.session.execute(table.select()).all()
            out.append((table.name, sorted(tuple(str(v) for v in r) for r in rows)))
    return out


@dataclass
class TwoWay:
    """The leader's calendar (``world``) after its first push into ``rad`` at ``url``."""

    world: Any  # conftest.World
    rad: Radicale
    url: str

    def sync(self, **kw: Any) -> Any:
        """One ``sync_caldav`` of the leader's calendar: its report."""
        return sync_caldav(
            self.world.app, url=self.rad.url, username=USER, password=PASSWORD,
            calendar="同心 · 王主席", account="wangzx", **kw,
        )  # fmt: skip

    def calendar(self) -> caldav.Calendar:
        """The calendar as a phone sees it (the caldav library)."""
        return caldav.Calendar(client=self.rad.client(), url=self.url)

    def on_server(self) -> dict[str, icalendar.Component]:
        """Every event and task on the server, by UID."""
        cal = self.calendar()
        out = {}
        for obj in [*cal.events(), *cal.todos(include_completed=True)]:
            parsed = icalendar.Calendar.from_ical(obj.data)
            ev = next(c for c in parsed.subcomponents if c.name in ("VEVENT", "VTODO"))
            out[str(ev["UID"])] = ev
        return out

    def quiet(self) -> None:
        """A second sync: no HTTP write, no database write."""
        before = dump(self.world.app)
        self.rad.seen.clear()
        again = self.sync()
        assert again.writes == 0 and self.rad.writes() == []
        assert (again.created, again.updated, again.deleted) == (0, 0, 0)
        assert not (again.rescheduled or again.cancelled or again.imported or again.conflicts)
        assert dump(self.world.app) == before


@pytest.fixture
def two_way(world: Any, radicale_server: Radicale) -> TwoWay:
    """``world``'s leader calendar pushed once into a fresh Radicale."""
    setup = TwoWay(world, radicale_server, "")
    setup.url = setup.sync().calendar_url
    return setup
