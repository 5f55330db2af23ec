"""The feed server leaks nothing (issue 11, item 8), attacked over real sockets.

A real `tongxin serve` (in a thread, and as its own process) on 127.0.0.1 gets raw,
malformed and hostile requests that carry a real token: bad request lines, bad
versions, over-long lines and headers, unknown methods, a request that fails in the
database. Every log line (every logger, and the process's stderr) is searched for the
token, for any 16 characters of it and for its SHA-256. Other methods than GET/HEAD get
a bare 405; an idle or dribbling connection is closed within the timeout; an unknown, a
revoked and a disabled account's token get byte-for-byte the same 404.

Tokens: county staff (and anyone but an administrator) list, make and revoke only their
own account's tokens, through the service and the CLI, as a real PostgreSQL role or an
SQLite login; the refusals name nobody else (no people, regions, follow-ups, accounts)
and read the same whether the account asked for exists or not. Making and revoking a
token is audited without the token or its hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import psycopg
import pytest
from crm_cli.main import run
from sqlalchemy import select
from sqlalchemy.engine import make_url

from crm_core import clock, db, i18n, identity
from crm_core.app import Tongxin
from crm_core.calendar import feeds
from crm_core.calendar.server import FeedServer, make_server, serve_in_thread
from crm_core.calendar_models import FeedToken
from crm_core.errors import PermissionDenied
from crm_core.services import accounts, audit, contacts, followups, interactions

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
TIMEOUT = 1.0  # the servers' idle timeout in these tests (seconds)
# Closed, not left open: generous, as a loaded machine answers late (the point is the close).
CLOSED_WITHIN = TIMEOUT + 8


@dataclass
class Office:
    office: str  # admin
    chair: str  # leader, sees every region
    gl: str  # county staff of 广陵区
    hj: str  # county staff of 邗江区
    tokens: dict[str, str]  # username -> a live token of theirs (made by the office)
    ids: dict[str, uuid.UUID]  # username -> that token's id


# What a refusal to 广陵区's clerk must never show: the other county, its people and
# follow-ups, and the other accounts (usernames and display names).
def secrets_of_others(o: Office) -> list[str]:
    return ["李四", "停车", "邗江区", "hanjiang", "Hanjiang", o.chair, "王主席", o.hj,
            "邗江区政协", o.office, "办公室"]  # fmt: skip


@pytest.fixture
def office(app: Tongxin, names: Callable[[str], str]) -> Office:
    clock.freeze(NOW)
    o = Office(names("office"), names("chair"), names("gl"), names("hj"), {}, {})
    with app.unit() as unit:
        accounts.create_account(unit, username=o.office, display_name="办公室", role="admin")
        chair = accounts.create_account(
            unit, username=o.chair, display_name="王主席", role="leader"
        )
        gl = accounts.create_account(
            unit, username=o.gl, display_name="广陵区政协", role="county_staff",
            region_scope="guangling",
        )  # fmt: skip
        hj = accounts.create_account(
            unit, username=o.hj, display_name="邗江区政协", role="county_staff",
            region_scope="hanjiang",
        )  # fmt: skip
        zhang = contacts.create_person(unit, name="张三", region="guangling").id
        li = contacts.create_person(unit, name="李四", region="hanjiang").id
        followups.raise_follow_up(
            unit, title="路灯", person_id=zhang, owner_id=gl.id, due_on=date(2026, 3, 15)
        )
        followups.raise_follow_up(
            unit, title="停车", person_id=li, owner_id=hj.id, due_on=date(2026, 3, 15)
        )
    with app.unit(o.chair) as unit:
        interactions.schedule_interaction(
            unit, kind="meeting", people=[li], accounts=[chair.id, hj.id], region="hanjiang",
            summary="邗江座谈", start=datetime(2026, 3, 12, 2, tzinfo=UTC),
        )  # fmt: skip
    with app.unit(o.office) as unit:
        for username in (o.chair, o.gl, o.hj):
            row, token = feeds.create_token(
                unit, account=accounts.resolve_account(unit, username), name="iPhone"
            )
            o.tokens[username], o.ids[username] = token, row.id
    return o


# -- the server over raw sockets ----------------------------------------------------------


class Lines(logging.Handler):
    """Every record of every logger, as the line a handler would write (message and
    arguments formatted, exception text included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        # The raw arguments too: a handler of someone else's could print them.
        self.lines.append(repr(record.args))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def logged() -> Iterator[Lines]:
    lines = Lines()
    root, serve = logging.getLogger(), logging.getLogger("tongxin")
    levels = root.level, serve.level
    root.addHandler(lines)
    root.setLevel(logging.DEBUG)
    serve.setLevel(logging.DEBUG)
    yield lines
    root.removeHandler(lines)
    root.setLevel(levels[0])
    serve.setLevel(levels[1])


@pytest.fixture
def server(app: Tongxin, office: Office, logged: Lines) -> Iterator[FeedServer]:
    srv = make_server(app, "127.0.0.1", 0, timeout=TIMEOUT)  # as the database's owner
    serve_in_thread(srv)
    yield srv
    srv.shutdown()
    srv.server_close()


def port_of(srv: FeedServer) -> int:
    return int(srv.server_address[1])


def exchange(port: int, data: bytes, *, close: bool = True, wait: float = 10.0) -> bytes:
    """Send ``data`` on a new connection (then end our side if ``close``) and read
    everything the server sends until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        if close:
            s.shutdown(socket.SHUT_WR)
        out = bytearray()
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return bytes(out)


def status_of(response: bytes) -> int:
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", response)
    assert match, response[:200]
    return int(match.group(1))


def head_and_body(response: bytes) -> tuple[dict[str, str], bytes]:
    head, _sep, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {k.lower(): v.strip() for k, _c, v in (h.partition(":") for h in lines)}, body


def assert_no_secret(text: str, token: str) -> None:
    """Neither the token, nor any 16 characters of it, nor its SHA-256 (or the first 16
    hex digits of it) appear in ``text``."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert token not in text
    assert digest not in text and digest[:16] not in text
    for i in range(len(token) - 15):
        assert token[i : i + 16] not in text, token[i : i + 16]


def hostile_requests(token: str) -> list[tuple[bytes, int | None]]:
    """Raw requests carrying ``token``, with the status each must get (None: no answer,
    the connection is just closed)."""
    path = f"/cal/{token}.ics".encode()
    t = token.encode()
    return [
        (b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200),
        (b"GET " + path + b"?token=" + t + b" HTTP/1.1\r\nConnection: close\r\n\r\n", 200),
        (b"HEAD " + path + b" HTTP/1.1\r\nConnection: close\r\n\r\n", 200),
        (b"GET " + path + b" HTTP/1.1 trailing-" + t + b"\r\n\r\n", 400),  # bad syntax
        (b"GET " + path + b" HTTP/1.x\r\n\r\n", 400),  # bad version
        (b"GET " + path + b" HTTP/" + t + b"\r\n\r\n", 400),
        (b"GET " + path + b" HTTP/2.0\r\n\r\n", 505),
        (b"GET " + path + b" FTP/1.1\r\n\r\n", 400),
        (b"POST " + path + b"\r\n", 400),  # HTTP/0.9 with a method other than GET
        (b"GET " + path + b"\r\n", 400),  # HTTP/0.9: no status line, no headers
        (t + b" " + path + b" HTTP/1.1\r\n\r\n", 405),  # the token as the method
        (b"OPTIONS " + path + b" HTTP/1.1\r\n\r\n", 405),
        (b"TRACE " + path + b" HTTP/1.1\r\nX-Token: " + t + b"\r\n\r\n", 405),
        (b"PUT " + path + b" HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 405),
        (b"GET " + path + b"?" + b"A" * 5000 + b" HTTP/1.1\r\n\r\n", 414),  # over-long line
        (b"GET " + path + b" HTTP/1.1\r\nX-Long: " + t * 500 + b"\r\n\r\n", 431),
        (
            b"GET "
            + path
            + b" HTTP/1.1\r\n"
            + b"".join(b"X-%d: %s\r\n" % (i, t) for i in range(120))
            + b"\r\n",
            431,
        ),
        (
            b"GET /cal/" + hashlib.sha256(t).hexdigest().encode() + b".ics HTTP/1.1\r\n"
            b"Connection: close\r\n\r\n",
            404,
        ),
        (b"GET /" + t + b" HTTP/1.1\r\nConnection: close\r\n\r\n", 404),
        (b"GET /cal/%" + t + b".ics HTTP/1.1\r\nConnection: close\r\n\r\n", 404),
        (b"GET " + path + b" HTTP/1.1\r\nHost: ", None),  # half a request, then silence
        (b"\x16\x03\x01\x02\x00" + t + b"\r\n\r\n", 400),  # TLS to a plain-HTTP port
    ]


def test_no_log_line_carries_a_token_or_its_hash(
    server: FeedServer, office: Office, logged: Lines, capfd: pytest.CaptureFixture[str]
) -> None:
    token = office.tokens[office.gl]
    port = port_of(server)
    for request, expected in hostile_requests(token):
        response = exchange(port, request, close=expected is not None)
        if expected is None:
            assert response == b""
            continue
        assert status_of(response) == expected, request[:80]
        headers, body = head_and_body(response)
        # No echo: the answer holds nothing of the request (the feed itself aside).
        assert_no_secret(response.decode("latin-1"), token)
        if expected != 200:
            assert body == b"" and headers["content-length"] == "0", request[:80]
    out, err = capfd.readouterr()
    text = "\n".join([logged.text, out, err])
    assert_no_secret(text, token)
    # The log does say what happened, by the token's id and the statuses.
    short = str(office.ids[office.gl])[:8]
    assert f"GET /cal 200 token {short}" in text
    for status in (" 400", " 405", " 414", " 431", " 505", " 404"):
        assert status in text, status
    assert "idle or incomplete" in text


def test_a_failing_request_logs_the_failure_not_the_hash(
    app: Tongxin, backend: str, db_url: str, server: FeedServer, office: Office, logged: Lines
) -> None:
    token = office.tokens[office.chair]
    digest = hashlib.sha256(token.encode()).hexdigest()
    # A real database failure: the table is gone while the server runs.
    rename(backend, db_url, "feed_token", "feed_token_away")
    try:
        with pytest.raises(Exception) as raised, app.unit() as unit:
            feeds.answer(unit, "GET", f"/cal/{token}.ics", {})
        # The raw error carries the hash (the SQL parameters): only redaction saves it.
        assert digest in str(raised.value)
        response = exchange(port_of(server), f"GET /cal/{token}.ics HTTP/1.1\r\n\r\n".encode())
    finally:
        rename(backend, db_url, "feed_token_away", "feed_token")
    assert status_of(response) == 500 and head_and_body(response)[1] == b""
    assert_no_secret(logged.text, token)
    failed = [line for line in logged.lines if "failed" in line]
    assert failed and ("OperationalError" in failed[0] or "ProgrammingError" in failed[0])


def rename(backend: str, db_url: str, old: str, new: str) -> None:
    sql = f"ALTER TABLE {old} RENAME TO {new}"
    if backend == "sqlite":
        import sqlite3

        with sqlite3.connect(db_url) as conn:
            conn.execute(sql)
    else:
        url = make_url(db.normalize_url(db_url)).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute(sql)


def test_the_serve_process_writes_no_token_to_stderr(
    app: Tongxin, db_url: str, office: Office
) -> None:
    token = office.tokens[office.gl]
    port = free_port()
    env = {**os.environ, "TONGXIN_NOW": NOW.isoformat()}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crm_cli.main",
            "--db",
            db_url,
            "serve",
            "--port",
            str(port),
            "--timeout",
            str(TIMEOUT),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except ConnectionRefusedError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "tongxin serve did not start"
                time.sleep(0.2)
        statuses = []
        for request, expected in hostile_requests(token):
            response = exchange(port, request, close=expected is not None)
            statuses.append(status_of(response) if expected is not None else None)
        assert statuses == [expected for _r, expected in hostile_requests(token)]
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    text = (out + err).decode("utf-8", "replace")
    assert_no_secret(text, token)
    assert f"token {str(office.ids[office.gl])[:8]}" in text  # it did log the requests
    assert "Traceback" not in text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    "method", ["OPTIONS", "TRACE", "POST", "PUT", "DELETE", "PATCH", "CONNECT", "PROPFIND", "get"]
)
def test_other_methods_get_a_bare_405(server: FeedServer, office: Office, method: str) -> None:
    token = office.tokens[office.chair]
    request = (
        f"{method} /cal/{token}.ics HTTP/1.1\r\nHost: x\r\nX-Echo: <script>{token}</script>\r\n"
        "Content-Length: 4\r\n\r\nbody"
    ).encode()
    response = exchange(port_of(server), request)
    assert status_of(response) == 405
    headers, body = head_and_body(response)
    assert headers["allow"] == "GET, HEAD"
    assert headers["content-length"] == "0" and body == b""
    assert headers["connection"] == "close"
    assert "content-type" not in headers
    text = response.decode("latin-1")
    assert token not in text and "script" not in text and "X-Echo" not in text


def test_idle_and_dribbling_connections_are_closed(server: FeedServer, office: Office) -> None:
    port = port_of(server)
    token = office.tokens[office.chair]

    def closed_after(conn: socket.socket, dribble: bytes = b"") -> float:
        started = time.monotonic()
        conn.settimeout(0.2)
        for byte in dribble:  # a byte every 0.2 s: each alone would reset a socket timeout
            try:
                conn.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                if conn.recv(1) == b"":
                    break
            except TimeoutError:
                continue
            except ConnectionResetError:
                break
        conn.settimeout(10)
        with contextlib.suppress(ConnectionResetError):
            assert conn.recv(1024) == b""
        return time.monotonic() - started

    # Says nothing at all.
    with socket.create_connection(("127.0.0.1", port)) as conn:
        assert TIMEOUT * 0.8 <= closed_after(conn) < CLOSED_WITHIN
    # Half a request line, then nothing.
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(f"GET /cal/{token}".encode())
        assert closed_after(conn) < CLOSED_WITHIN
    # A request dribbled a byte at a time, never finished.
    with socket.create_connection(("127.0.0.1", port)) as conn:
        slow = f"GET /cal/{token}.ics HTTP/1.1\r\nHost: x\r\n".encode()
        assert closed_after(conn, slow) < CLOSED_WITHIN
    # A kept-alive connection after a full answer.
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(f"GET /cal/{token}.ics HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        conn.settimeout(10)
        first = conn.recv(65536)
        assert status_of(first) == 200
        headers, body = head_and_body(first)
        while len(body) < int(headers["content-length"]):
            body += conn.recv(65536)
        assert closed_after(conn) < CLOSED_WITHIN


def test_unknown_revoked_and_disabled_tokens_get_the_same_bare_404(
    app: Tongxin, server: FeedServer, office: Office
) -> None:
    port = port_of(server)
    with app.unit(office.office) as unit:
        hj = accounts.resolve_account(unit, office.hj)
        feeds.revoke_tokens(unit, account=hj)
        accounts.resolve_account(unit, office.chair).active = False
    revoked, disabled = office.tokens[office.hj], office.tokens[office.chair]
    unknown = revoked[:-4] + ("AAAA" if not revoked.endswith("AAAA") else "BBBB")

    def answer(path: str) -> bytes:
        response = exchange(port, f"GET {path} HTTP/1.1\r\nConnection: close\r\n\r\n".encode())
        return re.sub(rb"\r\nDate: [^\r]*", b"", response)  # the one header that varies

    answers = {
        path: answer(path)
        for path in (
            f"/cal/{revoked}.ics",
            f"/cal/{disabled}.ics",
            f"/cal/{unknown}.ics",
            "/cal/x.ics",
            f"/cal/{revoked}",
            "/",
            "/favicon.ico",
        )
    }
    assert len(set(answers.values())) == 1, answers
    assert next(iter(answers.values())) == (
        b"HTTP/1.1 404 Not Found\r\nServer: tongxin\r\nContent-Length: 0\r\n\r\n"
    )
    # The clerk's own feed still works, and shows nothing of 邗江区.
    response = exchange(
        port, f"GET /cal/{office.tokens[office.gl]}.ics HTTP/1.1\r\nConnection: close\r\n\r\n"
        .encode()
    )  # fmt: skip
    assert status_of(response) == 200
    body = head_and_body(response)[1].decode().replace("\r\n ", "")
    assert "路灯" in body
    for word in ("李四", "停车", "邗江"):
        assert word not in body


# -- tokens: who may list, make and revoke them --------------------------------------------


@pytest.fixture
def tx(
    db_url: str,
    backend: str,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
    pg_roles: Callable[[str], None],
) -> Callable[..., tuple[int, str, str]]:
    """``tx(*args, login=NAME, lang="zh")``: tongxin in-process as the login NAME (a real
    database role on PostgreSQL): (exit code, stdout, stderr)."""

    def call(*args: str, login: str, lang: str = "zh") -> tuple[int, str, str]:
        url = db_url
        before = i18n.language()
        with monkeypatch.context() as m:
            if backend == "sqlite":
                m.setattr(identity, "os_login", lambda: login)
            else:
                pg_roles(login)
                url = (
                    make_url(db.normalize_url(db_url))
                    .set(username=login)
                    .render_as_string(hide_password=False)
                )
            code = run(["--lang", lang, "--db", url, *args])
        i18n.set_language(before)
        captured = capsysbinary.readouterr()
        return code, captured.out.decode(), captured.err.decode()

    return call


def live_tokens(app: Tongxin) -> dict[uuid.UUID, tuple[uuid.UUID | None, str]]:
    with app.unit() as unit:
        rows = unit.session.scalars(select(FeedToken).where(FeedToken.revoked_at.is_(None)))  # type: ignore[union-attr]
        return {r.id: (r.account_id, r.scope) for r in rows}


def test_county_staff_list_only_their_own_tokens(
    app: Tongxin, office: Office, login: Callable[..., Tongxin], tx: Callable[..., tuple]
) -> None:
    with app.unit(office.office) as unit:
        feeds.create_token(unit, scope="institutional")
        feeds.create_token(unit, scope="office")
    for who in (office.gl, office.chair):  # county staff, and a leader who sees all regions
        with login(who).unit() as unit:
            assert [r.id for r in feeds.list_tokens(unit)] == [office.ids[who]]
            mine = accounts.resolve_account(unit, who)
            assert [r.id for r in feeds.list_tokens(unit, account=mine)] == [office.ids[who]]
            other = accounts.resolve_account(unit, office.hj)
            with pytest.raises(PermissionDenied):
                feeds.list_tokens(unit, account=other)
        code, out, err = tx("feed", "token", "list", "--json", login=who)
        assert code == 0, err
        listed = json.loads(out)
        assert [t["id"] for t in listed] == [str(office.ids[who])]
        assert [t["account"] for t in listed] == [who]
    # The office sees them all.
    code, out, _err = tx("feed", "token", "list", "--json", login=office.office)
    assert code == 0 and len(json.loads(out)) == 5
    # Asking for someone else's: one refusal, the same whether the account exists.
    refusals = set()
    for ref in (office.hj, "邗江区政协", office.chair, "王主席", office.office, "nobody_at_all",
                str(office.ids[office.hj]), str(uuid.uuid4())):  # fmt: skip
        code, out, err = tx("feed", "token", "list", ref, login=office.gl)
        assert code == 1 and out == ""
        for word in secrets_of_others(office):
            assert word not in err, (ref, word, err)
        refusals.add(err.replace(ref, "REF"))
    assert len(refusals) == 1, refusals
    assert office.gl in refusals.pop()  # it names who asked, and only them


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_county_staff_make_and_revoke_no_one_elses_tokens(
    app: Tongxin, office: Office, tx: Callable[..., tuple], lang: str
) -> None:
    with app.unit(office.office) as unit:
        _row, shared = feeds.create_token(unit, scope="institutional")
    before = live_tokens(app)
    other_id = str(office.ids[office.hj])
    attempts = [
        ("feed", "token", "create", office.hj),
        ("feed", "token", "create", "邗江区政协", "--name", "x"),
        ("feed", "token", "create", "nobody_at_all"),
        ("feed", "url", office.chair),
        ("feed", "url", "王主席", "--no-qr"),
        ("feed", "token", "revoke", office.hj),
        ("feed", "token", "revoke", office.hj, "--token", other_id[:8]),
        ("feed", "token", "revoke", "nobody_at_all"),
        ("feed", "token", "create", "--calendar", "office"),
        ("feed", "token", "create", "--calendar", "institutional"),
        ("feed", "token", "revoke", "--calendar", "institutional"),
        ("feed", "token", "revoke", "--calendar", "office"),
        # Their own account, another's token id: "not found", naming only the id typed.
        ("feed", "token", "revoke", office.gl, "--token", other_id[:8]),
    ]
    for args in attempts:
        code, out, err = tx(*args, login=office.gl, lang=lang)
        assert code == 1, (args, out, err)
        assert "https://" not in out and "webcal://" not in out
        for word in secrets_of_others(office):
            assert word not in out + err, (args, word, err)
        assert "Traceback" not in err
    assert live_tokens(app) == before  # nothing made, nothing revoked
    with app.unit() as unit:
        assert feeds.resolve_token(unit, shared) is not None
    # Their own: fine, by username or display name.
    code, out, err = tx("feed", "url", "广陵区政协", "--no-qr", login=office.gl, lang=lang)
    assert code == 0 and "webcal://" in out, err
    code, out, err = tx("feed", "token", "revoke", office.gl, login=office.gl, lang=lang)
    assert code == 0, err
    with app.unit() as unit:
        gl = accounts.resolve_account(unit, office.gl)
        assert feeds.list_tokens(unit, account=gl, include_revoked=False) == []


def test_token_refusals_name_nobody_else_in_the_service(
    app: Tongxin, office: Office, login: Callable[..., Tongxin]
) -> None:
    with login(office.gl).unit() as unit:
        chair = accounts.resolve_account(unit, office.chair)
        for attempt in (
            lambda: feeds.create_token(unit, account=chair),
            lambda: feeds.revoke_tokens(unit, account=chair),
            lambda: feeds.list_tokens(unit, account=chair),
            lambda: feeds.token_account(unit, office.chair),
            lambda: feeds.token_account(unit, "nobody_at_all"),
            lambda: feeds.create_token(unit, scope="institutional"),
            lambda: feeds.revoke_tokens(unit, scope="institutional"),
        ):
            with pytest.raises(PermissionDenied) as refused:
                attempt()
            for word in secrets_of_others(office):
                assert word not in str(refused.value), (word, refused.value)


def entries(app: Tongxin) -> list[dict[str, object]]:
    """The audit entries about feed tokens, oldest first (read as the database's owner)."""
    with app.unit() as unit:
        found = audit.list_audit(unit, entity="feed_token", limit=None)
        return [audit.audit_json(e) for e in reversed(found)]


def test_making_and_revoking_tokens_is_audited_without_the_token(
    app: Tongxin, office: Office, login: Callable[..., Tongxin], tx: Callable[..., tuple]
) -> None:
    # (The clock stands still: entries of one instant come in no particular order.)
    made = entries(app)
    assert sorted((e["action"], e["entity_id"]) for e in made) == sorted(
        ("create", str(office.ids[u])) for u in (office.chair, office.gl, office.hj)
    )
    assert {e["actor"] for e in made} == {office.office}
    # County staff, as themselves (a real role on PostgreSQL: the audit log's own rules).
    with login(office.gl).unit() as unit:
        row, token = feeds.create_token(unit, account=unit.actor, name="新手机")
        own = row.id
    code, out, err = tx("feed", "token", "create", office.gl, "--json", login=office.gl)
    assert code == 0, err
    cli_token = json.loads(out)["https"].rsplit("/", 1)[1].removesuffix(".ics")
    cli_id = json.loads(out)["id"]
    with login(office.gl).unit() as unit:
        revoked = feeds.revoke_tokens(unit, account=unit.actor, token_id=str(own)[:8])
        assert [r.id for r in revoked] == [own]
    code, _out, err = tx("feed", "token", "revoke", office.hj, login=office.office)
    assert code == 0, err
    code, _out, err = tx(
        "feed", "token", "create", "--calendar", "institutional", login=office.office
    )
    assert code == 0, err
    made_ids = {e["id"] for e in made}
    log = [e for e in entries(app) if e["id"] not in made_ids]
    with app.unit() as unit:
        institutional = unit.session.scalars(
            select(FeedToken.id).where(FeedToken.scope == "institutional")
        ).one()
    summary = sorted(
        (e["action"], e["actor"], e["entity_id"], e["after"]["account"], e["after"]["scope"])  # type: ignore[index]
        for e in log
    )
    assert summary == sorted([
        ("create", office.gl, str(own), office.gl, "user"),
        ("create", office.gl, cli_id, office.gl, "user"),
        ("revoke", office.gl, str(own), office.gl, "user"),
        ("revoke", office.office, str(office.ids[office.hj]), office.hj, "user"),
        ("create", office.office, str(institutional), None, "institutional"),
    ])  # fmt: skip
    by = {(e["action"], e["entity_id"]): e for e in log}
    assert by["create", str(own)]["after"]["name"] == "新手机"  # type: ignore[index]
    gone = by["revoke", str(own)]
    assert gone["before"]["revoked_at"] is None and gone["after"]["revoked_at"]  # type: ignore[index]
    # Never the token, nor its hash, nor any piece of the hash.
    text = json.dumps(entries(app), ensure_ascii=False)
    with app.unit() as unit:
        hashes = list(unit.session.scalars(select(FeedToken.token_hash)))
    for secret in (token, cli_token, *office.tokens.values()):
        assert secret not in text
    for digest in hashes:
        assert digest[:12] not in text
