"""The subscription feed: tokens hashed at rest, `tongxin serve` answering 200 then 304,
HEAD, a bare 404 for bad and revoked tokens, and a body identical to `tongxin export ics`.
A real server on 127.0.0.1 (a free port), on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import hashlib
import http.client
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from crm_cli.main import run
from sqlalchemy import select

from crm_core import clock
from crm_core.calendar import calendar_range, export_ics
from crm_core.calendar import feeds as feed_service
from crm_core.calendar.server import FeedServer, make_server, serve_in_thread
from crm_core.calendar_models import FeedToken
from crm_core.hookspecs import hookimpl
from crm_core.models import Interaction
from crm_core.services import accounts, interactions

from .conftest import World, local


@pytest.fixture
def server(world: World) -> Iterator[FeedServer]:
    srv = make_server(world.app, "127.0.0.1", 0)
    serve_in_thread(srv)
    yield srv
    srv.shutdown()
    srv.server_close()


def token_for(world: World, username: str = "wangzx") -> str:
    with world.app.unit() as unit:
        account = accounts.resolve_account(unit, username)
        _row, token = feed_service.create_token(unit, account=account, name="iPhone")
    return token


def get(
    srv: FeedServer, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def test_tokens_are_long_random_and_stored_hashed(world: World) -> None:
    token = token_for(world)
    assert len(token) >= 43
    assert token != token_for(world)
    with world.app.unit() as unit:
        rows = list(unit.session.scalars(select(FeedToken)))
        assert len(rows) == 2
        stored = [str(getattr(r, c.key)) for r in rows for c in FeedToken.__table__.columns]
        assert not any(token in value for value in stored)
        assert hashlib.sha256(token.encode()).hexdigest() in {r.token_hash for r in rows}
        assert feed_service.resolve_token(unit, token) is not None
        assert (
            feed_service.resolve_token(unit, token[:-1] + ("A" if token[-1] != "A" else "B"))
            is None
        )


def test_200_then_304_head_and_the_body_is_the_export(
    world: World, server: FeedServer, capsysbinary: pytest.CaptureFixture[bytes], db_url: str
) -> None:
    token = token_for(world)
    path = f"/cal/{token}.ics"
    status, headers, body = get(server, path)
    assert status == 200
    assert headers["content-type"] == "text/calendar; charset=utf-8"
    assert int(headers["content-length"]) == len(body)
    etag = headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert parsedate_to_datetime(headers["last-modified"]).tzinfo is not None
    with world.app.unit() as unit:
        rng = calendar_range(unit, account=accounts.resolve_account(unit, "wangzx"))
        assert body == export_ics(unit, rng)
    # The command line gives the very same bytes.
    capsysbinary.readouterr()
    assert run(["--db", db_url, "export", "ics", "--user", "wangzx"]) == 0
    assert capsysbinary.readouterr().out == body
    # Conditional GETs.
    status, headers304, again = get(server, path, headers={"If-None-Match": etag})
    assert (status, again) == (304, b"")
    assert headers304["etag"] == etag
    status, _h, again = get(server, path, headers={"If-Modified-Since": headers["last-modified"]})
    assert (status, again) == (304, b"")
    status, _h, again = get(server, path, headers={"If-None-Match": '"something-else"'})
    assert status == 200 and again == body
    # HEAD: the headers of a GET, no body.
    status, head, empty = get(server, path, method="HEAD")
    assert (status, empty) == (200, b"")
    assert head["etag"] == etag and head["content-length"] == str(len(body))


def test_gzip_for_clients_that_accept_it(world: World, server: FeedServer) -> None:
    token = token_for(world)
    path = f"/cal/{token}.ics"
    _s, plain_headers, plain = get(server, path)
    assert len(plain) > 1024  # the sample calendar is worth compressing
    assert "content-encoding" not in plain_headers
    assert plain_headers["vary"] == "Accept-Encoding"
    status, headers, body = get(server, path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding"
    assert int(headers["content-length"]) == len(body) < len(plain) / 3
    assert gzip.decompress(body) == plain
    # The same calendar: the weak form of the plain ETag, and either one gives a 304.
    assert headers["etag"] == "W/" + plain_headers["etag"]
    for validator in (headers["etag"], plain_headers["etag"]):
        status, h304, empty = get(
            server, path, headers={"Accept-Encoding": "gzip", "If-None-Match": validator}
        )
        assert (status, empty) == (304, b"")
        assert h304["etag"] == headers["etag"]
    # HEAD tells the compressed length; an explicit refusal gets the plain body.
    status, head, empty = get(server, path, "HEAD", {"Accept-Encoding": "gzip"})
    assert (status, empty, head["content-length"]) == (200, b"", headers["content-length"])
    _s, refused_headers, refused = get(
        server, path, headers={"Accept-Encoding": "gzip;q=0, *;q=0.5"}
    )
    assert refused == plain and "content-encoding" not in refused_headers


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("GZIP;q=0.8", True),
        ("x-gzip", True),
        ("deflate, br", False),
        ("*", True),
        ("*;q=0", False),
        ("gzip;q=0, *", False),
        ("identity", False),
        ("", False),
        (None, False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding_is_read_with_its_q_values(header: str | None, accepted: bool) -> None:
    assert feed_service.accepts_gzip(header) is accepted


def test_a_change_gives_a_new_etag_and_last_modified(world: World, server: FeedServer) -> None:
    token = token_for(world)
    path = f"/cal/{token}.ics"
    _s, first, body = get(server, path)
    clock.freeze(clock.now() + timedelta(hours=2))
    with world.app.unit("wangzx") as unit:
        interactions.reschedule_interaction(unit, world.visit, start=local(2026, 9, 21, 9, 30))
    status, second, changed = get(server, path, headers={"If-None-Match": first["etag"]})
    assert status == 200 and changed != body and second["etag"] != first["etag"]
    assert parsedate_to_datetime(second["last-modified"]) > parsedate_to_datetime(
        first["last-modified"]
    )
    # An item that leaves the calendar moves Last-Modified too (no item's own time shows it).
    clock.freeze(clock.now() + timedelta(hours=2))
    with world.app.unit() as unit:
        unit.session.delete(unit.session.get(Interaction, world.meeting))
    status, third, _body = get(server, path, headers={"If-Modified-Since": second["last-modified"]})
    assert status == 200
    assert parsedate_to_datetime(third["last-modified"]) > parsedate_to_datetime(
        second["last-modified"]
    )


def test_bad_and_revoked_tokens_get_a_bare_404(world: World, server: FeedServer) -> None:
    token = token_for(world)
    for path in ("/cal/nonsense.ics", f"/cal/{token[:-2]}xx.ics", "/", f"/cal/{token}", "/cal/"):
        status, headers, body = get(server, path)
        assert (status, body) == (404, b""), path
        assert "etag" not in headers and "content-type" not in headers
    with world.app.unit() as unit:
        account = accounts.resolve_account(unit, "wangzx")
        revoked = feed_service.revoke_tokens(unit, account=account)
        assert len(revoked) == 1
    status, headers, body = get(server, f"/cal/{token}.ics")
    assert (status, body) == (404, b"")
    assert get(server, f"/cal/{token}.ics", method="HEAD")[0] == 404
    assert get(server, f"/cal/{token}.ics", method="POST")[0] == 405
    # An account that is switched off loses its feeds.
    other = token_for(world)
    with world.app.unit() as unit:
        accounts.resolve_account(unit, "wangzx").active = False
    assert get(server, f"/cal/{other}.ics")[0] == 404


def test_shared_calendars_have_feeds_too(world: World, server: FeedServer) -> None:
    with world.app.unit() as unit:
        _row, token = feed_service.create_token(unit, scope="institutional")
        rng = calendar_range(unit, scope="institutional")
        expected = export_ics(unit, rng)
    status, _h, body = get(server, f"/cal/{token}.ics")
    assert status == 200 and body == expected
    assert b"BEGIN:VEVENT" in body and b"interaction-" not in body


def test_feed_commands(world: World, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert run(["--db", db_url, "feed", "token", "create", "wangzx", "--name", "iPhone"]) == 0
    out = capsys.readouterr().out
    https = next(w for w in out.split() if w.startswith("https://"))
    assert https.startswith("https://tongxin.example.org/cal/") and https.endswith(".ics")
    assert run(["--db", db_url, "feed", "url", "wangzx"]) == 0
    out = capsys.readouterr().out
    assert "webcal://tongxin.example.org/cal/" in out
    assert "█" in out and "▀" in out  # the QR code
    assert run(["--db", db_url, "feed", "token", "list", "wangzx", "--json"]) == 0
    import json

    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 2 and {t["account"] for t in listed} == {"wangzx"}
    assert all("token" not in t for t in listed)
    first = listed[0]["id"][:8]
    assert run(["--db", db_url, "feed", "token", "revoke", "wangzx", "--token", first]) == 0
    assert "1" in capsys.readouterr().out
    assert run(["--db", db_url, "feed", "token", "revoke", "wangzx"]) == 0
    with world.app.unit() as unit:
        assert feed_service.list_tokens(unit, include_revoked=False) == []
    token = https.rsplit("/", 1)[1].removesuffix(".ics")
    with world.app.unit() as unit:
        assert feed_service.resolve_token(unit, token) is None


def test_answers_without_a_server(world: World) -> None:
    token = token_for(world)
    with world.app.unit() as unit:
        ok = feed_service.answer(unit, "GET", f"/cal/{token}.ics?x=1", {})
        assert ok.status == 200
        later = format_datetime(clock.now() + timedelta(days=1), usegmt=True)
        assert (
            feed_service.answer(
                unit, "GET", f"/cal/{token}.ics", {"if-modified-since": later}
            ).status
            == 304
        )
        assert (
            feed_service.answer(unit, "GET", f"/cal/{token}.ics", {"if-none-match": "*"}).status
            == 304
        )
        assert (
            feed_service.answer(
                unit, "GET", f"/cal/{token}.ics", {"if-modified-since": "garbage"}
            ).status
            == 200
        )


def test_the_cache_sees_every_change_even_at_the_same_instant(world: World) -> None:
    token = token_for(world)
    cache = feed_service.FeedCache()
    path = f"/cal/{token}.ics"
    with world.app.unit() as unit:
        first = feed_service.answer(unit, "GET", path, {}, cache=cache)
        again = feed_service.answer(unit, "GET", path, {}, cache=cache)
    assert again.body == first.body
    # The clock stands still (as under TONGXIN_NOW): the change is still seen.
    with world.app.unit("wangzx") as unit:
        interactions.reschedule_interaction(
            unit, world.visit, start=local(2026, 9, 20, 9, 30), location="仪征市"
        )
    with world.app.unit() as unit:
        changed = feed_service.answer(unit, "GET", path, {}, cache=cache)
        assert changed.body != first.body and "仪征市".encode() in changed.body
        assert changed.body == export_ics(
            unit, calendar_range(unit, account=accounts.resolve_account(unit, "wangzx"))
        )


class OwnEvents:
    """A plugin with events of its own (from tables the audit log does not see)."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def add_events(self, calendar_range: object) -> list[object]:
        self.calls += 1
        return []


def test_a_plugin_with_its_own_events_turns_the_cache_off(world: World) -> None:
    plugin = OwnEvents()
    world.app.plugins.register(plugin, "own_events")
    token = token_for(world)
    cache = feed_service.FeedCache()
    with world.app.unit() as unit:
        assert not cache.usable(unit)
        for _ in range(3):
            feed_service.answer(unit, "GET", f"/cal/{token}.ics", {}, cache=cache)
    assert plugin.calls == 3
