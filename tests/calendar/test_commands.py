"""The long-running commands as an operator starts them: `tongxin serve` in its own
process answering on 127.0.0.1, `tongxin remind --once` sending what is due, and
`tongxin export ics` options."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from crm_cli.main import run

from crm_core.calendar import feeds as feed_service
from crm_core.services import accounts, interactions

from .conftest import NOW, World, free_port, local


def test_serve_in_its_own_process(world: World, db_url: str) -> None:
    with world.app.unit() as unit:
        _row, token = feed_service.create_token(
            unit, account=accounts.resolve_account(unit, "wangzx")
        )
    port = free_port()
    env = {**os.environ, "TONGXIN_NOW": NOW.isoformat()}
    proc = subprocess.Popen(
        # The connection is reused after the export below, which may take longer than
        # the default idle timeout (10 s) on a busy machine.
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
            "120",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", f"/cal/{token}.ics")
                response = conn.getresponse()
                body = response.read()
                break
            except ConnectionRefusedError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "tongxin serve did not start"
                time.sleep(0.2)
        assert response.status == 200
        exported = subprocess.run(
            [
                sys.executable,
                "-m",
                "crm_cli.main",
                "--db",
                db_url,
                "export",
                "ics",
                "--user",
                "wangzx",
            ],
            env=env,
            capture_output=True,
            timeout=60,
            check=True,
        ).stdout
        assert body == exported
        conn.request(
            "GET", f"/cal/{token}.ics", headers={"If-None-Match": response.getheader("ETag")}
        )
        again = conn.getresponse()
        assert again.status == 304 and again.read() == b""
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    log = proc.stderr.read().decode() if proc.stderr else ""
    assert token not in log  # the secret never reaches the log


def test_remind_once_sends_what_is_due(
    app, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    with app.unit() as unit:
        leader = accounts.create_account(unit, username="wangzx", display_name="王主席")
    with app.unit("wangzx") as unit:
        from crm_core.services import contacts

        zhang = contacts.create_person(unit, name="张三")
        # Starts in 5 minutes: its 30-minute reminder is already due (and late).
        interactions.schedule_interaction(
            unit,
            kind="meeting",
            start=datetime.now(UTC) + timedelta(minutes=5),
            people=[zhang.id],
            accounts=[leader.id],
        )
    capsys.readouterr()
    assert run(["--db", db_url, "remind", "--once"]) == 0
    out = capsys.readouterr().out
    assert out.count("[wangzx] 提醒：会面交流：张三") == 1
    assert "补发" in out
    assert run(["--db", db_url, "remind", "--once"]) == 0
    assert "提醒" not in capsys.readouterr().out


def test_export_options(
    world: World, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "sept.ics"
    assert (
        run(
            [
                "--db",
                db_url,
                "export",
                "ics",
                "--user",
                "王主席",
                "--from",
                "2026-09-19",
                "--to",
                "2026-09-21",
                "-o",
                str(target),
            ]
        )
        == 0
    )
    body = target.read_bytes()
    assert f"interaction-{world.visit}@tongxin".encode() in body
    assert f"interaction-{world.talk}@tongxin".encode() not in body  # the 22nd
    assert b"series-theory_study_monthly@tongxin" in body
    assert "已将" in capsys.readouterr().err
    assert (
        run(["--db", db_url, "export", "ics", "--calendar", "institutional", "-o", str(target)])
        == 0
    )
    assert b"interaction-" not in target.read_bytes()
    assert run(["--db", db_url, "export", "ics", "--user", "nobody"]) == 1
    assert (
        run(
            [
                "--db",
                db_url,
                "export",
                "ics",
                "--user",
                "wangzx",
                "--from",
                "2026-10-01",
                "--to",
                "2026-09-01",
            ]
        )
        == 1
    )
    with world.app.unit("wangzx") as unit:
        interactions.reschedule_interaction(unit, world.visit, start=local(2026, 9, 19, 9, 0))
