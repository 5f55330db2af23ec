"""`tongxin remind`: APScheduler 3 with its jobs in memory, planned from the database, and
the delivery log. Real channels: a local SMTP server (aiosmtpd) and a local HTTP endpoint
receiving apprise's ``json://`` posts, both on 127.0.0.1. The scheduler runs on the wall
clock; "the service was stopped while time passed" is the program's clock moved on
between two services (planning follows :func:`crm_core.clock.now`)."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.config import load_config
from crm_core.hookspecs import hookimpl
from crm_core.plugins import PluginHost
from crm_core.reminders import Reminder, digest_for
from crm_core.reminders.plan import digest_day
from crm_core.reminders.service import (
    CATCH_UP,
    DIGEST_JOB,
    REFRESH_JOB,
    ReminderService,
    deliveries,
)
from crm_core.services import accounts, contacts, followups, interactions

from .conftest import SHANGHAI, free_port


@dataclass
class Inbox:
    """What the local SMTP server and the local notification endpoint received."""

    mails: list[Any] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)


class _Smtp:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.inbox.mails.append(
            (list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int, int]]:
    box = Inbox()
    smtp = Controller(_Smtp(box), hostname="127.0.0.1", port=free_port())
    smtp.start()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            box.posts.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield box, smtp.port, http.server_address[1]
    http.shutdown()
    http.server_close()
    smtp.stop()


def _config(tmp_path: Path, smtp_port: int, http_port: int, extra: str = "") -> Path:
    path = tmp_path / "office.toml"
    path.write_text(
        f"""
[reminders]
default_minutes = [30]
digest_time = "00:00"
channels = ["log", "email", "apprise"]
refresh_minutes = 1
[reminders.kinds]
call = [10]

[smtp]
host = "127.0.0.1"
port = {smtp_port}
sender = "tongxin@yangzhou.example"

[notify.email]
wangzx = "wang@example.org"

