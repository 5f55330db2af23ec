"""`tongxin web` in a real browser (headless Chromium, driven over the DevTools
protocol): the dashboard paints with no click, every file the page asks for comes
from the tongxin server (no font service, no CDN), and the page names no host, so a
colleague's PC reaches it by the server's own address."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from crm_core.app import Tongxin

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Tee the page's websocket: what the server sends the browser's terminal, as text.
TEE = """
(() => {
  const Real = window.WebSocket;
  const decoder = new TextDecoder();
  window.__painted = "";
  window.WebSocket = function (url, protocols) {
    const ws = protocols ? new Real(url, protocols) : new Real(url);
    ws.addEventListener("message", (e) => {
      if (typeof e.data !== "string") window.__painted += decoder.decode(e.data, {stream: true});
    });
    return ws;
  };
  window.WebSocket.prototype = Real.prototype;
})();
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


class DevTools:
    """One page of Chromium, over the DevTools protocol."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        mine = self.next_id
        await self.ws.send_str(json.dumps({"id": mine, "method": method, "params": params}))
        while True:
            message = json.loads((await self.ws.receive(timeout=30)).data)
            if message.get("id") == mine:
                assert "error" not in message, message
                return dict(message.get("result", {}))
            self.events.append(message)


def visible_text(stream: str) -> str:
    """The text of a terminal stream, escape sequences taken out."""
    return re.sub(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[\]P_][^\x07\x1b]*(?:\x07|\x1b\\)", "", stream)


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt-get install chromium)")
def test_the_dashboard_paints_in_chromium_from_local_files_only(
    core: Tongxin, tmp_path: Path
) -> None:
    asyncio.run(_drive(core, tmp_path))


async def _drive(core: Tongxin, tmp_path: Path) -> None:
    port, debug_port = free_port(), free_port()
    env = {**os.environ, "HOME": str(tmp_path), "TONGXIN_LANG": "zh"}
    db = str(core.engine.url)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crm_cli.main",
            "--db",
            db,
            "--as",
            "office",
            "web",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    browser = subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            f"--remote-debugging-port={debug_port}",
            f"--user-data-dir={tmp_path / 'chrome'}",
            "--window-size=1280,800",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        wait_for_port(port, deadline)
        wait_for_port(debug_port, deadline)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/") as response:
                page = await response.text()
            # The page itself: no outside address, no host name written in.
            assert "googleapis" not in page and "localhost" not in page and "127.0.0.1" not in page
            assert 'id="start"' not in page  # no splash to click
            targets: list[dict[str, Any]] = []
            while time.monotonic() < deadline and not targets:
                async with http.get(f"http://127.0.0.1:{debug_port}/json/list") as response:
                    targets = [t for t in await response.json() if t.get("type") == "page"]
            async with http.ws_connect(targets[0]["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                tools = DevTools(ws)
                await tools.call("Network.enable")
                await tools.call("Page.enable")
                await tools.call("Page.addScriptToEvaluateOnNewDocument", source=TEE)
                await tools.call("Page.navigate", url=f"http://127.0.0.1:{port}/")
                painted = ""
                while time.monotonic() < deadline + 30:
                    result = await tools.call(
                        "Runtime.evaluate", expression="window.__painted || ''"
                    )
                    painted = visible_text(str(result["result"].get("value", "")))
                    if "超期未联系" in painted and "张三" in painted:
                        break
                    await asyncio.sleep(0.3)
                shot = await tools.call("Page.captureScreenshot", format="png")
        assert "首页" in painted and "超期未联系" in painted, painted[-2000:]
        assert "张三" in painted  # the fixed office's data, read by the served app
        assert len(base64.b64decode(shot["data"])) > 20_000  # a painted screen, not blank
        asked = [
            e["params"]["request"]["url"]
            for e in tools.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
        assert asked, "the page asked for nothing"
        outside = [u for u in asked if not u.startswith(f"http://127.0.0.1:{port}/")]
        assert not outside, outside  # every file from the tongxin server
    finally:
        browser.terminate()
        server.terminate()
        browser.wait(10)
        server.wait(10)
