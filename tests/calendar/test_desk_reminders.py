"""Desk reminders (crm_core.reminders.desk): one account's reminders while its terminal
UI is open, for any role, shown once per person however many apps are open, claimed in
the delivery log under a channel of their own ("desk"), independent of the office's
reminder service (``tongxin remind``).

Real components: the database of each backend, APScheduler's background scheduler, a
local SMTP server (aiosmtpd) for the office service's e-mail. The program's clock is
frozen; the desk runs a reminder due by that clock at once, so these tests do not
depend on the time of day they run at."""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.config import load_config
from crm_core.hookspecs import hookimpl
from crm_core.plugins import PluginHost
from crm_core.reminders import Reminder
from crm_core.reminders import plan as planning
from crm_core.reminders.channels import Message
from crm_core.reminders.desk import DESK_CHANNEL, REFRESH_JOB, DeskReminders
from crm_core.reminders.service import ReminderService, deliveries
from crm_core.services import accounts, contacts, interactions

from .conftest import SHANGHAI, free_port

NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)  # 10:00 in Yangzhou


class _Smtp:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(
            (list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Smtp, int]]:
    """A local SMTP server on 127.0.0.1 and its port."""
    handler = _Smtp()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def office(
    db_url: str, tmp_path: Path, smtp: tuple[_Smtp, int], plugins: PluginHost
) -> Iterator[Tongxin]:
    """An office with a staff member (xiaoli), a leader (wangzx) and an administrator
    (office); reminders 30 minutes before work, to the log and by e-mail."""
    _handler, port = smtp
    path = tmp_path / "office.toml"
    path.write_text(
        f"""
[reminders]
default_minutes = [30]
channels = ["log", "email"]
refresh_minutes = 1

[smtp]
host = "127.0.0.1"
port = {port}
sender = "tongxin@yangzhou.example"

[notify.email]
xiaoli = "xiaoli@example.org"
""",
        "utf-8",
    )
    app = Tongxin(load_config(path), db_url=db_url, plugins=plugins)
    with app.unit() as unit:
        accounts.create_account(unit, username="xiaoli", display_name="小李", role="staff")
        accounts.create_account(unit, username="wangzx", display_name="王主席", role="leader")
        accounts.create_account(unit, username="office", display_name="办公室", role="admin")
    clock.freeze(NOW)
    yield app
    clock.freeze(None)
    app.close()


def account_id(app: Tongxin, username: str) -> uuid.UUID:
    with app.unit() as unit:
        return accounts.resolve_account(unit, username).id


def schedule(app: Tongxin, who: str, summary: str, start: datetime, **kw: Any) -> Any:
    """Planned work for ``who`` (a username) starting at ``start``."""
    with app.unit() as unit:
        return interactions.schedule_interaction(
            unit,
            kind="meeting",
            start=start,
            accounts=[accounts.resolve_account(unit, who).id],
            summary=summary,
            **kw,
        )