[notify.urls]
wangzx = ["json://127.0.0.1:{http_port}/notify"]
{extra}
""",
        "utf-8",
    )
    return path


@pytest.fixture
def office(
    db_url: str, tmp_path: Path, inbox: tuple[Inbox, int, int], plugins: PluginHost
) -> Iterator[tuple[Tongxin, Inbox, io.StringIO]]:
    box, smtp_port, http_port = inbox
    app = Tongxin(
        load_config(_config(tmp_path, smtp_port, http_port)), db_url=db_url, plugins=plugins
    )
    with app.unit() as unit:
        me = contacts.create_person(unit, name="王主席")
        zhang = contacts.create_person(unit, name="张三")
        accounts.create_account(
            unit, username="wangzx", display_name="王主席", role="leader", person_id=me.id
        )
        accounts.create_account(unit, username="office", display_name="办公室", role="admin")
        app.__dict__["zhang"] = zhang.id
    yield app, box, io.StringIO()
    app.close()


def _service(app: Tongxin, stream: io.StringIO, **kw: Any) -> ReminderService:
    return ReminderService(app, stream=stream, **kw)


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def _reminder_mails(box: Inbox) -> list[Any]:
    """The reminders received by mail (not the digest, which a start sends too when
    the day's digest time has passed)."""
    return [m for m in box.mails if str(m[1]["Subject"]).startswith("提醒")]


def _reminder_posts(box: Inbox) -> list[dict[str, Any]]:
    return [p for p in box.posts if str(p["title"]).startswith("提醒")]


def _database_tables(app: Tongxin) -> set[str]:
    from sqlalchemy import inspect

    return set(inspect(app.engine).get_table_names())


def _schedule_call(app: Tongxin, start: datetime, **kw: Any) -> Any:
    with app.unit("wangzx") as unit:
        return interactions.schedule_interaction(
            unit,
            kind="call",
            start=start,
            people=[app.__dict__["zhang"]],
            accounts=[accounts.resolve_account(unit, "wangzx").id],
            location="市政协机关",
            **kw,
        )


def test_a_reminder_due_while_stopped_is_sent_once_after_restart(office: Any) -> None:
    app, box, stream = office
    now = datetime.now(UTC)
    clock.freeze(now)
    start = now + timedelta(hours=5)
    call = _schedule_call(app, start)
    first = _service(app, stream)
    first.start(paused=True)
    key = f"tongxin:item:{call.id}:10:{start:%Y%m%dT%H%MZ}"
    assert key in first.job_ids()
    first.shutdown()
    # While the service is down the reminder's time passes (10 minutes before the
    # start): the next start finds it due and not delivered.
    clock.freeze(start - timedelta(minutes=7))
    second = _service(app, stream)
    second.start()
    try:
        wait_for(lambda: len(_reminder_mails(box)) == 1 and len(_reminder_posts(box)) == 1)
        wait_for(lambda: len(deliveries(app, "item:")) == 3)
    finally:
        second.shutdown()
    rcpt, mail = _reminder_mails(box)[0]
    assert rcpt == ["wang@example.org"]
    assert mail["Subject"] == "提醒：电话联系：张三"
    assert "时间：" in mail.get_content() and "10 分钟后开始" in mail.get_content()
    assert "地点：市政协机关" in mail.get_content()
    assert _reminder_posts(box)[0]["title"] == "提醒：电话联系：张三"
    assert "[wangzx] 提醒：电话联系：张三" in stream.getvalue()
    assert {d.status for d in deliveries(app, "item:")} == {"sent"}
    # Restarting again, even later, sends nothing more and plans no job for it.
    clock.freeze(start + timedelta(hours=1))
    third = _service(app, stream)
    third.start()
    time.sleep(0.5)
    ids = third.job_ids()
    third.shutdown()
    assert len(_reminder_mails(box)) == 1 and len(_reminder_posts(box)) == 1
    assert stream.getvalue().count("提醒：电话联系：张三") == 1
    assert key not in ids


def test_a_reminder_missed_longer_ago_than_the_catch_up_window_is_not_sent(
    office: Any,
) -> None:
    app, box, stream = office
    now = datetime.now(UTC)
    clock.freeze(now)
    call = _schedule_call(app, now + timedelta(hours=1))
    # The service was down for longer than the catch-up window: the call is long past.
    clock.freeze(now + CATCH_UP + timedelta(hours=2))
    service = _service(app, stream)
    service.start()
    time.sleep(0.5)
    ids = service.job_ids()
    service.shutdown()
    assert not [j for j in ids if str(call.id) in j]
    assert _reminder_mails(box) == [] and "提醒：" not in stream.getvalue()


def test_no_job_is_stored_in_the_database(office: Any) -> None:
    app, _box, stream = office
    _schedule_call(app, datetime.now(UTC) + timedelta(days=1))
    service = _service(app, stream)
    service.start()
    try:
        assert any(j.startswith("tongxin:item:") for j in service.job_ids())
        assert "apscheduler_jobs" not in _database_tables(app)
    finally:
        service.shutdown()


def test_two_restarts_create_no_duplicate_jobs(office: Any) -> None:
    app, _box, stream = office
    start = datetime.now(UTC) + timedelta(days=1)
    _schedule_call(app, start)
    _schedule_call(app, start + timedelta(hours=2))
    seen = []
    for _ in range(3):
        service = _service(app, stream)
        service.start()
        assert service.plan() == 0  # planning again adds nothing
        seen.append(service.job_ids())
        service.shutdown()
    assert seen[0] == seen[1] == seen[2]
    assert DIGEST_JOB in seen[0] and REFRESH_JOB in seen[0]
    assert len([j for j in seen[0] if j.startswith("tongxin:item:")]) == 2


def test_a_late_reminder_states_the_time_really_left(office: Any) -> None:
    """Planned ten minutes before, sent three minutes before (the service was down):
    it says three minutes, not ten, and that it is late."""
    app, box, stream = office
    now = datetime.now(UTC)
    clock.freeze(now)
    start = now + timedelta(hours=5)
    _schedule_call(app, start)
    clock.freeze(start - timedelta(minutes=3))
    service = _service(app, stream)
    service.start()
    try:
        wait_for(lambda: len(_reminder_mails(box)) == 1)
    finally:
        service.shutdown()
    text = _reminder_mails(box)[0][1].get_content()
    assert "3 分钟后开始" in text and "10 分钟后开始" not in text
    assert "（补发：提醒服务当时未运行。）" in text


@pytest.mark.parametrize(
    ("left", "words"),
    [
        (timedelta(hours=2, minutes=10), "2 小时 10 分钟后开始。"),
        (timedelta(hours=3), "3 小时后开始。"),
        (timedelta(days=1, hours=4), "1 天 4 小时后开始。"),
        (timedelta(minutes=-20), "已经开始。"),
    ],
)
def test_the_time_left_in_words(office: Any, left: timedelta, words: str) -> None:
    from crm_core.reminders.plan import item_message

    app, _box, _stream = office
    start = datetime.now(UTC) + timedelta(days=3)
    call = _schedule_call(app, start)
    with app.unit() as unit:
        i = unit.session.get(type(call), call.id)
        _title, body = item_message(unit, i, 60 * 24, sent_at=start - left)
        assert body.splitlines()[-1] == words
        _title, on_time = item_message(unit, i, 60 * 24, sent_at=start - timedelta(days=1))
        assert on_time.splitlines()[-1] == "1 天后开始。"


def test_the_digest_is_delivered_once(office: Any) -> None:
    app, box, stream = office
    tz = app.config.tz
    today = datetime.now(tz).date()
    _schedule_call(app, datetime(today.year, today.month, today.day, 12, 0, tzinfo=tz))
    with app.unit() as unit:
        leader = accounts.resolve_account(unit, "wangzx")
        followups.raise_follow_up(unit, title="停车难问题答复", owner_id=leader.id, due_on=today)
    # The digest time (00:00) has passed while no service ran: a start sends it. Only the
    # digest is counted: after about 11:50 in Shanghai the call's own reminder is also due
    # (late) and is sent beside it, which is right and not what this test is about.
    subject = f"同心每日提要 {today.isoformat()}"

    def digests() -> tuple[list[Any], list[dict[str, Any]]]:
        mails = [m for m in box.mails if m[1]["Subject"] == subject]
        return mails, [p for p in box.posts if p.get("title") == subject]

    service = _service(app, stream)
    service.start()
    try:
        wait_for(lambda: tuple(map(len, digests())) == (1, 1))
        # Run it again (a second instance, a clock jump): the log stops a second send.
        assert service.send_digest() == 0
        service.plan()  # what the refresh does: the day is done, no digest job again
        assert f"tongxin:digest:{today.isoformat()}" not in service.job_ids()
    finally:
        service.shutdown()
    restarted = _service(app, stream)
    restarted.start()
    time.sleep(0.5)
    restarted.shutdown()
    mails, posts = digests()
    assert len(mails) == 1 and len(posts) == 1
    _rcpt, mail = mails[0]
    text = mail.get_content()
    assert "今日日程" in text and "电话联系：张三" in text
    assert "停车难问题答复" in text
    digest_rows = deliveries(app, "digest:")
    assert {(d.channel, d.status) for d in digest_rows} == {
        ("log", "sent"),
        ("email", "sent"),
        ("apprise", "sent"),
    }


def test_a_digest_missed_on_several_days_is_sent_once_for_the_last(office: Any) -> None:
    app, box, stream = office
    tz = app.config.tz
    now = datetime.now(UTC)
    clock.freeze(now)
    with app.unit() as unit:
        leader = accounts.resolve_account(unit, "wangzx")
        followups.raise_follow_up(unit, title="停车难问题答复", owner_id=leader.id, due_on=None)
        followups.raise_follow_up(
            unit, title="路灯答复", owner_id=leader.id, due_on=now.astimezone(tz).date()
        )
    service = _service(app, stream)
    service.start()
    wait_for(lambda: len(box.mails) == 1)
    service.shutdown()
    # Three days without the service: one digest, for the last day.
    later = now + timedelta(days=3)
    clock.freeze(later)
    again = _service(app, stream)
    again.start()
    try:
        wait_for(lambda: len(box.mails) == 2)
        time.sleep(0.5)
    finally:
        again.shutdown()
    assert [str(m[1]["Subject"]) for m in box.mails] == [
        f"同心每日提要 {now.astimezone(tz).date().isoformat()}",
        f"同心每日提要 {later.astimezone(tz).date().isoformat()}",
    ]


def test_a_failed_channel_is_tried_again_and_the_others_not_repeated(
    office: Any, tmp_path: Path, inbox: tuple[Inbox, int, int]
) -> None:
    app, box, stream = office
    _box, _smtp_port, http_port = inbox
    good = app.config
    app.config = load_config(_config(tmp_path, free_port(), http_port))  # nobody listens
    start = datetime.now(UTC) + timedelta(minutes=10, seconds=1)
    _schedule_call(app, start)
    service = _service(app, stream)
    service.start()
    try:
        wait_for(lambda: any(d.status == "failed" for d in deliveries(app, "item:")))
        wait_for(lambda: len(_reminder_posts(box)) == 1)
        app.config = good  # the mail server is back
        # What the refresh job does every few minutes (a reminder whose delivery is
        # still under way is not planned again until it has finished).
        wait_for(lambda: service.plan() >= 0 and len(_reminder_mails(box)) == 1)
    finally:
        service.shutdown()
    assert len(_reminder_posts(box)) == 1 and stream.getvalue().count("提醒：") == 1
    email = next(d for d in deliveries(app, "item:") if d.channel == "email")
    assert (email.status, email.attempts) == ("sent", 2)


def test_cancelled_work_is_not_reminded_of(office: Any) -> None:
    app, box, stream = office
    now = datetime.now(UTC)
    clock.freeze(now)
    start = now + timedelta(hours=5)
    call = _schedule_call(app, start)
    service = _service(app, stream)
    service.start(paused=True)
    key = f"tongxin:item:{call.id}:10:{start:%Y%m%dT%H%MZ}"
    assert key in service.job_ids()
    service.shutdown()
    with app.unit("wangzx") as unit:
        interactions.cancel_interaction(unit, call.id, reason="改期")
    clock.freeze(start - timedelta(minutes=9))  # its reminder fell due meanwhile
    again = _service(app, stream)
    again.start()
    time.sleep(1.0)
    ids = again.job_ids()
    again.shutdown()
    assert key not in ids
    assert _reminder_mails(box) == [] and _reminder_posts(box) == []
    assert "提醒：" not in stream.getvalue()


class TeaReminders:
    """A county plugin's reminder rule, and an item whose reminder it wants earlier."""

    def __init__(self, account_id: Any) -> None:
        self.account_id = account_id

    @hookimpl
    def collect_reminders(self, window: Any) -> list[Reminder]:
        assert window.start <= datetime.now(UTC) + timedelta(seconds=5) < window.end
        return [
            Reminder(
                "tea-2026",
                datetime.now(UTC) - timedelta(minutes=1),
                self.account_id,
                "茶叙准备",
                "请备好茶具",
            ),
            "not a reminder",  # type: ignore[list-item]
        ]

    @hookimpl
    def reminder_minutes(self, interaction: Any) -> list[int]:
        return [60 * 24]


def test_plugins_add_reminder_rules(office: Any) -> None:
    app, box, stream = office
    with app.unit() as unit:
        leader = accounts.resolve_account(unit, "wangzx")
    app.plugins.register(TeaReminders(leader.id), "tea_reminders")
    start = datetime.now(UTC) + timedelta(days=2)
    call = _schedule_call(app, start)
    for _ in range(2):
        service = _service(app, stream)
        service.start()
        try:
            wait_for(lambda: len(box.posts) >= 1)
            ids = service.job_ids()
        finally:
            service.shutdown()
    assert [p["title"] for p in box.posts if not p["title"].startswith("同心每日提要")] == [
        "茶叙准备"
    ]
    assert "[wangzx] 茶叙准备 — 请备好茶具" in stream.getvalue()
    assert f"tongxin:item:{call.id}:1440:{start:%Y%m%dT%H%MZ}" in ids
    assert f"tongxin:item:{call.id}:10:{start:%Y%m%dT%H%MZ}" in ids
    assert app.plugins.info["tea_reminders"].status == "failing"


def test_digest_contents_and_day(app: Tongxin) -> None:
    clock.freeze(datetime(2026, 9, 1, 2, 0, tzinfo=UTC))
    with app.unit() as unit:
        keeper = accounts.create_account(unit, username="chair", display_name="主席")
        person = contacts.create_person(unit, name="赵六")
        from crm_core.services import assignments

        assignments.assign(
            unit, keeper_id=keeper.id, contact_id=person.id, ideal_days=10, max_days=20,
            start_on=date(2026, 6, 1),
        )  # fmt: skip
        d = digest_for(unit, keeper, date(2026, 9, 1))
    assert d.overdue == ["赵六：距上次联系已 92 天"]
    assert not d.agenda and not d.follow_ups
    eight = datetime(2026, 1, 1, 8, 0).time()
    assert digest_day(datetime(2026, 9, 1, 7, 0, tzinfo=SHANGHAI), SHANGHAI, eight) == date(
        2026, 8, 31
    )
    assert digest_day(datetime(2026, 9, 1, 8, 0, tzinfo=SHANGHAI), SHANGHAI, eight) == date(
        2026, 9, 1
    )
