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
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from crm_core import authz
from crm_core.app import Tongxin
from crm_core.calendar import feeds
from crm_core.calendar.retry import retry_conflicts
from crm_core.calendar.series import sync_series
from crm_core.i18n import _
from crm_core.unit import Unit

log = logging.getLogger("tongxin.serve")


class FeedHandler(BaseHTTPRequestHandler):
    """One request: the answer comes from :func:`crm_core.calendar.feeds.answer`."""

    protocol_version = "HTTP/1.1"
    server_version = "tongxin"
    sys_version = ""
    server: FeedServer

    def _handle(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}

        def work() -> feeds.Answer:
            # As the service's own login, which finds the token and writes only the
            # bookkeeping (when a token's calendar last changed); the calendar itself is
            # built acting as the token's holder.
            with self.server.app.unit() as unit:
                return feeds.answer(unit, self.command, self.path, headers, cache=self.server.cache)

        try:
            result = retry_conflicts(work)
        except Exception:  # the client gets a 500, the log the story
            log.exception("feed request %s %s failed", self.command, self.path.split("/cal/")[0])
            result = feeds.Answer(500, [("Content-Length", "0")], b"")
        self.send_response(result.status)
        for name, value in result.headers:
            self.send_header(name, value)
        self.end_headers()
        if result.body and self.command != "HEAD":
            self.wfile.write(result.body)

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        # Never log the path: it holds the secret token.
        if args and isinstance(args[0], str):
            request = args[0].split(" ")
            args = (f"{request[0]} /cal/…", *args[1:]) if len(request) > 1 else args
        log.info("%s " + format, self.address_string(), *args)


class FeedServer(ThreadingHTTPServer):
    """The threading HTTP server with the application attached."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app: Tongxin, address: tuple[str, int], *, cache: bool = True):
        self.app = app
        self.cache = feeds.FeedCache() if cache else None
        super().__init__(address, FeedHandler)


def make_server(
    app: Tongxin, host: str = "127.0.0.1", port: int = 8808, *, cache: bool = True
) -> FeedServer:
    """A feed server bound to ``host``:``port`` (0: any free port), not yet serving;
    ``cache`` keeps each token's last feed while the data is unchanged
    (:class:`crm_core.calendar.feeds.FeedCache`). The institutional series are brought
    in step with config first, so requests only read. PermissionDenied unless the
    application's login may administer (the server acts for every token holder)."""

    def prepare(unit: Unit) -> None:
        authz.require_admin(unit, _("serve the calendar feeds"))
        sync_series(unit)

    app.run(prepare)  # run again if it met a concurrent write
    return FeedServer(app, (host, port), cache=cache)


def serve_in_thread(server: FeedServer) -> threading.Thread:
    """Serve ``server`` from a daemon thread (tests, the terminal UI)."""
    thread = threading.Thread(target=server.serve_forever, name="tongxin-serve", daemon=True)
    thread.start()
    return thread
