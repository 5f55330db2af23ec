"""The feed server of ``tongxin serve``: ``GET|HEAD /cal/<token>.ics``, nothing else.

It is the standard library's ``ThreadingHTTPServer``: the feed is one read-only route
that phones fetch once an hour, so a framework would add dependencies and nothing a
phone needs. HTTP/1.1 with keep-alive, one thread per connection, one database unit per
request. TLS and the public name belong to the reverse proxy in front of it (nginx,
caddy: docs/calendar.md); it listens on 127.0.0.1 by default.

The server works for every token holder, so it runs with administrator rights (an
administrator's login or the owner of the database, as a service account): each
personal feed is then built acting as its holder (:func:`crm_core.calendar.feeds.render_feed`),
so what a phone gets is what that person may see, never what the server's login sees.

What it tells anyone, and what it writes down:

- The path holds the secret token, so no log line carries the path, the query, the
  request line or any header: the standard handler logs the raw request line for
  every bad request (``send_error``, ``log_request``) and prints tracebacks of failed
  requests to stderr (``handle_error``); every one of those hooks is replaced here, and
  every line goes through :func:`redact` before it reaches ``logging``. A served feed is
  logged by its token's id (as ``tongxin feed token list`` shows it), never the token.
- Any method but GET and HEAD gets a bare 405 with ``Allow``; every error is a bare
  status with the standard reason phrase, no body (nothing of the request is echoed).
- A connection must deliver each request's line and headers within ``timeout``
  seconds of becoming idle (one deadline for the whole head, so a client dribbling a
  byte at a time is cut off too), and the head is bounded (``max_request_line``,
  ``max_header_bytes``): a phone's request is a few hundred bytes.
"""

from __future__ import annotations

import http.client
import logging
import re
import socket
import sys
import threading
import time
import traceback
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO

from crm_core import authz
from crm_core.app import Tongxin
from crm_core.calendar import feeds
from crm_core.calendar.feed_probe import Prober
from crm_core.calendar.retry import retry_conflicts
from crm_core.calendar.series import sync_series
from crm_core.calendar.wsgi import WsgiApp, serve_wsgi
from crm_core.i18n import _
from crm_core.unit import Unit

log = logging.getLogger("tongxin.serve")

DEFAULT_TIMEOUT = 10.0  # seconds a connection may stay idle or take over a request's head
MAX_REQUEST_LINE = 2048  # bytes: "GET /cal/<43 characters>.ics HTTP/1.1" is about 60
MAX_HEADER_BYTES = 16384  # bytes of header lines per request (at most 100 lines)

# Methods that may be named in a log line; anything else a client sends is shown as "-".
_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"}
    | {"PROPFIND", "PROPPATCH", "MKCOL", "MKCALENDAR", "REPORT", "COPY", "MOVE", "LOCK"}
)
ALLOW = "GET, HEAD"

# What could be a secret in a line of text: a feed path (and what follows it), a query
# string, and any long run of token or hash characters (a token is 43 URL-safe base64
# characters, its SHA-256 64 hex digits; %-escapes included, as a client may send them).
_SECRETISH = re.compile(r"/cal/[^\s\"'<>]*|\?[^\s\"'<>]*|[A-Za-z0-9_%-]{24,}")


def redact(text: str) -> str:
    """``text`` with anything that could be a feed token or its hash replaced by "…":
    the last guard of every line the server logs (the lines are built without the
    request's text in the first place)."""
    return _SECRETISH.sub("…", text)


def _log(level: int, message: str, *args: object) -> None:
    """The one way the server logs: formatted here, redacted, then handed to logging
    as a finished line (no handler or filter ever sees the raw arguments)."""
    text = message % args if args else message
    log.log(level, "%s", redact(text))