class Screen:
    """What a desk's listener received (as the terminal UI shows it)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    def __call__(self, message: Message) -> None:
        with self._lock:
            self.messages.append(message)

    @property
    def titles(self) -> list[str]:
        return [m.title for m in self.messages]


def run_desk(app: Tongxin, username: str, screen: Screen) -> DeskReminders:
    """A started desk that has shown what is due."""
    desk = DeskReminders(app, username, screen)
    desk.start()
    assert desk.wait_idle()
    return desk


def desk_rows(app: Tongxin) -> list[tuple[str, str]]:
    return sorted((d.key, d.recipient) for d in deliveries(app) if d.channel == DESK_CHANNEL)


def test_a_staff_account_is_shown_its_own_reminders_once(office: Tongxin) -> None:
    app = office
    mine = schedule(app, "xiaoli", "听取教育界意见", NOW + timedelta(minutes=28))
    schedule(app, "wangzx", "主席会议成员碰头", NOW + timedelta(minutes=28))  # not hers
    later = schedule(app, "xiaoli", "走访民营企业", NOW + timedelta(hours=3))
    screen = Screen()
    desk = run_desk(app, "xiaoli", screen)  # staff: no administrator needed
    try:
        assert screen.titles == ["提醒：会面交流：听取教育界意见"]
        message = screen.messages[0]
        assert message.username == "xiaoli" and message.display_name == "小李"
        assert "30 分钟后开始" in message.body and "（" not in message.body  # on time
        # The later reminder waits for its time; the refresh job plans new work.
        assert desk.job_ids() == sorted(
            [
                REFRESH_JOB,
                f"desk:item:{later.id}:30:{later.start_at.astimezone(UTC):%Y%m%dT%H%MZ}",
            ]
        )
        assert desk.plan() == 0  # what the refresh does: nothing new, nothing again
        assert desk.wait_idle()
    finally:
        desk.shutdown()
    again = Screen()
    run_desk(app, "xiaoli", again).shutdown()  # the app opened again
    assert again.titles == [] and len(screen.titles) == 1
    key = f"item:{mine.id}:30:{mine.start_at.astimezone(UTC):%Y%m%dT%H%MZ}"
    assert desk_rows(app) == [(key, "xiaoli")]  # the leader's reminder is left to him


def test_two_open_apps_of_one_person_show_a_reminder_once(office: Tongxin) -> None:
    app = office
    schedule(app, "xiaoli", "听取教育界意见", NOW + timedelta(minutes=28))
    schedule(app, "wangzx", "主席会议成员碰头", NOW + timedelta(minutes=29))
    screens = [Screen(), Screen()]
    desks = [DeskReminders(app, "xiaoli", s) for s in screens]
    starters = [threading.Thread(target=d.start) for d in desks]  # at the same moment
    for t in starters:
        t.start()
    for t in starters:
        t.join()
    leader = Screen()
    try:
        assert all(d.wait_idle() for d in desks)
        shown = screens[0].titles + screens[1].titles
        assert shown == ["提醒：会面交流：听取教育界意见"]
        # The leader's own app shows his, which hers did not take.
        run_desk(app, "wangzx", leader).shutdown()
    finally:
        for d in desks:
            d.shutdown()
    assert leader.titles == ["提醒：会面交流：主席会议成员碰头"]
    assert sorted(r for _k, r in desk_rows(app)) == ["wangzx", "xiaoli"]


def test_the_office_service_and_the_desk_deliver_independently(
    office: Tongxin, smtp: tuple[_Smtp, int]
) -> None:
    """The office service's log and e-mail and the desk each deliver a reminder once,
    whichever runs first: neither consumes the other's delivery."""
    app = office
    handler, _port = smtp
    # The service's scheduler fires on the wall clock: the program's clock is "now".
    now = datetime.now(UTC).replace(microsecond=0)
    clock.freeze(now)
    first = schedule(app, "xiaoli", "听取教育界意见", now + timedelta(minutes=28))
    screen = Screen()
    run_desk(app, "xiaoli", screen).shutdown()  # the app first
    stream = io.StringIO()
    ReminderService(app, stream=stream).run_once()  # then `tongxin remind --once`
    assert screen.titles == ["提醒：会面交流：听取教育界意见"]

    def reminder_mails() -> list[tuple[list[str], Any]]:
        # A first start after the digest time also sends the day's digest (so whether
        # one comes depends on the hour the test runs): only the reminders count here.
        return [m for m in handler.mails if str(m[1]["Subject"]).startswith("提醒")]

    assert len(reminder_mails()) == 1 and reminder_mails()[0][0] == ["xiaoli@example.org"]
    assert reminder_mails()[0][1]["Subject"] == "提醒：会面交流：听取教育界意见"
    assert "[xiaoli] 提醒：会面交流：听取教育界意见" in stream.getvalue()

    second = schedule(app, "xiaoli", "走访民营企业", now + timedelta(minutes=27))
    ReminderService(app, stream=stream).run_once()  # the service first
    run_desk(app, "xiaoli", screen).shutdown()  # then the app
    assert screen.titles[1:] == ["提醒：会面交流：走访民营企业"]
    assert [m["Subject"] for _rcpt, m in reminder_mails()] == [
        "提醒：会面交流：听取教育界意见",
        "提醒：会面交流：走访民营企业",
    ]
    for work in (first, second):
        rows = deliveries(app, f"item:{work.id}:")
        assert sorted((d.channel, d.status) for d in rows) == [
            (DESK_CHANNEL, "sent"),
            ("email", "sent"),
            ("log", "sent"),
        ]


