"""The API as a WSGI application for the feed server's HTTP front
(:func:`crm_core.calendar.server.make_server`'s ``api``)."""

from __future__ import annotations

from typing import Any

from a2wsgi import ASGIMiddleware
from crm_web_api.factory import make_api

from crm_core.app import Tongxin


def wsgi_api(tongxin: Tongxin) -> Any:
    """The FastAPI application of ``tongxin`` run as WSGI (a2wsgi keeps one event loop
    in a thread of its own; the routes are plain functions, run in its thread pool)."""
    return ASGIMiddleware(make_api(tongxin))  # type: ignore[arg-type]