def _failure(exc: BaseException) -> str:
    """A failed request for the log: the exception's type, its (redacted, shortened)
    message and where it was raised; the message of a database error holds the SQL
    parameters, which include the token's hash, hence the redaction."""
    frames = traceback.extract_tb(exc.__traceback__)[-6:]
    where = " < ".join(
        f"{f.name} ({f.filename.rsplit('/', 1)[-1]}:{f.lineno})" for f in reversed(frames)
    )
    message = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {message} at {where}"


class _HeadReader:
    """The connection's input while a request's line and headers are read: one deadline
    for the whole head (each wait on the socket is for the time left, so a slow trickle
    cannot keep a connection open), and a byte budget (beyond it
    ``http.client.LineTooLong``, which the handler answers with 431). Outside a head
    (``done``) it reads as the plain buffered file."""

    def __init__(self, raw: BinaryIO, sock: socket.socket, timeout: float) -> None:
        self._raw: Any = raw  # a BufferedReader: peek() waits for at most one recv
        self._sock = sock
        self._timeout = timeout
        self._deadline = 0.0
        self._left = 0
        self._active = False

    def start(self, budget: int) -> None:
        """A new request head begins: ``timeout`` seconds and ``budget`` bytes for it."""
        self._deadline = time.monotonic() + self._timeout
        self._left = budget
        self._active = True

    def done(self) -> None:
        """The head is read: the socket's own timeout applies again (to writes)."""
        self._active = False
        self._sock.settimeout(self._timeout)

    def readline(self, size: int = -1) -> bytes:
        """One line (up to ``size`` bytes), within the head's deadline and budget."""
        if not self._active:
            return bytes(self._raw.readline(size))
        want = self._left + 1 if size < 0 else min(size, self._left + 1)
        out = bytearray()
        while len(out) < want:
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("request head not complete in time")
            self._sock.settimeout(left)
            chunk = self._raw.peek(1)[: want - len(out)]
            if not chunk:
                break  # the client closed its side
            newline = chunk.find(b"\n")
            out += self._raw.read(newline + 1 if newline >= 0 else len(chunk))
            if newline >= 0:
                break
        self._left -= len(out)
        if self._left < 0:
            raise http.client.LineTooLong("request head")
        return bytes(out)

    def discard(self, limit: int = 65536, seconds: float = 1.0) -> None:
        """Read and drop what the client still sends (up to ``limit`` bytes, for at most
        ``seconds``) before the connection is closed: closing a socket with unread
        input resets the connection, and the client could lose the answer."""
        end = time.monotonic() + seconds
        got = 0
        try:
            while got < limit:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self._sock.settimeout(left)
                chunk = self._raw.read1(min(65536, limit - got))
                if not chunk:
                    break
                got += len(chunk)
        except OSError:  # timed out or gone: nothing more to wait for
            pass

    def read(self, size: int = -1) -> bytes:
        """Bytes as read from the connection (a request body: never read here)."""
        return bytes(self._raw.read(size))

    def close(self) -> None:
        """Close the underlying file."""
        self._raw.close()

    @property
    def closed(self) -> bool:
        """Whether the underlying file is closed."""
        return bool(self._raw.closed)