def test_reminders_missed_while_no_app_was_open_are_shown_once_at_start(
    office: Tongxin,
) -> None:
    app = office
    # 15:00 in Yangzhou: the catch-up window (12 hours) reaches back to 03:00.
    now = datetime(2026, 9, 1, 15, 0, tzinfo=SHANGHAI)
    clock.freeze(now)
    schedule(app, "xiaoli", "听取教育界意见", now + timedelta(minutes=10))  # due 14:40
    schedule(app, "xiaoli", "昨晚的碰头", now - timedelta(hours=13))  # due 01:30: too old
    day = datetime(2026, 9, 1, tzinfo=SHANGHAI)
    schedule(app, "xiaoli", "界别活动周", day, end=day + timedelta(days=1), all_day=True)
    screen = Screen()
    run_desk(app, "xiaoli", screen).shutdown()
    # The all-day item's reminder (09:00 on its day) and the 14:40 one, once, late.
    assert sorted(screen.titles) == ["提醒：会面交流：听取教育界意见", "提醒：会面交流：界别活动周"]
    assert all(m.body.endswith("（补发：当时没有打开同心。）") for m in screen.messages)
    again = Screen()
    run_desk(app, "xiaoli", again).shutdown()
    assert again.titles == []


def test_cancelled_and_moved_work_loses_its_reminder(office: Tongxin) -> None:
    app = office
    cancelled = schedule(app, "xiaoli", "听取教育界意见", NOW + timedelta(hours=2))
    moved = schedule(app, "xiaoli", "走访民营企业", NOW + timedelta(hours=3))
    screen = Screen()
    desk = run_desk(app, "xiaoli", screen)
    try:

        def key(i: Any, start: datetime) -> str:
            return f"desk:item:{i.id}:30:{start.astimezone(UTC):%Y%m%dT%H%MZ}"

        assert desk.job_ids() == sorted(
            [REFRESH_JOB, key(cancelled, cancelled.start_at), key(moved, moved.start_at)]
        )
        with app.unit("xiaoli") as unit:
            interactions.cancel_interaction(unit, cancelled.id, reason="改期")
            interactions.reschedule_interaction(unit, moved.id, start=NOW + timedelta(minutes=20))
        desk.plan()  # the refresh job
        assert desk.wait_idle()
        assert desk.job_ids() == [REFRESH_JOB]  # the moved one was due at once: shown
    finally:
        desk.shutdown()
    assert screen.titles == ["提醒：会面交流：走访民营企业"]


class TeaReminders:
    """A plugin's reminder rule: one for xiaoli, one for every administrator."""

    def __init__(self, xiaoli: uuid.UUID) -> None:
        self.xiaoli = xiaoli

    @hookimpl
    def collect_reminders(self, window: Any) -> list[Reminder]:
        at = clock.now() - timedelta(minutes=1)
        return [
            Reminder("tea", at, self.xiaoli, "茶叙准备", "请备好茶具"),
            Reminder("admins", at, None, "核对本月走访统计"),
        ]


def test_plugin_reminders_go_to_the_account_they_are_for(office: Tongxin) -> None:
    app = office
    app.plugins.register(TeaReminders(account_id(app, "xiaoli")), "tea_reminders")
    staff, admin = Screen(), Screen()
    run_desk(app, "xiaoli", staff).shutdown()
    run_desk(app, "office", admin).shutdown()
    assert [(m.title, m.body) for m in staff.messages] == [("茶叙准备", "请备好茶具")]
    assert admin.titles == ["核对本月走访统计"]
    assert desk_rows(app) == [
        ("plugin:tea_reminders:admins", "office"),
        ("plugin:tea_reminders:tea", "xiaoli"),
    ]


def test_planning_for_one_account_reads_only_its_work(office: Tongxin) -> None:
    # One person's open app plans that person's work, not the whole office's.

    app = office
    hers = schedule(app, "xiaoli", "听取教育界意见", NOW + timedelta(hours=2))
    his = schedule(app, "wangzx", "主席会议成员碰头", NOW + timedelta(hours=2))
    with app.unit() as unit:
        # A vice-chair who is also a member on the roster: work with that person is his.
        person = contacts.create_person(unit, name="李副主席")
        accounts.create_account(
            unit, username="lifzx", display_name="李副主席", role="leader", person_id=person.id
        )
        as_person = interactions.schedule_interaction(
            unit, kind="meeting", start=NOW + timedelta(hours=3), people=[person.id]
        )
    until = NOW + timedelta(days=1)
    with app.unit() as unit:
        everyone = planning.item_reminders(unit, NOW, until)
        xiaoli = accounts.resolve_account(unit, "xiaoli")
        lifzx = accounts.resolve_account(unit, "lifzx")
        only_hers = planning.item_reminders(unit, NOW, until, account=xiaoli)
        only_his = planning.item_reminders(unit, NOW, until, account=lifzx)
    assert {p.interaction_id for p in everyone} == {hers.id, his.id, as_person.id}
    assert {p.interaction_id for p in only_hers} == {hers.id}
    assert {p.interaction_id for p in only_his} == {as_person.id}
