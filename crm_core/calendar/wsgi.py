"""The feed server's door to a WSGI application: ``/api/`` on the same connections.

``tongxin serve`` is one process and one HTTP front (:mod:`crm_core.calendar.server`,
the standard library's threaded server, chosen by measurement: bench/RESULTS.md). The
HTTP API is a FastAPI application (ASGI, made WSGI by ``a2wsgi``); this module hands it
a request the front has already read and bounded (request line, headers, deadline),
runs it with the standard library's WSGI handler (``wsgiref``) and keeps the
connection for the next request when the answer had a length.

What it adds to the front's rules: a body needs ``Content-Length`` (chunked uploads
get 411) of at most ``MAX_BODY`` bytes (else 413), read within the connection's
timeout; the log line names the method, ``/api`` and the status, never
the path or query (a search for a person's name is personal data).
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote
from wsgiref.handlers import SimpleHandler

# The request handler of crm_core.calendar.server (not imported: it imports this module).
FeedHandler = Any
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_BODY = 1 << 20  # bytes: a request body of the API (an interaction is a few kB)

log = logging.getLogger("tongxin.serve")


class _Body:
    """The request body: exactly ``length`` bytes of the connection, never more."""

    def __init__(self, raw: Any, length: int) -> None:
        self._raw = raw
        self.left = length

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of what is left (all of it for -1)."""
        want = self.left if size is None or size < 0 else min(size, self.left)
        if want <= 0:
            return b""
        data = self._raw.read(want)
        self.left -= len(data)
        return bytes(data)

    def readline(self, size: int = -1) -> bytes:
        """A line of the body (bounded by what is left)."""
        want = self.left if size is None or size < 0 else min(size, self.left)
        if want <= 0:
            return b""
        data = self._raw.readline(want)
        self.left -= len(data)
        return bytes(data)

    def __iter__(self) -> Any:
        return iter(lambda: self.readline(), b"")


class _Handler(SimpleHandler):
    """wsgiref's handler as the front's: HTTP/1.1, ``Server: tongxin``, a bare 500
    (no text of the failure), and failures logged by type only."""

    http_version = "1.1"
    server_software = "tongxin"
    error_body = b""
    error_headers = [("Content-Length", "0")]  # noqa: RUF012 (wsgiref's own attribute)

    def log_exception(self, exc_info: Any) -> None:
        """One line, no traceback text (it could hold personal data)."""
        frames = traceback.extract_tb(exc_info[2])[-3:]
        where = " < ".join(f"{f.name}:{f.lineno}" for f in reversed(frames))
        log.error("API request failed: %s at %s", exc_info[0].__name__, where)


def _environ(handler: FeedHandler, body: _Body, length: int) -> dict[str, Any]:
    path, _q, query = handler.path.partition("?")
    host, port = handler.server.server_address[:2]
    env: dict[str, Any] = {
        "REQUEST_METHOD": handler.command,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(path, "latin-1"),
        "QUERY_STRING": query,
        "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(length),
        "SERVER_NAME": str(host),
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": handler.request_version,
        "REMOTE_ADDR": handler.client_address[0],
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
    }
    for name, value in handler.headers.items():
        key = "HTTP_" + name.upper().replace("-", "_")
        if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            continue
        env[key] = f"{env[key]},{value}" if key in env else value
    return env


def _bare(handler: FeedHandler, status: int) -> None:
    handler.close_connection = True
    handler._send(status, [("Content-Length", "0"), ("Connection", "close")])
    handler._linger()


def serve_wsgi(handler: FeedHandler, app: WsgiApp) -> None:
    """Answer the request ``handler`` has read with the WSGI application ``app``."""
    if handler.headers.get("Transfer-Encoding"):
        _bare(handler, 411)  # no chunked bodies: say the length
        return
    try:
        length = int(handler.headers.get("Content-Length") or 0)
    except ValueError:
        _bare(handler, 400)
        return
    if length < 0:
        _bare(handler, 400)
        return
    if length > MAX_BODY:
        _bare(handler, 413)
        return
    body = _Body(handler.rfile, length)
    environ = _environ(handler, body, length)
    gateway = _Handler(body, handler.wfile, sys.stderr, environ, multithread=True)  # type: ignore[arg-type]
    gateway.request_handler = handler  # type: ignore[attr-defined]
    handler.request.settimeout(handler.server.idle_timeout)
    gateway.run(app)
    # Set by wsgiref's BaseHandler once the app has started its answer.
    status = int((getattr(gateway, "status", None) or "500").split(" ", 1)[0])
    headers = getattr(gateway, "headers", None)
    if body.left or headers is None or "Content-Length" not in headers:
        handler.close_connection = True  # unread body, or an answer without a length
    if (handler.headers.get("Connection") or "").lower() == "close":
        handler.close_connection = True
    handler.log_request(status)