class FeedHandler(BaseHTTPRequestHandler):
    """One connection; each request's answer comes from :func:`crm_core.calendar.feeds.answer`."""

    protocol_version = "HTTP/1.1"
    server_version = "tongxin"
    sys_version = ""
    server: FeedServer

    def version_string(self) -> str:
        """The ``Server`` header: the name only (no version to look up holes by)."""
        return self.server_version

    def setup(self) -> None:
        """The socket's timeout and the bounded, deadline-keeping input."""
        self.timeout = self.server.idle_timeout  # type: ignore[misc]  # per server, not per class
        super().setup()
        self._head = _HeadReader(self.rfile, self.connection, self.server.idle_timeout)  # type: ignore[arg-type]
        self.rfile = self._head  # type: ignore[assignment]

    # -- one request -----------------------------------------------------------------

    def handle_one_request(self) -> None:
        """Read one request's head (within the deadline and bounds) and answer it: the
        feed for GET and HEAD, 405 for any other method."""
        # Nothing of a previous request on this connection may be logged for this one.
        self.command, self.path, self.requestline = "", "", ""
        self.request_version = self.default_request_version
        self._token_id: uuid.UUID | None = None
        limit = self.server.max_request_line
        try:
            self._head.start(limit + self.server.max_header_bytes)
            line = self.rfile.readline(limit + 1)
            if not line:
                self.close_connection = True
                return
            if len(line) > limit:
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            self.raw_requestline = line
            if not self.parse_request():
                return  # answered (send_error), connection closed
            if self.request_version == "HTTP/0.9":
                # No status line, no headers, no Host: no phone speaks it.
                self.send_error(HTTPStatus.BAD_REQUEST)
                return
            self._head.done()
            if self.server.api is not None and self.path.startswith("/api/"):
                serve_wsgi(self, self.server.api)
            elif self.command in ("GET", "HEAD"):
                self._handle()
            else:
                self._refuse_method()
            self.wfile.flush()
        except TimeoutError:
            # Idle, or a head that never finished: close without a word (there is no
            # request to answer, and an idle keep-alive connection expects none).
            self.close_connection = True
            _log(logging.INFO, "%s closed: idle or incomplete request", self.address_string())

    def finish(self) -> None:
        """The connection ends: its thread's database connection goes back to the pool."""
        try:
            super().finish()
        finally:
            self.server.prober.release()

    def handle_expect_100(self) -> bool:
        """Never "100 Continue": no request body is ever read."""
        return True

    def _handle(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}

        app = self.server.app

        def work() -> feeds.Answer:
            # A cached feed still current (or an error) needs no unit of work: one
            # statement (the token's row and the data version), then a header compare.
            quick = feeds.answer_cached(
                self.server.prober, app.plugins, self.command, self.path, headers,
                self.server.cache,
            )  # fmt: skip
            if quick is not None:
                return quick
            # As the service's own login, which finds the token and writes only the
            # bookkeeping (when a token's calendar last changed); the calendar itself is
            # built acting as the token's holder.
            with self.server.app.unit() as unit:
                return feeds.answer(unit, self.command, self.path, headers, cache=self.server.cache)

        try:
            result = retry_conflicts(work)
        except Exception as exc:  # the client gets a bare 500, the log the story
            _log(logging.ERROR, "%s %s failed: %s", self._who(), self._what(), _failure(exc))
            result = feeds.Answer(500, [("Content-Length", "0")], b"")
        self._token_id = result.token_id
        self._send(result.status, result.headers, result.body)

    def _refuse_method(self) -> None:
        # A body may follow (POST, PUT): it is never read, so the connection ends here.
        self.close_connection = True
        self._send(
            HTTPStatus.METHOD_NOT_ALLOWED,
            [("Allow", ALLOW), ("Content-Length", "0"), ("Connection", "close")],
        )
        self._linger()

    def _linger(self) -> None:
        # The connection closes with the rest of the request unread (a body, the rest
        # of an over-long head): drain it briefly so the client still gets the answer.
        self.wfile.flush()
        self._head.discard(seconds=min(1.0, self.server.idle_timeout))

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes = b"") -> None:
        self.send_response(status)  # the standard reason phrase, and the access line
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A bare error: the status with its standard reason phrase, no body, and the
        connection closed. (The standard one logs ``message``, which for a bad request
        holds the request line, token and all, and echoes it in the status line and an
        HTML page.)"""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            # What parse_request leaves for a line it could not read: the answer still
            # gets its status line and headers.
            self.request_version = "HTTP/1.0"
        self._send(code, [("Content-Length", "0"), ("Connection", "close")])
        self._linger()

    # -- the log ----------------------------------------------------------------------

    def _who(self) -> str:
        return self.address_string()

    def _what(self) -> str:
        method = self.command if self.command in _METHODS else "-"
        path = self.path or ""
        route = "/cal" if path.startswith("/cal/") else "/api" if path.startswith("/api/") else "-"
        return f"{method} {route}"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """The access line: client, method, whether it was the feed route, status, and
        the token's id when a feed was served; never the path or request line."""
        status = int(code) if isinstance(code, int | HTTPStatus) else code
        token = f" token {str(self._token_id)[:8]}" if getattr(self, "_token_id", None) else ""
        _log(logging.INFO, "%s %s %s%s", self._who(), self._what(), status, token)

    def log_error(self, format: str, *args: Any) -> None:
        """Errors of the standard handler: redacted like every line."""
        _log(logging.WARNING, "%s " + format, self._who(), *args)

    def log_message(self, format: str, *args: Any) -> None:
        """Anything else the standard handler would print to stderr: redacted, logged."""
        _log(logging.INFO, "%s " + format, self._who(), *args)


