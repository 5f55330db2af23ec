"""Webhooks (issue 19 item 2) against a real HTTP receiver on 127.0.0.1, on SQLite and
PostgreSQL: HMAC-signed bodies, retries with back-off, the delivery log, the CLI, and
no personal data the account may not see (confidential talks, other counties)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from crm_cli.main import run

from crm_core import clock, identity
from crm_core.app import Tongxin
from crm_core.services import contacts, followups, interactions, webhook_send, webhooks

from .conftest import NOW, Office


@dataclass
class Receiver:
    url: str
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, then 200s


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _events(receiver: Receiver) -> list[dict]:
    return [json.loads(body) for _h, body in receiver.got]


def test_events_are_signed_and_hold_only_what_the_account_sees(
    app: Tongxin, office: Office, receiver: Receiver
) -> None:
    with app.unit("gl") as unit:
        _row, secret = webhooks.add_webhook(unit, receiver.url)
    clock.freeze(NOW + timedelta(seconds=1))
    with app.unit("chair") as unit:
        # 邗江区: nothing of it reaches 广陵区's clerk.
        interactions.log_interaction(
            unit, kind="meeting", people=[office.ids["li"]], region="hanjiang",
            summary="邗江座谈", start=NOW,
        )  # fmt: skip
        followups.raise_follow_up(unit, title="邗江停车", person_id=office.ids["li"])
        contacts.update_person(unit, office.ids["li"], employer="邗江实验学校")
        # 广陵区: a confidential talk (an event, without what was said) and a change.
        talk = interactions.log_interaction(
            unit, kind="meeting", people=[office.ids["zhang"]], region="guangling",
            summary="二次谈心", notes="机密", confidential=True, start=NOW,
        ).id  # fmt: skip
        contacts.update_person(unit, office.ids["zhang"], employer="扬州职业大学")
    counts = webhook_send.deliver_due(app)
    assert counts["delivered"] == len(receiver.got) >= 2
    text = " ".join(body.decode() for _h, body in receiver.got)
    for secret_word in ("邗江", "李四", "13987654321", "二次谈心", "机密"):
        assert secret_word not in text, secret_word
    events = _events(receiver)
    by_entity = {e["entity_id"]: e for e in events}
    masked = by_entity[str(talk)]
    assert masked["event"] == "interaction.create"
    assert masked["data"]["notes_hidden"] is True and masked["data"]["summary"] is None
    person = by_entity[str(office.ids["zhang"])]
    assert person["event"] == "person.update" and person["data"]["employer"] == "扬州职业大学"
    for headers, body in receiver.got:
        stamp = headers["x-tongxin-timestamp"]
        assert headers["x-tongxin-signature"] == webhook_send.sign(secret, stamp, body)
        assert headers["x-tongxin-event"] == json.loads(body)["event"]
    # The chair's own webhook would have had it all; the log names each delivery.
    with app.unit("gl") as unit:
        log = webhooks.list_deliveries(unit)
        assert {d.status for d in log} == {"delivered"} and len(log) == len(events)


def test_a_failing_receiver_is_retried_with_back_off_then_given_up(
    app: Tongxin, office: Office, receiver: Receiver
) -> None:
    with app.unit("gl") as unit:
        webhooks.add_webhook(unit, receiver.url, ["follow_up"])
    clock.freeze(NOW + timedelta(seconds=1))
    with app.unit("gl") as unit:
        followups.raise_follow_up(unit, title="井盖", person_id=office.ids["zhang"])
    receiver.statuses = [500, 503]
    assert webhook_send.deliver_due(app)["retrying"] == 1
    assert webhook_send.deliver_due(app)["retrying"] == 0  # not due yet: 30 s back-off
    clock.freeze(NOW + timedelta(seconds=31))
    assert webhook_send.deliver_due(app)["retrying"] == 1  # 503: next in 2 minutes
    clock.freeze(NOW + timedelta(minutes=5))
    assert webhook_send.deliver_due(app)["delivered"] == 1
    assert len(receiver.got) == 3
    assert len({h["x-tongxin-delivery"] for h, _b in receiver.got}) == 1  # one delivery
    with app.unit("gl") as unit:
        (d,) = webhooks.list_deliveries(unit)
        assert (d.status, d.attempts, d.last_status) == ("delivered", 3, 200)
    # A receiver that is gone: every back-off, then failed.
    with app.unit("gl") as unit:
        hook = webhooks.add_webhook(unit, "http://127.0.0.1:9/gone", ["follow_up"])[0]
    clock.freeze(NOW + timedelta(minutes=6))
    with app.unit("gl") as unit:
        followups.raise_follow_up(unit, title="路面", person_id=office.ids["zhang"])
    at = NOW + timedelta(minutes=6)
    outcomes = []
    for _ in range(len(webhook_send.BACKOFF) + 1):
        at += timedelta(hours=7)
        clock.freeze(at)
        counts = webhook_send.deliver_due(app)
        outcomes.append("failed" if counts["failed"] else "retrying")
    assert outcomes[-1] == "failed" and outcomes[:-1] == ["retrying"] * len(webhook_send.BACKOFF)
    with app.unit("gl") as unit:
        (gone,) = webhooks.list_deliveries(unit, str(hook.id))
        assert gone.status == "failed" and gone.last_error


def test_the_cli_adds_lists_removes_and_shows_deliveries(
    app: Tongxin, office: Office, receiver: Receiver, db_url: str, backend: str,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    if backend == "sqlite":  # the login of the office's administrator, acting as the clerk
        monkeypatch.setattr(identity, "os_login", lambda: "office")

    def tx(*args: str) -> object:
        assert run(["--db", db_url, "--as", "gl", *args, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    made = tx("webhooks", "add", receiver.url, "--event", "person")
    assert made["secret"] and made["events"] == ["person"]
    clock.freeze(NOW + timedelta(seconds=1))
    listed = tx("webhooks", "list")
    assert [w["id"] for w in listed] == [made["id"]] and "secret" not in listed[0]
    with app.unit("gl") as unit:
        contacts.update_person(unit, office.ids["zhang"], title="教授")
    assert tx("webhooks", "deliver")["delivered"] == 1
    (delivery,) = tx("webhooks", "deliveries", made["id"][:8])
    assert delivery["event"] == "person.update" and delivery["status"] == "delivered"
    assert tx("webhooks", "remove", made["id"][:8])["removed_at"]
    assert tx("webhooks", "list") == []
    # Another account's webhooks are not the clerk's to see or remove.
    with app.unit("hj") as unit:
        other = webhooks.add_webhook(unit, receiver.url)[0]
    assert run(["--db", db_url, "--as", "gl", "webhooks", "remove", str(other.id)]) == 1
    capsys.readouterr()
