"""`tongxin web`: the terminal UI in a browser, for a whole office.

textual-serve's own page shows a splash, loads its font from a font service on the
internet and writes the server's host name into its links (``localhost`` by default),
so a colleague's PC, or an office network without internet, cannot use it. This page
(app_index.html, beside this module) is served instead: every file from this server by
a relative address, the websocket found from the page's own address (so it works
behind a reverse proxy, see docs), and the app started as the page loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crm_core.extras import require
from crm_core.i18n import N_, _

TEMPLATES = Path(__file__).resolve().parent


def make_server(command: str, *, host: str, port: int, public_url: str | None, title: str) -> Any:
    """textual-serve's Server, serving tongxin's page (see the module)."""
    server_module = require(
        "textual_serve.server", extra="web", feature=N_("The web UI (tongxin web)")
    )
    aiohttp_jinja2 = require("aiohttp_jinja2", extra="web", feature=N_("The web UI (tongxin web)"))

    class OfficeServer(server_module.Server):  # type: ignore[misc, name-defined]
        @aiohttp_jinja2.template("app_index.html")  # type: ignore[untyped-decorator]
        async def handle_index(self, request: Any) -> dict[str, Any]:
            size = request.query.get("fontsize", "16")
            return {
                "font_size": int(size) if size.isdigit() and 6 <= int(size) <= 48 else 16,
                "application": {"name": self.title},
                "ended": _("The session has ended."),
                "restart": _("Start again"),
            }

    return OfficeServer(
        command,
        host=host,
        port=port,
        title=title,
        public_url=public_url.rstrip("/") if public_url else None,
        templates_path=TEMPLATES,
    )
