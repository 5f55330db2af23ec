"""The API as a WSGI application for the feed server's HTTP front
(:func:`crm_core.calendar.server.make_server`'s ``api``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from crm_core.app import Tongxin


class LazyApi:
    """The FastAPI application of ``tongxin`` run as WSGI (a2wsgi keeps one event loop
    in a thread of its own; the routes are plain functions, run in its thread pool),
    built at the first ``/api/`` request: `tongxin serve` starts, and answers feeds, as
    fast as without the API (FastAPI takes a second or more to import)."""

    def __init__(self, tongxin: Tongxin) -> None:
        self._tongxin = tongxin
        self._app: Any = None
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        """Answer one request (WSGI)."""
        if self._app is None:
            with self._lock:
                if self._app is None:
                    from a2wsgi import ASGIMiddleware
                    from crm_web_api.factory import make_api

                    self._app = ASGIMiddleware(make_api(self._tongxin))  # type: ignore[arg-type]
        return self._app(environ, start)  # type: ignore[no-any-return]


def wsgi_api(tongxin: Tongxin) -> LazyApi:
    """The HTTP API of ``tongxin`` as a WSGI application (built on first use)."""
    return LazyApi(tongxin)
