"""`tongxin web`: the terminal UI served to a browser through textual-serve, started as
a real process on 127.0.0.1 with its own data folder and database."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """`tongxin web` on a free port, with a fresh database and data folders under
    ``tmp_path``; stopped (SIGTERM) at the end."""
    port = free_port()
    db = tmp_path / "web.db"
    config = tmp_path / "config.toml"
    config.write_text("", "utf-8")
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "TONGXIN_CONFIG": str(config),
    }
    env.pop("TONGXIN_DB", None)
    exe = Path(sys.executable).parent / "tongxin"
    proc = subprocess.Popen(
        [str(exe), "--db", str(db), "web", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield proc, port, db
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def get_index(proc: subprocess.Popen[bytes], port: int) -> tuple[int, str, str]:
    """GET / once the server listens: (status, content type, body)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
                return (
                    response.status,
                    response.headers.get("Content-Type", ""),
                    response.read().decode("utf-8"),
                )
        except (ConnectionError, urllib.error.URLError):
            if proc.poll() is not None:
                err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
                pytest.fail(f"tongxin web exited with {proc.returncode}: {err}")
            assert time.monotonic() < deadline, "tongxin web did not start listening"
            time.sleep(0.2)


async def screen_through_websocket(port: int, wanted: str, seconds: float = 90) -> str:
    """Open the page's websocket as the browser does (which starts the app), read the
    terminal output until ``wanted`` appears, then close (which ends the app)."""
    seen = b""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30") as ws,
    ):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while wanted.encode("utf-8") not in seen:
            left = deadline - loop.time()
            assert left > 0, f"{wanted!r} never appeared; got {seen[-500:]!r}"
            message = await ws.receive(timeout=left)
            if message.type == aiohttp.WSMsgType.BINARY:
                seen += message.data
            elif message.type == aiohttp.WSMsgType.TEXT:
                seen += message.data.encode("utf-8")
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                pytest.fail(f"the app closed before showing {wanted!r}: {seen[-500:]!r}")
    return seen.decode("utf-8", "replace")


def test_web_serves_the_page_and_the_app_behind_it(
    web: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    proc, port, db = web
    status, content_type, body = get_index(proc, port)
    assert status == 200 and content_type.startswith("text/html")
    assert "<title>同心 tongxin</title>" in body  # the page names the app
    assert "js/textual.js" in body  # textual-serve's terminal in the page
    # It connects to the app socket of whatever address the page was loaded from (a
    # colleague's PC, a reverse proxy), never a host baked into the page.
    assert 'new URL("ws", window.location.href)' in body
    assert "127.0.0.1" not in body and "localhost" not in body
    # The browser's websocket starts `tongxin` itself: on the new, empty database its
    # dashboard offers the demo data, and that screen reaches the page.
    output = asyncio.run(screen_through_websocket(port, "载入演示数据"))
    assert "首页" in output
    assert db.exists()  # the app made and migrated its database on first use
    # Stopped like a service: SIGTERM, a clean exit.
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
