"""Fixtures of the calendar, feed, CalDAV and reminder tests (tests/calendar/).

Every test taking ``app`` (here through ``world``) runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.calendar import calendar_range, export_ics
from crm_core.services import accounts, contacts, followups, interactions

from .dav_server import radicale_server, two_way  # noqa: F401  (fixtures for every test here)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)  # 10:00 in Yangzhou


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """An aware Yangzhou time."""
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


@dataclass
class World:
    """A small office: a vice-chair with a linked person, an administrator, two contacts,
    and some work of each status."""

    app: Tongxin
    leader: uuid.UUID
    leader_person: uuid.UUID
    admin: uuid.UUID
    zhang: uuid.UUID
    li: uuid.UUID
    visit: uuid.UUID  # planned, 2026-09-20 09:30, the leader with 张三
    meeting: uuid.UUID  # done, 2026-08-20 15:00
    talk: uuid.UUID  # planned, confidential, 2026-09-22 10:00
    cancelled: uuid.UUID  # planned then cancelled
    day_event: uuid.UUID  # all day, 2026-09-30
    follow_up: uuid.UUID  # due 2026-09-15, owned by the leader

    def export(self, username: str = "wangzx", **kw: object) -> bytes:
        with self.app.unit() as unit:
            account = accounts.resolve_account(unit, username)
            rng = calendar_range(
                unit,
                account=account,
                start=kw.get("start"),
                end=kw.get("end"),  # type: ignore[arg-type]
            )
            return export_ics(unit, rng)


@pytest.fixture
def frozen() -> Iterator[datetime]:
    """The clock at 2026-09-01 10:00 Yangzhou time."""
    clock.freeze(NOW)
    yield NOW
    clock.freeze(None)


def build_world(app: Tongxin) -> World:
    """Fill ``app`` with the small office of :class:`World`."""
    with app.unit() as unit:
        me = contacts.create_person(unit, name="王主席")
        zhang = contacts.create_person(unit, name="张三", email="zhangsan@example.org")
        li = contacts.create_person(unit, name="李四")
        leader = accounts.create_account(
            unit, username="wangzx", display_name="王主席", role="leader", person_id=me.id
        )
        admin = accounts.create_account(
            unit, username="office", display_name="办公室", role="admin"
        )
    with app.unit("wangzx") as unit:
        visit = interactions.schedule_interaction(
            unit,
            kind="meeting",
            start=local(2026, 9, 20, 9, 30),
            people=[zhang.id],
            accounts=[leader.id],
            location="宝应县委员活动之家",
            summary="走访了解企业用工情况",
            notes="张三谈到子女就业，注意保密",
        )
        meeting = interactions.log_interaction(
            unit,
            kind="meeting",
            start=local(2026, 8, 20, 15, 0),
            people=[li.id],
            summary="交流科技创新政策",
        )
        talk = interactions.schedule_interaction(
            unit,
            kind="meeting",
            start=local(2026, 9, 22, 10, 0),
            people=[li.id],
            accounts=[leader.id],
            summary="谈心：家庭困难与思想动态",
            notes="绝密的谈话内容",
            data={"topic": "思想动态"},
            confidential=True,
        )
        cancelled = interactions.schedule_interaction(
            unit,
            kind="call",
            start=local(2026, 9, 25, 14, 0),
            people=[zhang.id],
            accounts=[leader.id],
        )
        interactions.cancel_interaction(unit, cancelled.id, reason="对方出差")
        day_event = interactions.schedule_interaction(
            unit,
            kind="note",
            start=local(2026, 9, 30),
            end=local(2026, 10, 1),
            all_day=True,
            people=[zhang.id],
            accounts=[leader.id],
            summary="界别活动周筹备",
        )
        follow_up = followups.raise_follow_up(
            unit,
            title="企业用工难问题答复",
            person_id=zhang.id,
            owner_id=leader.id,
            due_on=date(2026, 9, 15),
            detail="需人社局答复",
        )
    return World(
        app,
        leader.id,
        me.id,
        admin.id,
        zhang.id,
        li.id,
        visit.id,
        meeting.id,
        talk.id,
        cancelled.id,
        day_event.id,
        follow_up.id,
    )


@pytest.fixture
def world(app: Tongxin, frozen: datetime) -> World:
    """The small office on a fresh database of the current backend, clock frozen."""
    return build_world(app)


def unfold(body: bytes) -> bytes:
    """The content lines of an iCalendar file joined again (RFC 5545 3.1)."""
    return re.sub(rb"\r\n[ \t]", b"", body)


def vevents(body: bytes) -> dict[str, bytes]:
    """Each VEVENT's exact bytes (folded, as sent), by UID."""
    out: dict[str, bytes] = {}
    for chunk in body.split(b"BEGIN:VEVENT\r\n")[1:]:
        block = b"BEGIN:VEVENT\r\n" + chunk.split(b"END:VEVENT\r\n", 1)[0] + b"END:VEVENT\r\n"
        uid = re.search(rb"^UID:([^\r\n]*)", unfold(block), re.M)
        assert uid is not None
        out[uid.group(1).decode()] = block
    return out


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