class FeedServer(ThreadingHTTPServer):
    """The threading HTTP server with the application attached; ``timeout`` (seconds,
    kept as ``idle_timeout``), ``max_request_line`` and ``max_header_bytes`` bound each
    connection."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        app: Tongxin,
        address: tuple[str, int],
        *,
        cache: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        max_request_line: int = MAX_REQUEST_LINE,
        max_header_bytes: int = MAX_HEADER_BYTES,
        api: WsgiApp | None = None,
    ):
        self.app = app
        self.api = api
        self.prober = Prober(app.engine, app.config.tz)
        self.cache = feeds.FeedCache() if cache else None
        self.idle_timeout = float(timeout)
        self.max_request_line = max_request_line
        self.max_header_bytes = max_header_bytes
        super().__init__(address, FeedHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A request that failed outside the answer (a client gone mid-reply, a bug):
        one redacted line instead of the standard traceback on stderr."""
        exc = sys.exc_info()[1]
        host = client_address[0] if isinstance(client_address, tuple) else "-"
        if isinstance(exc, ConnectionError | TimeoutError):
            _log(logging.INFO, "%s connection lost: %s", host, type(exc).__name__)
        elif exc is not None:
            _log(logging.ERROR, "%s request failed: %s", host, _failure(exc))


def make_server(
    app: Tongxin,
    host: str = "127.0.0.1",
    port: int = 8808,
    *,
    cache: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    max_request_line: int = MAX_REQUEST_LINE,
    max_header_bytes: int = MAX_HEADER_BYTES,
    api: WsgiApp | None = None,
) -> FeedServer:
    """A feed server bound to ``host``:``port`` (0: any free port), not yet serving;
    ``cache`` keeps each token's last feed while the data is unchanged
    (:class:`crm_core.calendar.feeds.FeedCache`); a connection idle (or slow to send a
    request's head) for ``timeout`` seconds is closed; a request line over
    ``max_request_line`` bytes gets 414, headers over ``max_header_bytes`` 431.
    ``api``: a WSGI application answering every path under ``/api/`` (the HTTP API,
    :func:`crm_web_api.gateway.wsgi_api`), on the same connections and threads. The
    institutional series are brought in step with config first, so requests only
    read. PermissionDenied unless the application's login may administer (the server
    acts for every token holder); ValueError for a timeout or bound that is not
    positive."""
    if not timeout > 0 or max_request_line < 64 or max_header_bytes < 256:
        raise ValueError(
            "timeout must be > 0 s, max_request_line >= 64 and max_header_bytes >= 256 bytes"
        )

    def prepare(unit: Unit) -> None:
        authz.require_admin(unit, _("serve the calendar feeds"))
        sync_series(unit)

    app.run(prepare)  # run again if it met a concurrent write
    return FeedServer(
        app,
        (host, port),
        cache=cache,
        timeout=timeout,
        max_request_line=max_request_line,
        max_header_bytes=max_header_bytes,
        api=api,
    )


def serve_in_thread(server: FeedServer) -> threading.Thread:
    """Serve ``server`` from a daemon thread (tests, the terminal UI)."""
    thread = threading.Thread(target=server.serve_forever, name="tongxin-serve", daemon=True)
    thread.start()
    return thread
